import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { BaselineMeasure, ClassificationLevel, IncidentCategory } from '../domain/classification';
import type { ApplicabilityStatement } from '../domain/baseline';
import type { ConfigurationItemStatus, ConfigurationItemType } from '../domain/cmdb';
import type { ControlKind, ControlProcess, ControlScheduleSpec, SlaRequirementRef, TestProcedure, TestResult } from '../domain/controls';
import type { ServiceSla } from '../domain/sla';
import type { SupportHours } from '../domain/support-hours';
import type { ImpactAreaName, ImpactRuleField, ImpactRuleStatus } from '../domain/change-impact';
import type { SodMember, SodRuleStatus } from '../domain/sod';
import type { ChecklistItem, ItemResult, ProblemStatus, ProposalKind, ProposalStatus } from '../domain/problem';
import type { Playbook } from '../domain/playbook';
import type { RiskTreatment } from '../domain/risk';
import type { KpiTrendPoint, MeasuredKpi, OwnerReview, SecurityReport, SignOffRecord } from '../domain/security-report/model';
import type { AccessTables } from './access-tables';
import type { ChannelTarget, DeliveryStatus } from '../domain/notifications';
import type { AffectedProduct, RemediationStatus } from '../domain/advisory';
import type { TaskDecision } from '../domain/human-task';
import type { CompletionSource, TrainingAudience } from '../domain/training';
import type {
  BaselineVerification,
  ChangeAssessment,
  ChangeEvidence,
  ChangeRisk,
  ChangeSource,
  ChangeStatus,
  SecurityImpact,
} from '../domain/change-risk';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;
type NullableJson<T> = ColumnType<T | null, string | null | undefined, string | null>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export interface PrincipalsTable {
  id: string;
  display_name: string;
  email: string | null;
  notification_channels: ColumnType<ChannelTarget[], string | undefined, string>;
  created_at: CreatedAt;
}

export interface ApiTokensTable {
  id: Generated<string>;
  name: string;
  principal_id: string;
  roles: string[];
  token_hash: string;
  created_by: string;
  created_at: CreatedAt;
  revoked_at: Date | null;
}

export interface WebSessionsTable {
  id: Generated<string>;
  secret_hash: string;
  /** The API token signed in with; null for a session from the identity provider. */
  token_id: string | null;
  principal_id: string;
  created_at: CreatedAt;
  expires_at: ColumnType<Date, Date | string, Date | string>;
  revoked_at: NullableTimestamp;
  /** The roles the identity provider's claims mapped to at sign-in; null for a token session (the token's roles count). */
  roles: string[] | null;
  /** The issuer that vouched for the person; null for a token session. */
  identity_provider: string | null;
}

/** What an audit event records, whether it waits in audit_pending or is on the chain. */
interface AuditEventContent {
  id: Generated<number>;
  occurred_at: Date;
  actor: string;
  action: string;
  subject_type: string;
  subject_id: string;
  details: Json<Record<string, unknown>>;
}

export interface AuditEventsTable extends AuditEventContent {
  prev_hash: string;
  hash: string;
}

/**
 * Events committed with their change but not yet on the chain: the link (db/audit-linker.ts) hashes
 * them onto it and deletes them. Rows can be added, and deleted only once they are in
 * audit_events (a trigger).
 */
export interface AuditPendingTable extends AuditEventContent {
  /** The event's canonical JSON before its prev_hash: the link hashes hash_head || prev_hash || hash_tail. */
  hash_head: string;
  hash_tail: string;
}

export interface AuditCheckpointsTable {
  id: Generated<number>;
  event_id: number;
  event_hash: string;
  prev_event_id: number;
  signed_at: Date;
  key_id: string;
  /** base64 of the Ed25519 signature of `checkpointMessage` (domain/audit-checkpoint.ts). */
  signature: string;
}

