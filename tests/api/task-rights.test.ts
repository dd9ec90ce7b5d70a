import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json } from '../../db/create-db';
import { changeReviewTaskKind } from '../../domain/change';
import { manualTestTaskKind } from '../../domain/security-test';
import { decide, openTask, seedCi } from '../setup/fixtures';
import { eventually, startStack, type Stack } from '../setup/stack';
import { signedIn } from '../setup/web';
import { linkPendingAudit } from '../../db/audit-linker';

// Issue #14, finding 4: a service owner saw and decided another owner's incident tasks. Tasks on
// records are now the owner's (their services' and CIs'), or assigned to them; list, GET and
// decision agree, for every kind of task.

let stack: Stack;
const tokens = {} as Record<'owner' | 'other' | 'analyst' | 'manager' | 'reporter', string>;
let ciId: string;
let serviceId: string;

beforeAll(async () => {
  stack = await startStack();
  tokens.owner = await stack.token(['service_owner'], 'sam');
  tokens.other = await stack.token(['service_owner'], 'olga');
  tokens.analyst = await stack.token(['security_analyst'], 'ana');
  tokens.manager = await stack.token(['security_manager'], 'max');
  tokens.reporter = await stack.token(['reporter'], 'rita');
  ({ ciId, serviceId } = await seedCi(stack.db, { owner: 'sam' }));
});
afterAll(async () => {
  await stack?.close();
});

const listed = async (token: string, taskId: string) =>
  (
    (await stack.request('GET', `/tasks?limit=200&subjectId=${(await taskRow(taskId)).subject_id}`, { token })).body.items as {
      id: string;
    }[]
  )
    .map((task) => task.id)
    .includes(taskId);
const mine = async (token: string, taskId: string) =>
  ((await stack.request('GET', '/tasks?mine=true&limit=200', { token })).body.items as { id: string }[]).some((task) => task.id === taskId);
const taskRow = (taskId: string) => stack.db.selectFrom('human_tasks').selectAll().where('id', '=', taskId).executeTakeFirstOrThrow();

describe('a playbook step on an incident', () => {
  it('is seen and decided by the owner of an affected CI, never by another service owner', async () => {
    const published = await stack.request('PUT', '/playbooks/malware', {
      token: tokens.manager,
      body: {
        title: 'Malware (owners take part)',
        steps: [
          { id: 'rebuild', type: 'task', phase: 'eradication', title: 'Rebuild the host', roles: ['service_owner'] },
          {
            id: 'restore',
            type: 'task',
            phase: 'recovery',
            title: 'Restore the service',
            roles: ['security_analyst'],
            ownersTakePart: true,
          },
        ],
      },
    });
    expect(published.status).toBe(201);
    const reported = await stack.request('POST', '/incidents', {
      token: tokens.reporter,
      body: {
        title: 'Malware on the payroll host',
        description: 'EDR alert',
        category: 'malware',
        affectedCis: [ciId],
        source: 'edr',
        occurredAt: '2026-11-20T01:00:00Z',
        detectedAt: '2026-11-20T02:00:00Z',
      },
    });
    expect(reported.status).toBe(202);
    const id: string = reported.body.id;
    expect(
      (await decide(stack, tokens.analyst, (await openTask(stack, tokens.analyst, id, 'incident.acknowledge')).id, 'acknowledged')).status,
    ).toBe(200);
    expect((await decide(stack, tokens.analyst, (await openTask(stack, tokens.analyst, id, 'incident.triage')).id, 'triaged')).status).toBe(
      200,
    );

    // By role: the service_owner role alone does not reach another owner's incident.
    const rebuild = await openTask(stack, tokens.owner, id, 'incident.step');
    expect(await listed(tokens.owner, rebuild.id)).toBe(true);
    expect(await mine(tokens.owner, rebuild.id)).toBe(true);
    expect(await listed(tokens.other, rebuild.id)).toBe(false);
    expect(await mine(tokens.other, rebuild.id)).toBe(false);
    expect((await stack.request('GET', `/tasks/${rebuild.id}`, { token: tokens.other })).status).toBe(404);
    const refused = await decide(stack, tokens.other, rebuild.id, 'done');
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.body.detail).toMatch(/not yours/);
    expect((await taskRow(rebuild.id)).status).toBe('open');

    // The inbox agrees: My tasks offers the step to its owner only, and its form refuses another owner.
    const ownerInbox = await signedIn(stack, tokens.owner);
    expect((await ownerInbox.get('/ui/tasks')).body).toContain(`action="/ui/tasks/${rebuild.id}/decision"`);
    const otherInbox = await signedIn(stack, tokens.other);
    expect((await otherInbox.get('/ui/tasks')).body).not.toContain(rebuild.id);
    const formRefused = await otherInbox.post(`/ui/tasks/${rebuild.id}/decision`, { outcome: 'done', returnTo: '/ui/tasks' });
    expect(formRefused.status).toBe(403);
    expect(formRefused.body).not.toContain(`action="/ui/tasks/${rebuild.id}/decision"`);
    expect((await taskRow(rebuild.id)).status).toBe('open');
    await linkPendingAudit(stack.db);
    const audited = await stack.db
      .selectFrom('audit_events')
      .select('details')
      .where('action', '=', 'task.decision_refused')
      .where('actor', '=', 'olga')
      .execute();
    expect(audited.map((event) => (event.details as { refusal: string }).refusal)).toContain('NotYourRecord');
    expect((await decide(stack, tokens.owner, rebuild.id, 'done')).status).toBe(200);

    // By ownership: the CI's owner is an assignee of a step that names other roles.
    const restore = await eventually(
      async () => {
        const tasks = (await stack.request('GET', `/tasks?status=open&subjectId=${id}`, { token: tokens.owner })).body.items as {
          id: string;
          kind: string;
          assignees: string[];
        }[];
        return tasks.find((task) => task.kind === 'incident.step');
      },
      45_000,
      'the restore step',
    );
    expect(restore.assignees).toEqual(['sam']);
    expect(await mine(tokens.owner, restore.id)).toBe(true);
    expect((await stack.request('GET', `/tasks/${restore.id}`, { token: tokens.other })).status).toBe(404);
    expect((await decide(stack, tokens.other, restore.id, 'done')).status).toBe(403);
    expect((await decide(stack, tokens.owner, restore.id, 'done')).status).toBe(200);
    await openTask(stack, tokens.analyst, id, 'incident.post-incident-review');
  }, 120_000);

  it('refuses a playbook whose ownersTakePart is not a boolean', async () => {
    const response = await stack.request('PUT', '/playbooks/other', {
      token: tokens.manager,
      body: {
        title: 'Bad',
        steps: [{ id: 'a', type: 'task', phase: 'recovery', title: 'A', roles: ['service_owner'], ownersTakePart: 'yes' }],
      },
    });
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body.errors)).toContain('ownersTakePart');
  });
});

