import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json } from '../../db/create-db';
import { decodeCursor, encodeCursor, keysetRows } from '../../db/pagination';
import { seedIncident } from '../setup/review-seeds';
import { startStack, type Stack } from '../setup/stack';

// The lists are read models: rows are written as the intake and the alert workflow write them.
let stack: Stack;
const tokens = {} as Record<'analyst' | 'auditor' | 'owner' | 'reporter', string>;

beforeAll(async () => {
  stack = await startStack({ worker: false });
  tokens.analyst = await stack.token(['security_analyst'], 'ana');
  tokens.auditor = await stack.token(['auditor'], 'audrey');
  tokens.owner = await stack.token(['service_owner'], 'olga');
  tokens.reporter = await stack.token(['reporter'], 'siem');
});
afterAll(() => stack?.close());

const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000);

async function receive(fields: {
  rule: string;
  severity: string;
  host: string;
  verdict: 'incident' | 'attached' | 'benign';
  incidentId: string | null;
  observedAt: Date;
}) {
  await stack.db
    .insertInto('security_alerts_received')
    .values({
      format: 'generic',
      source: 'wazuh-01',
      rule: fields.rule,
      severity: fields.severity,
      host: fields.host,
      account: null,
      fingerprint: `${fields.rule}:${fields.host}`,
      observed_at: fields.observedAt,
      verdict: fields.verdict,
      reason: 'seeded',
      incident_id: fields.incidentId,
      raw: json({ rule: fields.rule }),
      received_by: 'siem',
    })
    .execute();
}

async function raise(title: string, fields: { affectedServices: string[]; acknowledged: boolean[] }) {
  const id = randomUUID();
  await stack.db
    .insertInto('security_alerts')
    .values({
      id,
      workflow_id: `security-alert/${id}`,
      title,
      threat: 't',
      actions: ['patch'],
      affected_services: fields.affectedServices,
      affected_cis: [],
      audience: ['security_analyst'],
      links: json([]),
      raised_by: 'max',
    })
    .execute();
  await stack.db
    .insertInto('security_alert_recipients')
    .values(
      fields.acknowledged.map((acknowledged, i) => ({
        alert_id: id,
        recipient: `principal:p${i}`,
        reason: 'owner',
        acknowledged_by: acknowledged ? `p${i}` : null,
        acknowledged_at: acknowledged ? new Date() : null,
      })),
    )
    .execute();
  return id;
}

/** Five alerts of one source written in the same millisecond, 100 µs apart, as a SIEM storm writes them; newest first. */
async function sameMillisecond(source: string): Promise<string[]> {
  const ids = Array.from({ length: 5 }, () => randomUUID());
  for (const [i, id] of ids.entries()) {
    await stack.db
      .insertInto('security_alerts_received')
      .values({
        id,
        format: 'generic',
        source,
        rule: 'burst',
        severity: 'low',
        host: 'web-1',
        account: null,
        fingerprint: `burst:${i}`,
        observed_at: new Date(),
        verdict: 'benign',
        reason: 'seeded',
        incident_id: null,
        raw: json({ i }),
        received_by: 'siem',
        created_at: sql<Date>`'2026-12-04T10:00:00.000123Z'::timestamptz + ${`${i * 100} microseconds`}::interval`,
      })
      .execute();
  }
  return ids.reverse();
}