export interface ServicesTable {
  id: Generated<string>;
  name: string;
  description: Generated<string>;
  owner: string;
  sla: Json<ServiceSla>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface ConfigurationItemsTable {
  id: Generated<string>;
  name: string;
  type: ConfigurationItemType;
  description: Generated<string>;
  service_id: string | null;
  owner: string;
  confidentiality: ClassificationLevel;
  integrity: ClassificationLevel;
  availability: ClassificationLevel;
  attributes: Json<Record<string, unknown>>;
  status: Generated<ConfigurationItemStatus>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface IdempotencyKeysTable {
  scope: string;
  principal_id: string;
  key: string;
  resource_id: string;
  request: NullableJson<unknown>;
  fingerprint: string | null;
  created_at: CreatedAt;
}

export interface DiagnosticPingsTable {
  id: string;
  requested_by: string;
  workflow_id: string;
  worker_identity: string;
  completed_at: Date;
}

export interface HumanTasksTable {
  id: string;
  workflow_id: string;
  kind: string;
  subject_type: string;
  subject_id: string;
  title: string;
  details: Json<Record<string, unknown>>;
  allowed_roles: string[];
  assignees: string[];
  allowed_outcomes: string[];
  requester: string | null;
  forbid_self_decision: boolean;
  approvals_required: number;
  approve_outcome: string | null;
  status: 'open' | 'decided' | 'expired' | 'cancelled';
  deadline_at: NullableTimestamp;
  escalation_level: Generated<number>;
  outcome: string | null;
  decisions: ColumnType<TaskDecision[], string | undefined, string>;
  created_at: CreatedAt;
  closed_at: NullableTimestamp;
}

export interface NotificationsTable {
  id: Generated<string>;
  dedup_key: string;
  recipient_roles: string[];
  recipients: string[];
  subject_type: string;
  subject_id: string;
  title: string;
  body: string;
  task_id: string | null;
  suppressed_reason: string | null;
  created_at: CreatedAt;
}

export interface NotificationDeliveriesTable {
  id: Generated<string>;
  notification_id: string;
  channel: ChannelTarget['channel'];
  target: string;
  /** Who the target stands for: `principal:<id>` or `role:<role>`. */
  recipient: string;
  status: Generated<DeliveryStatus>;
  attempts: Generated<number>;
  last_error: string | null;
  claimed_at: NullableTimestamp;
  delivered_at: NullableTimestamp;
  created_at: CreatedAt;
}

export interface CiComponentsTable {
  ci_id: string;
  product: string;
  version: string;
  purl: string | null;
  cpe: string | null;
  /** `sbom` rows are replaced by the next SBOM; `manual` ones were entered through the API. */
  source: Generated<'manual' | 'sbom'>;
  updated_by: string;
  updated_at: UpdatedAt;
}

export interface AdvisoriesTable {
  id: string;
  workflow_id: string;
  format: string;
  title: string;
  supplier: string | null;
  aliases: string[];
  affected: Json<AffectedProduct[]>;
  cvss_score: number | null;
  cvss_vector: string | null;
  preventive_measures: string | null;
  published_at: NullableTimestamp;
  exploited: boolean;
  status: Generated<'open' | 'closed' | 'failed' | 'withdrawn'>;
  withdrawn_at: NullableTimestamp;
  revision: Generated<number>;
  alert_id: string | null;
  raw: Json<unknown>;
  received_by: string;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface AdvisoryRemediationsTable {
  advisory_id: string;
  ci_id: string;
  service_id: string | null;
  owner: string;
  product: string;
  purl: string | null;
  cpe: string | null;
  installed_version: string;
  deadline: string;
  due_at: ColumnType<Date, Date | string, Date | string>;
  status: RemediationStatus;
  resolution: Json<Record<string, unknown>> | null;
  task_id: string | null;
  escalations: Generated<number>;
  exception_expires_at: NullableTimestamp;
  resolved_at: NullableTimestamp;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface ScanImportsTable {
  id: Generated<string>;
  ci_id: string;
  scanner: string;
  format: string;
  imported_by: string;
  findings: number;
  opened: number;
  reopened: number;
  closed: number;
  imported_at: CreatedAt;
}

export interface VulnerabilityFindingsTable {
  ci_id: string;
  scanner: string;
  finding_key: string;
  vulnerability_id: string;
  /** The scanner's other ids for the same vulnerability: a finding ties to an advisory through any of them. */
  related_ids: ColumnType<string[], string[] | undefined, string[]>;
  component: string;
  purl: string | null;
  installed_version: string | null;
  fixed_versions: string[];
  severity: string;
  title: string | null;
  status: 'open' | 'fixed';
  first_seen_at: ColumnType<Date, Date | string, Date | string>;
  /** When it was last opened: first seen, or reopened. */
  opened_at: ColumnType<Date, Date | string, Date | string>;
  last_seen_at: ColumnType<Date, Date | string, Date | string>;
  fixed_at: NullableTimestamp;
  reopened: Generated<number>;
  last_import_id: string;
  fixed_by_import_id: string | null;
}

export interface SecurityAlertsTable {
  id: string;
  workflow_id: string;
  title: string;
  threat: string;
  actions: string[];
  affected_services: string[];
  affected_cis: string[];
  audience: string[];
  links: Json<{ type: string; id: string }[]>;
  raised_by: string;
  created_at: CreatedAt;
}

export interface SecurityAlertRecipientsTable {
  alert_id: string;
  recipient: string;
  reason: string;
  task_id: string | null;
  acknowledged_by: string | null;
  acknowledged_at: NullableTimestamp;
}

export interface PlaybooksTable {
  category: string;
  version: number;
  definition: Json<Playbook>;
  published_by: string;
  published_at: CreatedAt;
}

export interface IncidentsTable {
  id: string;
  number: Generated<number>;
  workflow_id: string;
  title: string;
  description: string;
  category: string;
  severity: string;
  security_incident: boolean;
  classification_reason: string;
  status: string;
  affected_cis: string[];
  source: string;
  drill: boolean;
  reported_by: string;
  playbook_category: string;
  playbook_version: number;
  fingerprint: string | null;
  links: Json<{ type: string; id: string }[]>;
  scope: string | null;
  acknowledge_target: string;
  resolve_target: string;
  occurred_at: NullableTimestamp;
  detected_at: NullableTimestamp;
  reported_at: ColumnType<Date, Date | string, Date | string>;
  acknowledged_at: NullableTimestamp;
  contained_at: NullableTimestamp;
  resolved_at: NullableTimestamp;
  closed_at: NullableTimestamp;
  /** The earliest due time of the SLA targets still open; null when none is. */
  sla_next_due_at: NullableTimestamp;
  sla_breached: Generated<boolean>;
  false_positive_reason: string | null;
  created_at: CreatedAt;
  attack_techniques: ColumnType<string[], string[] | undefined, string[]>;
  severity_floor: string | null;
  merged_into: string | null;
}

/** One SLA target of an incident: due in its services' support hours, met or breached once. */
export interface IncidentSlaClocksTable {
  incident_id: string;
  target: string;
  severity: string;
  duration: string;
  started_at: ColumnType<Date, Date | string, Date | string>;
  due_at: ColumnType<Date, Date | string, Date | string>;
  met_at: NullableTimestamp;
  met_by: string | null;
  breached_at: NullableTimestamp;
  responsible: string | null;
  /** Closed without being met or breached: the incident was merged into another, or failed. */
  stopped_at: NullableTimestamp;
  stop_reason: 'merged' | 'failed' | null;
  support_hours: ColumnType<SupportHours, string | undefined, string>;
}

export interface IncidentStepsTable {
  incident_id: string;
  step_id: string;
  type: string;
  phase: string;
  title: string;
  status: string;
  task_id: string | null;
  result: Json<Record<string, unknown>> | null;
  started_at: ColumnType<Date, Date | string, Date | string>;
  finished_at: NullableTimestamp;
}

export interface IncidentActionsTable {
  id: string;
  incident_id: string;
  kind: string;
  name: string;
  params: Json<Record<string, unknown>>;
  status: string;
  detail: string;
  approved_by: string[];
  executed_at: CreatedAt;
  /** Who confirmed, with evidence, an action no responder carried out (none configured, or it failed). */
  confirmed_by: string | null;
  confirmed_at: NullableTimestamp;
  evidence: Json<{ evidence: string; links: string[] }> | null;
}

export interface OpenAlertFingerprintsTable {
  fingerprint: string;
  incident_id: string;
  created_at: CreatedAt;
  /** When its incident closed as not a security incident: later alerts with it are suppressed for the correlation window. */
  closed_at: NullableTimestamp;
}

export interface SecurityAlertsReceivedTable {
  id: Generated<string>;
  format: string;
  source: string;
  rule: string;
  severity: string;
  host: string | null;
  account: string | null;
  fingerprint: string;
  observed_at: ColumnType<Date, Date | string, Date | string>;
  verdict: 'incident' | 'attached' | 'benign';
  reason: string;
  incident_id: string | null;
  raw: Json<unknown>;
  received_by: string;
  created_at: CreatedAt;
  attack_techniques: ColumnType<string[], string[] | undefined, string[]>;
  /** The CIs the alert named (its account and host), added to the incident it opens or joins. */
  ci_ids: ColumnType<string[], string[] | undefined, string[]>;
  /** The least severity the alert demands of its incident (the SIEM's, or high for a known IOC). */
  severity_floor: string | null;
}

export interface AlertObservablesTable {
  alert_id: string;
  type: string;
  value: string;
}

export interface IncidentObservablesTable {
  incident_id: string;
  type: string;
  value: string;
  origin: 'alert' | 'cmdb' | 'merge';
  first_seen_at: ColumnType<Date, Date | string, Date | string>;
  last_seen_at: ColumnType<Date, Date | string, Date | string>;
  recorded_at: CreatedAt;
}

export interface IocsTable {
  type: string;
  value: string;
  reason: string;
  marked_by: string;
  marked_at: CreatedAt;
}

export interface IncidentRelationsTable {
  incident_id: string;
  related_id: string;
  kind: 'related' | 'merged_into' | 'merged_from';
  note: string | null;
  created_by: string;
  created_at: CreatedAt;
}

export interface AttackTechniquesTable {
  id: string;
  name: string;
  tactics: string[];
  bundle_id: string;
  imported_at: CreatedAt;
}

export interface IncidentCommunicationsTable {
  id: string;
  incident_id: string;
  audience: string;
  message: string;
  status: 'pending_approval' | 'sent' | 'rejected';
  requested_by: string;
  decided_by: string | null;
  task_id: string | null;
  created_at: CreatedAt;
  sent_at: NullableTimestamp;
}

export interface ProblemsTable {
  id: string;
  title: string;
  reason: string;
  /** `incident` (a post-incident review raised it) or `api`. */
  source_type: string;
  source_id: string;
  status: ColumnType<ProblemStatus, ProblemStatus | undefined, ProblemStatus>;
  description: Generated<string>;
  affected_service_ids: Generated<string[]>;
  affected_ci_ids: Generated<string[]>;
  security_risk: Generated<boolean>;
  root_cause: string | null;
  workaround: string | null;
  solution: string | null;
  parent_id: string | null;
  created_by: Generated<string>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface SodRulesTable {
  id: string;
  name: string;
  description: string;
  members: Json<SodMember[]>;
  status: SodRuleStatus;
  created_by: string;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface SodExceptionsTable {
  id: string;
  rule_id: string;
  principal_id: string;
  request_id: string;
  reason: string;
  expires_at: ColumnType<Date, Date | string, Date | string>;
  granted_by: string;
  status: 'active' | 'lapsed';
  created_at: CreatedAt;
}

export interface ProblemIncidentsTable {
  problem_id: string;
  incident_id: string;
}

export interface ProblemProposalsTable {
  id: string;
  problem_id: string;
  workflow_id: string;
  kind: ProposalKind;
  text: string;
  change_id: string | null;
  proposed_by: string;
  status: ProposalStatus;
  checklist: Json<ChecklistItem[]>;
  results: ColumnType<ItemResult[], string | undefined, string>;
  reasons: Generated<string[]>;
  checked_by: Generated<string[]>;
  created_at: CreatedAt;
  decided_at: NullableTimestamp;
}

export interface ImprovementActionsTable {
  id: string;
  title: string;
  description: Generated<string>;
  source_type: string;
  source_id: string;
  owner: string;
  due_at: NullableTimestamp;
  risk_score: number | null;
  status: Generated<string>;
  progress: string | null;
  deviation_key: string | null;
  service_id: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface RisksTable {
  id: Generated<string>;
  title: string;
  threat: string;
  affected_cis: string[];
  affected_services: string[];
  likelihood: number;
  impact: number;
  owner: string;
  treatment: RiskTreatment;
  controls: string[];
  accepted_until: NullableTimestamp;
  review_at: ColumnType<Date, Date | string, Date | string>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface PoliciesTable {
  id: Generated<string>;
  title: string;
  owner: string;
  status: Generated<'active' | 'retired'>;
  current_version: number | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface PolicyVersionsTable {
  policy_id: string;
  version: number;
  body: string | null;
  document_url: string | null;
  next_review_at: ColumnType<Date, Date | string, Date | string>;
  status: 'pending_approval' | 'approved' | 'rejected' | 'failed';
  proposed_by: string;
  decided_by: string | null;
  decided_at: NullableTimestamp;
  comment: string | null;
  created_at: CreatedAt;
}

export interface SecurityReviewsTable {
  id: string;
  workflow_id: string;
  period_from: ColumnType<Date, Date | string, never>;
  period_to: ColumnType<Date, Date | string, never>;
  scope: string[] | null;
  status: 'measuring' | 'owner_review' | 'planning' | 'sign_off' | 'signed_off' | 'failed';
  requested_by: string;
  measures: Json<MeasuredKpi[]> | null;
  history: Json<KpiTrendPoint[]> | null;
  owner_reviews: ColumnType<OwnerReview[], string | undefined, string>;
  revisions: ColumnType<SignOffRecord[], string | undefined, string>;
  sign_off: Json<SignOffRecord> | null;
  report: Json<SecurityReport> | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface ControlsTable {
  id: Generated<string>;
  name: string;
  description: Generated<string>;
  owner: string;
  kind: ControlKind;
  process: ControlProcess;
  ci_ids: string[];
  iso27001: string[];
  mitre_attack: string[];
  baseline_measures: string[];
  sla_requirements: Json<SlaRequirementRef[]>;
  incident_category: IncidentCategory;
  procedure: Json<TestProcedure>;
  schedule: ColumnType<ControlScheduleSpec | null, string | null | undefined, string | null>;
  cadence_ms: number | null;
  scheduled_since: NullableTimestamp;
  schedule_paused: Generated<boolean>;
  status: Generated<'active' | 'retired'>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface TestRunsTable {
  id: string;
  control_id: string;
  workflow_id: string;
  method: TestProcedure['type'];
  requested_by: string;
  scheduled_at: ColumnType<Date, Date | string, never>;
  started_at: ColumnType<Date, Date | string, never>;
  finished_at: NullableTimestamp;
  status: 'running' | 'finished';
  result: TestResult | null;
  tested_by: string | null;
  summary: string | null;
  notes: string | null;
  evidence: ColumnType<Record<string, unknown>, string | undefined, string>;
  task_id: string | null;
  incident_id: string | null;
  created_at: CreatedAt;
}

export interface ChangesTable {
  id: string;
  workflow_id: string;
  title: string;
  description: string;
  affected_cis: string[];
  security_impact: Json<SecurityImpact>;
  planned_start: ColumnType<Date, Date | string, Date | string>;
  planned_end: ColumnType<Date, Date | string, Date | string>;
  rollback_plan: string;
  evidence: Json<ChangeEvidence[]>;
  problem_id: string | null;
  known_error_id: string | null;
  requester: string;
  source: ChangeSource;
  external_ref: NullableJson<Record<string, unknown>>;
  callback_url: string | null;
  status: ChangeStatus;
  risk: ChangeRisk;
  assessment: Json<ChangeAssessment>;
  revision: Generated<number>;
  verification: NullableJson<BaselineVerification>;
  incident_id: string | null;
  category: string | null;
  source_fields: ColumnType<Record<string, string>, string | undefined, string>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface ChangeImpactRulesTable {
  id: string;
  version: number;
  name: string;
  description: string;
  keywords: string[];
  fields: ImpactRuleField[];
  areas: ImpactAreaName[];
  minimum_risk: Exclude<ChangeRisk, 'none'>;
  status: ImpactRuleStatus;
  changed_by: string;
  reason: string;
  changed_at: CreatedAt;
}

export interface ChangeDecisionsTable {
  change_id: string;
  decision_key: string;
  revision: number;
  outcome: string;
  decided_by: string[];
  reason: string;
  task_id: string | null;
  decided_at: Date | string;
}

export interface ChangeCallbackDeliveriesTable {
  change_id: string;
  event_key: string;
  url: string;
  payload: Json<Record<string, unknown>>;
  status: 'pending' | 'delivered' | 'failed';
  attempts: Generated<number>;
  last_status_code: number | null;
  last_error: string | null;
  created_at: CreatedAt;
  delivered_at: NullableTimestamp;
}

/** The permanent failure that ended a process (migration 2026-12-02T0200-failed-states). */
export interface ProcessFailuresTable {
  workflow_id: string;
  subject_type: string;
  subject_id: string;
  step: string;
  type: string;
  message: string;
  created_at: CreatedAt;
}

export interface TrainingCampaignsTable {
  id: string;
  workflow_id: string;
  title: string;
  course_id: string;
  due_at: ColumnType<Date, Date | string, Date | string>;
  audience: Json<TrainingAudience>;
  status: 'open' | 'closed';
  created_by: string;
  created_at: CreatedAt;
  closed_at: NullableTimestamp;
}

export interface TrainingAssignmentsTable {
  campaign_id: string;
  principal_id: string;
  manager: string | null;
  completed_at: NullableTimestamp;
  completion_source: CompletionSource | null;
  recorded_by: string | null;
  reminders: ColumnType<number, number | undefined, number>;
  escalated_at: NullableTimestamp;
  escalated_to: string | null;
}

export interface BaselineVersionsTable {
  version: number;
  measures: Json<BaselineMeasure[]>;
  statements: ColumnType<ApplicabilityStatement[], string | undefined, string>;
  reason: string;
  status: 'pending_approval' | 'approved' | 'rejected' | 'failed';
  workflow_id: string | null;
  proposed_by: string;
  proposed_at: CreatedAt;
  decided_by: string | null;
  decided_at: NullableTimestamp;
  comment: string | null;
}

export interface Database extends AccessTables {
  process_failures: ProcessFailuresTable;
  controls: ControlsTable;
  test_runs: TestRunsTable;
  playbooks: PlaybooksTable;
  incidents: IncidentsTable;
  incident_sla_clocks: IncidentSlaClocksTable;
  incident_steps: IncidentStepsTable;
  incident_actions: IncidentActionsTable;
  open_alert_fingerprints: OpenAlertFingerprintsTable;
  security_alerts_received: SecurityAlertsReceivedTable;
  alert_observables: AlertObservablesTable;
  incident_observables: IncidentObservablesTable;
  iocs: IocsTable;
  incident_relations: IncidentRelationsTable;
  attack_techniques: AttackTechniquesTable;
  incident_communications: IncidentCommunicationsTable;
  problems: ProblemsTable;
  problem_incidents: ProblemIncidentsTable;
  sod_rules: SodRulesTable;
  sod_exceptions: SodExceptionsTable;
  problem_proposals: ProblemProposalsTable;
  improvement_actions: ImprovementActionsTable;
  risks: RisksTable;
  policies: PoliciesTable;
  policy_versions: PolicyVersionsTable;
  security_reviews: SecurityReviewsTable;
  human_tasks: HumanTasksTable;
  notifications: NotificationsTable;
  notification_deliveries: NotificationDeliveriesTable;
  ci_components: CiComponentsTable;
  advisories: AdvisoriesTable;
  advisory_remediations: AdvisoryRemediationsTable;
  scan_imports: ScanImportsTable;
  vulnerability_findings: VulnerabilityFindingsTable;
  security_alerts: SecurityAlertsTable;
  security_alert_recipients: SecurityAlertRecipientsTable;
  principals: PrincipalsTable;
  api_tokens: ApiTokensTable;
  web_sessions: WebSessionsTable;
  audit_events: AuditEventsTable;
  audit_pending: AuditPendingTable;
  audit_checkpoints: AuditCheckpointsTable;
  services: ServicesTable;
  configuration_items: ConfigurationItemsTable;
  idempotency_keys: IdempotencyKeysTable;
  diagnostic_pings: DiagnosticPingsTable;
  changes: ChangesTable;
  change_impact_rules: ChangeImpactRulesTable;
  change_decisions: ChangeDecisionsTable;
  change_callback_deliveries: ChangeCallbackDeliveriesTable;
  training_campaigns: TrainingCampaignsTable;
  training_assignments: TrainingAssignmentsTable;
  baseline_versions: BaselineVersionsTable;
}

export type ServiceRow = Selectable<ServicesTable>;
export type NewServiceRow = Insertable<ServicesTable>;
export type ServiceRowUpdate = Updateable<ServicesTable>;
export type ConfigurationItemRow = Selectable<ConfigurationItemsTable>;
export type NewConfigurationItemRow = Insertable<ConfigurationItemsTable>;
export type ConfigurationItemRowUpdate = Updateable<ConfigurationItemsTable>;
export type AuditEvent = Selectable<AuditEventsTable>;
export type AuditCheckpoint = Selectable<AuditCheckpointsTable>;
export type ApiToken = Selectable<ApiTokensTable>;
export type HumanTask = Selectable<HumanTasksTable>;
export type Incident = Selectable<IncidentsTable>;
export type IncidentSlaClock = Selectable<IncidentSlaClocksTable>;
export type Control = Selectable<ControlsTable>;
export type TestRun = Selectable<TestRunsTable>;
export type Advisory = Selectable<AdvisoriesTable>;
export type AdvisoryRemediation = Selectable<AdvisoryRemediationsTable>;
export type Change = Selectable<ChangesTable>;
export type ChangeDecision = Selectable<ChangeDecisionsTable>;
export type ChangeUpdate = Updateable<ChangesTable>;
export type Risk = Selectable<RisksTable>;
export type Policy = Selectable<PoliciesTable>;
export type PolicyVersion = Selectable<PolicyVersionsTable>;
export type SecurityReviewRow = Selectable<SecurityReviewsTable>;
export type ImprovementAction = Selectable<ImprovementActionsTable>;
