import type { Log as SarifLog } from 'sarif';
import { z } from 'zod';
import { scanFormats, type FindingSeverity, type ScanFinding, type ScanFormat, type ScanReport } from '../domain/vulnerability-findings';
import { officialSchemaErrors } from './official-schemas';
import { purlParts } from './package-identity';

/** The most findings one import may carry. */
export const maxScanFindings = 50_000;

const id = z.string().trim().min(1).max(300);
const optionalText = (max: number) => z.string().max(max).optional();

// Trivy JSON (`trivy … --format json`, SchemaVersion 2): vulnerabilities per target.
export const trivyReport = z.looseObject({
  SchemaVersion: z.literal(2),
  ArtifactName: optionalText(2000),
  Results: z
    .array(
      z.looseObject({
        Target: z.string().max(2000),
        Vulnerabilities: z
          .array(
            z.looseObject({
              VulnerabilityID: id,
              PkgName: id,
              PkgIdentifier: z.looseObject({ PURL: z.string().max(2000).optional() }).optional(),
              InstalledVersion: optionalText(200),
              FixedVersion: optionalText(1000),
              Severity: z.string().max(20),
              Title: optionalText(2000),
            }),
          )
          .max(maxScanFindings)
          .default([]),
      }),
    )
    .default([]),
});

// Grype JSON (`grype … -o json`): one match per vulnerability and artifact.
export const grypeReport = z.looseObject({
  matches: z
    .array(
      z.looseObject({
        vulnerability: z.looseObject({
          id,
          severity: z.string().max(20).default('Unknown'),
          description: optionalText(10_000),
          fix: z.looseObject({ versions: z.array(z.string().max(200)).default([]) }).optional(),
        }),
        artifact: z.looseObject({ name: id, version: optionalText(200), purl: z.string().max(2000).optional() }),
        // The same vulnerability under its other ids (a GHSA match names its CVE here).
        relatedVulnerabilities: z.array(z.looseObject({ id })).max(100).default([]),
      }),
    )
    .max(maxScanFindings),
  descriptor: z.looseObject({ name: z.string().max(100) }).optional(),
});

// SARIF 2.1.0 (OASIS), as code scanners (CodeQL, Semgrep) write it: results per run, rules per tool.
// The official schema (vendored: no registry package publishes it) has checked the document whole;
// this reader takes the fields Warden keeps, held to Warden's limits and to the standard's own types
// (@types/sarif): `fromSarif` reads a `SarifLog`.
const sarifRule = z.looseObject({
  id,
  shortDescription: z.looseObject({ text: z.string().max(2000) }).optional(),
  properties: z.looseObject({ 'security-severity': z.string().max(10).optional() }).optional(),
});
export const sarifLog = z.looseObject({
  version: z.literal('2.1.0'),
  runs: z
    .array(
      z.looseObject({
        tool: z.looseObject({ driver: z.looseObject({ name: id, rules: z.array(sarifRule).default([]) }) }),
        results: z
          .array(
            z.looseObject({
              ruleId: id.optional(),
              rule: z.looseObject({ id: id.optional() }).optional(),
              level: z.enum(['none', 'note', 'warning', 'error']).optional(),
              message: z.looseObject({ text: z.string().max(10_000).optional() }),
              locations: z
                .array(
                  z.looseObject({
                    physicalLocation: z
                      .looseObject({
                        artifactLocation: z.looseObject({ uri: z.string().max(2000).optional() }).optional(),
                        region: z.looseObject({ startLine: z.number().int().optional() }).optional(),
                      })
                      .optional(),
                  }),
                )
                .default([]),
              partialFingerprints: z.record(z.string(), z.string().max(500)).optional(),
            }),
          )
          .max(maxScanFindings)
          .default([]),
      }),
    )
    .min(1),
});

/** Trivy and Grype write CRITICAL … NEGLIGIBLE / Unknown; one scale for both. */
function scannerSeverity(severity: string): FindingSeverity {
  const s = severity.trim().toLowerCase();
  if (s === 'critical' || s === 'high' || s === 'medium' || s === 'low') return s;
  return s === 'negligible' ? 'low' : 'unknown';
}

/** The score GitHub's code scanning reads from a rule's property bag, when it is one. */
function securitySeverity(properties: { [key: string]: unknown } | undefined): string | undefined {
  const score = properties?.['security-severity'];
  return typeof score === 'string' ? score : undefined;
}

