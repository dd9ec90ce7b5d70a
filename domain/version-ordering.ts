/**
 * How versions order, per package ecosystem. OSV writes ECOSYSTEM ranges in the ecosystem's own
 * version syntax and order ("1!0.1" on PyPI, "1.0-SP1" on Maven, "1:1.0~rc1-2" on Debian), which
 * semver gets wrong; each scheme here is the one the ecosystem's package manager applies.
 * The hand-written comparators below follow their reference algorithms line for line: Maven's
 * ComparableVersion, dpkg's verrevcmp and rpm's rpmvercmp. PEP 440 and RubyGems are compared by
 * libraries (activities/version-ordering.ts), since domain/ imports no package.
 */
export const versionSchemes = ['semver', 'pypi', 'maven', 'debian', 'rpm', 'rubygems'] as const;
export type VersionScheme = (typeof versionSchemes)[number];

/** A comparison: negative, zero or positive; undefined when a version is not one the scheme can read. */
export type VersionComparison = number | undefined;

// purl types (https://github.com/package-url/purl-spec) and OSV ecosystem names, lower-cased, to their scheme.
// Everything else (npm, golang, cargo, nuget, composer, hex, pub, and unknown ones) orders as semver.
const schemeByName: Record<string, VersionScheme> = {
  pypi: 'pypi',
  maven: 'maven',
  deb: 'debian',
  debian: 'debian',
  ubuntu: 'debian',
  rpm: 'rpm',
  'red hat': 'rpm',
  almalinux: 'rpm',
  'rocky linux': 'rpm',
  opensuse: 'rpm',
  suse: 'rpm',
  mageia: 'rpm',
  gem: 'rubygems',
  rubygems: 'rubygems',
};

/** The scheme of a purl type or an OSV ecosystem ("Debian:12" and "Ubuntu:22.04:LTS" name their release after the colon). */
export function versionSchemeOf(name: string | null | undefined): VersionScheme | undefined {
  if (!name) return undefined;
  const key = name.trim().toLowerCase().split(':')[0] ?? '';
  return schemeByName[key];
}

/** The type of a purl (`pkg:pypi/django@4.2` → `pypi`). */
export function purlType(purl: string | null | undefined): string | undefined {
  return purl ? /^pkg:([A-Za-z][A-Za-z0-9.+-]*)\//.exec(purl.trim())?.[1]?.toLowerCase() : undefined;
}

const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);

// ---------------------------------------------------------------------------------------------
// Maven: org.apache.maven.artifact.versioning.ComparableVersion (maven-artifact 3.x).
// A version is a list of items: numbers, qualifier strings, and sub-lists that a '-' or a
// digit/letter transition opens; trailing "null" items (0, "", ga, final) are dropped per list.

type MavenItem = { kind: 'int'; value: bigint } | { kind: 'string'; value: string } | { kind: 'list'; items: MavenItem[] };

const mavenQualifiers = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const mavenAliases: Record<string, string> = { ga: '', final: '', cr: 'rc' };
const mavenReleaseIndex = String(mavenQualifiers.indexOf(''));

/** Known qualifiers by rank, then unknown ones after them in lexical order: the string compares lexically. */
const comparableQualifier = (qualifier: string) => {
  const i = mavenQualifiers.indexOf(qualifier);
  return i === -1 ? `${mavenQualifiers.length}-${qualifier}` : String(i);
};

function mavenString(value: string, followedByDigit: boolean): MavenItem {
  // a1 = alpha-1, b1 = beta-1, m1 = milestone-1
  const spelled = followedByDigit && value.length === 1 ? ({ a: 'alpha', b: 'beta', m: 'milestone' }[value] ?? value) : value;
  return { kind: 'string', value: mavenAliases[spelled] ?? spelled };
}

const mavenItem = (isDigit: boolean, text: string): MavenItem =>
  isDigit ? { kind: 'int', value: BigInt(text) } : mavenString(text, false);

const isNullItem = (item: MavenItem) =>
  item.kind === 'int'
    ? item.value === 0n
    : item.kind === 'string'
      ? comparableQualifier(item.value) === mavenReleaseIndex
      : item.items.length === 0;

