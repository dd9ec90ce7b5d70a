// Version matching needs semver, so it lives with the activities that match rather than in domain/,
// which imports no package; the name, CPE and version rules it builds on stay in domain/advisory-matching.ts.
// Purls arrive in their canonical package form (schemas/purl.ts), so identity is a string comparison.
import semver from 'semver';
import type { AffectedProduct } from '../domain/advisory';
import { cpeProduct, normalizeVersion, sameProduct, type AffectedComponent, type Component } from '../domain/advisory-matching';

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

/**
 * Whether an advisory's entry is about this component. Identities decide when both sides carry one:
 * the purl package, else the CPE's vendor and product. A name is compared only when the advisory
 * names no identity (typed by hand) or the component has none (entered by hand): SBOM components
 * against a purl- or CPE-bearing advisory never match by name.
 */
export function identifies(entry: AffectedProduct, component: Component): boolean {
  if (entry.purl && component.purl) return entry.purl.toLowerCase() === component.purl.toLowerCase();
  if (entry.cpe && component.cpe) return cpeProduct(entry.cpe) !== undefined && cpeProduct(entry.cpe) === cpeProduct(component.cpe);
  const entryHasIdentity = Boolean(entry.purl || entry.cpe);
  const componentHasIdentity = Boolean(component.purl || component.cpe);
  if (entryHasIdentity && componentHasIdentity) return false;
  return sameProduct(entry.product, component.product);
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

/** Whether any of these components is the subject of one of the advisory's entries (before versions are compared). */
export function concernsAny(affected: readonly AffectedProduct[], components: readonly Component[]): boolean {
  return components.some((component) => affected.some((entry) => identifies(entry, component)));
}

/** Whether a patched `version` of the remediated component still lies in a range the advisory names for it. */
export function stillAffected(affected: readonly AffectedProduct[], component: Component, version: string): boolean {
  return affected.some((entry) => identifies(entry, component) && affectedRange(version, entry.ranges) !== undefined);
}
