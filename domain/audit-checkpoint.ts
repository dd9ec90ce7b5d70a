// The contract of audit checkpoints: a Schedule starts a small workflow whose one activity signs the
// head of the audit hash chain with an Ed25519 key the database does not hold.

export const auditCheckpointWorkflowType = 'auditCheckpoint';
/** The Schedule's id; the workflows it starts are `audit-checkpoint-<time>`. */
export const auditCheckpointScheduleId = 'audit-checkpoint';
export const auditCheckpointWorkflowId = 'audit-checkpoint';

/** The Schedule passes nothing yet; an object keeps room for more. */
export type AuditCheckpointInput = Record<string, never>;

export type AuditCheckpointResult =
  | { written: false; reason: 'no-events' | 'head-already-signed' }
  | { written: true; checkpointId: number; eventId: number };

/** What a checkpoint's signature covers. */
export interface CheckpointStatement {
  /** The audit event at the head of the chain when it was signed. */
  eventId: number;
  /** That event's `hash`. */
  eventHash: string;
  /** The event of the checkpoint before this one (0 for the first), so a deleted checkpoint shows. */
  prevEventId: number;
  signedAt: Date;
  keyId: string;
}

export const checkpointStatementVersion = 'warden-audit-checkpoint/v1';

/**
 * The exact bytes (UTF-8) that are signed: one `name=value` per line after a version line. Written
 * out in the export so anyone can check a checkpoint with any Ed25519 implementation.
 */
export function checkpointMessage(statement: CheckpointStatement): string {
  return [
    checkpointStatementVersion,
    `event=${statement.eventId}`,
    `hash=${statement.eventHash}`,
    `prev=${statement.prevEventId}`,
    `at=${statement.signedAt.toISOString()}`,
    `key=${statement.keyId}`,
    '',
  ].join('\n');
}
