/**
 * What operators filter Warden's workflows by in Temporal (`temporal workflow list --query …`, the
 * UI's filters). Names carry the `Warden` prefix so they never collide with another application's
 * attributes in a shared namespace. They are a contract: dashboards and saved queries use them.
 *
 * Search Attributes are NOT encrypted by the payload codec: the cluster stores and indexes them in
 * plain text. Only identifiers, enumerations and times go here, never titles, descriptions,
 * people's names or any other free text (those live in the memo, which the codec encrypts).
 */
export const wardenSearchAttributes = {
  /** The process: incident, change, access-request, … (see `WardenProcess`). */
  process: { name: 'WardenProcess', type: 'KEYWORD' },
  /** The process's own status (`triaged`, `in_review`, `active`, …), as the API shows it. */
  status: { name: 'WardenStatus', type: 'KEYWORD' },
  /** Incident or advisory severity: low, medium, high, critical. */
  severity: { name: 'WardenSeverity', type: 'KEYWORD' },
  /** A change's assessed security risk: none, low, medium, high. */
  risk: { name: 'WardenRisk', type: 'KEYWORD' },
  /** The business id of what the workflow is about: incident, change, advisory, control, request, review… */
  subjectId: { name: 'WardenSubjectId', type: 'KEYWORD' },
  /** The next SLA deadline the process is held to (an acknowledgement, a review, a patch), if any. */
  slaDueAt: { name: 'WardenSlaDueAt', type: 'DATETIME' },
  /** An exercise: drills never count in the real figures. */
  drill: { name: 'WardenDrill', type: 'BOOL' },
} as const;

export type WardenSearchAttribute = keyof typeof wardenSearchAttributes;
export type WardenSearchAttributeType = (typeof wardenSearchAttributes)[WardenSearchAttribute]['type'];

export type WardenProcess =
  | 'incident'
  | 'change'
  | 'access-request'
  | 'access-review'
  | 'advisory'
  | 'security-test'
  | 'security-review'
  | 'security-alert'
  | 'policy'
  | 'audit-checkpoint'
  | 'diagnostics'
  | 'training-campaign'
  | 'baseline'
  | 'problem-check';

/** The values a workflow publishes; `null` clears an attribute (a deadline met, say). */
export interface WardenSearchFields {
  process?: WardenProcess;
  status?: string;
  severity?: string | null;
  risk?: string | null;
  subjectId?: string;
  slaDueAt?: string | Date | null;
  drill?: boolean;
}
