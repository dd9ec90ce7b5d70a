import { z } from 'zod';
import {
  advisoryFormats,
  remediationOutcomes,
  remediationStatuses,
  type AdvisoryContent,
  type AdvisoryFormat,
  type AffectedProduct,
  type VersionInterval,
} from '../domain/advisory';
import { normalizeVersion } from '../domain/advisory-matching';
import { timestamp } from './common';
import { preferredCvss } from './cvss';
import { officialSchemaErrors } from './official-schemas';
import { cpeString, ecosystemPurl, purlParts, purlString } from './package-identity';

export const advisoryId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/, 'letters, digits and . _ : - (max 200)');
const text = (max: number) => z.string().trim().min(1).max(max);

/** Warden's own form: what an advisory says, flat. */
export const genericAdvisory = z
  .strictObject({
    id: advisoryId,
    cves: z.array(z.string().regex(/^CVE-\d{4}-\d{4,}$/, 'must be CVE-YYYY-NNNN')).default([]),
    title: text(500),
    supplier: text(200).optional(),
    affected: z
      .array(
        z.strictObject({
          product: text(200),
          purl: purlString.optional().describe('the package URL (version ignored): SBOM components match on it rather than on the name'),
          cpe: cpeString.optional().describe('a CPE 2.3 name: components with the same part, vendor and product match'),
          versions: z.array(text(200)).min(1).describe('semver ranges or exact versions; any one matching means affected'),
          fixed: z.array(text(100)).default([]),
        }),
      )
      .min(1),
    cvss: z.strictObject({ score: z.number().min(0).max(10), vector: z.string().max(200).optional() }).optional(),
    preventiveMeasures: z.string().max(10_000).optional(),
    published: timestamp.optional(),
    exploited: z.boolean().default(false),
  })
  .meta({ id: 'GenericAdvisory', description: "Warden's own advisory form" });

// OSV (https://ossf.github.io/osv-schema/): the official schema has checked the record whole
// (`readAdvisory`); this reader takes the fields Warden keeps, and the rest pass.
const osvEvent = z.looseObject({
  introduced: z.string().optional(),
  fixed: z.string().optional(),
  last_affected: z.string().optional(),
  limit: z.string().optional(),
});
const osvSeverity = z.array(z.looseObject({ type: z.string(), score: z.string().max(500) })).default([]);
export const osvAdvisory = z
  .looseObject({
    id: advisoryId,
    modified: z.string(),
    published: timestamp.optional(),
    withdrawn: timestamp.optional().describe('set when the source withdrew the advisory: it applies to nothing'),
    aliases: z.array(z.string()).default([]),
    summary: z.string().optional(),
    details: z.string().optional(),
    severity: osvSeverity,
    affected: z
      .array(
        z.looseObject({
          package: z.looseObject({ name: text(200), ecosystem: z.string().optional(), purl: purlString.optional() }),
          severity: osvSeverity,
          ranges: z.array(z.looseObject({ type: z.string(), events: z.array(osvEvent).min(1) })).default([]),
          versions: z.array(z.string()).default([]),
        }),
      )
      .min(1),
    database_specific: z.looseObject({ exploited: z.boolean().optional(), preventive_measures: z.string().optional() }).optional(),
  })
  .meta({ id: 'OsvAdvisory', description: 'An OSV advisory (https://ossf.github.io/osv-schema/); fields Warden does not read pass' });

// CSAF 2.0 (OASIS; the official schema has checked a 2.0 document whole, `readAdvisory`): the document,
// the product tree and the vulnerabilities' status, scores, remediations, threats.
interface CsafFullProductName {
  product_id: string;
  name: string;
  product_identification_helper?: { purl?: string; cpe?: string };
}
interface CsafBranch {
  category: string;
  name: string;
  product?: CsafFullProductName;
  branches?: CsafBranch[];
}
const csafFullProductName = z.looseObject({
  product_id: z.string(),
  name: z.string(),
  product_identification_helper: z.looseObject({ purl: purlString.optional(), cpe: cpeString.optional() }).optional(),
});
const csafBranch: z.ZodType<CsafBranch> = z
  .lazy(() =>
    z.looseObject({
      category: z.string(),
      name: z.string(),
      product: csafFullProductName.optional(),
      branches: z.array(csafBranch).optional(),
    }),
  )
  .meta({ id: 'CsafBranch' });
