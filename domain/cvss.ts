/**
 * CVSS v3.x base score from its vector string (FIRST's specification, section 7.1), for formats that
 * carry only the vector (OSV). Returns null for anything that is not a complete v3 base vector.
 */
const weights = {
  AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  AC: { L: 0.77, H: 0.44 },
  UI: { N: 0.85, R: 0.62 },
  C: { H: 0.56, L: 0.22, N: 0 },
  I: { H: 0.56, L: 0.22, N: 0 },
  A: { H: 0.56, L: 0.22, N: 0 },
} as const;
const privileges = { unchanged: { N: 0.85, L: 0.62, H: 0.27 }, changed: { N: 0.85, L: 0.68, H: 0.5 } } as const;

/** CVSS's round-up to one decimal, done in integers so 4.000001 does not become 4.1 by float error. */
function roundUp(value: number): number {
  const scaled = Math.round(value * 100_000);
  return scaled % 10_000 === 0 ? scaled / 100_000 : (Math.floor(scaled / 10_000) + 1) / 10;
}

export function cvss3BaseScore(vector: string): number | null {
  const match = /^CVSS:3\.[01]\/(.*)$/.exec(vector.trim());
  if (!match?.[1]) return null;
  const metrics = Object.fromEntries(match[1].split('/').map((part) => part.split(':') as [string, string]));
  const pick = <T extends Record<string, number>>(table: T, key: string): number | undefined => table[metrics[key] as keyof T];
  const changed = metrics.S === 'C';
  if (metrics.S !== 'C' && metrics.S !== 'U') return null;
  const values = [
    pick(weights.AV, 'AV'),
    pick(weights.AC, 'AC'),
    pick(changed ? privileges.changed : privileges.unchanged, 'PR'),
    pick(weights.UI, 'UI'),
    pick(weights.C, 'C'),
    pick(weights.I, 'I'),
    pick(weights.A, 'A'),
  ];
  const [av, ac, pr, ui, c, i, a] = values;
  if (av === undefined || ac === undefined || pr === undefined || ui === undefined || c === undefined || i === undefined || a === undefined)
    return null;
  const iss = 1 - (1 - c) * (1 - i) * (1 - a);
  const impact = changed ? 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 : 6.42 * iss;
  if (impact <= 0) return 0;
  const exploitability = 8.22 * av * ac * pr * ui;
  return roundUp(Math.min(changed ? 1.08 * (impact + exploitability) : impact + exploitability, 10));
}
