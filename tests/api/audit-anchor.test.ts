import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { ScheduleNotFoundError } from '@temporalio/client';
import { sql, type Kysely } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { auditHash, genesisHash, recordAudit } from '../../db/audit';
import { generateAuditSigningKey, parseAuditSigningKey, writeAuditCheckpoint } from '../../db/audit-checkpoints';
import { linkPendingAudit } from '../../db/audit-linker';
import type { Database } from '../../db/database';
import { auditCheckpointScheduleId, checkpointMessage } from '../../domain/audit-checkpoint';
import { createWardenWorker, type WardenWorker } from '../../worker';
import { eventually, startStack, type Stack } from '../setup/stack';

// Finding 8 of issue 14: a deep value broke /audit/verify (500), and a database owner who rewrote a
// row and recomputed the hashes passed verify. Checkpoints signed with a key the database does not
// hold anchor the chain.

const seed = generateAuditSigningKey();
const key = parseAuditSigningKey(seed);

const audit = (db: Kysely<Database>, n: number, label: string) =>
  (async () => {
    for (let i = 0; i < n; i += 1) {
      await recordAudit(db, { actor: 'tester', action: 'test.event', subjectType: 'test', subjectId: `${label}-${i}`, details: { i } });
    }
    // On the chain, as a reader of the trail finds them: these tests read and rewrite audit_events directly.
    await linkPendingAudit(db);
  })();

const lastEventId = async (db: Kysely<Database>) =>
  (await db.selectFrom('audit_events').select('id').orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow()).id;

/**
 * What a database owner can do: switch the append-only trigger off, rewrite an event, and recompute
 * the hash and link of it and of every event after it, so the chain is consistent again.
 */
async function rewriteAsOwner(db: Kysely<Database>, eventId: number, details: Record<string, unknown>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`alter table audit_events disable trigger audit_events_no_update_delete`.execute(trx);
    const before = await trx
      .selectFrom('audit_events')
      .select('hash')
      .where('id', '<', eventId)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    let prevHash = before?.hash ?? genesisHash;
    const rows = await trx.selectFrom('audit_events').selectAll().where('id', '>=', eventId).orderBy('id').execute();
    for (const row of rows) {
      const rewritten = row.id === eventId ? details : row.details;
      const hash = auditHash({
        occurredAt: row.occurred_at,
        actor: row.actor,
        action: row.action,
        subjectType: row.subject_type,
        subjectId: row.subject_id,
        details: rewritten,
        prevHash,
      });
      await trx
        .updateTable('audit_events')
        .set({ details: JSON.stringify(rewritten), prev_hash: prevHash, hash })
        .where('id', '=', row.id)
        .execute();
      prevHash = hash;
    }
    await sql`alter table audit_events enable trigger audit_events_no_update_delete`.execute(trx);
  });
}

async function asOwner(
  db: Kysely<Database>,
  table: 'audit_events' | 'audit_checkpoints',
  change: (trx: Kysely<Database>) => Promise<unknown>,
) {
  await db.transaction().execute(async (trx) => {
    await sql`alter table ${sql.table(table)} disable trigger ${sql.raw(`${table}_no_update_delete`)}`.execute(trx);
    await change(trx);
    await sql`alter table ${sql.table(table)} enable trigger ${sql.raw(`${table}_no_update_delete`)}`.execute(trx);
  });
}

