import { sql, type Kysely } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditedTransaction, type AuditInput, appendAudit, listAuditEvents, recordAudit, verifyAuditChain } from '../../db/audit';
import { generateAuditSigningKey, parseAuditSigningKey, writeAuditCheckpoint } from '../../db/audit-checkpoints';
import { linkPendingAudit } from '../../db/audit-linker';
import { createDb, type DbHandle } from '../../db/create-db';
import type { Database } from '../../db/database';
import { eventually, startStack, type Stack } from '../setup/stack';

// Issue 21: audited writes commit side by side into audit_pending, and a linker moves their events
// onto the hash chain. What must stay true: every event lands once, in one chain that verifies, ids
// in chain order; a write waits for its own commit, not for the chain; whoever reads the trail after a
// write returned finds its event; nothing a crashed writer committed is lost.

// The tests after the checkpoint one verify a chain it anchored: with its key.
const signingKey = parseAuditSigningKey(generateAuditSigningKey());
const keys = [signingKey];

const event = (label: string, i: number): AuditInput => ({
  actor: `writer-${label}`,
  action: 'test.linked',
  subjectType: 'linker-test',
  subjectId: `${label}-${i}`,
  details: { i, label },
});

/** What a writer that committed and died before linking leaves behind. */
async function commitWithoutLinking(db: Kysely<Database>, subjectId: string): Promise<void> {
  await db.transaction().execute((trx) =>
    appendAudit(trx as AuditedTransaction, {
      actor: 'crashed-writer',
      action: 'test.orphaned',
      subjectType: 'linker-test',
      subjectId,
      details: { note: 'committed, never linked' },
    }),
  );
}

const chained = (db: Kysely<Database>, subjectId: string) =>
  db
    .selectFrom('audit_events')
    .select(['id', 'actor'])
    .where('subject_type', '=', 'linker-test')
    .where('subject_id', '=', subjectId)
    .execute();