function parseMaven(version: string): MavenItem {
  const text = version.toLowerCase();
  const root: MavenItem & { kind: 'list' } = { kind: 'list', items: [] };
  let list = root;
  const stack = [root];
  const open = () => {
    const sub: MavenItem & { kind: 'list' } = { kind: 'list', items: [] };
    list.items.push(sub);
    list = sub;
    stack.push(sub);
  };
  let isDigit = false;
  let start = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i] as string;
    if (c === '.' || c === '-') {
      list.items.push(i === start ? { kind: 'int', value: 0n } : mavenItem(isDigit, text.slice(start, i)));
      start = i + 1;
      if (c === '-') open();
    } else if (c >= '0' && c <= '9') {
      if (!isDigit && i > start) {
        list.items.push(mavenString(text.slice(start, i), true));
        start = i;
        open();
      }
      isDigit = true;
    } else {
      if (isDigit && i > start) {
        list.items.push(mavenItem(true, text.slice(start, i)));
        start = i;
        open();
      }
      isDigit = false;
    }
  }
  if (text.length > start) list.items.push(mavenItem(isDigit, text.slice(start)));
  for (const sub of stack.reverse()) {
    for (let i = sub.items.length - 1; i >= 0; i -= 1) {
      const last = sub.items[i] as MavenItem;
      if (isNullItem(last)) sub.items.splice(i, 1);
      else if (last.kind !== 'list') break;
    }
  }
  return root;
}

function compareMavenItems(left: MavenItem, right: MavenItem | undefined): number {
  if (left.kind === 'int') {
    if (!right) return left.value === 0n ? 0 : 1; // 1.0 == 1, 1.1 > 1
    return right.kind === 'int' ? sign(Number(left.value - right.value)) : 1; // 1.1 > 1-sp, 1.1 > 1-1
  }
  if (left.kind === 'string') {
    if (right && right.kind !== 'string') return -1; // 1.any < 1.1, 1.any < 1-1
    // Against nothing, a qualifier compares with the release: 1-rc < 1, 1-sp > 1.
    const [a, b] = [comparableQualifier(left.value), right ? comparableQualifier(right.value) : mavenReleaseIndex];
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (!right) return left.items.length === 0 ? 0 : compareMavenItems(left.items[0] as MavenItem, undefined);
  if (right.kind === 'int') return -1; // 1-1 < 1.0.x
  if (right.kind === 'string') return 1; // 1-1 > 1-sp
  for (let i = 0; i < Math.max(left.items.length, right.items.length); i += 1) {
    const l = left.items[i];
    const r = right.items[i];
    // The shorter side compares as "nothing" against the longer one's item.
    const result = l === undefined ? (r === undefined ? 0 : -compareMavenItems(r, undefined)) : compareMavenItems(l, r);
    if (result !== 0) return result;
  }
  return 0;
}

/** Maven's order: 1.0-alpha < 1.0-beta < 1.0-rc < 1.0-SNAPSHOT < 1.0 = 1.0.Final < 1.0-SP1. Any string reads as a Maven version. */
export function compareMaven(a: string, b: string): VersionComparison {
  if (!a.trim() || !b.trim()) return undefined;
  return compareMavenItems(parseMaven(a.trim()), parseMaven(b.trim()));
}

// ---------------------------------------------------------------------------------------------
// Debian: dpkg's version comparison (lib/dpkg/version.c, verrevcmp), [epoch:]upstream[-revision].

const debianVersion = /^(?:(\d+):)?(\d[A-Za-z0-9.+~:-]*?)(?:-([A-Za-z0-9.+~]+))?$/;

const isDigitChar = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

/** dpkg's order of a character among non-digits: '~' before the end, the end before letters, letters before the rest. */
function dpkgOrder(c: string | undefined): number {
  if (c === undefined || isDigitChar(c)) return 0;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  if (c === '~') return -1;
  return c.charCodeAt(0) + 256;
}

function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigitChar(a[i])) || (j < b.length && !isDigitChar(b[j]))) {
      const ac = dpkgOrder(a[i]);
      const bc = dpkgOrder(b[j]);
      if (ac !== bc) return ac - bc;
      i += 1;
      j += 1;
    }
    while (a[i] === '0') i += 1;
    while (b[j] === '0') j += 1;
    while (isDigitChar(a[i]) && isDigitChar(b[j])) {
      if (!firstDiff) firstDiff = (a.charCodeAt(i) as number) - (b.charCodeAt(j) as number);
      i += 1;
      j += 1;
    }
    if (isDigitChar(a[i])) return 1;
    if (isDigitChar(b[j])) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

