import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { findConfigurationItem } from '../../db/cis';
import { importScan, listFindings } from '../../db/vulnerability-findings';
import { mayChangeRecord } from '../../domain/cmdb';
import { responses, uuidParam } from '../../schemas/common';
import { findingsQuery, findingView, readScanReport, scanImportView, scanQuery } from '../../schemas/scans';
import { iso } from '../views';
import { forbidden, invalid, notFound } from '../../http/problem';
import { componentEditors, everyone } from '../../http/roles';
import { announceRemediationEvidence } from '../advisory-rematch';

/** A Trivy report, as the body's example: log4j-core 2.14.1 in a jar, vulnerable to Log4Shell. */
const scanDocument = z.record(z.string(), z.unknown()).meta({
  description: 'A Trivy JSON report (SchemaVersion 2), a Grype JSON report or a SARIF 2.1.0 log, detected or named by `format`',
  examples: [
    {
      SchemaVersion: 2,
      ArtifactName: 'registry.example/payments:1.4.2',
      ArtifactType: 'container_image',
      Results: [
        {
          Target: 'app/payments.jar',
          Class: 'lang-pkgs',
          Type: 'jar',
          Vulnerabilities: [
            {
              VulnerabilityID: 'CVE-2021-44228',
              PkgName: 'org.apache.logging.log4j:log4j-core',
              PkgIdentifier: { PURL: 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1' },
              InstalledVersion: '2.14.1',
              FixedVersion: '2.15.0',
              Severity: 'CRITICAL',
              Title: 'log4j-core: Remote code execution in Log4j 2.x when logs contain an attacker-controlled string value',
            },
          ],
        },
      ],
    },
  ],
});

export async function ciScanRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.post('/cis/:id/scans', {
    config: { roles: componentEditors },
    // A whole image's SBOM or scan outgrows WARDEN_BODY_LIMIT_BYTES; the other routes keep it.
    bodyLimit: app.config.WARDEN_IMPORT_LIMIT_BYTES,
    schema: {
      tags: ['cmdb'],
      operationId: 'importCiScan',
      summary: "Import a scanner's results for a CI as findings",
      description:
        'Trivy JSON, Grype JSON or SARIF 2.1.0 (checked against the official SARIF JSON schema; Trivy and Grype publish none). Each vulnerability (or code-scanning rule) becomes a finding with its id, severity and fixed versions. Open findings of the same scanner for this CI that this report no longer contains close as verified fixed by this import; a finding an earlier import had closed and this one contains again reopens. Open advisories with a remediation on the CI weigh the import: a running remediation whose tied findings (the advisory id or an alias, the same package) are all gone closes as verified fixed, and a patched one the import still shows reopens. A malformed report is refused whole, naming the field.',
      params: uuidParam,
      querystring: scanQuery,
      body: scanDocument,
      response: responses({ 201: scanImportView }),
    },
    handler: async (request, reply) => {
      const parsed = await readScanReport(request.body, request.query.format);
      if (!parsed.ok) throw invalid(parsed.errors);
      const ci = await findConfigurationItem(app.db, request.params.id);
      if (!ci) throw notFound('configuration item', request.params.id);
      if (!mayChangeRecord(request.actor, [ci.owner])) throw forbidden('only the CI owner or security management may import its scans');
      const result = await importScan(app.db, { ciId: ci.id, report: parsed.report, actor: request.actor.principalId });
      const remediationsChecked = await announceRemediationEvidence(app.temporal.client, app.db, {
        source: 'scan',
        ciId: ci.id,
        importId: result.importId,
        scanner: result.scanner,
      });
      return reply.code(201).send({ ciId: ci.id, ...result, remediationsChecked });
    },
  });

  routes.get('/cis/:id/findings', {
    config: { roles: everyone },
    schema: {
      tags: ['cmdb'],
      operationId: 'listCiFindings',
      summary: "A CI's scanner findings, open first",
      description: 'Every finding any scanner reported for the CI, with when it was seen and, once fixed, the import that verified it.',
      params: uuidParam,
      querystring: findingsQuery,
      response: responses({ 200: z.object({ ciId: z.string(), items: z.array(findingView) }) }),
    },
    handler: async (request) => {
      const ci = await findConfigurationItem(app.db, request.params.id);
      if (!ci) throw notFound('configuration item', request.params.id);
      const rows = await listFindings(app.db, ci.id, request.query);
      return {
        ciId: ci.id,
        items: rows.map((f) => ({
          scanner: f.scanner,
          vulnerabilityId: f.vulnerability_id,
          relatedIds: f.related_ids,
          component: f.component,
          purl: f.purl,
          installedVersion: f.installed_version,
          fixedVersions: f.fixed_versions,
          severity: f.severity,
          title: f.title,
          status: f.status,
          firstSeenAt: f.first_seen_at.toISOString(),
          openedAt: f.opened_at.toISOString(),
          lastSeenAt: f.last_seen_at.toISOString(),
          fixedAt: iso(f.fixed_at),
          reopened: f.reopened,
          fixedByImport: f.fixed_by_import_id,
        })),
      };
    },
  });
}
