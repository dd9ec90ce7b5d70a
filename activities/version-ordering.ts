// The library-backed version orderings live beside the matching activities, since domain/ imports
// no package; the hand-written ones (Maven, Debian, RPM) and the scheme names are in domain/version-ordering.ts.
import * as pep440 from '@renovatebot/pep440';
import * as rubygems from '@renovatebot/ruby-semver';
import semver from 'semver';
import { normalizeVersion } from '../domain/advisory-matching';
import { compareDebian, compareMaven, compareRpm, type VersionComparison, type VersionScheme } from '../domain/version-ordering';

/** PEP 440 (PyPI): epochs, pre-, post- and dev-releases and local versions, as pip orders them. */
function comparePypi(a: string, b: string): VersionComparison {
  return pep440.valid(a) && pep440.valid(b) ? pep440.compare(a, b) : undefined;
}

/** RubyGems' Gem::Version: a letter makes a prerelease ("1.0.0.rc1" < "1.0.0"). */
function compareRubygems(a: string, b: string): VersionComparison {
  if (!rubygems.valid(a) || !rubygems.valid(b)) return undefined;
  return rubygems.eq(a, b) ? 0 : rubygems.lt(a, b) ? -1 : 1;
}

/** Semver, after the normalisation that lets it read "2.0-beta9" and "v1.2" (domain/advisory-matching.ts). */
function compareSemver(a: string, b: string): VersionComparison {
  const left = semver.valid(normalizeVersion(a));
  const right = semver.valid(normalizeVersion(b));
  return left && right ? semver.compare(left, right) : undefined;
}

const comparators: Record<VersionScheme, (a: string, b: string) => VersionComparison> = {
  semver: compareSemver,
  pypi: comparePypi,
  maven: compareMaven,
  debian: compareDebian,
  rpm: compareRpm,
  rubygems: compareRubygems,
};

/** `a` against `b` in the scheme's order; undefined when either is not a version the scheme reads. */
export function compareVersions(scheme: VersionScheme, a: string, b: string): VersionComparison {
  return comparators[scheme](a, b);
}
