import { PackageURL } from 'packageurl-js';
import { z } from 'zod';

/**
 * What a package URL says: its name, its version, and the package it names without version,
 * qualifiers or subpath, in the canonical form packageurl-js writes (`pkg:PyPI/Django@4.2` →
 * `pkg:pypi/django`). Warden keeps purls in that package form, so matching compares strings.
 * Undefined when the string is not a valid purl.
 */
export function purlParts(purl: string): { package: string; name: string; version: string | undefined } | undefined {
  try {
    const parsed = PackageURL.fromString(purl.trim());
    const packageOnly = new PackageURL(parsed.type, parsed.namespace, parsed.name, undefined, undefined, undefined).toString();
    return { package: packageOnly, name: parsed.name, version: parsed.version ?? undefined };
  } catch {
    return undefined;
  }
}

/** A package URL (https://github.com/package-url/purl-spec), checked by packageurl-js. */
export const purlString = z
  .string()
  .max(2000)
  .refine((value) => purlParts(value) !== undefined, 'must be a package URL (pkg:type/namespace/name@version)');

/** A CPE name: a 2.3 formatted string, as NVD and SBOMs write it, or a 2.2 URI, as Red Hat's CSAF does. */
export const cpeString = z
  .string()
  .max(1000)
  .refine(
    (value) => /^cpe:2\.3:[aho*-](:(?:[^:\\]|\\.)*){10}$/.test(value) || /^cpe:\/[aho]:[^:]+(:[^:]*){0,5}$/.test(value),
    'must be a CPE 2.3 formatted string (cpe:2.3:part:vendor:product:version:…) or a CPE 2.2 URI (cpe:/part:vendor:product…)',
  );

/** OSV ecosystems and the purl types their packages have; the name splits into namespace and name as the type does. */
const purlTypes: Record<string, { type: string; separator?: string; namespace?: string }> = {
  maven: { type: 'maven', separator: ':' },
  npm: { type: 'npm', separator: '/' },
  pypi: { type: 'pypi' },
  go: { type: 'golang', separator: '/' },
  'crates.io': { type: 'cargo' },
  rubygems: { type: 'gem' },
  nuget: { type: 'nuget' },
  packagist: { type: 'composer', separator: '/' },
  hex: { type: 'hex' },
  pub: { type: 'pub' },
  debian: { type: 'deb', namespace: 'debian' },
  ubuntu: { type: 'deb', namespace: 'ubuntu' },
  alpine: { type: 'apk', namespace: 'alpine' },
};

/**
 * The purl of an OSV package (`Maven` + `org.apache.logging.log4j:log4j-core` →
 * `pkg:maven/org.apache.logging.log4j/log4j-core`), for records that give ecosystem and name but no
 * purl; undefined for ecosystems without a purl type (the entry then matches by name only).
 */
export function ecosystemPurl(ecosystem: string | undefined, name: string): string | undefined {
  // "Debian:12", "Alpine:v3.19": the release after the colon does not change the package.
  const mapping = ecosystem ? purlTypes[ecosystem.split(':')[0]?.trim().toLowerCase() ?? ''] : undefined;
  if (!mapping) return undefined;
  const cut = mapping.separator ? name.lastIndexOf(mapping.separator) : -1;
  const namespace = cut > 0 ? name.slice(0, cut) : mapping.namespace;
  const packageName = cut > 0 ? name.slice(cut + 1) : name;
  try {
    return new PackageURL(mapping.type, namespace, packageName, undefined, undefined, undefined).toString();
  } catch {
    return undefined;
  }
}