describe('an API that holds only the verify key', () => {
  let stack: Stack;
  let auditor: string;
  beforeAll(async () => {
    // The API gets the public key only; the test signs as a worker would.
    stack = await startStack({ worker: false, env: { WARDEN_AUDIT_VERIFY_KEY: key.publicKey } });
    auditor = await stack.token(['auditor']);
  });
  afterAll(() => stack?.close());

  it('verifies a chain holding a value nested 3,000 deep (it answered 500)', async () => {
    let deep: unknown = 'bottom';
    for (let depth = 0; depth < 3000; depth += 1) deep = { nested: deep };
    await recordAudit(stack.db, {
      actor: 'tester',
      action: 'ci.updated',
      subjectType: 'ci',
      subjectId: 'deep',
      details: { attributes: deep },
    });
    const verified = await stack.request('GET', '/audit/verify', { token: auditor });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ valid: true, checkpoints: 0, lastCheckpoint: null });
    expect(verified.body.checked).toBeGreaterThan(0);
  });

  it('names the checkpoint covering a row the database owner rewrote with every hash recomputed', async () => {
    await audit(stack.db, 4, 'first');
    const first = await writeAuditCheckpoint(stack.db, key);
    await audit(stack.db, 5, 'second');
    const second = await writeAuditCheckpoint(stack.db, key);
    await audit(stack.db, 3, 'after');
    expect(first.written && second.written).toBe(true);
    if (!first.written || !second.written) return;

    const clean = await stack.request('GET', '/audit/verify', { token: auditor });
    expect(clean.body).toMatchObject({
      valid: true,
      checkpoints: 2,
      unanchored: 3,
      lastCheckpoint: { id: second.checkpointId, eventId: second.eventId, signedAt: expect.any(String) },
    });

    // Past the last checkpoint nothing signed vouches for a row: this rewrite goes unnoticed (documented).
    const unanchored = await lastEventId(stack.db);
    await rewriteAsOwner(stack.db, unanchored, { i: 'rewritten after the last checkpoint' });
    expect((await stack.request('GET', '/audit/verify', { token: auditor })).body).toMatchObject({ valid: true, unanchored: 3 });

    // The third event after the first checkpoint, rewritten and every later hash recomputed.
    const target = first.eventId + 3;
    await rewriteAsOwner(stack.db, target, { i: 'rewritten', approvedBy: 'nobody' });
    const verified = await stack.request('GET', '/audit/verify', { token: auditor });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({
      valid: false,
      firstBrokenCheckpointId: second.checkpointId,
      rewrittenRange: { fromId: first.eventId + 1, toId: second.eventId },
      checkpoints: 1,
    });
    expect(verified.body.rewrittenRange.fromId).toBeLessThanOrEqual(target);
    expect(verified.body.rewrittenRange.toId).toBeGreaterThanOrEqual(target);
    expect(verified.body.reason).toContain(`checkpoint ${second.checkpointId}`);
  });
});

describe('forged and orphaned checkpoints', () => {
  let stack: Stack;
  let admin: string;
  beforeAll(async () => {
    stack = await startStack({ worker: false, env: { WARDEN_AUDIT_SIGNING_KEY: seed } });
    admin = await stack.token(['admin']);
  });
  afterAll(() => stack?.close());

  it('names a checkpoint whose signature is forged, and one signed by a key it does not know', async () => {
    await audit(stack.db, 3, 'a');
    const genuine = await writeAuditCheckpoint(stack.db, key);
    expect(genuine.written).toBe(true);
    await audit(stack.db, 2, 'b');

    // The owner signs the new head with a key of their own but claims Warden's key id.
    const attacker = generateKeyPairSync('ed25519');
    const head = await stack.db.selectFrom('audit_events').select(['id', 'hash']).orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
    const statement = { eventId: head.id, eventHash: head.hash, prevEventId: genuine.written ? genuine.eventId : 0, signedAt: new Date() };
    const forge = (keyId: string) => ({
      event_id: statement.eventId,
      event_hash: statement.eventHash,
      prev_event_id: statement.prevEventId,
      signed_at: statement.signedAt,
      key_id: keyId,
      signature: sign(null, Buffer.from(checkpointMessage({ ...statement, keyId })), attacker.privateKey).toString('base64'),
    });
    const forged = await stack.db.insertInto('audit_checkpoints').values(forge(key.keyId)).returning('id').executeTakeFirstOrThrow();
    const verified = await stack.request('GET', '/audit/verify', { token: admin });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ valid: false, firstBrokenCheckpointId: forged.id, checkpoints: 1 });
    expect(verified.body.reason).toContain('does not verify');

    await asOwner(stack.db, 'audit_checkpoints', (trx) => trx.deleteFrom('audit_checkpoints').where('id', '=', forged.id).execute());
    const own = await stack.db.insertInto('audit_checkpoints').values(forge('attacker-key')).returning('id').executeTakeFirstOrThrow();
    const unknown = await stack.request('GET', '/audit/verify', { token: admin });
    expect(unknown.body).toMatchObject({ valid: false, firstBrokenCheckpointId: own.id });
    expect(unknown.body.reason).toContain('not among the verify keys');
    await asOwner(stack.db, 'audit_checkpoints', (trx) => trx.deleteFrom('audit_checkpoints').where('id', '=', own.id).execute());
    expect((await stack.request('GET', '/audit/verify', { token: admin })).body).toMatchObject({
      valid: true,
      checkpoints: 1,
      unanchored: 2,
    });
  });

  it('names the checkpoint whose event was deleted with the tail after it', async () => {
    const signed = await writeAuditCheckpoint(stack.db, key);
    expect(signed.written).toBe(true);
    if (!signed.written) return;
    await asOwner(stack.db, 'audit_events', (trx) =>
      trx
        .deleteFrom('audit_events')
        .where('id', '>=', signed.eventId - 1)
        .execute(),
    );
    const verified = await stack.request('GET', '/audit/verify', { token: admin });
    expect(verified.body).toMatchObject({ valid: false, firstBrokenCheckpointId: signed.checkpointId });
    expect(verified.body.reason).toContain('no longer exists');
  });
});

