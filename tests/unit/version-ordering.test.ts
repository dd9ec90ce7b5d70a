import { describe, expect, it } from 'vitest';
import { entryRange, stillAffected } from '../../activities/advisory-matching';
import { compareVersions } from '../../activities/version-ordering';
import type { AffectedProduct } from '../../domain/advisory';
import { compareDebian, compareMaven, compareRpm, versionSchemeOf, type VersionScheme } from '../../domain/version-ordering';
import { parseAdvisory } from '../../schemas/advisories';

const order = (compare: (a: string, b: string) => number | undefined, a: string, b: string) => {
  const result = compare(a, b);
  return result === undefined ? 'unreadable' : result < 0 ? '<' : result > 0 ? '>' : '=';
};

/** Every earlier version of an ascending list is below every later one, and each equals itself. */
function expectAscending(compare: (a: string, b: string) => number | undefined, versions: string[]) {
  for (let i = 0; i < versions.length; i += 1) {
    expect(order(compare, versions[i] as string, versions[i] as string)).toBe('=');
    for (let j = i + 1; j < versions.length; j += 1) {
      expect(`${versions[i]} ${order(compare, versions[i] as string, versions[j] as string)} ${versions[j]}`).toBe(
        `${versions[i]} < ${versions[j]}`,
      );
      expect(order(compare, versions[j] as string, versions[i] as string)).toBe('>');
    }
  }
}

describe('Maven (ComparableVersion)', () => {
  it('orders the qualifiers as maven-artifact’s ComparableVersionTest does', () => {
    expectAscending(compareMaven, [
      '1-alpha2snapshot',
      '1-alpha2',
      '1-alpha-123',
      '1-beta-2',
      '1-beta123',
      '1-m2',
      '1-m11',
      '1-rc',
      '1-cr2',
      '1-rc123',
      '1-SNAPSHOT',
      '1',
      '1-sp',
      '1-sp2',
      '1-sp123',
      '1-abc',
      '1-def',
      '1-pom-1',
      '1-1-snapshot',
      '1-1',
      '1-2',
      '1-123',
    ]);
  });

  it('orders the numbers as maven-artifact’s ComparableVersionTest does', () => {
    expectAscending(compareMaven, [
      '2.0',
      '2-1',
      '2.0.a',
      '2.0.0.a',
      '2.0.2',
      '2.0.123',
      '2.1.0',
      '2.1-a',
      '2.1b',
      '2.1-c',
      '2.1-1',
      '2.1.0.1',
      '2.2',
      '2.123',
      '11.a2',
      '11.a11',
      '11.b2',
      '11.b11',
      '11.m2',
      '11.m11',
      '11',
      '11.a',
      '11b',
      '11c',
      '11m',
    ]);
  });

  it.each([
    ['1.0-SP1', '1.0', '>'],
    ['1.0-alpha', '1.0-beta', '<'],
    ['1.0-beta', '1.0-rc', '<'],
    ['1.0-rc', '1.0', '<'],
    ['1.0', '1.0-sp', '<'],
    ['1', '1.0.0', '='],
    ['1.0.0.Final', '1.0.0', '='],
    ['1-ga', '1', '='],
    ['1a1', '1-alpha-1', '='],
    ['1.0-cr1', '1.0-rc1', '='],
    ['2.14.1', '2.15.0', '<'],
    ['12345678901234567890', '12345678901234567891', '<'],
  ])('%s %s %s', (a, b, expected) => {
    expect(order(compareMaven, a, b)).toBe(expected);
  });
});

describe('Debian (dpkg)', () => {
  it.each([
    ['1:1.0', '2.0', '>'],
    ['1.0~rc1', '1.0', '<'],
    ['1.0', '1.0-0', '='],
    ['0:1.0', '1.0', '='],
    ['1.0-1', '1.0-2', '<'],
    ['2.30', '2.4', '>'],
    ['1.0a', '1.0', '>'],
    ['1.0+deb12u1', '1.0', '>'],
    ['1.0-1+deb12u1', '1.0-1', '>'],
    ['2.36-9+deb12u4', '2.36-9+deb12u10', '<'],
    ['1.0', 'one', 'unreadable'],
    ['1.0:2', '1.0', 'unreadable'],
  ])('%s %s %s', (a, b, expected) => {
    expect(order(compareDebian, a, b)).toBe(expected);
  });

  it('sorts the tilde before anything, the end before letters (Debian Policy 5.6.12)', () => {
    expectAscending(compareDebian, ['1.0~~', '1.0~~a', '1.0~', '1.0', '1.0a']);
  });
});

describe('RPM (rpmvercmp)', () => {
  // rpm's own vectors (tests/rpmvercmp.at).
  it.each([
    ['1.0', '1.0', '='],
    ['1.0', '2.0', '<'],
    ['2.0.1', '2.0', '>'],
    ['2.0.1a', '2.0.1', '>'],
    ['5.5p1', '5.5p2', '<'],
    ['5.5p10', '5.5p1', '>'],
    ['10xyz', '10.1xyz', '<'],
    ['xyz10', 'xyz10.1', '<'],
    ['xyz.4', '8', '<'],
    ['6.0.rc1', '6.0', '>'],
    ['10b2', '10a1', '>'],
    ['1.0aa', '1.0a', '>'],
    ['10.0001', '10.1', '='],
    ['4.999.9', '5.0', '<'],
    ['20101121', '20101122', '<'],
    ['2_0', '2_0', '='],
    ['2.0', '2_0', '='],
    ['a+', 'a_', '='],
    ['+_', '_+', '='],
    ['1.0~rc1', '1.0', '<'],
    ['1.0~rc1~git123', '1.0~rc1', '<'],
    ['1.0^', '1.0', '>'],
    ['1.0^git1', '1.01', '<'],
    ['1.0^20160101', '1.0.1', '<'],
    ['1.0~rc1^git1', '1.0~rc1', '>'],
    ['1.0~rc1^git1', '1.0', '<'],
  ])('%s %s %s', (a, b, expected) => {
    expect(order(compareRpm, a, b)).toBe(expected);
  });

  it('compares the epoch first, then the version, then the release', () => {
    expect(order(compareRpm, '1:1.0-1', '2.0-1')).toBe('>');
    expect(order(compareRpm, '2.14.1-1.el8', '2.14.1-2.el8')).toBe('<');
    expect(order(compareRpm, '2.14.1', '2.14.1-2.el8')).toBe('<');
  });
});

