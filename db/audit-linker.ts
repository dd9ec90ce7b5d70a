import { sql, type Kysely } from 'kysely';
import { prepared } from './create-db';
import type { Database } from './database';

// Writers put their events, unhashed, into audit_pending inside their own transactions and take no
// lock, so audited writes commit side by side. audit_link (migration 2026-12-02T1820-i21-audit-pending)
// chains them under the chain's advisory lock, held by nothing else: each event links to the event
// linked before it, even with many API replicas and workers linking at once.

// Bounds one link: how long it holds the lock, and the backlog of a crashed process it takes at once.
const linkBatchSize = 1000;

/**
 * Moves the oldest committed pending events onto the chain in one statement and one commit: hashed in
 * order onto the head, inserted into audit_events, deleted from audit_pending. Returns how many.
 */
async function linkBatch(db: Kysely<Database>): Promise<number> {
  const { rows } = await prepared(sql<{ linked: number }>`select audit_link(${linkBatchSize}) as linked`).execute(db);
  return rows[0]?.linked ?? 0;
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
