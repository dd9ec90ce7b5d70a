import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordPostIncidentReview } from '../../db/incidents';
import { taskForm } from '../../domain/task-forms';
import { decide, seedCi } from '../setup/fixtures';
import { decodedHistoryJson } from '../setup/histories';
import { seedIncident } from '../setup/review-seeds';
import { eventually, startStack, type Stack } from '../setup/stack';
import { changeBody, changeWithStatus, submitChange } from './change-gate-support';
import { linkPendingAudit } from '../../db/audit-linker';

let stack: Stack;
const tokens = {} as Record<'analyst' | 'manager' | 'reviewer' | 'changes' | 'auditor' | 'reporter', string>;
let ciId: string;
let serviceId: string;

beforeAll(async () => {
  stack = await startStack();
  tokens.analyst = await stack.token(['security_analyst'], 'ana');
  tokens.manager = await stack.token(['security_manager'], 'max');
  tokens.reviewer = await stack.token(['security_reviewer'], 'rev');
  tokens.changes = await stack.token(['change_manager'], 'cm');
  tokens.auditor = await stack.token(['auditor'], 'audrey');
  tokens.reporter = await stack.token(['reporter'], 'rita');
  ({ ciId, serviceId } = await seedCi(stack.db, {
    level: 'medium',
    name: 'session-service',
    sla: { additionalRequirements: [{ id: 'SR-1', title: 'Sessions expire after 30 minutes idle' }] },
  }));
});
afterAll(() => stack?.close());

/** A problem raised by a post-incident review, through the same write the incident's activity makes. */
async function problemFromReview() {
  const incidentId = await seedIncident(stack.db, {
    severity: 'high',
    category: 'unauthorised_access',
    affectedCis: [ciId],
    reportedAt: new Date().toISOString(),
    acknowledgeTarget: '1h',
    resolveTarget: '1d',
  });
  await recordPostIncidentReview(stack.db, {
    incidentId,
    actor: 'ana',
    lessons: [],
    problem: { id: randomUUID(), title: 'Session tokens survive logout', reason: 'unexplained root cause' },
  });
  const listed = await stack.request('GET', `/problems?incidentId=${incidentId}`, { token: tokens.analyst });
  expect(listed.status).toBe(200);
  expect(listed.body.items).toHaveLength(1);
  return { incidentId, problem: listed.body.items[0] };
}

const allPass = (checklist: { id: string }[]) => checklist.map((item) => ({ itemId: item.id, result: 'pass', note: 'holds' }));

async function propose(problemId: string, body: Record<string, unknown>) {
  const response = await stack.request('POST', `/problems/${problemId}/proposals`, { token: tokens.analyst, body });
  expect(response.status, JSON.stringify(response.body)).toBe(202);
  return response.body as { proposalId: string; workflowId: string };
}

async function checkTask(problemId: string, proposalId: string) {
  return eventually(
    async () => {
      const response = await stack.request('GET', `/tasks?status=open&subjectId=${problemId}`, { token: tokens.manager });
      return response.body.items?.find((task: { details: { proposalId: string } }) => task.details.proposalId === proposalId);
    },
    30_000,
    `the security check of ${proposalId}`,
  );
}

const proposalStatus = (problemId: string, proposalId: string, status: string) =>
  eventually(
    async () => {
      const problem = (await stack.request('GET', `/problems/${problemId}`, { token: tokens.analyst })).body;
      const proposal = problem.proposals?.find((p: { id: string }) => p.id === proposalId);
      if (proposal?.status !== status) return undefined;
      // The detail reads the problem before its proposals: read it again, after the outcome committed.
      return { problem: (await stack.request('GET', `/problems/${problemId}`, { token: tokens.analyst })).body, proposal };
    },
    20_000,
    `proposal ${proposalId} to be ${status}`,
  );