/** One record of each kind tasks are about, owned by sam through his CI or service where records have owners. */
async function seedSubjects(): Promise<Record<string, { id: string; owned: boolean }>> {
  const q = (query: ReturnType<typeof sql>) => query.execute(stack.db);
  const incident = randomUUID();
  await q(sql`insert into incidents (id, workflow_id, title, description, category, severity, security_incident, classification_reason,
    status, affected_cis, source, drill, reported_by, playbook_category, playbook_version, acknowledge_target, resolve_target, reported_at)
    values (${incident}, ${`incident/${incident}`}, 't', 'd', 'malware', 'high', true, 'r', 'triaged', ${sql`array[${ciId}]::uuid[]`},
    'test', false, 'rita', 'malware', 1, '1h', '1d', now())`);
  const change = randomUUID();
  await q(sql`insert into changes (id, workflow_id, title, description, affected_cis, security_impact, planned_start, planned_end,
    rollback_plan, requester, source, status, risk, assessment)
    values (${change}, ${`change/${change}`}, 't', 'd', ${sql`array[${ciId}]::uuid[]`}, '{}'::jsonb, now(), now(), 'r', 'rita', 'api',
    'in_review', 'low', '{}'::jsonb)`);
  const alert = randomUUID();
  // Through the service, not the CI: an alert about a service reaches that service's owner.
  await q(sql`insert into security_alerts (id, workflow_id, title, threat, actions, affected_services, affected_cis, audience, links, raised_by)
    values (${alert}, ${`security-alert/${alert}`}, 't', 'x', '{}', ${sql`array[${serviceId}]::uuid[]`}, '{}', '{}', '[]'::jsonb, 'max')`);
  const control = randomUUID();
  await q(sql`insert into controls (id, name, owner, kind, process, incident_category, procedure, ci_ids)
    values (${control}, ${`control-${control}`}, 'someone-else', 'technical', 'security', 'other', '{}'::jsonb, ${sql`array[${ciId}]::uuid[]`})`);
  const run = randomUUID();
  await q(sql`insert into test_runs (id, control_id, workflow_id, method, requested_by, scheduled_at, started_at, status)
    values (${run}, ${control}, ${`security-test/${run}`}, 'manual', 'max', now(), now(), 'running')`);
  const access = randomUUID();
  await q(sql`insert into access_requests (id, workflow_id, ci_id, account_id, beneficiary, requester, entitlements, privileged, justification, status)
    values (${access}, ${`access/${access}`}, ${ciId}, 'acct', 'bob', 'bob', '[]'::jsonb, false, 'j', 'pending')`);
  const campaign = `campaign-${randomUUID()}`;
  await q(sql`insert into access_review_campaigns (id, workflow_id, scope, ci_ids, started_by, unused_after_days, status, deadline_at)
    values (${campaign}, ${`access-review/${campaign}`}, '{}'::jsonb, ${sql`array[${ciId}]::uuid[]`}, 'max', 90, 'open', now())`);
  const advisory = `advisory-${randomUUID()}`;
  await q(sql`insert into advisories (id, workflow_id, format, title, aliases, affected, exploited, raw, received_by)
    values (${advisory}, ${`advisory/${advisory}`}, 'csaf', 't', '{}', '[]'::jsonb, false, '{}'::jsonb, 'max')`);
  await q(sql`insert into advisory_remediations (advisory_id, ci_id, owner, product, installed_version, deadline, due_at, status)
    values (${advisory}, ${ciId}, 'sam', 'p', '1', '30d', now(), 'open')`);
  const policy = randomUUID();
  await q(sql`insert into policies (id, title, owner) values (${policy}, 't', 'sam')`);
  return {
    incident: { id: incident, owned: true },
    change: { id: change, owned: true },
    'security-alert': { id: alert, owned: true },
    'test-run': { id: run, owned: true },
    access_request: { id: access, owned: true },
    access_review: { id: campaign, owned: true },
    advisory: { id: advisory, owned: true },
    policy: { id: policy, owned: true },
    // A review belongs to no owner: only a task naming someone reaches a service owner.
    security_review: { id: 'review/2026-Q4', owned: false },
  };
}