const pendingCount = async (db: Kysely<Database>) =>
  Number(
    (
      await db
        .selectFrom('audit_pending')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('the audit linker', () => {
  let stack: Stack;
  // A second pool on the same database, as a second API or worker process would have.
  let other: DbHandle;
  beforeAll(async () => {
    // No worker until the sweep test: its sweep would link what these tests leave for a write to link.
    stack = await startStack({ worker: false });
    other = createDb(stack.databaseUrl, pino({ level: 'silent' }));
  });
  afterAll(async () => {
    await other?.close();
    await stack?.close();
  });

  it('chains every event of 8 writers × 50 across two pools once, in one chain, ids in chain order', async () => {
    const before = await stack.db
      .selectFrom('audit_events')
      .select((eb) => eb.fn.max('id').as('max'))
      .executeTakeFirstOrThrow();
    const firstId = Number(before.max ?? 0) + 1;
    const writers = Array.from({ length: 8 }, (_, w) => w);
    const writtenIn: Record<string, number[]> = {};
    await Promise.all(
      writers.map(async (w) => {
        const db = w % 2 === 0 ? stack.db : other.db;
        const label = `w${w}`;
        writtenIn[label] = [];
        for (let i = 0; i < 50; i += 1) {
          await recordAudit(db, event(label, i));
          // Returned, so committed: a reader of the trail, in any process, finds it now.
          const [row] = await listAuditEvents(w % 2 === 0 ? other.db : stack.db, {
            subjectType: 'linker-test',
            subjectId: `${label}-${i}`,
            limit: 1,
          });
          expect(row, `${label}-${i} is on the trail once recordAudit returned`).toBeDefined();
          writtenIn[label]?.push(row?.id ?? 0);
        }
      }),
    );
    const rows = await stack.db.selectFrom('audit_events').select(['id', 'subject_id']).where('id', '>=', firstId).orderBy('id').execute();
    expect(rows).toHaveLength(400);
    expect(new Set(rows.map((row) => row.subject_id)).size).toBe(400);
    // No gaps: the 400 ids are consecutive.
    expect(rows.at(-1)?.id).toBe(firstId + 399);
    // Each writer's events are in the order it wrote them.
    for (const ids of Object.values(writtenIn)) expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(await pendingCount(stack.db)).toBe(0);
    const verified = await verifyAuditChain(stack.db);
    expect(verified).toMatchObject({ valid: true, pending: 0 });
    expect(verified.checked).toBeGreaterThanOrEqual(400);
  });

  it("links a crashed writer's pending event with the next write, in any process, before that write's own", async () => {
    await commitWithoutLinking(stack.db, 'orphan-next-write');
    expect(await chained(stack.db, 'orphan-next-write')).toEqual([]);
    await recordAudit(other.db, event('after-crash', 0));
    // Nobody reads: the write's own link, set going after its commit, chains both.
    await eventually(async () => (await pendingCount(stack.db)) === 0, 10_000, 'the write to link what was pending');
    const [orphan] = await chained(stack.db, 'orphan-next-write');
    const [next] = await chained(stack.db, 'after-crash-0');
    expect(orphan?.actor).toBe('crashed-writer');
    expect(orphan && next && orphan.id < next.id).toBe(true);
    expect(await pendingCount(stack.db)).toBe(0);
  });

  it('links what is pending before it verifies, and says what was left pending', async () => {
    // Created first: creating a token is an audited write, whose link would take the event itself.
    const auditor = await stack.token(['auditor']);
    await linkPendingAudit(stack.db);
    await commitWithoutLinking(other.db, 'orphan-verify');
    expect(await pendingCount(stack.db)).toBe(1);
    const verified = await stack.request('GET', '/audit/verify', { token: auditor });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ valid: true, pending: 0 });
    expect(await chained(stack.db, 'orphan-verify')).toHaveLength(1);
  });

  it('links what is pending before it signs a checkpoint, so the checkpoint covers it', async () => {
    await commitWithoutLinking(other.db, 'orphan-checkpoint');
    const result = await writeAuditCheckpoint(stack.db, signingKey);
    const [orphan] = await chained(stack.db, 'orphan-checkpoint');
    expect(result).toMatchObject({ written: true, eventId: orphan?.id });
  });

  it('commits a write while the chain cannot be extended, and links its event later', async () => {
    // PostgreSQL refusing every insert into audit_events: the write's transaction touches only audit_pending.
    await sql`create function refuse_link() returns trigger language plpgsql as $$
      begin raise exception 'the link is refused for this test'; end $$`.execute(stack.db);
    await sql`create trigger refuse_link before insert on audit_events execute function refuse_link()`.execute(stack.db);
    try {
      await expect(recordAudit(stack.db, event('link-fails', 0))).resolves.toBeUndefined();
      await expect(linkPendingAudit(stack.db)).rejects.toThrow(/the link is refused/);
      expect(await chained(stack.db, 'link-fails-0')).toEqual([]);
      expect(await pendingCount(stack.db)).toBe(1);
    } finally {
      await sql`drop trigger refuse_link on audit_events`.execute(stack.db);
      await sql`drop function refuse_link`.execute(stack.db);
    }
    await linkPendingAudit(other.db);
    expect(await chained(stack.db, 'link-fails-0')).toHaveLength(1);
    expect(await verifyAuditChain(stack.db, { keys })).toMatchObject({ valid: true, pending: 0 });
  });

  it("returns from a write while another process holds the chain's lock; the trail's reader links before it reads", async () => {
    // A link of another process stalled inside its transaction: nobody can extend the chain.
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let lockHeld = () => {};
    const holding = new Promise<void>((resolve) => {
      lockHeld = resolve;
    });
    const holder = other.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(1463898692)`.execute(trx);
      lockHeld();
      await released;
    });
    await holding;
    try {
      await recordAudit(stack.db, event('locked-out', 0));
      // Returned with the chain locked: committed, not linked.
      expect(await pendingCount(stack.db)).toBe(1);
      const read = listAuditEvents(stack.db, { subjectType: 'linker-test', subjectId: 'locked-out-0', limit: 1 });
      // The write's own link waits on the lock in PostgreSQL; the reader waits for the link after it.
      await eventually(
        async () =>
          Number(
            (await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where wait_event = 'advisory'`.execute(stack.db))
              .rows[0]?.n,
          ) > 0,
        10_000,
        'a link to wait on the chain lock',
      );
      release();
      // The event was only in audit_pending while the lock was held: finding it, the reader linked.
      expect(await read).toEqual([expect.objectContaining({ subject_id: 'locked-out-0', actor: 'writer-locked-out' })]);
    } finally {
      release();
      await holder;
    }
  });

  it('refuses to drop, change or empty a pending event the chain does not hold', async () => {
    await commitWithoutLinking(stack.db, 'orphan-tamper');
    await expect(sql`delete from audit_pending where subject_id = 'orphan-tamper'`.execute(stack.db)).rejects.toThrow(/delete refused/);
    await expect(sql`update audit_pending set actor = 'mallory'`.execute(stack.db)).rejects.toThrow(/UPDATE refused/);
    await expect(sql`truncate audit_pending`.execute(stack.db)).rejects.toThrow(/TRUNCATE refused/);
    await linkPendingAudit(stack.db);
    expect(await chained(stack.db, 'orphan-tamper')).toHaveLength(1);
  });

  it("links a crashed writer's pending event with no write to come: the worker's sweep", async () => {
    await stack.startWorker();
    await commitWithoutLinking(other.db, 'orphan-sweep');
    const [orphan] = await eventually(
      async () => {
        const rows = await chained(stack.db, 'orphan-sweep');
        return rows.length > 0 && rows;
      },
      20_000,
      "the worker's sweep to link the pending event",
    );
    expect(orphan?.actor).toBe('crashed-writer');
    expect(await verifyAuditChain(stack.db, { keys })).toMatchObject({ valid: true, pending: 0 });
  });
});
