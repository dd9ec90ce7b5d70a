import { describe, expect, it } from 'vitest';
import { byRiskOrder, dueWithin, riskScore } from '../../domain/risk';
import { dayRange, periodFromLabel, previousQuarter, quarter, quartersUpTo } from '../../domain/review-period';

describe('risk score = likelihood × impact × classification weight', () => {
  it.each([
    [1, 1, 'low', 1],
    [3, 3, 'medium', 18],
    [4, 5, 'high', 60],
    [5, 5, 'very_high', 100],
    [2, 5, 'medium', 20],
  ] as const)('L%i × I%i on %s → %i', (likelihood, impact, level, score) => {
    expect(riskScore(likelihood, impact, level)).toBe(score);
  });

  it.each([
    [0, 3],
    [6, 3],
    [3, 2.5],
  ])('refuses a rating outside 1–5 (%d, %d)', (likelihood, impact) => {
    expect(() => riskScore(likelihood, impact, 'low')).toThrow(RangeError);
  });

  it.each([
    [100, '14d'],
    [60, '14d'],
    [59, '30d'],
    [30, '30d'],
    [12, '60d'],
    [11, '90d'],
  ])('score %i is due within %s', (score, due) => {
    expect(dueWithin(score)).toBe(due);
  });

  it('orders by score, then key', () => {
    const ordered = byRiskOrder([
      { key: 'b', riskScore: 60 },
      { key: 'c', riskScore: 75 },
      { key: 'a', riskScore: 60 },
      { key: 'd', riskScore: 8 },
    ]);
    expect(ordered.map((i) => i.key)).toEqual(['c', 'a', 'b', 'd']);
  });
});

describe('review periods', () => {
  it.each([
    ['2026-Q1', '2026-01-01', '2026-04-01'],
    ['2026-Q4', '2026-10-01', '2027-01-01'],
  ])('%s runs from %s to %s (exclusive)', (label, from, to) => {
    expect(quarter(label)).toEqual({ label, from: new Date(`${from}T00:00:00Z`), to: new Date(`${to}T00:00:00Z`) });
  });

  it('looks back on the quarter before a run', () => {
    expect(previousQuarter(new Date('2027-01-01T06:00:00Z')).label).toBe('2026-Q4');
    expect(previousQuarter(new Date('2026-05-10T00:00:00Z')).label).toBe('2026-Q1');
    expect(quartersUpTo(new Date('2026-02-01T00:00:00Z'), 3).map((p) => p.label)).toEqual(['2025-Q3', '2025-Q4', '2026-Q1']);
  });

  it('labels a day range by its first and last day and reads the label back', () => {
    const range = dayRange('2026-10-01', '2026-10-31');
    expect(range).toMatchObject({ label: '2026-10-01_2026-10-31', to: new Date('2026-11-01T00:00:00Z') });
    expect(periodFromLabel(range.label)).toEqual(range);
    expect(() => dayRange('2026-10-31', '2026-10-01')).toThrow(RangeError);
  });
});
