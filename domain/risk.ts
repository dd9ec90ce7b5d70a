import { levelRank, type ClassificationLevel } from './classification';
import type { DurationText } from './duration';

export const riskTreatments = ['mitigate', 'accept', 'transfer', 'avoid'] as const;
export type RiskTreatment = (typeof riskTreatments)[number];

/** Likelihood and impact are rated 1 (rare, negligible) to 5 (almost certain, severe). */
export type RiskRating = 1 | 2 | 3 | 4 | 5;

/** How much more a threat to a more sensitive asset weighs: low 1, medium 2, high 3, very high 4. */
export function classificationWeight(level: ClassificationLevel): number {
  return levelRank(level) + 1;
}

/** likelihood × impact × classification weight: 1 (rare, negligible, low) to 100 (certain, severe, very high). */
export function riskScore(likelihood: number, impact: number, level: ClassificationLevel): number {
  if (!isRating(likelihood) || !isRating(impact))
    throw new RangeError(`likelihood and impact are rated 1 to 5, got ${likelihood} and ${impact}`);
  return likelihood * impact * classificationWeight(level);
}

function isRating(value: number): value is RiskRating {
  return Number.isInteger(value) && value >= 1 && value <= 5;
}

/** How soon an improvement action is due, by the score of the risk it answers. */
export function dueWithin(score: number): DurationText {
  if (score >= 60) return '14d';
  if (score >= 30) return '30d';
  if (score >= 12) return '60d';
  return '90d';
}

/** Highest score first; equal scores in a stable order by key, so a re-plan ranks the same. */
export function byRiskOrder<T extends { riskScore: number; key: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => b.riskScore - a.riskScore || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
