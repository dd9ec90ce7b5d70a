import { z } from 'zod';
import type { Component } from '../domain/advisory-matching';
import { officialSchemaErrors } from './official-schemas';
import { cpeString, purlParts, purlString } from './package-identity';

/** The most components one SBOM may list: a container image with every layer's packages stays well below. */
export const maxSbomComponents = 20_000;

/** The CycloneDX versions Warden reads, each checked against its own official schema. */
const cycloneDxSpecVersions = ['1.4', '1.5', '1.6'] as const;

// CycloneDX 1.4–1.6 JSON (https://cyclonedx.org/docs/1.6/json/): the official schema has checked the
// document whole; this reader takes the fields Warden keeps and holds them to Warden's limits and to
// what the schema leaves free (a purl that is a package URL, a CPE that is a CPE name).
interface CycloneDxComponent {
  name: string;
  version?: string;
  group?: string;
  purl?: string;
  cpe?: string;
  components?: CycloneDxComponent[];
}
const cycloneDxComponent: z.ZodType<CycloneDxComponent> = z.lazy(() =>
  z.looseObject({
    name: z.string().trim().min(1).max(500),
    version: z.string().max(200).optional(),
    group: z.string().max(500).optional(),
    purl: purlString.optional(),
    cpe: cpeString.optional(),
    components: z.array(cycloneDxComponent).optional(),
  }),
);
export const cycloneDxSbom = z.looseObject({
  bomFormat: z.literal('CycloneDX'),
  specVersion: z.enum(cycloneDxSpecVersions),
  serialNumber: z.string().max(200).optional(),
  components: z.array(cycloneDxComponent).max(maxSbomComponents).default([]),
});

// SPDX 2.3 JSON (https://spdx.github.io/spdx-spec/v2.3/): the official schema has checked the document
// whole; this reader takes the packages with their purl and CPE external references.
export const spdxSbom = z.looseObject({
  spdxVersion: z.literal('SPDX-2.3'),
  SPDXID: z.string(),
  documentNamespace: z.string().max(2000).optional(),
  packages: z
    .array(
      z.looseObject({
        SPDXID: z.string(),
        name: z.string().trim().min(1).max(500),
        versionInfo: z.string().max(200).optional(),
        externalRefs: z
          .array(z.looseObject({ referenceCategory: z.string(), referenceType: z.string(), referenceLocator: z.string().max(2000) }))
          .default([]),
      }),
    )
    .max(maxSbomComponents)
    .default([]),
});

export const sbomFormats = ['cyclonedx', 'spdx'] as const;
export type SbomFormat = (typeof sbomFormats)[number];

export interface ParsedSbom {
  format: SbomFormat;
  specVersion: string;
  serialNumber: string | null;
  components: Component[];
  /** Components listed without any version (not even in their purl): nothing can be matched against them. */
  unversioned: number;
}

interface FieldError {
  path: string;
  message: string;
}

/** One component from what an SBOM says of it: the purl's version when the component gives none. */
function component(name: string, version: string | undefined, purl: string | undefined, cpe: string | undefined): Component | undefined {
  const parts = purl ? purlParts(purl) : undefined;
  const resolved = version?.trim() || parts?.version;
  if (!resolved) return undefined;
  return { product: name, version: resolved, purl: parts?.package ?? null, cpe: cpe ?? null };
}

/** Listed once each: SBOMs repeat a component that several others depend on. */
function distinctComponents(components: Component[]): Component[] {
  const seen = new Map<string, Component>();
  for (const c of components) seen.set([c.product.toLowerCase(), c.version, c.purl ?? '', c.cpe ?? ''].join('\n'), c);
  return [...seen.values()];
}

function fromCycloneDx(doc: z.infer<typeof cycloneDxSbom>): ParsedSbom {
  const found: (Component | undefined)[] = [];
  // Nested components (a jar inside a war) are walked with a stack of our own, not by recursion.
  const stack = [...doc.components];
  while (stack.length) {
    const c = stack.pop() as CycloneDxComponent;
    found.push(component(c.name, c.version, c.purl, c.cpe));
    if (c.components) stack.push(...c.components);
  }
  const components = found.filter((c): c is Component => c !== undefined);
  return {
    format: 'cyclonedx',
    specVersion: doc.specVersion,
    serialNumber: doc.serialNumber ?? null,
    components: distinctComponents(components),
    unversioned: found.length - components.length,
  };
}

