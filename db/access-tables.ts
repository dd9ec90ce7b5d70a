import type { ColumnType, Selectable } from 'kysely';
import type { CampaignScope, ProvisioningOperation, ProvisioningStatus } from '../domain/access';
import type { AccessRequestStatus, AccountFlag, AccountKind, Entitlement, EmploymentStatus, ReviewAction } from '../domain/access-review';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Json<T> = ColumnType<T, string, string>;
type NullableJson<T> = ColumnType<T | null, string | null | undefined, string | null>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export interface PeopleTable {
  principal_id: string;
  display_name: string;
  status: 'active' | 'leaver';
  manager: string | null;
  imported_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface SystemAccountsTable {
  ci_id: string;
  account_id: string;
  kind: AccountKind;
  owner: string | null;
  entitlements: Json<Entitlement[]>;
  last_used_at: NullableTimestamp;
  /** Set when a revocation was recorded; the next import that no longer lists the account clears it. */
  revocation_requested_at: NullableTimestamp;
  revocation_not_applied: ColumnType<boolean, boolean | undefined, boolean>;
  imported_at: Timestamp;
}

export interface AccessRequestsTable {
  id: string;
  workflow_id: string;
  ci_id: string;
  account_id: string;
  beneficiary: string;
  requester: string;
  entitlements: Json<Entitlement[]>;
  privileged: boolean;
  justification: string;
  status: AccessRequestStatus;
  approved_by: ColumnType<string[], string[] | undefined, string[]>;
  requested_until: NullableTimestamp;
  requested_for: string | null;
  expires_at: NullableTimestamp;
  decided_at: NullableTimestamp;
  provisioned_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
  created_at: CreatedAt;
}

export interface ProvisioningActionsTable {
  id: string;
  ci_id: string;
  account_id: string;
  operation: ProvisioningOperation;
  entitlements: Json<string[]>;
  subject_type: string;
  subject_id: string;
  method: 'webhook' | 'manual';
  status: ProvisioningStatus;
  detail: string;
  approved_by: string[];
  task_id: string | null;
  created_at: CreatedAt;
  completed_at: NullableTimestamp;
}

export interface AccessReviewCampaignsTable {
  id: string;
  workflow_id: string;
  scope: Json<CampaignScope>;
  ci_ids: string[];
  started_by: string;
  unused_after_days: number;
  status: 'open' | 'completed' | 'unanswered';
  deadline_at: Timestamp;
  completed_at: NullableTimestamp;
  completed_on_time: boolean | null;
  created_at: CreatedAt;
}

export interface AccessReviewItemsTable {
  campaign_id: string;
  ci_id: string;
  account_id: string;
  reviewer: string;
  account_owner: string | null;
  kind: AccountKind;
  employment_status: EmploymentStatus;
  entitlements: Json<Entitlement[]>;
  flags: AccountFlag[];
  /** The conflict rules behind a `sod_conflict` flag: the owner holds every entitlement of each. */
  sod_conflicts: ColumnType<{ ruleId: string; ruleName: string }[], string | undefined, string>;
  decision: ReviewAction | null;
  kept_entitlements: NullableJson<string[]>;
  decided_by: string | null;
  decided_at: NullableTimestamp;
}

/** Access management's tables, merged into `Database`. */
export interface AccessTables {
  people: PeopleTable;
  system_accounts: SystemAccountsTable;
  access_requests: AccessRequestsTable;
  provisioning_actions: ProvisioningActionsTable;
  access_review_campaigns: AccessReviewCampaignsTable;
  access_review_items: AccessReviewItemsTable;
}

export type SystemAccount = Selectable<SystemAccountsTable>;
export type AccessRequest = Selectable<AccessRequestsTable>;
export type ProvisioningAction = Selectable<ProvisioningActionsTable>;
export type AccessReviewCampaign = Selectable<AccessReviewCampaignsTable>;
export type AccessReviewItem = Selectable<AccessReviewItemsTable>;
