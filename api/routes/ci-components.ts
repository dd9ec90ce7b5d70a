import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { listComponents, openAdvisoriesConcerning, replaceComponents } from '../../db/advisories';
import { findConfigurationItem } from '../../db/cis';
import type { Component } from '../../domain/advisory-matching';
import { mayChangeRecord } from '../../domain/cmdb';
import type { Actor } from '../../domain/roles';
import { componentsBody } from '../../schemas/advisories';
import { responses, uuidParam } from '../../schemas/common';
import { readSbom, sbomAccepted } from '../../schemas/sbom';
import { forbidden, invalid, notFound } from '../../http/problem';
import { componentEditors, everyone } from '../../http/roles';
import { announceRemediationEvidence, requestRematch } from '../advisory-rematch';

const componentsView = z.object({
  ciId: z.string(),
  components: z.array(
    z.object({
      product: z.string(),
      version: z.string(),
      purl: z.string().nullable().describe('the package URL, without version, when an SBOM gave one'),
      cpe: z.string().nullable(),
      source: z.enum(['manual', 'sbom']),
      updatedBy: z.string(),
      updatedAt: z.string(),
    }),
  ),
  /** Open advisories told to match this CI again. */
  rematched: z.array(z.string()),
});

/** A CycloneDX SBOM, as the body's example: one Maven component with its purl and CPE. */
const sbomDocument = z.record(z.string(), z.unknown()).meta({
  description: 'A CycloneDX 1.4–1.6 JSON BOM or an SPDX 2.3 JSON document, detected from bomFormat / spdxVersion',
  examples: [
    {
      bomFormat: 'CycloneDX',
      specVersion: '1.5',
      serialNumber: 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79',
      version: 1,
      components: [
        {
          type: 'library',
          group: 'org.apache.logging.log4j',
          name: 'log4j-core',
          version: '2.14.1',
          purl: 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1',
          cpe: 'cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*',
        },
      ],
    },
  ],
});

export async function ciComponentRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  const view = async (ciId: string, rematched: string[]) => ({
    ciId,
    components: (await listComponents(app.db, ciId)).map((c) => ({
      product: c.product,
      version: c.version,
      purl: c.purl,
      cpe: c.cpe,
      source: c.source,
      updatedBy: c.updated_by,
      updatedAt: c.updated_at.toISOString(),
    })),
    rematched,
  });

  /** The CI, if the actor may set its components: its owner, or those who keep the whole CMDB (not the service's owner). */
  const editableCi = async (ciId: string, actor: Actor) => {
    const ci = await findConfigurationItem(app.db, ciId);
    if (!ci) throw notFound('configuration item', ciId);
    if (!mayChangeRecord(actor, [ci.owner])) throw forbidden('only the CI owner or security management may set its components');
    return ci;
  };

  /** No silent gap: every open advisory that may concern one of these components hears of the change. */
  const rematchFor = async (ciId: string, components: Component[]) => {
    const advisories = await openAdvisoriesConcerning(app.db, components);
    await Promise.all(
      advisories.map((advisory) => requestRematch(app.temporal.client, advisory.workflow_id, `components of CI ${ciId} changed`)),
    );
    return advisories.map((a) => a.id);
  };

  routes.put('/cis/:id/components', {
    config: { roles: componentEditors },
    schema: {
      tags: ['cmdb'],
      operationId: 'putCiComponents',
      summary: "Replace a CI's software components",
      description:
        'Replace the software components (product, version) of a CI; open advisories naming one of them match it again. Hand-entered components carry no package identity, so they match advisories by product name. An SBOM (PUT /cis/{id}/sbom) replaces them with components that match by purl and CPE.',
      params: uuidParam,
      body: componentsBody,
      response: responses({ 200: componentsView }),
    },
    handler: async (request) => {
      const ci = await editableCi(request.params.id, request.actor);
      await replaceComponents(app.db, { ciId: ci.id, components: request.body.components, actor: request.actor.principalId });
      return view(ci.id, await rematchFor(ci.id, request.body.components));
    },
  });

  routes.put('/cis/:id/sbom', {
    config: { roles: componentEditors },
    // A whole image's SBOM or scan outgrows WARDEN_BODY_LIMIT_BYTES; the other routes keep it.
    bodyLimit: app.config.WARDEN_IMPORT_LIMIT_BYTES,
    schema: {
      tags: ['cmdb'],
      operationId: 'putCiSbom',
      summary: "Replace a CI's components with those of an SBOM",
      description:
        "CycloneDX 1.4–1.6 or SPDX 2.3 JSON, checked against the official JSON schema of its format and version. Every component with a version is recorded with its package URL and CPE, and open advisories that may concern one of them match the CI again, by purl and CPE rather than by name. The SBOM replaces the CI's whole component list, hand-entered components included. Open advisories with a remediation on the CI weigh the SBOM: a running remediation closes as verified fixed when no component is in an affected range any more, and a patched one reopens when one is again. A malformed document is refused whole, naming the field.",
      params: uuidParam,
      body: sbomDocument,
      response: responses({ 200: sbomAccepted }),
    },
    handler: async (request) => {
      const parsed = await readSbom(request.body);
      if (!parsed.ok) throw invalid(parsed.errors);
      const ci = await editableCi(request.params.id, request.actor);
      const { sbom } = parsed;
      await replaceComponents(app.db, {
        ciId: ci.id,
        components: sbom.components,
        actor: request.actor.principalId,
        sbom: { format: sbom.format, specVersion: sbom.specVersion, serialNumber: sbom.serialNumber },
      });
      return {
        ciId: ci.id,
        format: sbom.format,
        specVersion: sbom.specVersion,
        components: sbom.components.length,
        unversioned: sbom.unversioned,
        rematched: await rematchFor(ci.id, sbom.components),
        remediationsChecked: await announceRemediationEvidence(app.temporal.client, app.db, {
          source: 'sbom',
          ciId: ci.id,
          format: sbom.format,
          serialNumber: sbom.serialNumber,
        }),
      };
    },
  });

  routes.get('/cis/:id/components', {
    config: { roles: everyone },
    schema: {
      tags: ['cmdb'],
      operationId: 'listCiComponents',
      summary: "List a CI's software components",
      description: 'The software components of a CI, hand-entered or from the last SBOM, with their package URL and CPE where known.',
      params: uuidParam,
      response: responses({ 200: componentsView }),
    },
    handler: async (request) => {
      const ci = await findConfigurationItem(app.db, request.params.id);
      if (!ci) throw notFound('configuration item', request.params.id);
      return view(ci.id, []);
    },
  });
}