function fromSpdx(doc: z.infer<typeof spdxSbom>): { ok: true; sbom: ParsedSbom } | { ok: false; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const found = doc.packages.map((pkg, index) => {
    // The references are free strings in SPDX's schema: every purl and CPE one is checked, as
    // CycloneDX's fields are; the first of each names the package.
    const checked = (type: 'purl' | 'cpe23Type', schema: z.ZodType<string>, message: string) => {
      const locators = pkg.externalRefs.filter((ref) => ref.referenceType === type).map((ref) => ref.referenceLocator);
      if (locators.some((locator) => !schema.safeParse(locator).success))
        errors.push({ path: `body.packages.${index}.externalRefs`, message });
      return locators[0];
    };
    const purl = checked('purl', purlString, 'a purl reference must be a package URL');
    const cpe = checked('cpe23Type', cpeString, 'a cpe23Type reference must be a CPE name');
    return component(pkg.name, pkg.versionInfo, purl, cpe);
  });
  if (errors.length) return { ok: false, errors };
  const components = found.filter((c): c is Component => c !== undefined);
  return {
    ok: true,
    sbom: {
      format: 'spdx',
      specVersion: doc.spdxVersion,
      serialNumber: doc.documentNamespace ?? null,
      components: distinctComponents(components),
      unversioned: found.length - components.length,
    },
  };
}

/** Which SBOM format a document is: CycloneDX says bomFormat, SPDX says spdxVersion. */
export function detectSbomFormat(doc: Record<string, unknown>): SbomFormat | undefined {
  if (doc.bomFormat === 'CycloneDX') return 'cyclonedx';
  if (typeof doc.spdxVersion === 'string') return 'spdx';
  return undefined;
}

/**
 * The fields Warden keeps from an SBOM document, held to Warden's limits; any error rejects it,
 * naming the field. It does not check the official schema: `readSbom` does, first.
 */
export function parseSbom(doc: Record<string, unknown>): { ok: true; sbom: ParsedSbom } | { ok: false; errors: FieldError[] } {
  const errorsOf = (error: z.ZodError) =>
    error.issues.map((issue) => ({ path: ['body', ...issue.path.map(String)].join('.'), message: issue.message }));
  const format = detectSbomFormat(doc);
  if (format === 'cyclonedx') {
    const parsed = cycloneDxSbom.safeParse(doc);
    return parsed.success ? { ok: true, sbom: fromCycloneDx(parsed.data) } : { ok: false, errors: errorsOf(parsed.error) };
  }
  if (format === 'spdx') {
    const parsed = spdxSbom.safeParse(doc);
    return parsed.success ? fromSpdx(parsed.data) : { ok: false, errors: errorsOf(parsed.error) };
  }
  return {
    ok: false,
    errors: [{ path: 'body', message: 'must be a CycloneDX 1.4–1.6 JSON BOM (bomFormat) or an SPDX 2.3 JSON document (spdxVersion)' }],
  };
}

/**
 * One SBOM document, whole or not at all: it must satisfy the official JSON schema of its format and
 * version (checked off the event loop, schemas/official-schemas.ts), then `parseSbom`.
 */
export async function readSbom(
  doc: Record<string, unknown>,
): Promise<{ ok: true; sbom: ParsedSbom } | { ok: false; errors: FieldError[] }> {
  const format = detectSbomFormat(doc);
  if (format === 'cyclonedx') {
    const version = cycloneDxSpecVersions.find((v) => v === doc.specVersion);
    if (!version)
      return { ok: false, errors: [{ path: 'body.specVersion', message: `must be one of ${cycloneDxSpecVersions.join(', ')}` }] };
    const schemaErrors = await officialSchemaErrors(`cyclonedx-${version}`, doc);
    if (schemaErrors.length) return { ok: false, errors: schemaErrors };
  }
  if (format === 'spdx') {
    if (doc.spdxVersion !== 'SPDX-2.3') return { ok: false, errors: [{ path: 'body.spdxVersion', message: 'must be SPDX-2.3' }] };
    const schemaErrors = await officialSchemaErrors('spdx-2.3', doc);
    if (schemaErrors.length) return { ok: false, errors: schemaErrors };
  }
  return parseSbom(doc);
}

export const sbomAccepted = z.object({
  ciId: z.string(),
  format: z.enum(sbomFormats),
  specVersion: z.string(),
  components: z.number().describe('components now recorded for the CI'),
  unversioned: z.number().describe('components the SBOM lists without a version, not recorded'),
  rematched: z.array(z.string()).describe('open advisories told to match this CI again'),
  remediationsChecked: z
    .array(z.string())
    .describe('open advisories with a remediation on this CI, told to weigh this SBOM (close as verified fixed, or reopen)'),
});
