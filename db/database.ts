import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { ClassificationLevel } from '../domain/classification';
import type { ConfigurationItemStatus, ConfigurationItemType } from '../domain/cmdb';
import type { ServiceSla } from '../domain/sla';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export interface PrincipalsTable {
  id: string;
  display_name: string;
  email: string | null;
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

export interface AuditEventsTable {
  id: Generated<number>;
  occurred_at: Date;
  actor: string;
  action: string;
  subject_type: string;
  subject_id: string;
  details: Json<Record<string, unknown>>;
  prev_hash: string;
  hash: string;
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
  created_at: CreatedAt;
}

export interface DiagnosticPingsTable {
  id: string;
  requested_by: string;
  workflow_id: string;
  worker_identity: string;
  completed_at: Date;
}

export interface Database {
  principals: PrincipalsTable;
  api_tokens: ApiTokensTable;
  audit_events: AuditEventsTable;
  services: ServicesTable;
  configuration_items: ConfigurationItemsTable;
  idempotency_keys: IdempotencyKeysTable;
  diagnostic_pings: DiagnosticPingsTable;
}

export type ServiceRow = Selectable<ServicesTable>;
export type NewServiceRow = Insertable<ServicesTable>;
export type ServiceRowUpdate = Updateable<ServicesTable>;
export type ConfigurationItemRow = Selectable<ConfigurationItemsTable>;
export type NewConfigurationItemRow = Insertable<ConfigurationItemsTable>;
export type ConfigurationItemRowUpdate = Updateable<ConfigurationItemsTable>;
export type AuditEvent = Selectable<AuditEventsTable>;
export type ApiToken = Selectable<ApiTokensTable>;