/** SARIF: a rule's security-severity score (CVSS-like, as GitHub reads it), else the result's level. */
function sarifSeverity(score: string | undefined, level: string | undefined): FindingSeverity {
  const value = score === undefined ? Number.NaN : Number(score);
  if (Number.isFinite(value)) return value >= 9 ? 'critical' : value >= 7 ? 'high' : value >= 4 ? 'medium' : value > 0 ? 'low' : 'unknown';
  return level === 'error' ? 'high' : level === 'warning' ? 'medium' : level === 'note' ? 'low' : 'unknown';
}

/** Trivy lists several fixed versions in one string: "2.15.0, 2.12.2". */
const splitVersions = (text: string | undefined) =>
  (text ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);

/**
 * A package finding, keyed on the vulnerability and the package (its purl package when known,
 * without version, so an upgrade that is still vulnerable stays the same finding) and where it was found.
 */
function packageFinding(input: {
  vulnerabilityId: string;
  name: string;
  purl: string | undefined;
  version: string | undefined;
  fixed: string[];
  severity: FindingSeverity;
  title: string | undefined;
  where?: string;
  related?: string[];
}): ScanFinding {
  const pkg = input.purl ? purlParts(input.purl)?.package : undefined;
  return {
    key: [input.vulnerabilityId, pkg ?? input.name, input.where ?? ''].join('|'),
    vulnerabilityId: input.vulnerabilityId,
    component: input.name,
    purl: pkg ?? null,
    installedVersion: input.version?.trim() || null,
    fixedVersions: input.fixed,
    severity: input.severity,
    title: input.title?.trim() || null,
    ...(input.related?.length ? { relatedIds: [...new Set(input.related)].filter((id) => id !== input.vulnerabilityId) } : {}),
  };
}

function fromTrivy(doc: z.infer<typeof trivyReport>): ScanFinding[] {
  return doc.Results.flatMap((result) =>
    result.Vulnerabilities.map((v) =>
      packageFinding({
        vulnerabilityId: v.VulnerabilityID,
        name: v.PkgName,
        purl: v.PkgIdentifier?.PURL,
        version: v.InstalledVersion,
        fixed: splitVersions(v.FixedVersion),
        severity: scannerSeverity(v.Severity),
        title: v.Title,
        where: result.Target,
      }),
    ),
  );
}

function fromGrype(doc: z.infer<typeof grypeReport>): ScanFinding[] {
  return doc.matches.map((m) =>
    packageFinding({
      vulnerabilityId: m.vulnerability.id,
      name: m.artifact.name,
      purl: m.artifact.purl,
      version: m.artifact.version,
      fixed: m.vulnerability.fix?.versions ?? [],
      severity: scannerSeverity(m.vulnerability.severity),
      title: m.vulnerability.description?.split('\n')[0],
      related: m.relatedVulnerabilities.map((related) => related.id),
    }),
  );
}

/**
 * Code-scanning results, keyed on the rule and the scanner's own fingerprint when it gives one
 * (stable across unrelated edits), else the file and line.
 */
function fromSarif(doc: SarifLog): ScanFinding[] {
  return doc.runs.flatMap((run) => {
    const rules = new Map((run.tool.driver.rules ?? []).map((rule) => [rule.id, rule]));
    return (run.results ?? []).map((result) => {
      const ruleId = result.ruleId ?? result.rule?.id ?? 'unnamed-rule';
      const rule = rules.get(ruleId);
      const location = result.locations?.[0]?.physicalLocation;
      const file = location?.artifactLocation?.uri ?? '(no location)';
      const line = location?.region?.startLine;
      const fingerprint = result.partialFingerprints ? Object.values(result.partialFingerprints).sort().join(',') : undefined;
      return {
        key: [ruleId, file, fingerprint ?? (line === undefined ? '' : String(line))].join('|'),
        vulnerabilityId: ruleId,
        component: line === undefined ? file : `${file}:${line}`,
        purl: null,
        installedVersion: null,
        fixedVersions: [],
        severity: sarifSeverity(securitySeverity(rule?.properties), result.level),
        title: rule?.shortDescription?.text ?? result.message.text?.split('\n')[0] ?? null,
      };
    });
  });
}

/** Which scanner format a document is: Trivy has SchemaVersion, Grype matches, SARIF runs. */
export function detectScanFormat(doc: Record<string, unknown>): ScanFormat | undefined {
  if ('SchemaVersion' in doc) return 'trivy';
  if (Array.isArray(doc.matches)) return 'grype';
  if (Array.isArray(doc.runs)) return 'sarif';
  return undefined;
}