function parseDebian(version: string) {
  const match = debianVersion.exec(version.trim());
  if (!match) return undefined;
  const [, epoch = '0', upstream = '', revision = ''] = match;
  // A colon in the upstream part is allowed only with an epoch, as dpkg says.
  if (upstream.includes(':') && match[1] === undefined) return undefined;
  return { epoch: Number(epoch), upstream, revision };
}

/** dpkg's order: the epoch first (1:1.0 > 2.0), then upstream and revision, '~' sorting before anything (1.0~rc1 < 1.0). */
export function compareDebian(a: string, b: string): VersionComparison {
  const left = parseDebian(a);
  const right = parseDebian(b);
  if (!left || !right) return undefined;
  if (left.epoch !== right.epoch) return sign(left.epoch - right.epoch);
  return sign(verrevcmp(left.upstream, right.upstream)) || sign(verrevcmp(left.revision, right.revision));
}

// ---------------------------------------------------------------------------------------------
// RPM: rpm's rpmvercmp (rpmio/rpmvercmp.c) over [epoch:]version[-release].

const isAlnum = (c: string | undefined) => c !== undefined && /[A-Za-z0-9]/.test(c);

export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let one = 0;
  let two = 0;
  while (one < a.length || two < b.length) {
    while (one < a.length && !isAlnum(a[one]) && a[one] !== '~' && a[one] !== '^') one += 1;
    while (two < b.length && !isAlnum(b[two]) && b[two] !== '~' && b[two] !== '^') two += 1;
    // The tilde sorts before everything else, the end of the string included.
    if (a[one] === '~' || b[two] === '~') {
      if (a[one] !== '~') return 1;
      if (b[two] !== '~') return -1;
      one += 1;
      two += 1;
      continue;
    }
    // The caret sorts after the end of the string but before anything else.
    if (a[one] === '^' || b[two] === '^') {
      if (one >= a.length) return -1;
      if (two >= b.length) return 1;
      if (a[one] !== '^') return 1;
      if (b[two] !== '^') return -1;
      one += 1;
      two += 1;
      continue;
    }
    if (!(one < a.length && two < b.length)) break;
    const numeric = isDigitChar(a[one]);
    const segment = numeric ? /^[0-9]*/ : /^[A-Za-z]*/;
    const first = (segment.exec(a.slice(one)) as RegExpExecArray)[0];
    const second = (segment.exec(b.slice(two)) as RegExpExecArray)[0];
    one += first.length;
    two += second.length;
    // Segments of different kinds: a number is newer than letters.
    if (second.length === 0) return numeric ? 1 : -1;
    if (numeric) {
      const x = first.replace(/^0+/, '');
      const y = second.replace(/^0+/, '');
      if (x.length !== y.length) return x.length > y.length ? 1 : -1;
      if (x !== y) return x < y ? -1 : 1;
    } else if (first !== second) {
      return first < second ? -1 : 1;
    }
  }
  if (one >= a.length && two >= b.length) return 0;
  return one >= a.length ? -1 : 1;
}

function parseRpm(evr: string) {
  const match = /^(?:(\d+):)?([^-:\s]+)(?:-([^-:\s]+))?$/.exec(evr.trim());
  if (!match) return undefined;
  const [, epoch = '0', version = '', release = ''] = match;
  return { epoch: Number(epoch), version, release };
}

/** rpm's order of [epoch:]version[-release]: the epoch, then the version, then the release (absent sorts first). */
export function compareRpm(a: string, b: string): VersionComparison {
  const left = parseRpm(a);
  const right = parseRpm(b);
  if (!left || !right) return undefined;
  if (left.epoch !== right.epoch) return sign(left.epoch - right.epoch);
  return rpmvercmp(left.version, right.version) || rpmvercmp(left.release, right.release);
}