describe('the Schedule audit-checkpoint with two workers', () => {
  const interval = 2000;
  let stack: Stack;
  let second: WardenWorker | undefined;
  beforeAll(async () => {
    // The first worker (started by the stack) and the second both ensure the Schedule at start.
    stack = await startStack({ env: { WARDEN_AUDIT_SIGNING_KEY: seed, WARDEN_AUDIT_CHECKPOINT_INTERVAL: `${interval / 1000}s` } });
    second = await createWardenWorker({
      config: stack.config,
      db: stack.db,
      logger: pino({ level: 'silent' }),
      workflowBundlePath: inject('workflowBundlePath'),
    });
    void second.run();
  });
  afterAll(async () => {
    await stack?.temporal.client.schedule
      .getHandle(auditCheckpointScheduleId)
      .delete()
      .catch((error: unknown) => {
        if (!(error instanceof ScheduleNotFoundError)) throw error;
      });
    await second?.shutdown();
    await stack?.close();
  });

  it('signs the head once an interval, however many workers run, and the export verifies elsewhere', async () => {
    const described = await stack.temporal.client.schedule.getHandle(auditCheckpointScheduleId).describe();
    expect(described.action).toMatchObject({ workflowType: 'auditCheckpoint', taskQueue: stack.config.TEMPORAL_TASK_QUEUE });
    expect(described.spec.intervals?.[0]?.every).toBe(interval);

    // Events keep arriving, so every run has a new head to sign.
    const started = Date.now();
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i += 1) {
        await audit(stack.db, 1, `live-${i}`);
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    })();
    await eventually(
      async () => (await stack.db.selectFrom('audit_checkpoints').select('id').execute()).length >= 4,
      60_000,
      'four checkpoints',
    );
    writing = false;
    await writer;
    const elapsed = Date.now() - started;
    const checkpoints = await stack.db.selectFrom('audit_checkpoints').selectAll().orderBy('id').execute();
    // One a slot: two workers each signing on a timer of their own would write about twice as many.
    expect(checkpoints.length).toBeLessThanOrEqual(Math.ceil(elapsed / interval) + 1);
    expect(new Set(checkpoints.map((row) => row.event_id)).size).toBe(checkpoints.length);
    expect(checkpoints.map((row) => row.prev_event_id)).toEqual([0, ...checkpoints.slice(0, -1).map((row) => row.event_id)]);

    const auditor = await stack.token(['auditor']);
    const verified = await stack.request('GET', '/audit/verify', { token: auditor });
    expect(verified.body).toMatchObject({ valid: true });
    expect(verified.body.checkpoints).toBeGreaterThanOrEqual(checkpoints.length);

    // The export, paged, checks with nothing but Node's crypto and the public key it carries.
    const exported: Array<{ id: number; message: string; signature: string; keyId: string }> = [];
    let cursor: number | null = null;
    let publicKeys: Array<{ keyId: string; publicKey: string }> = [];
    do {
      const page: { status: number; body: any } = await stack.request(
        'GET',
        `/audit/checkpoints?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`,
        {
          token: auditor,
        },
      );
      expect(page.status).toBe(200);
      publicKeys = page.body.publicKeys;
      exported.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    expect(exported.map((row) => row.id).slice(0, checkpoints.length)).toEqual(checkpoints.map((row) => row.id));
    expect(publicKeys).toEqual([{ keyId: key.keyId, algorithm: 'Ed25519', publicKey: key.publicKey }]);
    const publicKey = createPublicKey({
      key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(key.publicKey, 'base64')]),
      format: 'der',
      type: 'spki',
    });
    for (const row of exported) expect(verify(null, Buffer.from(row.message), publicKey, Buffer.from(row.signature, 'base64'))).toBe(true);

    const serviceOwner = await stack.token(['service_owner']);
    expect((await stack.request('GET', '/audit/checkpoints', { token: serviceOwner })).status).toBe(403);
  });
});