interface FieldError {
  path: string;
  message: string;
}

/** A finding listed twice in one report (two targets of one image share a layer) is one finding. */
const distinctFindings = (findings: ScanFinding[]) => [...new Map(findings.map((f) => [f.key, f])).values()];

/**
 * The fields Warden keeps from a scanner report, held to Warden's limits; any error rejects it,
 * naming the field. It does not check SARIF's official schema: `readScanReport` does, first.
 */
export function parseScanReport(
  doc: Record<string, unknown>,
  format: ScanFormat | undefined = detectScanFormat(doc),
): { ok: true; report: ScanReport } | { ok: false; errors: FieldError[] } {
  const errorsOf = (error: z.ZodError) =>
    error.issues.map((issue) => ({ path: ['body', ...issue.path.map(String)].join('.'), message: issue.message }));
  if (format === 'trivy') {
    const parsed = trivyReport.safeParse(doc);
    if (!parsed.success) return { ok: false, errors: errorsOf(parsed.error) };
    return { ok: true, report: { format, scanner: 'trivy', findings: distinctFindings(fromTrivy(parsed.data)) } };
  }
  if (format === 'grype') {
    const parsed = grypeReport.safeParse(doc);
    if (!parsed.success) return { ok: false, errors: errorsOf(parsed.error) };
    return { ok: true, report: { format, scanner: 'grype', findings: distinctFindings(fromGrype(parsed.data)) } };
  }
  if (format === 'sarif') {
    const parsed = sarifLog.safeParse(doc);
    if (!parsed.success) return { ok: false, errors: errorsOf(parsed.error) };
    const tools = [...new Set(parsed.data.runs.map((run) => run.tool.driver.name.trim().toLowerCase()))].sort();
    return { ok: true, report: { format, scanner: tools.join('+'), findings: distinctFindings(fromSarif(parsed.data)) } };
  }
  return {
    ok: false,
    errors: [
      { path: 'body', message: 'must be a Trivy JSON report (SchemaVersion 2), a Grype JSON report (matches) or SARIF 2.1.0 (runs)' },
    ],
  };
}

/**
 * One scanner report, whole or not at all. SARIF must satisfy the official SARIF 2.1.0 schema
 * (checked off the event loop, schemas/official-schemas.ts), then `parseScanReport`. Trivy and Grype
 * publish no schema for their JSON: their zod readers are all the checking there is.
 */
export async function readScanReport(
  doc: Record<string, unknown>,
  format: ScanFormat | undefined = detectScanFormat(doc),
): Promise<ReturnType<typeof parseScanReport>> {
  if (format === 'sarif') {
    const schemaErrors = await officialSchemaErrors('sarif-2.1.0', doc);
    if (schemaErrors.length) return { ok: false, errors: schemaErrors };
  }
  return parseScanReport(doc, format);
}

export const scanQuery = z.strictObject({
  format: z.enum(scanFormats).optional().describe('Detected from the document when omitted'),
});

export const scanImportView = z.object({
  ciId: z.string(),
  importId: z.string(),
  scanner: z.string(),
  format: z.enum(scanFormats),
  findings: z.number().describe('findings in this report'),
  opened: z.array(z.string()).describe('vulnerability ids newly found'),
  reopened: z.array(z.string()).describe('vulnerability ids found again after an earlier import had verified them fixed'),
  closed: z.array(z.string()).describe('vulnerability ids absent from this report: verified fixed by it'),
  remediationsChecked: z
    .array(z.string())
    .describe('open advisories with a remediation on this CI, told to weigh this import (close as verified fixed, or reopen)'),
});

export const findingsQuery = z.strictObject({
  status: z.enum(['open', 'fixed']).optional(),
  scanner: z.string().max(100).optional(),
});

export const findingView = z.object({
  scanner: z.string(),
  vulnerabilityId: z.string(),
  relatedIds: z.array(z.string()).describe('the same vulnerability under other ids, as the scanner named them (Grype: the CVE of a GHSA)'),
  component: z.string(),
  purl: z.string().nullable(),
  installedVersion: z.string().nullable(),
  fixedVersions: z.array(z.string()),
  severity: z.string(),
  title: z.string().nullable(),
  status: z.enum(['open', 'fixed']),
  firstSeenAt: z.string(),
  openedAt: z.string(),
  lastSeenAt: z.string(),
  fixedAt: z.string().nullable(),
  reopened: z.number(),
  fixedByImport: z.string().nullable().describe('the import that no longer found it: the evidence of the fix'),
});
