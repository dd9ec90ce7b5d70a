import { createHash } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { AuditEvent, Database } from './database';
import { json } from './create-db';

export const genesisHash = '0'.repeat(64);
// One advisory lock id for the whole chain: appends are serialised so each row links to the row
// committed before it, even with many API replicas and workers writing at once.
const auditChainLock = 0x5741_5244; // "WARD"

export interface AuditInput {
  actor: string;
  action: string;
  subjectType: string;
  subjectId: string;
  details?: Record<string, unknown>;
}

/** JSON with object keys sorted at every depth: the same event always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export type FieldChanges = Record<string, { from: unknown; to: unknown }>;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);

/**
 * What differs between two versions of a record, keyed by dotted path into nested objects, so an
 * audit event names the one SLA target that moved rather than the whole SLA. Absent is null.
 */
export function changedFields(before: object, after: object, prefix = ''): FieldChanges {
  const changes: FieldChanges = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const from = (before as Record<string, unknown>)[key];
    const to = (after as Record<string, unknown>)[key];
    if (canonicalJson(from) === canonicalJson(to)) continue;
    const path = prefix + key;
    if (isPlainObject(from) && isPlainObject(to)) Object.assign(changes, changedFields(from, to, `${path}.`));
    else changes[path] = { from: from ?? null, to: to ?? null };
  }
  return changes;
}

interface HashedFields {
  occurredAt: Date;
  actor: string;
  action: string;
  subjectType: string;
  subjectId: string;
  details: Record<string, unknown>;
  prevHash: string;
}

export function auditHash(fields: HashedFields): string {
  return createHash('sha256').update(canonicalJson(fields)).digest('hex');
}

/**
 * Appends to the hash chain inside the caller's transaction, so the event commits or rolls back
 * with the change it records.
 */
export async function appendAudit(trx: Transaction<Database>, input: AuditInput): Promise<void> {
  await sql`select pg_advisory_xact_lock(${auditChainLock})`.execute(trx);
  const last = await trx.selectFrom('audit_events').select('hash').orderBy('id', 'desc').limit(1).executeTakeFirst();
  const fields: HashedFields = {
    // Millisecond precision: what timestamptz gives back must hash the same on verify.
    occurredAt: new Date(Date.now()),
    actor: input.actor,
    action: input.action,
    subjectType: input.subjectType,
    subjectId: input.subjectId,
    // A JSON round trip makes the hashed details equal to what jsonb will return.
    details: JSON.parse(json(input.details ?? {})) as Record<string, unknown>,
    prevHash: last?.hash ?? genesisHash,
  };
  await trx
    .insertInto('audit_events')
    .values({
      occurred_at: fields.occurredAt,
      actor: fields.actor,
      action: fields.action,
      subject_type: fields.subjectType,
      subject_id: fields.subjectId,
      details: json(fields.details),
      prev_hash: fields.prevHash,
      hash: auditHash(fields),
    })
    .execute();
}

/**
 * Runs a conditional write and, when it changed something, appends the event it returns in the same
 * transaction: a retried activity whose write finds nothing to do records nothing twice.
 */
export async function auditedWrite(
  db: Kysely<Database>,
  write: (trx: Transaction<Database>) => Promise<AuditInput | undefined>,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const event = await write(trx);
    if (event) await appendAudit(trx, event);
    return event !== undefined;
  });
}

/** Records an event on its own, for decisions that change no other row (a refused attempt). */
export async function recordAudit(db: Kysely<Database>, input: AuditInput): Promise<void> {
  await db.transaction().execute((trx) => appendAudit(trx, input));
}

export type ChainVerification = { valid: true; checked: number } | { valid: false; checked: number; firstBrokenId: number; reason: string };

export async function verifyAuditChain(db: Kysely<Database>, batchSize = 5000): Promise<ChainVerification> {
  let prevHash = genesisHash;
  let afterId = 0;
  let checked = 0;
  for (;;) {
    const rows: AuditEvent[] = await db
      .selectFrom('audit_events')
      .selectAll()
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(batchSize)
      .execute();
    for (const row of rows) {
      const id = row.id;
      if (row.prev_hash !== prevHash) {
        return { valid: false, checked, firstBrokenId: id, reason: 'prev_hash does not match the previous row' };
      }
      const expected = auditHash({
        occurredAt: row.occurred_at,
        actor: row.actor,
        action: row.action,
        subjectType: row.subject_type,
        subjectId: row.subject_id,
        details: row.details,
        prevHash: row.prev_hash,
      });
      if (row.hash !== expected) return { valid: false, checked, firstBrokenId: id, reason: 'hash does not match the row content' };
      prevHash = row.hash;
      afterId = id;
      checked += 1;
    }
    if (rows.length < batchSize) return { valid: true, checked };
  }
}

export interface AuditFilter {
  subjectType?: string | undefined;
  subjectId?: string | undefined;
  action?: string | undefined;
  /** The id of the last event of the previous page. */
  afterId?: number | undefined;
  limit: number;
}

/** Audit events in chain order, one beyond `limit` so the caller knows whether another page follows. */
export function listAuditEvents(db: Kysely<Database>, filter: AuditFilter): Promise<AuditEvent[]> {
  let query = db
    .selectFrom('audit_events')
    .selectAll()
    .orderBy('id')
    .limit(filter.limit + 1);
  if (filter.subjectType) query = query.where('subject_type', '=', filter.subjectType);
  if (filter.subjectId) query = query.where('subject_id', '=', filter.subjectId);
  if (filter.action) query = query.where('action', '=', filter.action);
  if (filter.afterId !== undefined) query = query.where('id', '>', filter.afterId);
  return query.execute();
}
