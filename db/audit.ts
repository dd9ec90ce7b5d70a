import { type Kysely, type RawBuilder, sql, type Transaction } from 'kysely';
import { allAuditCheckpoints, type AuditVerifyKey, checkpointSignatureProblem } from './audit-checkpoints';
import { auditHash, auditHashParts, canonicalJson, genesisHash } from './audit-hash';
import { linkPendingAudit, pendingAuditCount } from './audit-linker';
import type { AuditCheckpoint, AuditEvent, Database } from './database';
import { json, lastInTransaction, prepared } from './create-db';

export { auditHash, canonicalJson, genesisHash } from './audit-hash';

export interface AuditInput {
  actor: string;
  action: string;
  subjectType: string;
  subjectId: string;
  details?: Record<string, unknown>;
}

export type FieldChanges = Record<string, { from: unknown; to: unknown }>;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);

/**
 * What differs between two versions of a record, keyed by dotted path into nested objects, so an
 * audit event names the one SLA target that moved rather than the whole SLA. Absent is null.
 * Depth-first in key order, with its own stack rather than recursion, so deep values cannot
 * overflow the call stack.
 */
export function changedFields(before: object, after: object, prefix = ''): FieldChanges {
  const changes: FieldChanges = {};
  type Level = { before: Record<string, unknown>; after: Record<string, unknown>; prefix: string; keys: string[]; next: number };
  const level = (b: object, a: object, p: string): Level => {
    const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])];
    return { before: b as Record<string, unknown>, after: a as Record<string, unknown>, prefix: p, keys, next: 0 };
  };
  const stack: Level[] = [level(before, after, prefix)];
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as Level;
    if (top.next >= top.keys.length) {
      stack.pop();
      continue;
    }
    const key = top.keys[top.next] as string;
    top.next += 1;
    const from = top.before[key];
    const to = top.after[key];
    const path = top.prefix + key;
    // Two objects are walked rather than compared whole: equal ones add nothing either way, and
    // comparing at every level would serialise a deep value once per level.
    if (isPlainObject(from) && isPlainObject(to)) stack.push(level(from, to, `${path}.`));
    else if (canonicalJson(from) !== canonicalJson(to)) changes[path] = { from: from ?? null, to: to ?? null };
  }
  return changes;
}

declare const audited: unique symbol;
/**
 * A transaction whose events are linked onto the chain once it commits: only `auditedTransaction`
 * and `auditedWrite` open one, so an event cannot be appended where nothing would link it.
 */
export type AuditedTransaction = Transaction<Database> & { readonly [audited]: true };

/**
 * The insert recording an event, to run inside an audited transaction: alone (`appendAudit`), or in
 * the statement writing the rows it records, as a data-modifying CTE, which saves a round trip. It
 * takes no lock: the transaction that opened `trx` links the event onto the chain after its commit.
 * `trx` is asked for though the statement does not need it: only an audited transaction links what
 * it writes. SQL rather than built: it is on the hot path of every audited write.
 */
export function auditEventInsert(_trx: AuditedTransaction, input: AuditInput): RawBuilder<unknown> {
  return sql`insert into audit_pending (occurred_at, actor, action, subject_type, subject_id, details, hash_head, hash_tail)
             values (${pendingEventValues(input)})`;
}

/** An event's columns in audit_pending, in the order `auditEventInsert` names them, with its hash parts. */
function pendingEventValues(input: AuditInput): RawBuilder<unknown> {
  // What jsonb stores; parsed back (a JSON round trip), the details hash as jsonb will return them.
  const details = json(input.details ?? {});
  const fields = {
    // Millisecond precision: what timestamptz gives back must hash the same on verify.
    occurredAt: new Date(Date.now()),
    actor: input.actor,
    action: input.action,
    subjectType: input.subjectType,
    subjectId: input.subjectId,
    details: JSON.parse(details) as Record<string, unknown>,
  };
  const { head, tail } = auditHashParts(fields);
  return sql`${fields.occurredAt}, ${fields.actor}, ${fields.action}, ${fields.subjectType}, ${fields.subjectId},
             ${details}, ${head}, ${tail}`;
}

/**
 * Records an event inside the caller's transaction, so it commits or rolls back with the change it
 * records. `endsTransaction` when nothing follows it there: it then goes to PostgreSQL with the
 * commit (`lastInTransaction`), a round trip less.
 */
export async function appendAudit(trx: AuditedTransaction, input: AuditInput, { endsTransaction = false } = {}): Promise<void> {
  const insert = prepared(auditEventInsert(trx, input));
  await (endsTransaction ? lastInTransaction(insert) : insert).execute(trx);
}

