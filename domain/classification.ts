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
}

/**
 * The security baseline: measures are cumulative, so a `high` CI needs every `low` and `medium`
 * measure of the same aspect too. Ids are stable so controls can be linked to them.
 */
export const baselineMeasures: readonly BaselineMeasure[] = [
  { id: 'BL-C1', aspect: 'confidentiality', from: 'low', title: 'Authenticated access only' },
  { id: 'BL-C2', aspect: 'confidentiality', from: 'medium', title: 'Role-based access, reviewed yearly' },
  { id: 'BL-C3', aspect: 'confidentiality', from: 'high', title: 'Encryption in transit and at rest' },
  { id: 'BL-C4', aspect: 'confidentiality', from: 'high', title: 'Access reviews every quarter' },
  { id: 'BL-C5', aspect: 'confidentiality', from: 'very_high', title: 'Multi-factor authentication and data loss prevention' },
  { id: 'BL-I1', aspect: 'integrity', from: 'low', title: 'Changes go through change management' },
  { id: 'BL-I2', aspect: 'integrity', from: 'medium', title: 'Security patches within the SLA patch deadline' },
  { id: 'BL-I3', aspect: 'integrity', from: 'high', title: 'Audit logging of privileged actions' },
  { id: 'BL-I4', aspect: 'integrity', from: 'very_high', title: 'Four-eyes approval of privileged changes' },
  { id: 'BL-A1', aspect: 'availability', from: 'low', title: 'Backups' },
  { id: 'BL-A2', aspect: 'availability', from: 'medium', title: 'Monitoring and alerting' },
  { id: 'BL-A3', aspect: 'availability', from: 'high', title: 'Tested restore and continuity plan' },
  { id: 'BL-A4', aspect: 'availability', from: 'very_high', title: 'Redundancy without a single point of failure' },
];

export function levelRank(level: ClassificationLevel): number {
  return classificationLevels.indexOf(level);
}

export function baselineFor(classification: Classification): BaselineMeasure[] {
  return baselineMeasures.filter((measure) => levelRank(classification[measure.aspect]) >= levelRank(measure.from));
}

/** The measures at least one of the classifications requires: a service's baseline over its CIs. */
export function combinedBaseline(classifications: readonly Classification[]): BaselineMeasure[] {
  return baselineMeasures.filter((measure) =>
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