const csafScore = z.looseObject({ baseScore: z.number().min(0).max(10), vectorString: z.string().max(500) });
export const csafAdvisory = z
  .looseObject({
    document: z.looseObject({
      category: z.string(),
      csaf_version: z.enum(['2.0', '2.1']),
      title: text(500),
      publisher: z.looseObject({ name: z.string() }),
      tracking: z.looseObject({ id: advisoryId, initial_release_date: timestamp.optional(), current_release_date: timestamp.optional() }),
    }),
    product_tree: z.looseObject({
      branches: z.array(csafBranch).min(1),
      // A component installed in a platform (Red Hat: a package in a product stream) gets an id of its own.
      relationships: z
        .array(
          z.looseObject({
            category: z.string(),
            product_reference: z.string(),
            relates_to_product_reference: z.string(),
            full_product_name: csafFullProductName,
          }),
        )
        .default([]),
    }),
    vulnerabilities: z
      .array(
        z.looseObject({
          cve: z.string().optional(),
          title: z.string().optional(),
          product_status: z
            .looseObject({
              known_affected: z.array(z.string()).default([]),
              fixed: z.array(z.string()).default([]),
              first_fixed: z.array(z.string()).default([]),
            })
            .optional(),
          scores: z
            .array(
              z.looseObject({
                products: z.array(z.string()),
                cvss_v2: csafScore.optional(),
                cvss_v3: csafScore.optional(),
                cvss_v4: csafScore.optional(),
              }),
            )
            .default([]),
          remediations: z.array(z.looseObject({ category: z.string(), details: z.string() })).default([]),
          threats: z.array(z.looseObject({ category: z.string(), details: z.string() })).default([]),
        }),
      )
      .min(1),
  })
  .meta({ id: 'CsafAdvisory', description: 'A CSAF 2.0 advisory (OASIS); fields Warden does not read pass' });

const distinct = <T>(values: T[]) => [...new Set(values)];

function fromGeneric(doc: z.infer<typeof genericAdvisory>): AdvisoryContent {
  return {
    id: doc.id,
    aliases: doc.cves,
    title: doc.title,
    supplier: doc.supplier ?? null,
    affected: doc.affected.map((a) => ({
      product: a.product,
      ...(a.purl ? { purl: purlParts(a.purl)?.package } : {}),
      ...(a.cpe ? { cpe: a.cpe } : {}),
      ranges: a.versions,
      fixed: a.fixed,
    })),
    cvssScore: doc.cvss?.score ?? null,
    cvssVector: doc.cvss?.vector ?? null,
    preventiveMeasures: doc.preventiveMeasures ?? null,
    published: doc.published ?? null,
    exploited: doc.exploited,
    withdrawn: null,
  };
}

/**
 * OSV events read in order: introduced opens an interval, fixed / last_affected close it. Each
 * interval is kept as the source wrote it (matched in the ecosystem's own version order) and as a
 * semver range, its versions normalised so semver can order them ("2.0-beta9"), which is what the
 * advisory shows and what an unreadable version falls back to.
 */
export function osvRanges(
  events: z.infer<typeof osvEvent>[],
  type: VersionInterval['type'] = 'ECOSYSTEM',
): { ranges: string[]; fixed: string[]; intervals: VersionInterval[] } {
  const intervals: VersionInterval[] = [];
  const fixed: string[] = [];
  let open: { lower: string; introduced?: string } | undefined;
  for (const event of events) {
    if (event.introduced !== undefined) {
      open =
        event.introduced === '0'
          ? { lower: '>=0.0.0-0' }
          : { lower: `>=${normalizeVersion(event.introduced)}`, introduced: event.introduced };
    }
    if (event.fixed !== undefined) fixed.push(event.fixed);
    const upper =
      event.fixed !== undefined
        ? { text: `<${normalizeVersion(event.fixed)}`, bound: { fixed: event.fixed } }
        : event.last_affected !== undefined
          ? { text: `<=${normalizeVersion(event.last_affected)}`, bound: { lastAffected: event.last_affected } }
          : undefined;
    if (upper && open) {
      intervals.push({
        range: `${open.lower} ${upper.text}`,
        type,
        ...(open.introduced !== undefined ? { introduced: open.introduced } : {}),
        ...upper.bound,
      });
      open = undefined;
    }
  }
  if (open) intervals.push({ range: open.lower, type, ...(open.introduced !== undefined ? { introduced: open.introduced } : {}) });
  return { ranges: intervals.map((i) => i.range), fixed, intervals };
}

