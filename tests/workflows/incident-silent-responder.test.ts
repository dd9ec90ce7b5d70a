import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodedHistoryJson } from '../setup/histories';
import { eventually, startStack, type Stack } from '../setup/stack';
import { decide, openTask, seedCi, startReceiver } from '../setup/fixtures';

// A responder that takes every action on (202) and never reports back, with the containment timing
// configured in seconds: the wait for its callback, the confirmation's deadline and the bounded
// escalations of the failed action.

let stack: Stack;
let responder: Awaited<ReturnType<typeof startReceiver>>;
const tokens = {} as Record<'analyst' | 'manager' | 'auditor', string>;

beforeAll(async () => {
  responder = await startReceiver(202);
  stack = await startStack({
    env: {
      WARDEN_RESPONDER_URL: `${responder.url}/contain`,
      WARDEN_RESPONDER_SECRET: 'responder-secret-for-callbacks',
      WARDEN_RESPONDER_CALLBACK_WAIT: '2s',
      WARDEN_CONTAINMENT_CONFIRM_DEADLINE: '2s',
      WARDEN_FAILED_ACTION_ESCALATION_INTERVAL: '1s',
      WARDEN_FAILED_ACTION_ESCALATIONS: '2',
    },
  });
  tokens.analyst = await stack.token(['security_analyst'], 'ana');
  tokens.manager = await stack.token(['security_manager'], 'max');
  tokens.auditor = await stack.token(['auditor'], 'audrey');
});
afterAll(async () => {
  await stack?.close();
  await responder?.close();
});

const incident = async (id: string) => (await stack.request('GET', `/incidents/${id}`, { token: tokens.auditor })).body;
const taskRow = (id: string) => stack.db.selectFrom('human_tasks').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

describe('a silent responder', () => {
  it('fails the action after the configured wait, and its confirmation escalates to the Security Manager, boundedly', async () => {
    const { ciId } = await seedCi(stack.db, { level: 'high' });
    const reported = await stack.request('POST', '/incidents', {
      token: tokens.analyst,
      body: { title: 'Beaconing laptop', description: 'EDR', category: 'malware', affectedCis: [ciId], source: 'edr' },
    });
    const id: string = reported.body.id;
    await decide(stack, tokens.analyst, (await openTask(stack, tokens.analyst, id, 'incident.acknowledge')).id, 'acknowledged');
    await decide(stack, tokens.analyst, (await openTask(stack, tokens.analyst, id, 'incident.triage')).id, 'triaged');
    await decide(stack, tokens.manager, (await openTask(stack, tokens.manager, id, 'incident.approval')).id, 'approved');

    // The responder accepted the isolation and said nothing more: after 2 s it counts as failed.
    // The approval step's roles (the Security Manager) carry it out by hand and confirm it.
    const confirmation = await openTask(stack, tokens.manager, id, 'incident.containment-confirmation');
    expect(confirmation.title).toMatch(/"isolate-host" \(the responder failed\)/);
    const failed = (await incident(id)).actions.find((a: { name: string }) => a.name === 'isolate-host');
    expect(failed).toMatchObject({ status: 'failed', detail: 'the responder accepted the action but reported no result within 2s' });
    expect(responder.received).toHaveLength(1);

    // Unconfirmed past its 2 s deadline, it escalates to the Security Manager, then again every
    // second, twice in all.
    const escalated = await eventually(
      async () => {
        const row = await taskRow(confirmation.id);
        return row.escalation_level === 2 && row;
      },
      20_000,
      'two escalations of the unconfirmed action',
    );
    // The task row escalates before its notification is written: wait for the second one.
    const told = await eventually(
      async () => {
        const rows = await stack.db
          .selectFrom('notifications')
          .select(['dedup_key', 'recipient_roles'])
          .where('task_id', '=', confirmation.id)
          .where('dedup_key', 'like', `task:${confirmation.id}:escalated-%`)
          .orderBy('dedup_key')
          .execute();
        return rows.length >= 2 && rows;
      },
      10_000,
      'both escalation notifications',
    );
    expect(told.map((n) => n.dedup_key)).toEqual([`task:${confirmation.id}:escalated-1`, `task:${confirmation.id}:escalated-2`]);
    for (const notification of told) expect(notification.recipient_roles).toContain('security_manager');
    // Bounded: the last escalation's deadline passes and nothing escalates again; the task still waits.
    const lastDeadline = escalated.deadline_at?.getTime() ?? 0;
    await eventually(async () => Date.now() > lastDeadline + 2_000, 10_000, 'the last deadline to pass');
    expect((await taskRow(confirmation.id)).escalation_level).toBe(2);
    expect((await taskRow(confirmation.id)).status).toBe('open');

    // Still open to a confirmation with evidence.
    const evidence = { evidence: 'Laptop unplugged from the network by the site technician', links: [] };
    expect((await decide(stack, tokens.manager, confirmation.id, 'confirmed', { data: evidence })).status).toBe(200);
    await eventually(
      async () => (await incident(id)).actions.find((a: { name: string }) => a.name === 'isolate-host')?.status === 'confirmed',
      15_000,
      'the confirmation recorded',
    );

    // Recorded while the incident still runs (the next action waits for its responder): it covers the configured timing.
    if (process.env.WARDEN_RECORD_HISTORIES === '1') {
      const history = await decodedHistoryJson(stack.temporal.client, `incident/${id}`, stack.app.codec);
      writeFileSync(new URL('../replay/histories/incident-silent-responder.json', import.meta.url), history);
    }
  });
});
