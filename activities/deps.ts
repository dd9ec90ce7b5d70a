import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { CallbackSettings } from '../domain/callbacks';
import type { ContainmentTiming } from '../domain/incident';
import type { CheckParamsParser } from '../domain/security-checks';
import type { AuditSigningKey } from '../db/audit-checkpoints';
import type { Database } from '../db/database';
import type { Notifier } from './notifier';
import type { OutboundGuard } from './outbound';

/** What every activity factory may use; tests pass the real ones. */
export interface ActivityDeps {
  db: Kysely<Database>;
  logger: Logger;
  workerIdentity: string;
  /** Where named containment actions are POSTed (signed with responderSecret); unset: carried out by hand. */
  responderUrl?: string;
  responderSecret?: string;
  /** How containment actions wait for responders and confirmations, and escalate (domain/incident.ts). */
  containment: ContainmentTiming;
  /** Signs provisioning webhooks to systems' `provisioningUrl` (see activities/access.ts). */
  provisioningSecret?: string;
  /** WARDEN_COMMAND_CHECKS_ENABLED: whether `command` security checks may run executables here. */
  commandChecksEnabled: boolean;
  /** Reads a control's check parameters (the zod schemas of schemas/security-checks.ts, which activities do not import). */
  parseCheckParams: CheckParamsParser;
  /** E-mail, webhook and Slack delivery of notifications. */
  notifier: Notifier;
  /** Where change-gate callbacks may go and the secret they are signed with. */
  callbacks: CallbackSettings;
  /** The one gate of every outbound connection, holding WARDEN_OUTBOUND_ALLOW (activities/outbound.ts). */
  outbound: OutboundGuard;
  /** WARDEN_AUDIT_SIGNING_KEY: signs audit checkpoints; unset, this worker signs none. */
  auditSigningKey?: AuditSigningKey;
}