/** Every kind of human task the workflows open, with the kind of record it is about. */
const taskKinds: [kind: string, subject: string][] = [
  ['incident.acknowledge', 'incident'],
  ['incident.triage', 'incident'],
  ['incident.step', 'incident'],
  ['incident.approval', 'incident'],
  ['incident.communication', 'incident'],
  ['incident.post-incident-review', 'incident'],
  [changeReviewTaskKind, 'change'],
  ['security-alert.acknowledge', 'security-alert'],
  [manualTestTaskKind, 'test-run'],
  ['access.owner-approval', 'access_request'],
  ['access.security-approval', 'access_request'],
  ['access.provisioning', 'access_request'],
  ['access-review.certify', 'access_review'],
  ['advisory.alert-proposal', 'advisory'],
  ['advisory.remediation', 'advisory'],
  ['advisory.exception', 'advisory'],
  ['policy.approval', 'policy'],
  ['review.sign-off', 'security_review'],
  ['review.owner-confirmation', 'security_review'],
];

describe('every kind of task × owner / another owner', () => {
  let subjects: Awaited<ReturnType<typeof seedSubjects>>;
  beforeAll(async () => {
    subjects = await seedSubjects();
  });

  const record = (subject: string) => {
    const seeded = subjects[subject];
    if (!seeded) throw new Error(`no ${subject} record seeded`);
    return seeded;
  };

  // Tasks are written as the workflows record them; their workflow ids name no running workflow, so
  // a decision the rights let through reaches Temporal and is answered "finished" (409).
  async function task(kind: string, subject: string, decider: { allowedRoles: string[]; assignees: string[] }) {
    const id = randomUUID();
    await stack.db
      .insertInto('human_tasks')
      .values({
        id,
        workflow_id: `rights-walk/${id}`,
        kind,
        subject_type: subject,
        subject_id: record(subject).id,
        title: kind,
        details: json({}),
        allowed_roles: decider.allowedRoles,
        assignees: decider.assignees,
        allowed_outcomes: ['done'],
        requester: null,
        forbid_self_decision: true,
        approvals_required: 1,
        approve_outcome: null,
        status: 'open',
        deadline_at: null,
      })
      .execute();
    return id;
  }

  it.each(taskKinds)('%s on a(n) %s', async (kind, subject) => {
    const owned = record(subject).owned;
    // By role: the task admits service owners; only the record's owner may act.
    const byRole = await task(kind, subject, { allowedRoles: ['service_owner'], assignees: [] });
    expect(await listed(tokens.owner, byRole)).toBe(owned);
    expect(await mine(tokens.owner, byRole)).toBe(owned);
    expect((await stack.request('GET', `/tasks/${byRole}`, { token: tokens.owner })).status).toBe(owned ? 200 : 404);
    expect((await decide(stack, tokens.owner, byRole, 'done')).status).toBe(owned ? 409 : 403);
    expect(await listed(tokens.other, byRole)).toBe(false);
    expect(await mine(tokens.other, byRole)).toBe(false);
    expect((await stack.request('GET', `/tasks/${byRole}`, { token: tokens.other })).status).toBe(404);
    expect((await decide(stack, tokens.other, byRole, 'done')).status).toBe(403);

    // By assignment: the task names sam, whose record it need not be.
    const assigned = await task(kind, subject, { allowedRoles: [], assignees: ['sam'] });
    expect(await listed(tokens.owner, assigned)).toBe(true);
    expect(await mine(tokens.owner, assigned)).toBe(true);
    expect((await stack.request('GET', `/tasks/${assigned}`, { token: tokens.owner })).status).toBe(200);
    expect((await decide(stack, tokens.owner, assigned, 'done')).status).toBe(409);
    expect(await listed(tokens.other, assigned)).toBe(false);
    expect(await mine(tokens.other, assigned)).toBe(false);
    expect((await stack.request('GET', `/tasks/${assigned}`, { token: tokens.other })).status).toBe(404);

    // Oversight and process roles are unchanged: the manager sees both, the analyst neither.
    expect(await listed(tokens.manager, byRole)).toBe(true);
    expect(await listed(tokens.analyst, byRole)).toBe(false);
    expect((await taskRow(byRole)).status).toBe('open');
  });
});
