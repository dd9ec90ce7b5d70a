import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { startStack, type Stack } from '../setup/stack';

let stack: Stack;
let admin: string;

beforeAll(async () => {
  stack = await startStack();
  admin = await stack.token(['admin']);
});
afterAll(() => stack?.close());

describe('the chain API → Temporal → worker → PostgreSQL', () => {
  it('runs a diagnostic ping and reads it back', async () => {
    const created = await stack.request('POST', '/diagnostics/pings', { token: admin });
    expect(created.status).toBe(201);
    expect(created.body.workflowId).toBe(`diagnostic-ping/${created.body.id}`);
    expect(created.body.workerIdentity).toContain(stack.config.TEMPORAL_TASK_QUEUE);
    const read = await stack.request('GET', `/diagnostics/pings/${created.body.id}`, { token: admin });
    expect(read.body).toEqual(created.body);
  });

  it('reports ready when PostgreSQL and Temporal answer', async () => {
    const ready = await stack.request('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ok', postgres: 'ok', temporal: 'ok' });
  });
});

describe('tokens', () => {
  it('creates a token shown once, authenticates with it, and refuses it once revoked', async () => {
    const created = await stack.request('POST', '/tokens', { token: admin, body: { name: 'Alice Analyst', roles: ['security_analyst'] } });
    expect(created.status).toBe(201);
    expect(created.body.principalId).toBe('alice-analyst');
    const stored = await stack.db.selectFrom('api_tokens').select('token_hash').where('id', '=', created.body.id).executeTakeFirstOrThrow();
    expect(stored.token_hash).not.toContain(created.body.token);

    expect((await stack.request('GET', '/audit', { token: created.body.token })).status).toBe(403);
    expect((await stack.request('DELETE', `/tokens/${created.body.id}`, { token: admin })).status).toBe(204);
    const afterRevoke = await stack.request('GET', '/tokens', { token: created.body.token });
    expect(afterRevoke.status).toBe(401);
    expect(afterRevoke.headers.get('content-type')).toContain('application/problem+json');
  });
});

describe('the audit trail', () => {
  it('refuses UPDATE and DELETE', async () => {
    await expect(sql`update audit_events set actor = 'mallory'`.execute(stack.db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from audit_events`.execute(stack.db)).rejects.toThrow(/append-only/);
  });

  it('stays one valid chain under concurrent writers', async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        stack.request('POST', '/tokens', { token: admin, body: { name: `concurrent ${i}`, roles: ['reporter'] } }),
      ),
    );
    const verify = await stack.request('GET', '/audit/verify', { token: admin });
    expect(verify.body.valid).toBe(true);
    expect(verify.body.checked).toBeGreaterThanOrEqual(20);
  });

  it('names the first tampered row', async () => {
    const auditor = await stack.token(['auditor']);
    const events = await stack.request('GET', '/audit?subjectType=token&limit=5', { token: auditor });
    expect(events.status).toBe(200);
    const victim = events.body.items[2];
    // The database owner can bypass the trigger; verify must still notice.
    await sql`alter table audit_events disable trigger audit_events_no_update_delete`.execute(stack.db);
    await sql`update audit_events set actor = 'mallory' where id = ${victim.id}`.execute(stack.db);
    await sql`alter table audit_events enable trigger audit_events_no_update_delete`.execute(stack.db);
    const verify = await stack.request('GET', '/audit/verify', { token: auditor });
    expect(verify.body).toMatchObject({ valid: false, firstBrokenId: victim.id });
  });
});
