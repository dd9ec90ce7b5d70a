import { sql, type Kysely } from 'kysely';
import { auditHash, genesisHash, type HashedFields } from './audit-hash';
import { json } from './create-db';
import type { Database } from './database';

// Writers put their events, unhashed, into audit_pending inside their own transactions and take no
// lock, so audited writes commit side by side. Linking them onto the chain is serialised by this one
// advisory lock, held only by a link transaction: each event links to the event linked before it,
// even with many API replicas and workers linking at once.
const auditChainLock = 0x5741_5244; // "WARD"

// Bounds one link transaction: its insert (9 parameters an event) and how long it holds the lock.
const linkBatchSize = 1000;

/**
 * Moves the oldest committed pending events onto the chain in one transaction under the chain lock:
 * each hashed onto the one before it (in Node: the hash is of `canonicalJson`, which SQL cannot
 * reproduce), inserted into audit_events in one statement, and deleted from audit_pending (whose
 * trigger lets only an event already in audit_events go). Returns how many it linked.
 */
async function linkBatch(db: Kysely<Database>): Promise<number> {
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${auditChainLock})`.execute(trx);
    // A statement after the lock: it sees the head the previous holder committed.
    const pending = await trx
      .selectFrom('audit_pending')
      .selectAll()
      .select((eb) => eb.selectFrom('audit_events').select('hash').orderBy('id', 'desc').limit(1).as('head'))
      .orderBy('id')
      .limit(linkBatchSize)
      .execute();
    const first = pending[0];
    if (!first) return 0;
    let prevHash = first.head ?? genesisHash;
    const events = pending.map((row) => {
      // Hashed as read back from jsonb and timestamptz: what verification will read from audit_events.
      const fields: HashedFields = {
        occurredAt: row.occurred_at,
        actor: row.actor,
        action: row.action,
        subjectType: row.subject_type,
        subjectId: row.subject_id,
        details: row.details,
        prevHash,
      };
      prevHash = auditHash(fields);
      return {
        occurred_at: row.occurred_at,
        actor: row.actor,
        action: row.action,
        subject_type: row.subject_type,
        subject_id: row.subject_id,
        details: json(row.details),
        prev_hash: fields.prevHash,
        hash: prevHash,
      };
    });
    const linked = await trx.insertInto('audit_events').values(events).returning(['id', 'hash']).execute();
    // Readers page through the chain by id: a row whose id is out of chain order would break every
    // later link for them. PostgreSQL numbers a multi-row insert in row order; this makes that a check.
    linked.forEach((row, index) => {
      const before = linked[index - 1];
      if (row.hash !== events[index]?.hash || (before && row.id <= before.id)) {
        throw new Error(`audit link: event ${row.id} was numbered out of chain order; nothing was linked`);
      }
    });
    await trx
      .deleteFrom('audit_pending')
      .where(
        'id',
        'in',
        pending.map((row) => row.id),
      )
      .execute();
    return pending.length;
  });
}

/**
 * One process's linker: at most one link transaction at a time (group commit). A caller that comes
 * while one runs waits for the next, which starts after it and links every event committed by then,
 * its own and those of every writer that came meanwhile.
 */
class AuditLinker {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(private readonly db: Kysely<Database>) {}

  /** Resolves once a link that began after this call has finished: the events committed before it are in audit_events. */
  link(): Promise<void> {
    // A queued link has not begun yet, so it begins after this call.
    if (this.queued) return this.queued;
    if (!this.running) return this.begin();
    // The running link may have read audit_pending before the caller's commit.
    const begin = () => this.begin();
    this.queued = this.running.then(begin, begin);
    return this.queued;
  }

  private begin(): Promise<void> {
    this.queued = undefined;
    const run = this.linkAll().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }

  private async linkAll(): Promise<void> {
    while ((await linkBatch(this.db)) === linkBatchSize) {
      // A backlog (a crashed process's events): the next batch, until one comes back short.
    }
  }
}

const linkers = new WeakMap<Kysely<Database>, AuditLinker>();

/**
 * Links every event committed to audit_pending before the call, by this process's linker: many
 * callers at once share one link transaction. Events of other processes, and of crashed ones, are
 * linked along with them.
 */
export function linkPendingAudit(db: Kysely<Database>): Promise<void> {
  let linker = linkers.get(db);
  if (!linker) {
    linker = new AuditLinker(db);
    linkers.set(db, linker);
  }
  return linker.link();
}

/**
 * Links, every `everyMs`, the events no write came to link: those of a process that died between its
 * commit and its link, or whose link failed while PostgreSQL was away. Returns the stop function.
 */
export function sweepPendingAudit(db: Kysely<Database>, everyMs: number, onFailure: (error: unknown) => void): () => void {
  const timer = setInterval(() => {
    linkPendingAudit(db).catch(onFailure);
  }, everyMs);
  // The sweep alone never keeps a process alive.
  timer.unref();
  return () => clearInterval(timer);
}

/** How many committed events wait to be linked. */
export async function pendingAuditCount(db: Kysely<Database>): Promise<number> {
  const { count } = await db
    .selectFrom('audit_pending')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(count);
}