describe('the alert lists', () => {
  it('pages through alerts written in the same millisecond, each once, in both orders', async () => {
    const source = `burst-${randomUUID()}`;
    const newestFirst = await sameMillisecond(source);
    try {
      // The cursor holds milliseconds, PostgreSQL microseconds: a page must go on from the row itself.
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { status: number; body: { items: { id: string }[]; nextCursor: string | null } } = await stack.request(
          'GET',
          `/alerts?source=${source}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
          { token: tokens.analyst },
        );
        expect(page.status).toBe(200);
        seen.push(...page.body.items.map((alert) => alert.id));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen).toEqual(newestFirst);

      const oldestFirst: string[] = [];
      let after: ReturnType<typeof decodeCursor>;
      for (;;) {
        const query = stack.db.selectFrom('security_alerts_received').select(['id', 'created_at']).where('source', '=', source);
        const rows = await keysetRows(query, 'asc', 2, after).execute();
        const last = rows.at(-1);
        if (!last) break;
        oldestFirst.push(...rows.map((row) => row.id));
        after = decodeCursor(encodeCursor(last));
      }
      expect(oldestFirst).toEqual([...newestFirst].reverse());
    } finally {
      // The other lists here read every alert.
      await stack.db.deleteFrom('security_alerts_received').where('source', '=', source).execute();
    }
  });

  it('lists SIEM alerts newest first with their incident, filtered and paged', async () => {
    const incident = await seedIncident(stack.db, {
      severity: 'high',
      category: 'malware',
      affectedCis: [],
      reportedAt: minutesAgo(30).toISOString(),
      acknowledgeTarget: '1h',
      resolveTarget: '1d',
    });
    await receive({
      rule: 'brute force',
      severity: 'high',
      host: 'web-1',
      verdict: 'incident',
      incidentId: incident,
      observedAt: minutesAgo(30),
    });
    await receive({
      rule: 'brute force',
      severity: 'high',
      host: 'web-1',
      verdict: 'attached',
      incidentId: incident,
      observedAt: minutesAgo(20),
    });
    await receive({
      rule: 'expected backup login',
      severity: 'low',
      host: 'db-1',
      verdict: 'benign',
      incidentId: null,
      observedAt: minutesAgo(10),
    });

    const all = await stack.request('GET', '/alerts', { token: tokens.analyst });
    expect(all.status).toBe(200);
    expect(all.body.items.map((a: { verdict: string }) => a.verdict)).toEqual(['benign', 'attached', 'incident']);
    expect(all.body.items[1].incident).toMatchObject({ id: incident, status: 'containment', severity: 'high' });
    expect(all.body.items[0].incident).toBeNull();

    const ofIncident = await stack.request('GET', `/alerts?incidentId=${incident}&verdict=attached`, { token: tokens.auditor });
    expect(ofIncident.body.items).toHaveLength(1);
    expect((await stack.request('GET', '/alerts?host=db-1&severity=low', { token: tokens.analyst })).body.items).toHaveLength(1);
    const recent = await stack.request('GET', `/alerts?since=${encodeURIComponent(minutesAgo(25).toISOString())}`, {
      token: tokens.analyst,
    });
    expect(recent.body.items.map((a: { verdict: string }) => a.verdict)).toEqual(['benign', 'attached']);

    const first = await stack.request('GET', '/alerts?limit=2', { token: tokens.analyst });
    expect(first.body.items).toHaveLength(2);
    const second = await stack.request('GET', `/alerts?limit=2&cursor=${first.body.nextCursor}`, { token: tokens.analyst });
    expect(second.body).toMatchObject({ items: [{ verdict: 'incident' }], nextCursor: null });

    // Raw SIEM alerts name hosts and accounts: not for service owners or the SIEM's own token.
    expect((await stack.request('GET', '/alerts', { token: tokens.owner })).status).toBe(403);
    expect((await stack.request('GET', '/alerts', { token: tokens.reporter })).status).toBe(403);
    const bad = await stack.request('GET', '/alerts?verdict=maybe&cursor=nope', { token: tokens.analyst });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toContain('querystring.verdict');
  });

  it('lists security alerts newest first with their acknowledgements, filtered and paged', async () => {
    const service = randomUUID();
    const older = await raise('older', { affectedServices: [service], acknowledged: [true, true] });
    const newer = await raise('newer', { affectedServices: [], acknowledged: [true, false, false] });

    const all = await stack.request('GET', '/security-alerts', { token: tokens.owner });
    expect(all.status).toBe(200);
    expect(
      all.body.items.map((a: { id: string; recipients: number; acknowledged: number }) => [a.id, a.recipients, a.acknowledged]),
    ).toEqual([
      [newer, 3, 1],
      [older, 2, 2],
    ]);
    expect(
      (await stack.request('GET', '/security-alerts?pending=true', { token: tokens.owner })).body.items.map((a: { id: string }) => a.id),
    ).toEqual([newer]);
    expect(
      (await stack.request('GET', '/security-alerts?pending=false', { token: tokens.owner })).body.items.map((a: { id: string }) => a.id),
    ).toEqual([older]);
    expect(
      (await stack.request('GET', `/security-alerts?affectedService=${service}`, { token: tokens.owner })).body.items.map(
        (a: { id: string }) => a.id,
      ),
    ).toEqual([older]);
    const first = await stack.request('GET', '/security-alerts?limit=1&raisedBy=max', { token: tokens.owner });
    expect(first.body.items.map((a: { id: string }) => a.id)).toEqual([newer]);
    const second = await stack.request('GET', `/security-alerts?limit=1&raisedBy=max&cursor=${first.body.nextCursor}`, {
      token: tokens.owner,
    });
    expect(second.body).toMatchObject({ items: [{ id: older }], nextCursor: null });
    const bad = await stack.request('GET', '/security-alerts?affectedCi=not-a-uuid', { token: tokens.owner });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('querystring.affectedCi');
  });
});