function fromOsv(doc: z.infer<typeof osvAdvisory>): AdvisoryContent {
  // CVSS_V2, CVSS_V3 and CVSS_V4 vectors, the record's own and its packages': the newest version scores.
  const cvss = preferredCvss(
    [...doc.severity, ...doc.affected.flatMap((entry) => entry.severity)].filter((s) => s.type.startsWith('CVSS_')).map((s) => s.score),
  );
  const affected = doc.affected.map((entry): AffectedProduct => {
    // GIT ranges name commits, not versions Warden can compare.
    const parts = entry.ranges
      .filter((r) => r.type !== 'GIT')
      .map((r) => osvRanges(r.events, r.type === 'SEMVER' ? 'SEMVER' : 'ECOSYSTEM'));
    const purl = entry.package.purl ? purlParts(entry.package.purl)?.package : ecosystemPurl(entry.package.ecosystem, entry.package.name);
    const intervals = parts.flatMap((p) => p.intervals);
    return {
      product: entry.package.name,
      ...(purl ? { purl } : {}),
      ranges: [...parts.flatMap((p) => p.ranges), ...entry.versions],
      fixed: distinct(parts.flatMap((p) => p.fixed)),
      ...(entry.package.ecosystem ? { ecosystem: entry.package.ecosystem } : {}),
      ...(intervals.length ? { intervals } : {}),
    };
  });
  return {
    id: doc.id,
    aliases: doc.aliases,
    title: doc.summary ?? doc.details?.split('\n')[0] ?? doc.id,
    supplier: doc.affected[0]?.package.ecosystem ?? null,
    affected,
    cvssScore: cvss?.score ?? null,
    cvssVector: cvss?.vector ?? null,
    preventiveMeasures: doc.database_specific?.preventive_measures ?? null,
    published: doc.published ?? null,
    exploited: doc.database_specific?.exploited ?? false,
    withdrawn: doc.withdrawn ?? null,
  };
}

