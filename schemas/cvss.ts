// ae-cvss-calculator is a CommonJS bundle Node's ESM loader finds no named exports in: import the whole.
import cvssCalculator from 'ae-cvss-calculator';

const { Cvss2, Cvss3P0, Cvss3P1, Cvss4P0 } = cvssCalculator;

/** The CVSS versions Warden scores, newest first: the order a source's vectors are preferred in. */
export const cvssVersions = ['4.0', '3.1', '3.0', '2.0'] as const;
export type CvssVersion = (typeof cvssVersions)[number];

/** Which CVSS version a vector string is written in; v2 vectors carry no prefix. */
export function cvssVersionOf(vector: string): CvssVersion | undefined {
  const prefix = /^CVSS:(\d\.\d)\//.exec(vector.trim())?.[1];
  if (prefix) return (cvssVersions as readonly string[]).includes(prefix) ? (prefix as CvssVersion) : undefined;
  return /^\(?AV:[LAN]\/AC:[HML]\/Au:[MSN]\//.test(vector.trim()) ? '2.0' : undefined;
}

/**
 * The base score of a CVSS v2, v3.0, v3.1 or v4.0 vector, computed by FIRST's formulas as
 * ae-cvss-calculator implements them; null for anything that is not a complete base vector.
 */
export function cvssBaseScore(vector: string): number | null {
  const version = cvssVersionOf(vector);
  if (!version) return null;
  const text = vector.trim().replace(/^\((.*)\)$/, '$1');
  try {
    const parsed =
      version === '4.0'
        ? new Cvss4P0(text)
        : version === '3.1'
          ? new Cvss3P1(text)
          : version === '3.0'
            ? new Cvss3P0(text)
            : new Cvss2(text);
    if (!parsed.isBaseFullyDefined()) return null;
    const { base } = parsed.calculateScores();
    return typeof base === 'number' && Number.isFinite(base) ? base : null;
  } catch {
    return null;
  }
}

/** Of several vectors a source gives, the newest version that scores, with its score. */
export function preferredCvss(vectors: readonly string[]): { vector: string; score: number } | undefined {
  for (const version of cvssVersions) {
    for (const vector of vectors) {
      if (cvssVersionOf(vector) !== version) continue;
      const score = cvssBaseScore(vector);
      if (score !== null) return { vector: vector.trim(), score };
    }
  }
  return undefined;
}
