import semver from 'semver';
import type { AffectedProduct } from './advisory';

export interface Component {
  product: string;
  version: string;
}

export interface AffectedComponent extends Component {
  /** The advisory's range the version fell in. */
  range: string;
  fixed: string[];
}

const sameProduct = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * Whether `version` lies in `range`. Semver versions are checked against semver ranges (pre-releases
 * of an affected line count as affected); anything else (vendor versions like "2019-R2") matches an
 * exact version only, case-insensitively.
 */
export function versionInRange(version: string, range: string): boolean {
  if (version.trim().toLowerCase() === range.trim().toLowerCase()) return true;
  const parsed = semver.valid(version.trim());
  if (!parsed || semver.validRange(range) === null) return false;
  return semver.satisfies(parsed, range, { includePrerelease: true });
}

/** Several ranges of one product are alternatives: affected when any one holds. */
export function affectedRange(version: string, ranges: readonly string[]): string | undefined {
  return ranges.find((range) => versionInRange(version, range));
}

/** The components of one CI an advisory affects. */
export function affectedComponents(affected: readonly AffectedProduct[], components: readonly Component[]): AffectedComponent[] {
  return components.flatMap((component) =>
    affected.flatMap((entry) => {
      if (!sameProduct(entry.product, component.product)) return [];
      const range = affectedRange(component.version, entry.ranges);
      return range === undefined ? [] : [{ ...component, range, fixed: entry.fixed }];
    }),
  );
}

/** Whether an advisory names any of these products at all (before versions are compared). */
export function namesAnyProduct(affected: readonly AffectedProduct[], products: readonly string[]): boolean {
  return affected.some((entry) => products.some((product) => sameProduct(entry.product, product)));
}