/**
 * Sets a link going after the commit and does not wait for it: the events are durable in
 * audit_pending, and whoever reads the chain links first (`linkPendingAudit`), so a write waits for
 * its own commit only. A link that fails (PostgreSQL went away) must not fail a write that happened:
 * the next link anywhere, a reader, or the worker's sweep chains its events.
 */
function linkSoon(db: Kysely<Database>): void {
  linkPendingAudit(db).catch(() => {
    // The sweep logs a link that keeps failing.
  });
}

/**
 * Runs `work` in a transaction in which it may append audit events, and returns once they are
 * committed. They reach audit_events moments later; readers of the trail link before they read.
 */
export async function auditedTransaction<T>(db: Kysely<Database>, work: (trx: AuditedTransaction) => Promise<T>): Promise<T> {
  const result = await db.transaction().execute((trx) => work(trx as AuditedTransaction));
  linkSoon(db);
  return result;
}

/**
 * Runs a conditional write and, when it changed something, appends the event it returns in the same
 * transaction: a retried activity whose write finds nothing to do records nothing twice.
 */
export async function auditedWrite(
  db: Kysely<Database>,
  write: (trx: AuditedTransaction) => Promise<AuditInput | undefined>,
): Promise<boolean> {
  return auditedTransaction(db, async (trx) => {
    const event = await write(trx);
    if (event) await appendAudit(trx, event, { endsTransaction: true });
    return event !== undefined;
  });
}

/**
 * A conditional write and its event as one statement, in no transaction of its own: `write` (a
 * data-modifying statement with RETURNING) runs as a CTE, and the event is inserted only when it
 * returned a row; both commit together or neither does. For writes whose event is known before they
 * run, so nothing read by the write goes into the event: one round trip where `auditedWrite` takes
 * four (begin, write, event, commit). Answers whether it wrote. Prepared: `write` must be a
 * statement of few texts.
 */
export async function auditedWriteOfKnownEvent(db: Kysely<Database>, write: RawBuilder<unknown>, event: AuditInput): Promise<boolean> {
  const { rows } = await prepared(
    sql`with written as (${write})
        insert into audit_pending (occurred_at, actor, action, subject_type, subject_id, details, hash_head, hash_tail)
        select ${pendingEventValues(event)} where exists (select from written)
        returning 1`,
  ).execute(db);
  if (rows.length === 0) return false;
  linkSoon(db);
  return true;
}

/** Records an event on its own, for decisions that change no other row (a refused attempt). */
export async function recordAudit(db: Kysely<Database>, input: AuditInput): Promise<void> {
  await auditedTransaction(db, (trx) => appendAudit(trx, input, { endsTransaction: true }));
}

export interface ChainVerification {
  valid: boolean;
  /** Events whose links and hashes were checked before the first problem (all of them when valid). */
  checked: number;
  /** The first event whose link or hash is wrong. */
  firstBrokenId?: number;
  /** The first checkpoint that does not hold: a bad signature, an unknown key, a gap, or a hash the chain no longer has. */
  firstBrokenCheckpointId?: number;
  /** When a checkpoint's hash no longer matches: the events, one or more of which were rewritten. */
  rewrittenRange?: { fromId: number; toId: number };
  reason?: string;
  /** Checkpoints whose signatures were verified before the first problem. */
  checkpoints: number;
  /** Events after the last checkpoint: consistent, but nothing signed vouches for them yet. */
  unanchored: number;
  /** The newest checkpoint verified: when it is much older than the interval, signing has stopped or checkpoints were deleted. */
  lastCheckpoint: { id: number; eventId: number; signedAt: Date } | null;
  /** Events committed but not on the chain yet, counted after the chain was checked: those committed meanwhile, or ones no link could chain. */
  pending: number;
}

/**
 * Links what is pending, then recomputes the chain and checks every checkpoint against it: its
 * signature (with `keys`), its link to the checkpoint before it, and that the event it names still
 * has the hash it signed. Names the first event or checkpoint that does not hold, in chain order.
 */
export async function verifyAuditChain(
  db: Kysely<Database>,
  options: { keys?: readonly AuditVerifyKey[]; batchSize?: number } = {},
): Promise<ChainVerification> {
  const { keys = [], batchSize = 5000 } = options;
  // Verified: every event committed before the call, not only those a link has reached.
  await linkPendingAudit(db);
  const checked = await checkChain(db, keys, batchSize);
  return { ...checked, pending: await pendingAuditCount(db) };
}

type ChainCheck = Omit<ChainVerification, 'pending'>;

