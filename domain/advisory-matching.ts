import type { AffectedProduct } from './advisory';

export interface Component {
  product: string;
  version: string;
  /** The package URL the SBOM gave, version included; absent on hand-entered components. */
  purl?: string | null;
  /** The CPE 2.3 name the SBOM gave. */
  cpe?: string | null;
}

export interface AffectedComponent extends Component {
  /** The advisory's range the version fell in. */
  range: string;
  fixed: string[];
}

/** Product names compare trimmed and case-insensitively: suppliers and CMDBs spell them differently. */
export const sameProduct = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * The part, vendor and product of a CPE name, lower-cased: a 2.3 formatted string
 * (`cpe:2.3:a:apache:log4j:2.14.1:*:…`) or a 2.2 URI (`cpe:/a:redhat:enterprise_linux:8`, as Red Hat's
 * CSAF writes them); undefined when it is neither. The version fields are left to the advisory's ranges.
 */
export function cpeProduct(cpe: string): string | undefined {
  const fields = cpe
    .trim()
    .toLowerCase()
    .split(/(?<!\\):/);
  const [prefix, second] = fields;
  if (prefix !== 'cpe') return undefined;
  const [part, vendor, product] = second === '2.3' ? fields.slice(2, 5) : [second?.replace(/^\//, ''), fields[2], fields[3]];
  const named = (value: string | undefined) => value !== undefined && value !== '' && value !== '*' && value !== '-';
  return named(part) && named(vendor) && named(product) ? `${part}:${vendor}:${product}` : undefined;
}

/**
 * Whether an advisory's entry is about this component. Identities decide when both sides carry one:
 * the purl package, else the CPE's vendor and product. A name is compared only when the advisory
 * names no identity (typed by hand) or the component has none (entered by hand): SBOM components
 * against a purl- or CPE-bearing advisory never match by name.
 */
export function identifies(entry: AffectedProduct, component: Component): boolean {
  // Purls arrive in their canonical package form (schemas/package-identity.ts): identity is a string comparison.
  if (entry.purl && component.purl) return entry.purl.toLowerCase() === component.purl.toLowerCase();
  if (entry.cpe && component.cpe) return cpeProduct(entry.cpe) !== undefined && cpeProduct(entry.cpe) === cpeProduct(component.cpe);
  const entryHasIdentity = Boolean(entry.purl || entry.cpe);
  const componentHasIdentity = Boolean(component.purl || component.cpe);
  if (entryHasIdentity && componentHasIdentity) return false;
  return sameProduct(entry.product, component.product);
}

/** Maven's and others' words for "the release itself": no qualifier at all. */
const releaseQualifiers = new Set(['final', 'ga', 'release']);

/**
 * A version as semver can order it: ecosystems such as Maven and PyPI drop trailing zeros and glue
 * qualifiers on ("2.0-beta9", "2.15", "2.14.1.Final"), which semver refuses. The release is padded to
 * three numbers; further numbers ("10.0.19041.1") become build metadata, which semver does not order
 * by (so they compare equal to their first three numbers: the cautious side for "affected below");
 * a release word is dropped and any other qualifier becomes a pre-release. Versions without a leading
 * number stay as they are (and then only ever equal themselves).
 */
export function normalizeVersion(version: string): string {
  const trimmed = version.trim().replace(/^v(?=\d)/, '');
  const match = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?((?:\.\d+)*)(?:[-.+_]?([0-9A-Za-z][0-9A-Za-z._-]*))?$/.exec(trimmed);
  if (!match) return trimmed;
  const [, major, minor = '0', patch = '0', more = '', qualifier] = match;
  const release = [major, minor, patch].map((n) => String(Number(n))).join('.');
  // Semver allows no underscore (RPM releases such as "3.el8_5" have them).
  const pre = qualifier && !releaseQualifiers.has(qualifier.toLowerCase()) ? `-${qualifier.replace(/_/g, '-')}` : '';
  const build = more ? `+${more.slice(1)}` : '';
  return `${release}${pre}${build}`;
}

/** The lower-cased name segment of a purl (`pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1` → `log4j-core`). */
function purlName(purl: string): string | undefined {
  const name = /^pkg:[^/]+\/(?:[^@?#]*\/)?([^/@?#]+)/i.exec(purl.trim())?.[1];
  try {
    return name ? decodeURIComponent(name).toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether an advisory may concern any of these components: its product name, purl name or CPE
 * product equals one of theirs. A coarse, generous filter for which advisories to match again when a
 * CI's components change; the match itself (activities/advisory-matching.ts) decides precisely.
 */
export function mayConcern(affected: readonly AffectedProduct[], components: readonly Component[]): boolean {
  const names = new Set<string>();
  for (const c of components) {
    names.add(c.product.trim().toLowerCase());
    const fromPurl = c.purl ? purlName(c.purl) : undefined;
    if (fromPurl) names.add(fromPurl);
    const fromCpe = c.cpe ? cpeProduct(c.cpe) : undefined;
    if (fromCpe) names.add(fromCpe);
  }
  return affected.some(
    (entry) =>
      names.has(entry.product.trim().toLowerCase()) ||
      (entry.purl !== undefined && names.has(purlName(entry.purl) ?? '')) ||
      (entry.cpe !== undefined && names.has(cpeProduct(entry.cpe) ?? '')),
  );
}