describe('PyPI (PEP 440) and RubyGems, through their libraries', () => {
  it.each<[VersionScheme, string, string, string]>([
    ['pypi', '1.0.post1', '1.0', '>'],
    ['pypi', '1!0.1', '2.0', '>'],
    ['pypi', '1.0rc1', '1.0', '<'],
    ['pypi', '1.0.dev1', '1.0a1', '<'],
    ['pypi', '1.0', '1.0.0', '='],
    ['pypi', 'not a version', '1.0', 'unreadable'],
    ['rubygems', '1.0.0.rc1', '1.0.0', '<'],
    ['rubygems', '1.0.0.a', '1.0.0.b', '<'],
    ['rubygems', '1.10', '1.9', '>'],
    ['semver', '2.0-beta9', '2.0.0', '<'],
    ['semver', 'v1.2.3', '1.2.3', '='],
  ])('%s: %s %s %s', (scheme, a, b, expected) => {
    expect(order((x, y) => compareVersions(scheme, x, y), a, b)).toBe(expected);
  });

  it('names the scheme from purl types and OSV ecosystems', () => {
    expect(
      ['pypi', 'PyPI', 'maven', 'Debian:12', 'deb', 'Ubuntu:22.04:LTS', 'Red Hat', 'rpm', 'gem', 'RubyGems', 'npm', 'Go'].map(
        versionSchemeOf,
      ),
    ).toEqual(['pypi', 'pypi', 'maven', 'debian', 'debian', 'debian', 'rpm', 'rpm', 'rubygems', 'rubygems', undefined, undefined]);
  });
});

describe('matching an OSV ECOSYSTEM range by the ecosystem’s order', () => {
  const osv = (ecosystem: string, name: string, events: Record<string, string>[]) => {
    const parsed = parseAdvisory({
      id: 'OSV-TEST-1',
      modified: '2026-11-01T00:00:00Z',
      affected: [{ package: { ecosystem, name }, ranges: [{ type: 'ECOSYSTEM', events }] }],
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    return parsed.content.affected[0] as AffectedProduct;
  };

  it('keeps the events beside the semver range', () => {
    expect(osv('PyPI', 'django', [{ introduced: '0' }, { fixed: '1!0.1' }])).toMatchObject({
      ecosystem: 'PyPI',
      purl: 'pkg:pypi/django',
      intervals: [{ type: 'ECOSYSTEM', fixed: '1!0.1' }],
    });
  });

  it('PyPI: an epoch outranks any release, a post-release follows its release', () => {
    const entry = osv('PyPI', 'django', [{ introduced: '0' }, { fixed: '1!0.1' }]);
    const component = { product: 'django', version: '2.0', purl: 'pkg:pypi/django' };
    expect(entryRange(entry, component)).toBeDefined();
    expect(entryRange(entry, component, '1!0.1')).toBeUndefined();
    const post = osv('PyPI', 'requests', [{ introduced: '0' }, { fixed: '2.31.0.post1' }]);
    expect(stillAffected([post], { product: 'requests', version: '2.31.0', purl: 'pkg:pypi/requests' }, '2.31.0')).toBe(true);
    expect(stillAffected([post], { product: 'requests', version: '2.31.0', purl: 'pkg:pypi/requests' }, '2.31.0.post1')).toBe(false);
  });

  it('Maven: a service pack is after its release, a release candidate before it', () => {
    const entry = osv('Maven', 'org.example:lib', [{ introduced: '0' }, { fixed: '1.0-SP1' }]);
    const component = { product: 'lib', version: '1.0', purl: 'pkg:maven/org.example/lib' };
    expect(entryRange(entry, component)).toBeDefined();
    expect(entryRange(entry, component, '1.0-SP1')).toBeUndefined();
    expect(entryRange(entry, component, '1.0-SP2')).toBeUndefined();
  });

  it('Debian: the epoch decides before the upstream version', () => {
    const entry = osv('Debian:12', 'openssl', [{ introduced: '0' }, { fixed: '1:1.0' }]);
    const component = { product: 'openssl', version: '2.0', purl: 'pkg:deb/debian/openssl' };
    expect(entryRange(entry, component)).toBeDefined();
    expect(entryRange(entry, component, '1:1.0~rc1')).toBeDefined();
    expect(entryRange(entry, component, '1:1.0')).toBeUndefined();
  });

  it('falls back to the semver range when the ecosystem cannot read the version, and keeps old entries as they were', () => {
    const entry = osv('PyPI', 'django', [{ introduced: '0' }, { fixed: '2.0.0' }]);
    expect(entryRange(entry, { product: 'django', version: '1.0-weird-build', purl: 'pkg:pypi/django' })).toBe('>=0.0.0-0 <2.0.0');
    const stored: AffectedProduct = { product: 'django', purl: 'pkg:pypi/django', ranges: ['>=0.0.0-0 <2.0.0'], fixed: ['2.0.0'] };
    expect(entryRange(stored, { product: 'django', version: '1.9', purl: 'pkg:pypi/django' })).toBe('>=0.0.0-0 <2.0.0');
  });
});