/** `vers:semver/>=1.0.0|<1.2.3|2.0.0` → semver ranges: a lower bound pairs with the upper bound after it. */
export function versRanges(vers: string): string[] {
  const constraints = vers
    .replace(/^vers:[^/]+\//, '')
    .split('|')
    .map((c) => c.trim())
    .filter(Boolean);
  const ranges: string[] = [];
  for (let i = 0; i < constraints.length; i += 1) {
    const current = constraints[i] as string;
    const next = constraints[i + 1];
    if (/^>/.test(current) && next && /^</.test(next)) {
      ranges.push(`${current} ${next}`);
      i += 1;
    } else {
      ranges.push(current.replace(/^=/, ''));
    }
  }
  return ranges;
}

interface CsafProduct {
  product: string;
  vendor: string | null;
  versions: string[];
  purl?: string;
  cpe?: string;
}

/** A product described by its identification helper: the purl's name and version win over the branch's. */
function identified(product: CsafProduct, helper: CsafFullProductName['product_identification_helper']): CsafProduct {
  if (!helper) return product;
  const purl = helper.purl ? purlParts(helper.purl) : undefined;
  return {
    ...product,
    product: purl?.name ?? product.product,
    versions: purl?.version ? [purl.version] : product.versions,
    ...(purl ? { purl: purl.package } : {}),
    ...(helper.cpe ? { cpe: helper.cpe } : {}),
  };
}

/** Walks vendor → product_name → product_version(_range) branches to what each product id means. */
function csafProducts(
  branches: CsafBranch[],
  path: { vendor: string | null; product: string | null } = { vendor: null, product: null },
  into = new Map<string, CsafProduct>(),
) {
  for (const branch of branches) {
    const here = {
      vendor: branch.category === 'vendor' ? branch.name : path.vendor,
      product: branch.category === 'product_name' ? branch.name : path.product,
    };
    if (branch.product) {
      const versions =
        branch.category === 'product_version' ? [branch.name] : branch.category === 'product_version_range' ? versRanges(branch.name) : [];
      into.set(
        branch.product.product_id,
        identified(
          { product: here.product ?? branch.product.name, vendor: here.vendor, versions },
          branch.product.product_identification_helper,
        ),
      );
    }
    if (branch.branches) csafProducts(branch.branches, here, into);
  }
  return into;
}

function fromCsaf(doc: z.infer<typeof csafAdvisory>): AdvisoryContent {
  const products = csafProducts(doc.product_tree.branches);
  // A relationship's id (a package in a product stream) stands for its component: that is what is installed.
  for (const relationship of doc.product_tree.relationships) {
    const component = products.get(relationship.product_reference);
    if (component) {
      products.set(
        relationship.full_product_name.product_id,
        identified(component, relationship.full_product_name.product_identification_helper),
      );
    }
  }
  const byProduct = new Map<string, AffectedProduct>();
  const entry = (product: CsafProduct) => {
    const key = product.product.toLowerCase();
    let affected = byProduct.get(key);
    if (!affected) {
      affected = { product: product.product, ranges: [], fixed: [] };
      byProduct.set(key, affected);
    }
    if (product.purl && !affected.purl) affected.purl = product.purl;
    if (product.cpe && !affected.cpe) affected.cpe = product.cpe;
    return affected;
  };
  for (const vulnerability of doc.vulnerabilities) {
    for (const id of vulnerability.product_status?.known_affected ?? []) {
      const product = products.get(id);
      if (product) entry(product).ranges.push(...product.versions);
    }
    for (const id of [...(vulnerability.product_status?.fixed ?? []), ...(vulnerability.product_status?.first_fixed ?? [])]) {
      const product = products.get(id);
      if (product) entry(product).fixed.push(...product.versions);
    }
  }
  // Fixed-only (as Red Hat publishes): a package named only with its fixed builds is affected below
  // them. With several fixed builds (one per stream) any version below one of them counts: the
  // conservative reading, since CSAF does not say which stream an installed build belongs to. Each
  // bound is also kept as an interval, so it is ordered as the package's ecosystem orders builds (rpm, dpkg).
  const affected = [...byProduct.values()]
    .map((p): AffectedProduct => {
      if (p.ranges.length) return { ...p, ranges: distinct(p.ranges), fixed: distinct(p.fixed) };
      const intervals = distinct(p.fixed).map((f): VersionInterval => ({ range: `<${normalizeVersion(f)}`, type: 'ECOSYSTEM', fixed: f }));
      return {
        ...p,
        ranges: distinct(intervals.map((i) => i.range)),
        fixed: distinct(p.fixed),
        ...(intervals.length ? { intervals } : {}),
      };
    })
    .filter((p) => p.ranges.length > 0);
  const scores = doc.vulnerabilities.flatMap((v) =>
    v.scores.flatMap((s) => [s.cvss_v4, s.cvss_v3, s.cvss_v2].filter((score) => score !== undefined)),
  );
  // The vectors are scored (CVSS v4 included); a published base score counts only when no vector scores.
  const cvss =
    preferredCvss(scores.map((s) => s.vectorString)) ??
    scores.reduce<{ vector: string; score: number } | undefined>(
      (worst, s) => (!worst || s.baseScore > worst.score ? { vector: s.vectorString, score: s.baseScore } : worst),
      undefined,
    );
  const measures = doc.vulnerabilities.flatMap((v) =>
    v.remediations.filter((r) => r.category === 'mitigation' || r.category === 'workaround').map((r) => r.details),
  );
  const exploited = doc.vulnerabilities.some((v) =>
    v.threats.some((t) => t.category === 'exploit_status' && !/\b(no|none|not)\b/i.test(t.details)),
  );
  return {
    id: doc.document.tracking.id,
    aliases: distinct(doc.vulnerabilities.flatMap((v) => (v.cve ? [v.cve] : []))),
    title: doc.document.title,
    supplier: doc.document.publisher.name,
    affected,
    cvssScore: cvss?.score ?? null,
    cvssVector: cvss?.vector ?? null,
    preventiveMeasures: measures.length ? distinct(measures).join('\n') : null,
    published: doc.document.tracking.initial_release_date ?? null,
    exploited,
    withdrawn: null,
  };
}

/** Which format a document is, when the client did not say: CSAF has document.csaf_version, OSV has modified + affected[].package. */
export function detectFormat(doc: Record<string, unknown>): AdvisoryFormat {
  const document = doc.document as Record<string, unknown> | undefined;
  if (document && typeof document === 'object' && 'csaf_version' in document) return 'csaf';
  if ('modified' in doc && Array.isArray(doc.affected) && doc.affected.some((a) => typeof a === 'object' && a !== null && 'package' in a))
    return 'osv';
  return 'generic';
}

interface FieldError {
  path: string;
  message: string;
}

export type ParsedAdvisory =
  | { ok: true; format: AdvisoryFormat; content: AdvisoryContent }
  | { ok: false; format: AdvisoryFormat; errors: FieldError[] };

/**
 * What Warden keeps of an advisory document, held to Warden's limits; any error rejects it, naming
 * the field. It does not check the official OSV and CSAF schemas: `readAdvisory` does, first.
 */
export function parseAdvisory(doc: Record<string, unknown>, format: AdvisoryFormat = detectFormat(doc)): ParsedAdvisory {
  const errorsOf = (error: z.ZodError) =>
    error.issues.map((issue) => ({ path: ['body', ...issue.path.map(String)].join('.'), message: issue.message }));
  const parsers = {
    generic: () => genericAdvisory.safeParse(doc),
    osv: () => osvAdvisory.safeParse(doc),
    csaf: () => csafAdvisory.safeParse(doc),
  };
  const parsed = parsers[format]();
  if (!parsed.success) return { ok: false, format, errors: errorsOf(parsed.error) };
  const content =
    format === 'generic'
      ? fromGeneric(parsed.data as z.infer<typeof genericAdvisory>)
      : format === 'osv'
        ? fromOsv(parsed.data as z.infer<typeof osvAdvisory>)
        : fromCsaf(parsed.data as z.infer<typeof csafAdvisory>);
  if (content.affected.length === 0 || content.affected.every((a) => a.ranges.length === 0)) {
    return { ok: false, format, errors: [{ path: 'body', message: 'names no affected product version Warden can match' }] };
  }
  return { ok: true, format, content };
}

const csafVersion = (doc: Record<string, unknown>) => {
  const document = doc.document;
  return document !== null && typeof document === 'object' ? (document as Record<string, unknown>).csaf_version : undefined;
};

/**
 * One advisory document, whole or not at all. OSV and CSAF 2.0 must satisfy their official JSON
 * schemas (checked off the event loop, schemas/official-schemas.ts), then `parseAdvisory`. CSAF 2.1
 * has only committee drafts of its schema so far: its documents are read by `parseAdvisory` alone.
 */
export async function readAdvisory(doc: Record<string, unknown>, format: AdvisoryFormat = detectFormat(doc)): Promise<ParsedAdvisory> {
  const schema = format === 'osv' ? 'osv-1.7' : format === 'csaf' && csafVersion(doc) === '2.0' ? 'csaf-2.0' : undefined;
  if (schema) {
    const errors = await officialSchemaErrors(schema, doc);
    if (errors.length) return { ok: false, format, errors };
  }
  return parseAdvisory(doc, format);
}

/**
 * The body of POST /advisories. Validated by `readAdvisory` in the route, against the format the
 * query names or the document shows, so its errors name the fields of that format; a union here
 * would only say that none of three formats matched. The document still describes the three forms.
 */
export const advisoryDocument = z.record(z.string(), z.unknown()).meta({
  description: 'One advisory, in one of three forms (the `format` query parameter, or detected)',
  // zod-type-provider names the request-side variant of a registered schema `<id>Input`.
  anyOf: ['GenericAdvisoryInput', 'OsvAdvisoryInput', 'CsafAdvisoryInput'].map((name) => ({ $ref: `#/components/schemas/${name}` })),
  examples: [
    {
      id: 'WARDEN-2026-0001',
      cves: ['CVE-2026-12345'],
      title: 'OpenSSL: heap overflow in X.509 name constraints',
      supplier: 'OpenSSL Project',
      affected: [{ product: 'openssl', versions: ['>=3.0.0 <3.0.16'], fixed: ['3.0.16'] }],
      cvss: { score: 8.1 },
      exploited: false,
    },
  ],
});

export const advisoryPostQuery = z.strictObject({
  format: z.enum(advisoryFormats).optional().describe('Detected from the document when omitted'),
});

export const advisoryAccepted = z.object({
  id: z.string(),
  workflowId: z.string(),
  format: z.enum(advisoryFormats),
  revision: z.number(),
  created: z.boolean(),
});

const remediationView = z.object({
  ciId: z.string(),
  ciName: z.string(),
  serviceId: z.string().nullable(),
  owner: z.string(),
  product: z.string(),
  installedVersion: z.string(),
  status: z.enum(remediationStatuses),
  deadline: z.string(),
  dueAt: z.string(),
  overdue: z.boolean(),
  escalations: z.number(),
  resolution: z.record(z.string(), z.unknown()).nullable(),
  exceptionExpiresAt: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  taskId: z.string().nullable(),
});

export const advisorySummary = z
  .object({
    id: z.string(),
    workflowId: z.string(),
    format: z.string(),
    title: z.string(),
    supplier: z.string().nullable(),
    aliases: z.array(z.string()),
    cvssScore: z.number().nullable(),
    exploited: z.boolean(),
    status: z.enum(['open', 'closed', 'failed', 'withdrawn']),
    withdrawnAt: z.string().nullable().describe('when the source withdrew it; its running remediations closed as not applicable'),
    revision: z.number(),
    alertId: z.string().nullable(),
    remediations: z.record(z.string(), z.number()).describe('count per remediation status'),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'AdvisorySummary' });

export const advisoryDetail = advisorySummary
  .extend({
    affected: z.array(
      z.object({
        product: z.string(),
        purl: z.string().optional(),
        cpe: z.string().optional(),
        ranges: z.array(z.string()),
        fixed: z.array(z.string()),
        ecosystem: z.string().optional().describe('the OSV ecosystem: its version order decides the intervals'),
        intervals: z
          .array(
            z.object({
              range: z.string().describe('the `ranges` entry this interval is also written as'),
              type: z.enum(['SEMVER', 'ECOSYSTEM']),
              introduced: z.string().optional(),
              fixed: z.string().optional(),
              lastAffected: z.string().optional(),
            }),
          )
          .optional()
          .describe("OSV's events as the source wrote them, ordered by the ecosystem's (or the component purl's) version rules"),
      }),
    ),
    cvssVector: z.string().nullable(),
    preventiveMeasures: z.string().nullable(),
    published: z.string().nullable(),
    remediationDetails: z.array(remediationView),
  })
  .meta({ id: 'Advisory' });

export const advisoryListQuery = z.strictObject({
  status: z.enum(['open', 'closed', 'failed', 'withdrawn']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export const advisoryParam = z.strictObject({ id: advisoryId });

export const remediationOutcome = z.enum(remediationOutcomes);

export const componentsBody = z.strictObject({
  components: z
    .array(z.strictObject({ product: text(200), version: text(100) }))
    .max(500)
    .refine((list) => new Set(list.map((c) => c.product.toLowerCase())).size === list.length, 'each product once per CI'),
});

export const patchComplianceQuery = z.strictObject({ from: timestamp.optional(), to: timestamp.optional() });
export const patchComplianceView = z.object({
  from: z.string(),
  to: z.string(),
  services: z.array(
    z.object({
      serviceId: z.string().nullable(),
      serviceName: z.string().nullable(),
      due: z.number(),
      doneOnTime: z.number(),
      percentage: z.number().nullable(),
    }),
  ),
});
