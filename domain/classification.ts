/**
 * Classification of configuration items (confidentiality, integrity, availability) and the two
 * rules that hang on it: the baseline security measures a CI of that level must have, and the
 * severity of an incident that threatens it.
 */
export const classificationLevels = ['low', 'medium', 'high', 'very_high'] as const;
export type ClassificationLevel = (typeof classificationLevels)[number];

export const securityAspects = ['confidentiality', 'integrity', 'availability'] as const;
export type SecurityAspect = (typeof securityAspects)[number];

export type Classification = Record<SecurityAspect, ClassificationLevel>;

export interface BaselineMeasure {
  id: string;
  title: string;
  aspect: SecurityAspect;
  /** The lowest level of `aspect` at which the measure is required. */
  from: ClassificationLevel;
  /** The ISO/IEC 27001:2022 Annex A controls the measure implements (`A.8.24`), for the Statement of Applicability. */
  annexA: string[];
}

/**
 * The built-in security baseline, version 1 of the tailorable baseline (`db/baseline.ts` holds the
 * versions; the migration that created them recorded this set as version 1). Measures are
 * cumulative, so a `high` CI needs every `low` and `medium` measure of the same aspect too. Ids are
 * stable so controls can be linked to them.
 */
export const baselineMeasures: readonly BaselineMeasure[] = [
  { id: 'BL-C1', aspect: 'confidentiality', from: 'low', title: 'Authenticated access only', annexA: ['A.5.15', 'A.8.5'] },
  {
    id: 'BL-C2',
    aspect: 'confidentiality',
    from: 'medium',
    title: 'Role-based access, reviewed yearly',
    annexA: ['A.5.15', 'A.5.18', 'A.8.2'],
  },
  { id: 'BL-C3', aspect: 'confidentiality', from: 'high', title: 'Encryption in transit and at rest', annexA: ['A.8.24'] },
  { id: 'BL-C4', aspect: 'confidentiality', from: 'high', title: 'Access reviews every quarter', annexA: ['A.5.18'] },
  {
    id: 'BL-C5',
    aspect: 'confidentiality',
    from: 'very_high',
    title: 'Multi-factor authentication and data loss prevention',
    annexA: ['A.8.5', 'A.8.12'],
  },
  { id: 'BL-I1', aspect: 'integrity', from: 'low', title: 'Changes go through change management', annexA: ['A.8.32'] },
  { id: 'BL-I2', aspect: 'integrity', from: 'medium', title: 'Security patches within the SLA patch deadline', annexA: ['A.8.8'] },
  { id: 'BL-I3', aspect: 'integrity', from: 'high', title: 'Audit logging of privileged actions', annexA: ['A.8.15'] },
  { id: 'BL-I4', aspect: 'integrity', from: 'very_high', title: 'Four-eyes approval of privileged changes', annexA: ['A.5.3', 'A.8.2'] },
  { id: 'BL-A1', aspect: 'availability', from: 'low', title: 'Backups', annexA: ['A.8.13'] },
  { id: 'BL-A2', aspect: 'availability', from: 'medium', title: 'Monitoring and alerting', annexA: ['A.8.16'] },
  { id: 'BL-A3', aspect: 'availability', from: 'high', title: 'Tested restore and continuity plan', annexA: ['A.5.30', 'A.8.13'] },
  { id: 'BL-A4', aspect: 'availability', from: 'very_high', title: 'Redundancy without a single point of failure', annexA: ['A.8.14'] },
];

export function levelRank(level: ClassificationLevel): number {
  return classificationLevels.indexOf(level);
}

/** The measures of `baseline` (the version in force) a CI of this classification must have. */
export function baselineFor(classification: Classification, baseline: readonly BaselineMeasure[]): BaselineMeasure[] {
  return baseline.filter((measure) => levelRank(classification[measure.aspect]) >= levelRank(measure.from));
}

/** The measures at least one of the classifications requires: a service's baseline over its CIs. */
export function combinedBaseline(classifications: readonly Classification[], baseline: readonly BaselineMeasure[]): BaselineMeasure[] {
  return baseline.filter((measure) =>
    classifications.some((classification) => levelRank(classification[measure.aspect]) >= levelRank(measure.from)),
  );
}

/** `level` and every level above it, for "at least this level" filters. */
export function levelsFrom(level: ClassificationLevel): ClassificationLevel[] {
  return classificationLevels.slice(levelRank(level));
}

export const incidentCategories = [
  'unauthorised_access',
  'malware',
  'data_leak',
  'denial_of_service',
  'vulnerability_exploitation',
  'policy_violation',
  'other',
] as const;
export type IncidentCategory = (typeof incidentCategories)[number];

export const severities = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof severities)[number];

/** How hard a category hits each aspect: +1 raises the severity a step above the CI's level, -1 lowers it. */
type Impact = Partial<Record<SecurityAspect, -1 | 0 | 1>>;

export const categoryImpact: Record<IncidentCategory, Impact> = {
  unauthorised_access: { confidentiality: 1, integrity: 0 },
  malware: { confidentiality: 0, integrity: 1, availability: 0 },
  data_leak: { confidentiality: 1 },
  denial_of_service: { availability: 1 },
  vulnerability_exploitation: { confidentiality: 0, integrity: 0, availability: 0 },
  policy_violation: { confidentiality: -1, integrity: -1 },
  other: { confidentiality: -1, integrity: -1, availability: -1 },
};

/**
 * Severity = the worst, over the affected CIs and the aspects the category threatens, of the CI's
 * level on that aspect shifted by the category's impact. With no classified CI the incident is
 * `low`: there is nothing recorded to raise it.
 */
export function incidentSeverity(category: IncidentCategory, affected: readonly Classification[]): Severity {
  let worst = 0;
  for (const classification of affected) {
    for (const [aspect, shift] of Object.entries(categoryImpact[category]) as [SecurityAspect, number][]) {
      const rank = Math.min(severities.length - 1, Math.max(0, levelRank(classification[aspect]) + shift));
      worst = Math.max(worst, rank);
    }
  }
  return severities[worst] ?? 'low';
}

export function maxLevel(levels: readonly ClassificationLevel[]): ClassificationLevel {
  return classificationLevels[Math.max(0, ...levels.map(levelRank))] ?? 'low';
}
