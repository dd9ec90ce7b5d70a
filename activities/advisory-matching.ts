// Version matching needs semver, so it lives with the activities that match rather than in domain/,
// which imports no package; the identity and version rules it builds on stay in domain/advisory-matching.ts.
import semver from 'semver';
import type { AffectedProduct } from '../domain/advisory';
import { identifies, normalizeVersion, type AffectedComponent, type Component } from '../domain/advisory-matching';

/**
 * Whether `version` lies in `range`. Versions are normalised the way ecosystems write them ("2.0-beta9"
 * → "2.0.0-beta9") and checked against semver ranges (pre-releases of an affected line count as
 * affected); anything else (vendor versions like "2019-R2") matches an exact version only, case-insensitively.
 */
export function versionInRange(version: string, range: string): boolean {
  if (version.trim().toLowerCase() === range.trim().toLowerCase()) return true;
  const parsed = semver.valid(normalizeVersion(version));
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
      if (!identifies(entry, component)) return [];
      const range = affectedRange(component.version, entry.ranges);
      return range === undefined ? [] : [{ ...component, range, fixed: entry.fixed }];
    }),
  );
}

/** Whether a patched `version` of the remediated component still lies in a range the advisory names for it. */
export function stillAffected(affected: readonly AffectedProduct[], component: Component, version: string): boolean {
  return affected.some((entry) => identifies(entry, component) && affectedRange(version, entry.ranges) !== undefined);
}
