// Version matching needs semver, so it lives with the activities that match rather than in domain/,
// which imports no package; the identity and version rules it builds on stay in domain/advisory-matching.ts.
import semver from 'semver';
import type { AffectedProduct, VersionInterval } from '../domain/advisory';
import { identifies, normalizeVersion, type AffectedComponent, type Component } from '../domain/advisory-matching';
import { purlType, versionSchemeOf, type VersionScheme } from '../domain/version-ordering';
import { compareVersions } from './version-ordering';

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
 * The version order an entry's ECOSYSTEM intervals are read in: the installed package's (its purl
 * type), else the ecosystem the advisory named, else its purl's; semver when none is known.
 */
export function schemeFor(entry: AffectedProduct, component: Component): VersionScheme {
  return versionSchemeOf(purlType(component.purl)) ?? versionSchemeOf(entry.ecosystem) ?? versionSchemeOf(purlType(entry.purl)) ?? 'semver';
}

/** Whether `version` lies in the interval, by the scheme's order; undefined when the scheme cannot read a version involved. */
export function inInterval(version: string, interval: VersionInterval, scheme: VersionScheme): boolean | undefined {
  const order = interval.type === 'SEMVER' ? 'semver' : scheme;
  const from = interval.introduced === undefined || interval.introduced === '0' ? 0 : compareVersions(order, version, interval.introduced);
  const upTo =
    interval.fixed !== undefined
      ? compareVersions(order, version, interval.fixed)
      : interval.lastAffected !== undefined
        ? compareVersions(order, version, interval.lastAffected)
        : -1;
  if (from === undefined || upTo === undefined) return undefined;
  return from >= 0 && (interval.fixed !== undefined ? upTo < 0 : upTo <= 0);
}

/**
 * The range of an entry that holds `version`. An OSV interval is decided in the ecosystem's order
 * (PEP 440, Maven, dpkg, rpm, RubyGems, semver); when that order cannot read the version, and for
 * entries without intervals (stored before them, hand-typed, CSAF), the semver range or exact version decides.
 */
export function entryRange(entry: AffectedProduct, component: Component, version = component.version): string | undefined {
  const intervals = entry.intervals ?? [];
  const scheme = schemeFor(entry, component);
  const held = intervals.find((interval) => inInterval(version, interval, scheme) ?? versionInRange(version, interval.range));
  if (held) return held.range;
  const decidedByIntervals = new Set(intervals.map((interval) => interval.range));
  return affectedRange(
    version,
    entry.ranges.filter((range) => !decidedByIntervals.has(range)),
  );
}

/** The components of one CI an advisory affects. */
export function affectedComponents(affected: readonly AffectedProduct[], components: readonly Component[]): AffectedComponent[] {
  return components.flatMap((component) =>
    affected.flatMap((entry) => {
      if (!identifies(entry, component)) return [];
      const range = entryRange(entry, component);
      return range === undefined ? [] : [{ ...component, range, fixed: entry.fixed }];
    }),
  );
}

/** Whether a patched `version` of the remediated component still lies in a range the advisory names for it. */
export function stillAffected(affected: readonly AffectedProduct[], component: Component, version: string): boolean {
  return affected.some((entry) => identifies(entry, component) && entryRange(entry, component, version) !== undefined);
}
