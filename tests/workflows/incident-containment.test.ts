import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { decodedHistoryJson } from '../setup/histories';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callbackSigningString } from '../../domain/incident';
import { eventually, startStack, type Stack } from '../setup/stack';
import { decide, openTask, seedCi, startReceiver } from '../setup/fixtures';

// A responder that takes every action on (202) and reports its end through the signed callback.

let stack: Stack;
let responder: Awaited<ReturnType<typeof startReceiver>>;
const secret = 'responder-secret-for-callbacks';
const tokens = {} as Record<'analyst' | 'manager' | 'soar' | 'auditor', string>;

beforeAll(async () => {
  responder = await startReceiver(202);
  stack = await startStack({ env: { WARDEN_RESPONDER_URL: `${responder.url}/contain`, WARDEN_RESPONDER_SECRET: secret } });
  tokens.analyst = await stack.token(['security_analyst'], 'ana');
  tokens.manager = await stack.token(['security_manager'], 'max');
  tokens.soar = await stack.token(['security_analyst'], 'soar');
  tokens.auditor = await stack.token(['auditor'], 'audrey');
});
afterAll(async () => {
  await stack?.close();
  await responder?.close();
});

function callback(
  incidentId: string,
  stepId: string,
  result: { status: string; detail: string },
  options: { at?: number; key?: string } = {},
) {
  const timestamp = String(Math.floor((options.at ?? Date.now()) / 1000));
  const signature = createHmac('sha256', options.key ?? secret)
    .update(callbackSigningString(timestamp, `${incidentId}:${stepId}`, result))
    .digest('hex');
  return stack.request('POST', `/incidents/${incidentId}/actions/${stepId}/result`, {
    token: tokens.soar,
    headers: { 'x-warden-timestamp': timestamp, 'x-warden-signature': `sha256=${signature}` },
    body: result,
  });
}

const incident = async (id: string) => (await stack.request('GET', `/incidents/${id}`, { token: tokens.auditor })).body;
const actionOf = (view: { actions: { name: string; status: string }[] }, name: string) => view.actions.find((a) => a.name === name);

describe('confirmed containment', () => {
  it('settles accepted actions by signed callback, escalates a failed one and stamps containedAt on its confirmation', async () => {
    const { ciId } = await seedCi(stack.db, { level: 'high' });
    const reported = await stack.request('POST', '/incidents', {
      token: tokens.analyst,
      body: { title: 'Ransomware note on a file server', description: 'EDR', category: 'malware', affectedCis: [ciId], source: 'edr' },
    });
    const id: string = reported.body.id;
    await decide(stack, tokens.analyst, (await openTask(stack, tokens.analyst, id, 'incident.acknowledge')).id, 'acknowledged');
    await decide(stack, tokens.analyst, (await openTask(stack, tokens.analyst, id, 'incident.triage')).id, 'triaged');
    await decide(stack, tokens.manager, (await openTask(stack, tokens.manager, id, 'incident.approval')).id, 'approved');

    const pending = await eventually(
      async () => {
        const view = await incident(id);
        return actionOf(view, 'isolate-host')?.status === 'pending' && view;
      },
      20_000,
      'the isolation to be accepted',
    );
    expect(pending.timestamps.containedAt).toBeNull();

    const executed = { status: 'executed', detail: 'host isolated by EDR at 02:14' };
    expect((await callback(id, 'approve-isolation', executed, { key: 'not-the-secret-at-all' })).status).toBe(403);
    const stale = await callback(id, 'approve-isolation', executed, { at: Date.now() - 600_000 });
    expect(stale.status).toBe(400);
    expect(stale.body.errors[0].path).toBe('headers.x-warden-timestamp');
    const tampered = await stack.request('POST', `/incidents/${id}/actions/approve-isolation/result`, {
      token: tokens.soar,
      headers: { 'x-warden-timestamp': String(Math.floor(Date.now() / 1000)), 'x-warden-signature': `sha256=${'0'.repeat(64)}` },
      body: executed,
    });
    expect(tampered.status).toBe(403);
    const badStatus = await callback(id, 'approve-isolation', { status: 'maybe', detail: '' });
    expect(badStatus.status).toBe(400);
    expect(badStatus.body.errors[0].path).toBe('body.status');
    expect((await callback(id, 'approve-isolation', executed)).status).toBe(202);
    await eventually(async () => actionOf(await incident(id), 'isolate-host')?.status === 'executed', 15_000, 'the isolation to settle');
    // Replaying the same signed callback changes nothing.
    expect((await callback(id, 'approve-isolation', executed)).status).toBe(409);

    // The quarantine is accepted too, then fails: visible, escalated, and carried out by hand.
    await eventually(async () => actionOf(await incident(id), 'quarantine-file')?.status === 'pending', 20_000, 'the quarantine');
    expect((await callback(id, 'quarantine', { status: 'failed', detail: 'EDR agent offline' })).status).toBe(202);
    const confirmation = await openTask(stack, tokens.analyst, id, 'incident.containment-confirmation');
    expect(confirmation.title).toMatch(/"quarantine-file" \(the responder failed\)/);
    const failed = await incident(id);
    expect(actionOf(failed, 'quarantine-file')).toMatchObject({ status: 'failed', detail: 'EDR agent offline' });
    expect(failed.timestamps.containedAt).toBeNull();
    const escalation = await stack.db
      .selectFrom('notifications')
      .selectAll()
      .where('dedup_key', '=', `action:${id}:quarantine:failed`)
      .executeTakeFirstOrThrow();
    expect(escalation.recipient_roles).toEqual(['security_manager']);

    const confirmedAt = Date.now();
    const evidence = { evidence: 'File removed by hand, hash checked on all shares', links: ['https://edr.example/case/7'] };
    expect((await decide(stack, tokens.analyst, confirmation.id, 'confirmed', { data: evidence })).status).toBe(200);
    const contained = await eventually(
      async () => {
        const view = await incident(id);
        return view.timestamps.containedAt !== null && view;
      },
      15_000,
      'containment',
    );
    expect(Date.parse(contained.timestamps.containedAt)).toBeGreaterThanOrEqual(confirmedAt);
    expect(actionOf(contained, 'quarantine-file')).toMatchObject({ status: 'confirmed', confirmedBy: 'ana', evidence });
    expect(responder.received.map((r) => JSON.parse(r.body).action)).toEqual(['isolate-host', 'quarantine-file']);

    // Recorded while the incident still runs (eradication waits for people): it covers the callbacks.
    if (process.env.WARDEN_RECORD_HISTORIES === '1') {
      const history = await decodedHistoryJson(stack.temporal.client, `incident/${id}`, stack.app.codec);
      writeFileSync(new URL('../replay/histories/incident-responder-callbacks.json', import.meta.url), history);
    }
  });
});
