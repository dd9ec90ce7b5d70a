import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { eventually, startStack, type Stack } from '../setup/stack';
import { decide, openTask, seedCi } from '../setup/fixtures';
import { linkPendingAudit } from '../../db/audit-linker';

let stack: Stack;
const tokens = {} as Record<'analyst' | 'manager', string>;

beforeAll(async () => {
  stack = await startStack();
  tokens.analyst = await stack.token(['security_analyst'], 'ana');
  tokens.manager = await stack.token(['security_manager'], 'max');
});
afterAll(() => stack?.close());

it('finishes an incident whose worker was stopped mid-playbook, recording nothing twice', { timeout: 180_000 }, async () => {
  // The playbook's steps go to the host's owner: only the owner of the CI may decide them.
  const { ciId } = await seedCi(stack.db, { owner: 'olga' });
  const owner = await stack.token(['service_owner', 'security_analyst'], 'olga');
  const reported = await stack.request('POST', '/incidents', {
    token: tokens.analyst,
    body: { title: 'Malware on a laptop', description: 'EDR', category: 'malware', affectedCis: [ciId], source: 'edr' },
  });
  const id = reported.body.id;
  await decide(stack, tokens.analyst, (await openTask(stack, tokens.analyst, id, 'incident.acknowledge')).id, 'acknowledged');
  const triage = await openTask(stack, tokens.analyst, id, 'incident.triage');
  await decide(stack, tokens.analyst, triage.id, 'triaged');

  // The worker goes away right after the triage decision, while the playbook moves on.
  await stack.stopWorker();
  expect((await stack.temporal.client.workflow.getHandle(`incident/${id}`).describe()).status.name).toBe('RUNNING');
  await stack.startWorker();

  await decide(stack, tokens.manager, (await openTask(stack, tokens.manager, id, 'incident.approval')).id, 'approved');
  // No responder in this stack: each containment action is carried out by hand and confirmed with evidence.
  for (const action of ['isolate-host', 'quarantine-file']) {
    const confirmation = await eventually(
      async () => {
        const open = (await stack.request('GET', `/tasks?status=open&subjectId=${id}`, { token: tokens.manager })).body.items;
        return open.find(
          (t: { kind: string; title: string }) => t.kind === 'incident.containment-confirmation' && t.title.includes(action),
        );
      },
      45_000,
      `the ${action} confirmation`,
    );
    expect((await decide(stack, tokens.manager, confirmation.id, 'confirmed', { data: { evidence: `${action} done` } })).status).toBe(200);
  }
  for (const title of ['Remove the malware', 'Restore the host']) {
    const step = await eventually(
      async () => {
        const open = (await stack.request('GET', `/tasks?status=open&subjectId=${id}`, { token: tokens.manager })).body.items;
        return open.find((t: { title: string }) => t.title.startsWith(title));
      },
      45_000,
      title,
    );
    expect((await decide(stack, owner, step.id, 'done')).status).toBe(200);
  }
  await decide(stack, tokens.analyst, (await openTask(stack, tokens.analyst, id, 'incident.post-incident-review')).id, 'completed');
  const result = await stack.temporal.client.workflow.getHandle(`incident/${id}`).result();
  expect(result.status).toBe('closed');

  await linkPendingAudit(stack.db);
  const auditCounts = await stack.db
    .selectFrom('audit_events')
    .select(['action', sql<number>`count(*)::int`.as('n')])
    .where('subject_type', '=', 'incident')
    .where('subject_id', '=', id)
    .groupBy('action')
    .execute();
  const counts = Object.fromEntries(auditCounts.map((row) => [row.action, row.n]));
  expect(counts).toMatchObject({
    'incident.registered': 1,
    'incident.acknowledged': 1,
    'incident.triaged': 1,
    'incident.contained': 1,
    'incident.closed': 1,
  });
  const tasks = await stack.db.selectFrom('human_tasks').select(['kind', 'title']).where('subject_id', '=', id).execute();
  expect(new Set(tasks.map((t) => t.title)).size).toBe(tasks.length);
  expect(counts['task.opened']).toBe(tasks.length);
  expect(counts['task.decided']).toBe(tasks.length);
  const actions = await stack.db.selectFrom('incident_actions').select('name').where('incident_id', '=', id).execute();
  expect(actions.map((a) => a.name).sort()).toEqual(['isolate-host', 'quarantine-file']);
});