async function checkChain(db: Kysely<Database>, keys: readonly AuditVerifyKey[], batchSize: number): Promise<ChainCheck> {
  const checkpoints = await allAuditCheckpoints(db);
  let next = 0; // the next checkpoint to meet in the chain
  let anchoredEventId = 0; // the event of the last checkpoint that held
  let anchoredCount = 0; // events up to it
  let lastCheckpoint: ChainCheck['lastCheckpoint'] = null;
  let prevHash = genesisHash;
  let afterId = 0;
  let checked = 0;
  const result = (problem: Omit<ChainCheck, 'valid' | 'checked' | 'checkpoints' | 'unanchored' | 'lastCheckpoint'>): ChainCheck => ({
    valid: false,
    checked,
    checkpoints: next,
    unanchored: checked - anchoredCount,
    lastCheckpoint,
    ...problem,
  });
  /** Why the checkpoint `next` points at does not hold for an event with `hash`, or undefined. */
  const checkpointProblem = (checkpoint: AuditCheckpoint, hash: string | undefined): ChainCheck | undefined => {
    const signature = checkpointSignatureProblem(checkpoint, keys);
    if (signature) return result({ firstBrokenCheckpointId: checkpoint.id, reason: signature });
    if (checkpoint.prev_event_id !== anchoredEventId) {
      return result({
        firstBrokenCheckpointId: checkpoint.id,
        reason: `checkpoint ${checkpoint.id} follows the checkpoint of event ${checkpoint.prev_event_id}, which is missing`,
      });
    }
    if (hash === undefined) {
      return result({
        firstBrokenCheckpointId: checkpoint.id,
        reason: `checkpoint ${checkpoint.id} signed event ${checkpoint.event_id}, which no longer exists: events were deleted`,
      });
    }
    if (hash !== checkpoint.event_hash) {
      return result({
        firstBrokenCheckpointId: checkpoint.id,
        rewrittenRange: { fromId: anchoredEventId + 1, toId: checkpoint.event_id },
        reason:
          `event ${checkpoint.event_id} no longer has the hash checkpoint ${checkpoint.id} signed: ` +
          `an event between ${anchoredEventId + 1} and ${checkpoint.event_id} was rewritten and the hashes after it recomputed`,
      });
    }
    return undefined;
  };
  const missingEvent = (checkpoint: AuditCheckpoint): ChainCheck => checkpointProblem(checkpoint, undefined) as ChainCheck;
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
      // A checkpoint naming an event the chain skipped over: that event was deleted.
      const skipped = checkpoints[next];
      if (skipped && skipped.event_id < id) return missingEvent(skipped);
      if (row.prev_hash !== prevHash) {
        return result({ firstBrokenId: id, reason: 'prev_hash does not match the previous row' });
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
      if (row.hash !== expected) return result({ firstBrokenId: id, reason: 'hash does not match the row content' });
      prevHash = row.hash;
      afterId = id;
      checked += 1;
      const checkpoint = checkpoints[next];
      if (checkpoint?.event_id === id) {
        const problem = checkpointProblem(checkpoint, row.hash);
        if (problem) return problem;
        next += 1;
        anchoredEventId = id;
        anchoredCount = checked;
        lastCheckpoint = { id: checkpoint.id, eventId: id, signedAt: checkpoint.signed_at };
      }
    }
    if (rows.length < batchSize) break;
  }
  const beyond = checkpoints[next];
  if (beyond) {
    // Checkpoints past the end of the chain: the tail they signed was deleted (or they are forged).
    return missingEvent(beyond);
  }
  return { valid: true, checked, checkpoints: next, unanchored: checked - anchoredCount, lastCheckpoint };
}

export interface AuditFilter {
  subjectType?: string | undefined;
  subjectId?: string | undefined;
  action?: string | undefined;
  /** The id of the last event of the previous page. */
  afterId?: number | undefined;
  limit: number;
}

/**
 * Audit events in chain order, one beyond `limit` so the caller knows whether another page follows.
 * Links first, so the page holds every audited write that returned before the call.
 */
export async function listAuditEvents(db: Kysely<Database>, filter: AuditFilter): Promise<AuditEvent[]> {
  await linkPendingAudit(db);
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

/** The trail of one record in chain order, for its timeline: linked first, like `listAuditEvents`. */
export async function subjectAuditTrail(db: Kysely<Database>, subjectType: string, subjectId: string): Promise<AuditEvent[]> {
  await linkPendingAudit(db);
  return db
    .selectFrom('audit_events')
    .selectAll()
    .where('subject_type', '=', subjectType)
    .where('subject_id', '=', subjectId)
    .orderBy('id')
    .execute();
}