describe('problem management', () => {
  it('takes a post-incident review problem through a rejected workaround, a corrected one and a solution through a linked change', async () => {
    const { incidentId, problem } = await problemFromReview();
    expect(problem).toMatchObject({
      status: 'open',
      securityRisk: true,
      ciIds: [ciId],
      serviceIds: [serviceId],
      source: { type: 'incident', id: incidentId },
    });

    // The first workaround fails one checklist item: rejected, with the reviewer's note as the reason.
    const first = await propose(problem.id, { kind: 'workaround', text: 'Disable session expiry so users stay logged in' });
    const task = await checkTask(problem.id, first.proposalId);
    // A security risk (the problem came from a security incident) puts Security Management on it.
    expect(task).toMatchObject({ kind: 'problem_security_check', allowedRoles: ['security_manager'] });
    const checklist: { id: string; source: string }[] = task.details.checklist;
    expect(checklist.map((item) => item.id)).toEqual(
      expect.arrayContaining([`availability:${serviceId}`, `sla:${serviceId}:SR-1`, 'baseline:BL-C1', 'baseline:BL-C2', 'baseline:BL-I2']),
    );
    // The checklist's form is declared once (domain/task-forms.ts): one pass/fail result and a note per item.
    const form = taskForm('problem_security_check')?.fields[0];
    expect(form).toMatchObject({ kind: 'perItem', name: 'results', itemsFrom: 'checklist' });
    expect(form?.kind === 'perItem' && form.items(task.details).map((item) => item.key)).toEqual(
      checklist.map((item) => ({ itemId: item.id })),
    );
    expect(form?.kind === 'perItem' && form.fields.map((field) => field.name)).toEqual(['result', 'note']);
    const results = allPass(checklist).map((r) =>
      r.itemId === `sla:${serviceId}:SR-1` ? { ...r, result: 'fail', note: 'sessions would never expire' } : r,
    );

    expect((await decide(stack, tokens.reviewer, task.id, 'rejected', { data: { results } })).status).toBe(403);
    const incomplete = await decide(stack, tokens.manager, task.id, 'rejected', { data: { results: results.slice(1) } });
    expect(incomplete.status).toBe(409);
    expect(incomplete.body.detail).toMatch(/no result for/);
    const acceptedDespiteFail = await decide(stack, tokens.manager, task.id, 'accepted', { data: { results } });
    expect(acceptedDespiteFail.status).toBe(409);
    expect(acceptedDespiteFail.body.detail).toMatch(/failed checklist item rejects/);
    expect((await decide(stack, tokens.manager, task.id, 'rejected', { data: { results } })).status).toBe(200);
    const rejected = await proposalStatus(problem.id, first.proposalId, 'rejected');
    expect(rejected.proposal.reasons).toEqual([expect.stringMatching(/SR-1 .*: sessions would never expire/)]);
    expect(rejected.proposal.results).toHaveLength(checklist.length);
    expect(rejected.problem).toMatchObject({ status: 'open', workaround: null });
    if (process.env.WARDEN_RECORD_HISTORIES === '1') {
      await stack.temporal.client.workflow.getHandle(first.workflowId).result();
      const history = await decodedHistoryJson(stack.temporal.client, first.workflowId, stack.app.codec);
      writeFileSync(new URL('../replay/histories/problem-security-check-rejected.json', import.meta.url), history);
    }

    // The corrected workaround passes every item: the problem becomes a known error.
    const second = await propose(problem.id, { kind: 'workaround', text: 'Force logout of all sessions nightly' });
    const secondTask = await checkTask(problem.id, second.proposalId);
    expect((await decide(stack, tokens.manager, secondTask.id, 'accepted', { data: { results: allPass(checklist) } })).status).toBe(200);
    const knownError = await proposalStatus(problem.id, second.proposalId, 'accepted');
    expect(knownError.problem).toMatchObject({ status: 'known_error', workaround: 'Force logout of all sessions nightly' });
    const today = new Date().toISOString().slice(0, 10);
    const kpis = (await stack.request('GET', `/kpis?from=${today}&to=${today}`, { token: tokens.manager })).body;
    expect(kpis.measures.find((m: { id: string }) => m.id === 'problem-workarounds-checked').result).toMatchObject({
      value: 100,
      breakdown: expect.arrayContaining([
        { label: 'with a workaround', value: 1 },
        { label: 'workaround security-checked', value: 1 },
        { label: 'workarounds rejected by the check in the period', value: 1 },
      ]),
    });

    // The solution needs a change: it goes through the gate with the problem's context, then is checked.
    const change = await submitChange(stack, tokens.changes, changeBody({ affectedCis: [ciId], problemId: problem.id }));
    expect(change).toMatchObject({ reviewRequired: true, risk: 'medium' });
    expect(change.reasons).toEqual(expect.arrayContaining([expect.stringContaining('implements problem "Session tokens survive logout"')]));
    // The gate writes the change's record a moment after the 202.
    await changeWithStatus(stack, tokens.changes, change.id, 'in_review');
    const solution = await propose(problem.id, {
      kind: 'solution',
      text: 'Invalidate server-side sessions on logout',
      changeId: change.id,
    });
    const solutionTask = await checkTask(problem.id, solution.proposalId);
    expect(solutionTask.details.changeId).toBe(change.id);
    expect((await decide(stack, tokens.manager, solutionTask.id, 'accepted', { data: { results: allPass(checklist) } })).status).toBe(200);
    const solved = await proposalStatus(problem.id, solution.proposalId, 'accepted');
    expect(solved.problem).toMatchObject({ solution: 'Invalidate server-side sessions on logout', securityManagementInvolved: true });
    await eventually(
      async () => {
        const detail = (await stack.request('GET', `/problems/${problem.id}`, { token: tokens.analyst })).body;
        return detail.changes.some((c: { id: string }) => c.id === change.id);
      },
      20_000,
      'the change to be listed on the problem',
    );

    await linkPendingAudit(stack.db);
    const audit = await stack.db
      .selectFrom('audit_events')
      .select('action')
      .where('subject_type', '=', 'problem')
      .where('subject_id', '=', problem.id)
      .orderBy('id')
      .execute();
    expect(audit.map((event) => event.action)).toEqual(
      expect.arrayContaining([
        'problem.workaround_proposed',
        'problem.workaround_rejected',
        'problem.workaround_accepted',
        'problem.solution_proposed',
        'problem.solution_accepted',
      ]),
    );
  });

  it('records, lists, changes and resolves a problem, audited, and involves Security Management when it is flagged', async () => {
    const created = await stack.request('POST', '/problems', {
      token: tokens.analyst,
      body: { title: 'Backups fail on Sundays', ciIds: [ciId], serviceIds: [serviceId] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ status: 'open', securityRisk: false, createdBy: 'ana' });
    const id = created.body.id;
    const detail = await stack.request('GET', `/problems/${id}`, { token: tokens.auditor });
    expect(detail.body).toMatchObject({ securityManagementInvolved: false, incidentIds: [], proposals: [] });

    const patched = await stack.request('PATCH', `/problems/${id}`, {
      token: tokens.analyst,
      body: { rootCause: 'the backup window overlaps the patch window', securityRisk: true },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ rootCause: 'the backup window overlaps the patch window', securityRisk: true });
    const knownErrorByHand = await stack.request('PATCH', `/problems/${id}`, { token: tokens.analyst, body: { status: 'known_error' } });
    expect(knownErrorByHand.status).toBe(400);
    expect(knownErrorByHand.body.errors[0].path).toMatch(/status/);
    expect((await stack.request('PATCH', `/problems/${id}`, { token: tokens.analyst, body: { status: 'resolved' } })).body.status).toBe(
      'resolved',
    );

    const filtered = await stack.request('GET', `/problems?status=resolved&ciId=${ciId}&securityRisk=true`, { token: tokens.analyst });
    expect(filtered.body.items.map((p: { id: string }) => p.id)).toEqual([id]);
    await linkPendingAudit(stack.db);
    const events = await stack.db
      .selectFrom('audit_events')
      .select(['action', 'details'])
      .where('subject_id', '=', id)
      .orderBy('id')
      .execute();
    expect(events.map((e) => e.action)).toEqual(['problem.created', 'problem.updated', 'problem.updated']);
    expect(events[1]?.details).toMatchObject({ securityManagementInvolved: true, changed: { securityRisk: { from: false, to: true } } });
  });

  it('refuses bad input with a 4xx naming the field, and writes nothing', async () => {
    const before = await stack.db
      .selectFrom('problems')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    const unknownCi = await stack.request('POST', '/problems', {
      token: tokens.analyst,
      body: { title: 'Ghost', ciIds: [ciId, randomUUID()] },
    });
    expect(unknownCi.status).toBe(400);
    expect(unknownCi.body.errors).toEqual([expect.objectContaining({ path: 'body.ciIds.1' })]);
    const unknownIncident = await stack.request('POST', '/problems', {
      token: tokens.analyst,
      body: { title: 'Ghost', incidentIds: [randomUUID()] },
    });
    expect(unknownIncident.body.errors).toEqual([expect.objectContaining({ path: 'body.incidentIds.0' })]);
    const after = await stack.db
      .selectFrom('problems')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);

    // A parent chain that would loop back is refused.
    const parent = (await stack.request('POST', '/problems', { token: tokens.analyst, body: { title: 'Parent' } })).body;
    const child = (await stack.request('POST', '/problems', { token: tokens.analyst, body: { title: 'Child', parentId: parent.id } })).body;
    const cyclic = await stack.request('PATCH', `/problems/${parent.id}`, { token: tokens.analyst, body: { parentId: child.id } });
    expect(cyclic.status).toBe(400);
    expect(cyclic.body.errors).toEqual([expect.objectContaining({ path: 'body.parentId', message: expect.stringMatching(/cycle/) })]);
    const self = await stack.request('PATCH', `/problems/${parent.id}`, { token: tokens.analyst, body: { parentId: parent.id } });
    expect(self.body.errors).toEqual([expect.objectContaining({ path: 'body.parentId' })]);
    expect((await stack.request('GET', `/problems/${parent.id}`, { token: tokens.analyst })).body.parentId).toBeNull();

    // A change naming a problem in Warden's form must name a real one; a proposal's change must implement the problem.
    const ghostProblem = await stack.request('POST', '/changes', { token: tokens.changes, body: changeBody({ problemId: randomUUID() }) });
    expect(ghostProblem.status).toBe(400);
    expect(ghostProblem.body.errors).toEqual([expect.objectContaining({ path: 'body.problemId' })]);
    const unrelated = await submitChange(stack, tokens.changes, changeBody({}));
    await changeWithStatus(stack, tokens.changes, unrelated.id, 'approved');
    const wrongChange = await stack.request('POST', `/problems/${parent.id}/proposals`, {
      token: tokens.analyst,
      body: { kind: 'solution', text: 'x', changeId: unrelated.id },
    });
    expect(wrongChange.status).toBe(400);
    expect(wrongChange.body.errors).toEqual([expect.objectContaining({ path: 'body.changeId' })]);
    const emptyText = await stack.request('POST', `/problems/${parent.id}/proposals`, {
      token: tokens.analyst,
      body: { kind: 'workaround', text: ' ' },
    });
    expect(emptyText.status).toBe(400);
    expect(emptyText.body.errors[0].path).toMatch(/text/);
  });

  it('shows a service owner only the problems they recorded or whose services or CIs they own, and 404 for the rest', async () => {
    const owner = await stack.token(['service_owner'], 'olga');
    const tester = await stack.token(['tester'], 'tess');
    const theirs = await seedCi(stack.db, { owner: 'olga', name: 'olga-service' });
    const byService = (
      await stack.request('POST', '/problems', { token: tokens.analyst, body: { title: 'Olga’s service', serviceIds: [theirs.serviceId] } })
    ).body;
    const byCi = (await stack.request('POST', '/problems', { token: tokens.analyst, body: { title: 'Olga’s CI', ciIds: [theirs.ciId] } }))
      .body;
    const another = (
      await stack.request('POST', '/problems', { token: tokens.analyst, body: { title: 'Another owner’s', serviceIds: [serviceId] } })
    ).body;
    const recorded = await stack.request('POST', '/problems', { token: owner, body: { title: 'Seen by Olga', ciIds: [ciId] } });
    expect(recorded.status).toBe(201);

    expect((await stack.request('GET', `/problems/${byService.id}`, { token: owner })).body.title).toBe('Olga’s service');
    expect((await stack.request('GET', `/problems/${byCi.id}`, { token: owner })).status).toBe(200);
    expect((await stack.request('GET', `/problems/${recorded.body.id}`, { token: owner })).status).toBe(200);
    // Invisible answers as unknown: no existence leak, and no write or proposal either.
    const hidden = await stack.request('GET', `/problems/${another.id}`, { token: owner });
    const unknown = await stack.request('GET', `/problems/${randomUUID()}`, { token: owner });
    expect(hidden.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect((await stack.request('PATCH', `/problems/${another.id}`, { token: owner, body: { rootCause: 'guessed' } })).status).toBe(404);
    const proposal = await stack.request('POST', `/problems/${another.id}/proposals`, {
      token: owner,
      body: { kind: 'workaround', text: 'restart it' },
    });
    expect(proposal.status).toBe(404);
    expect((await stack.request('GET', `/problems/${another.id}`, { token: tokens.analyst })).body.rootCause).toBeNull();

    const listed = (await stack.request('GET', '/problems?limit=100', { token: owner })).body.items.map((p: { id: string }) => p.id);
    expect(listed.sort()).toEqual([byService.id, byCi.id, recorded.body.id].sort());
    expect((await stack.request('GET', '/problems?limit=100', { token: tester })).body.items).toEqual([]);
    expect((await stack.request('GET', `/problems/${byService.id}`, { token: tester })).status).toBe(404);
    // Change managers see every problem: changes implement them.
    expect((await stack.request('GET', `/problems/${another.id}`, { token: tokens.changes })).status).toBe(200);
  });

  it('admits only the roles of the process', async () => {
    expect((await stack.request('GET', '/problems', { token: tokens.reporter })).status).toBe(403);
    expect((await stack.request('GET', '/problems', { token: tokens.auditor })).status).toBe(200);
    expect((await stack.request('POST', '/problems', { token: tokens.auditor, body: { title: 'Audit' } })).status).toBe(403);
    expect((await stack.request('POST', '/problems', { token: tokens.reviewer, body: { title: 'Reviewer' } })).status).toBe(403);
    expect((await stack.request('GET', `/problems/${randomUUID()}`, { token: tokens.auditor })).status).toBe(404);
  });
});
