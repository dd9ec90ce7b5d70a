// Version matching needs semver, so it lives with the activities that match rather than in domain/,
// which imports no package; the product-name rules it builds on stay in domain/advisory-matching.ts.
import semver from 'semver';
import type { AffectedProduct } from '../domain/advisory';
import { sameProduct, type AffectedComponent, type Component } from '../domain/advisory-matching';

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

/** Whether a patched `version` of `product` still lies in a range the advisory names for that product. */
export function stillAffected(affected: readonly AffectedProduct[], product: string, version: string): boolean {
  return affected.some((a) => a.product.toLowerCase() === product.toLowerCase() && affectedRange(version, a.ranges) !== undefined);
}
