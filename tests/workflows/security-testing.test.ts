import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { deleteTestSchedule } from '../../temporal/security-test-schedule';
import { makeSecurityTestScheduleId } from '../../domain/security-test';
import { decide, openTask, seedCi } from '../setup/fixtures';
import { recordHistory } from '../setup/histories';
import { hardenedHeaders, startHttpServer, type LoopbackServer } from '../setup/loopback';
import { eventually, startStack, type Stack } from '../setup/stack';
import { linkPendingAudit } from '../../db/audit-linker';

let stack: Stack;
let hardened: LoopbackServer;
let bare: LoopbackServer;
const tokens = {} as Record<'manager' | 'tester' | 'owner' | 'auditor', string>;
const scheduledControls: string[] = [];

beforeAll(async () => {
  hardened = await startHttpServer((_request, response) => response.writeHead(200, hardenedHeaders).end());
  bare = await startHttpServer((_request, response) => response.writeHead(200, { 'x-powered-by': 'PHP/5.6' }).end());
  // Runs every second or two keep the file short; the default floor (1m) is tested in tests/api/outbound.test.ts.
  stack = await startStack({ env: { WARDEN_TEST_INTERVAL_FLOOR: '1s' } });
  tokens.manager = await stack.token(['security_manager'], 'sally');
  tokens.tester = await stack.token(['tester'], 'tess');
  tokens.owner = await stack.token(['service_owner'], 'otto');
  tokens.auditor = await stack.token(['auditor'], 'audrey');
});
afterAll(async () => {
  // Schedules live on the dev server every test file shares: remove ours even if a test failed.
  await Promise.all(scheduledControls.map((id) => deleteTestSchedule(stack.temporal.client, id)));
  await stack?.close();
  await Promise.all([hardened?.close(), bare?.close()]);
});

let names = 0;
async function createControl(procedure: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  names += 1;
  const response = await stack.request('POST', '/controls', {
    token: tokens.manager,
    body: { name: `control ${names} ${Date.now()}`, owner: 'otto', kind: 'technical', process: 'security', procedure, ...extra },
  });
  expect(response.status).toBe(201);
  return response.body.id as string;
}

const headersCheck = (url: string) => ({ type: 'automated', check: 'http_security_headers', params: { url } });

async function schedule(controlId: string, body: Record<string, unknown>) {
  scheduledControls.push(controlId);
  const response = await stack.request('PUT', `/controls/${controlId}/schedule`, { token: tokens.manager, body });
  expect(response.status).toBe(200);
  return response.body;
}

async function runs(controlId: string) {
  const response = await stack.request('GET', `/test-runs?controlId=${controlId}&limit=500`, { token: tokens.auditor });
  expect(response.status).toBe(200);
  return response.body.items as { id: string; status: string; result: string | null; workflowId: string; [key: string]: unknown }[];
}

const finishedRun = (controlId: string, what: string) =>
  eventually(async () => (await runs(controlId)).find((run) => run.status === 'finished'), 30_000, what);

describe('the testing schedule', () => {
  it('fires a short-interval schedule and records a report for every run', async () => {
    const controlId = await createControl(headersCheck(hardened.url));
    const created = await schedule(controlId, { every: '2s' });
    expect(created).toMatchObject({
      scheduleId: makeSecurityTestScheduleId(controlId),
      paused: false,
      spec: { every: '2s', cadenceMs: 2000 },
    });
    expect(created.nextRunTimes.length).toBeGreaterThan(0);

    const reports = await eventually(
      async () => {
        const finished = (await runs(controlId)).filter((run) => run.status === 'finished');
        return finished.length >= 2 && finished;
      },
      30_000,
      'two scheduled runs',
    );
    for (const report of reports) {
      expect(report).toMatchObject({
        result: 'passed',
        method: 'automated',
        requestedBy: 'schedule',
        testedBy: 'check:http_security_headers',
        incidentId: null,
      });
      // Temporal names each scheduled run after its slot: security-test/<controlId>-<time>.
      expect(report.workflowId).toMatch(new RegExp(`^security-test/${controlId}-\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$`));
      expect(Date.parse(report.scheduledAt as string) % 2000).toBe(0);
      expect(report.durationMs).toBeGreaterThanOrEqual(0);
      expect(report.evidence).toMatchObject({ missing: [], status: 200 });
    }

    const view = await stack.request('GET', '/testing-schedule', { token: tokens.auditor });
    expect(view.status).toBe(200);
    const entry = view.body.items.find((item: { controlId: string }) => item.controlId === controlId);
    expect(entry).toMatchObject({
      cadence: 'every 2s',
      cadenceMs: 2000,
      overdue: false,
      paused: false,
      process: 'security',
      scheduleState: 'ok',
      lastRun: { status: expect.any(String) },
    });
    expect(entry.nextRunTimes.length).toBeGreaterThan(0);
    expect(entry.lastTestedAt).not.toBeNull();

    expect((await stack.request('DELETE', `/controls/${controlId}/schedule`, { token: tokens.manager })).status).toBe(204);
    expect((await stack.request('GET', `/controls/${controlId}/schedule`, { token: tokens.auditor })).status).toBe(404);
    const actions = (
      await stack.request('GET', `/audit?subjectType=control&subjectId=${controlId}&limit=1000`, { token: tokens.auditor })
    ).body.items.map((e: { action: string }) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'control.created',
        'control.schedule_created',
        'test-run.started',
        'test-run.finished',
        'control.schedule_deleted',
      ]),
    );
  });

  it('heartbeats while a check runs, so a check on a worker that died is retried after 15 s, not 2 minutes', async () => {
    // A target that answers after six seconds keeps the check running past a few heartbeats.
    const slow = await startHttpServer((_request, response) => {
      setTimeout(() => response.writeHead(200, hardenedHeaders).end(), 6_000);
    });
    try {
      const controlId = await createControl(headersCheck(slow.url));
      const started = await stack.request('POST', `/controls/${controlId}/runs`, { token: tokens.tester });
      expect(started.status).toBe(202);
      const handle = stack.temporal.client.workflow.getHandle(started.body.workflowId);
      await eventually(
        async () => {
          const pending = (await handle.describe()).raw.pendingActivities ?? [];
          return pending.find((activity) => activity.activityType?.name === 'runSecurityCheck')?.lastHeartbeatTime;
        },
        20_000,
        'a heartbeat from the running check',
      );
      expect(await finishedRun(controlId, 'the slow run')).toMatchObject({ result: 'passed' });
      const scheduled = (await handle.fetchHistory()).events?.find(
        (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'runSecurityCheck',
      );
      expect(Number(scheduled?.activityTaskScheduledEventAttributes?.heartbeatTimeout?.seconds)).toBe(15);
    } finally {
      await slow.close();
    }
  });

  it('tests a control now, directly or through its schedule, and refuses while a run is open', async () => {
    const unscheduled = await createControl(headersCheck(hardened.url));
    expect((await stack.request('POST', `/controls/${unscheduled}/runs`, { token: tokens.auditor })).status).toBe(403);
    const once = { 'idempotency-key': `run-${unscheduled}` };
    const direct = await stack.request('POST', `/controls/${unscheduled}/runs`, { token: tokens.tester, headers: once });
    expect(direct.status).toBe(202);
    expect(direct.body).toMatchObject({ via: 'direct', workflowId: expect.stringMatching(`^security-test/${unscheduled}-`) });
    const report = await finishedRun(unscheduled, 'the directly started run');
    expect(report).toMatchObject({ result: 'passed', requestedBy: 'tess', workflowId: direct.body.workflowId });
    // The client retries with the same key: the same answer, and no second run.
    const retried = await stack.request('POST', `/controls/${unscheduled}/runs`, { token: tokens.tester, headers: once });
    expect(retried).toMatchObject({ status: 202, body: direct.body });
    expect(await runs(unscheduled)).toHaveLength(1);

    // A paused hourly schedule would not run for an hour: the trigger runs it at once.
    const scheduled = await createControl(headersCheck(hardened.url));
    const paused = await schedule(scheduled, { every: '1h', paused: true });
    expect(paused.paused).toBe(true);
    const triggered = await stack.request('POST', `/controls/${scheduled}/runs`, { token: tokens.manager });
    expect(triggered.status).toBe(202);
    expect(triggered.body).toMatchObject({ via: 'schedule', workflowId: null });
    const viaSchedule = await finishedRun(scheduled, 'the triggered run');
    expect(viaSchedule).toMatchObject({ result: 'passed', requestedBy: 'schedule' });

    // A manual test stays open until its tester decides: another run is refused meanwhile.
    const manual = await createControl({
      type: 'manual',
      instructions: 'Try the badge on the server room door after hours.',
      deadline: '1h',
    });
    expect((await stack.request('POST', `/controls/${manual}/runs`, { token: tokens.tester })).status).toBe(202);
    const open = await eventually(async () => (await runs(manual))[0], 20_000, 'the manual run');
    const refused = await stack.request('POST', `/controls/${manual}/runs`, { token: tokens.tester });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toContain(`/test-runs/${open.id}`);
  });

  it('stops running a paused schedule, says why, and runs again once resumed', async () => {
    const controlId = await createControl(headersCheck(hardened.url));
    await schedule(controlId, { every: '1s' });
    await eventually(async () => (await runs(controlId)).some((run) => run.status === 'finished'), 30_000, 'a first run');

    const paused = await stack.request('POST', `/controls/${controlId}/schedule/pause`, {
      token: tokens.manager,
      body: { reason: 'portal maintenance window' },
    });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ paused: true, note: 'paused by sally: portal maintenance window' });
    const description = await stack.temporal.client.schedule.getHandle(makeSecurityTestScheduleId(controlId)).describe();
    expect(description.state.paused).toBe(true);
    expect(description.state.note).toContain('portal maintenance window');

    // A run the schedule started before the pause landed may still be on its way: settled means every
    // action the schedule took has written its run and finished. After that the count must stay put.
    const settled = await eventually(
      async () => {
        const { info } = await stack.temporal.client.schedule.getHandle(makeSecurityTestScheduleId(controlId)).describe();
        const all = await runs(controlId);
        const finished = all.every((run) => run.status === 'finished');
        return info.runningActions.length === 0 && all.length === info.numActionsTaken && finished && all.length;
      },
      20_000,
      'in-flight runs to finish',
    );
    const windowEnds = Date.now() + 4_000; // four 1 s slots
    while (Date.now() < windowEnds) {
      expect((await runs(controlId)).length).toBe(settled);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const view = (await stack.request('GET', '/testing-schedule', { token: tokens.auditor })).body.items.find(
      (item: { controlId: string }) => item.controlId === controlId,
    );
    expect(view).toMatchObject({ paused: true, pauseNote: 'paused by sally: portal maintenance window' });

    const audit = (
      await stack.request('GET', `/audit?subjectType=control&subjectId=${controlId}&action=control.schedule_paused`, {
        token: tokens.auditor,
      })
    ).body.items;
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'sally', details: { reason: 'portal maintenance window' } });

    expect(
      (
        await stack.request('POST', `/controls/${controlId}/schedule/unpause`, {
          token: tokens.manager,
          body: { reason: 'maintenance over' },
        })
      ).status,
    ).toBe(200);
    await eventually(async () => (await runs(controlId)).length > settled, 20_000, 'a run after unpausing');
  });

  it('opens exactly one security incident for a failing check, linked both ways', async () => {
    const { ciId } = await seedCi(stack.db, { level: 'high', owner: 'otto' });
    const controlId = await createControl(headersCheck(bare.url), { ciIds: [ciId], incidentCategory: 'vulnerability_exploitation' });
    expect((await stack.request('POST', `/controls/${controlId}/runs`, { token: tokens.tester })).status).toBe(202);
    const report = await finishedRun(controlId, 'the failing run');
    expect(report).toMatchObject({ result: 'failed', incidentId: expect.any(String) });
    expect(report.summary).toContain('missing strict-transport-security');
    expect(report.evidence).toMatchObject({ disclosed: { 'x-powered-by': 'PHP/5.6' } });

    const linked = () =>
      stack.db
        .selectFrom('incidents')
        .select(['id', 'category', 'affected_cis'])
        .where(sql<boolean>`links @> ${JSON.stringify([{ type: 'test-run', id: report.id }])}::jsonb`)
        .execute();
    const incidents = await eventually(
      async () => {
        const rows = await linked();
        return rows.length > 0 && rows;
      },
      30_000,
      'the incident row',
    );
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({ id: report.incidentId, category: 'vulnerability_exploitation' });
    expect(incidents[0]?.affected_cis).toEqual([ciId]);
    // The playbook is still running (waiting for acknowledgement); nothing opens a second incident.
    const workflow = await stack.temporal.client.workflow.getHandle(`incident/${report.incidentId}`).describe();
    expect(workflow.status.name).toBe('RUNNING');
    expect(await linked()).toHaveLength(1);
    await recordHistory(stack, report.workflowId, 'security-test-failed-opens-incident.json');

    // The control fails again while its incident is open: the run joins that incident.
    expect((await stack.request('POST', `/controls/${controlId}/runs`, { token: tokens.tester })).status).toBe(202);
    const again = await eventually(
      async () => (await runs(controlId)).find((run) => run.status === 'finished' && run.id !== report.id),
      30_000,
      'the repeated failing run',
    );
    expect(again).toMatchObject({ result: 'failed', incidentId: report.incidentId });
    const joined = await eventually(
      async () => {
        const rows = await stack.db
          .selectFrom('incidents')
          .select('id')
          .where(sql<boolean>`links @> ${JSON.stringify([{ type: 'test-run', id: again.id }])}::jsonb`)
          .execute();
        return rows.length > 0 && rows;
      },
      20_000,
      'the repeated run linked to the open incident',
    );
    expect(joined).toEqual([{ id: report.incidentId }]);
    await linkPendingAudit(stack.db);
    const timeline = await stack.db
      .selectFrom('audit_events')
      .select('action')
      .where('subject_id', '=', report.incidentId as string)
      .execute();
    expect(timeline.map((e) => e.action)).toContain('incident.repeated_failure');
    await recordHistory(stack, again.workflowId, 'security-test-repeated-failure-attaches.json');
  });
  it('reports a check that cannot run as an error, opens no incident, and tells the owner', async () => {
    // This stack's worker runs without WARDEN_COMMAND_CHECKS_ENABLED.
    const controlId = await createControl({ type: 'automated', check: 'command', params: { executable: '/usr/bin/true' } });
    expect((await stack.request('POST', `/controls/${controlId}/runs`, { token: tokens.tester })).status).toBe(202);
    const report = await finishedRun(controlId, 'the errored run');
    expect(report).toMatchObject({ result: 'error', incidentId: null, testedBy: 'check:command' });
    expect(report.summary).toContain('command checks are disabled on this worker');
    const notice = await eventually(
      () => stack.db.selectFrom('notifications').selectAll().where('dedup_key', '=', `test-run:${report.id}:error`).executeTakeFirst(),
      10_000,
      'the error notification',
    );
    expect(notice).toMatchObject({ recipients: ['otto'], recipient_roles: ['security_manager'] });
  });
});

describe('manual tests', () => {
  it('go to a tester, who decides with notes and evidence links', async () => {
    const controlId = await createControl({
      type: 'manual',
      instructions: 'Attempt a password reset for a locked account through the help desk.',
      deadline: '1h',
    });
    await stack.request('POST', `/controls/${controlId}/runs`, { token: tokens.manager });
    const run = await eventually(async () => (await runs(controlId))[0], 20_000, 'the manual run');
    const task = await openTask(stack, tokens.tester, run.id, 'security-test.manual');
    expect(task).toMatchObject({
      allowedRoles: ['tester'],
      allowedOutcomes: ['passed', 'failed'],
      details: { controlId, instructions: expect.stringContaining('password reset') },
    });
    expect(task.deadlineAt).not.toBeNull();

    expect((await decide(stack, tokens.owner, task.id, 'passed')).status).toBe(403);
    const badEvidence = await decide(stack, tokens.tester, task.id, 'passed', { data: { evidence: ['not a link'] } });
    // The task's form declares evidence as links: the API names the field before the workflow is asked.
    expect(badEvidence.status).toBe(400);
    expect(badEvidence.body.errors).toEqual([{ path: 'body.data.evidence.0', message: 'must be an http(s) link' }]);
    const decided = await decide(stack, tokens.tester, task.id, 'passed', {
      comment: 'Help desk asked for the second factor before resetting.',
      data: { evidence: ['https://wiki.example/tests/reset-2026-11'] },
    });
    expect(decided.status).toBe(200);

    const report = await finishedRun(controlId, 'the manual report');
    expect(report).toMatchObject({
      method: 'manual',
      result: 'passed',
      testedBy: 'tess',
      notes: 'Help desk asked for the second factor before resetting.',
      evidence: { evidence: ['https://wiki.example/tests/reset-2026-11'] },
      taskId: task.id,
      incidentId: null,
    });
    expect((await stack.request('GET', `/test-runs/${report.id}`, { token: tokens.owner })).body).toEqual(report);
  });

  it('escalate to the control owner when the deadline passes, and count as missed after the second', async () => {
    const controlId = await createControl({ type: 'manual', instructions: 'Check the visitor log against badge records.', deadline: '2s' });
    await stack.request('POST', `/controls/${controlId}/runs`, { token: tokens.manager });
    const run = await eventually(async () => (await runs(controlId))[0], 20_000, 'the manual run');
    const task = await openTask(stack, tokens.tester, run.id, 'security-test.manual');
    const escalated = await eventually(
      async () => {
        const current = (await stack.request('GET', `/tasks/${task.id}`, { token: tokens.manager })).body;
        return current.escalationLevel === 1 && current;
      },
      20_000,
      'the escalation',
    );
    expect(escalated.assignees).toEqual(['otto']);
    // The escalation is recorded on the task before its notification goes out: wait for the latter.
    const told = await eventually(
      () =>
        stack.db
          .selectFrom('notifications')
          .select('recipients')
          .where('task_id', '=', task.id)
          .where('dedup_key', 'like', '%escalated-1')
          .executeTakeFirst(),
      20_000,
      'the escalation notice',
    );
    expect(told.recipients).toEqual(['otto']);

    const report = await finishedRun(controlId, 'the missed report');
    expect(report).toMatchObject({ result: 'missed', testedBy: null, incidentId: null, taskId: task.id });
    // The owner is told right after the report is written.
    const notice = await eventually(
      () => stack.db.selectFrom('notifications').selectAll().where('dedup_key', '=', `test-run:${run.id}:missed`).executeTakeFirst(),
      10_000,
      'the missed-test notification',
    );
    expect(notice).toMatchObject({ recipients: ['otto'], recipient_roles: ['security_manager'] });
  });

  it('can be decided by the owner once escalated', async () => {
    const controlId = await createControl({
      type: 'manual',
      instructions: 'Review the firewall rule base for any-any rules.',
      deadline: '2s',
    });
    await stack.request('POST', `/controls/${controlId}/runs`, { token: tokens.manager });
    const run = await eventually(async () => (await runs(controlId))[0], 20_000, 'the manual run');
    const task = await openTask(stack, tokens.tester, run.id, 'security-test.manual');
    expect((await decide(stack, tokens.owner, task.id, 'passed')).status).toBe(403);
    await eventually(
      async () => (await stack.request('GET', `/tasks/${task.id}`, { token: tokens.manager })).body.escalationLevel === 1,
      20_000,
      'the escalation',
    );
    expect((await decide(stack, tokens.owner, task.id, 'passed', { comment: 'no any-any rules' })).status).toBe(200);
    const report = await finishedRun(controlId, 'the owner-decided report');
    expect(report).toMatchObject({ result: 'passed', testedBy: 'otto' });
    await recordHistory(stack, report.workflowId, 'security-test-manual-escalated.json');
  });
});

describe('the schedule as people read it', () => {
  it('lists overdue controls first', async () => {
    const controlId = await createControl(headersCheck(hardened.url));
    // Paused from the start, with a 1 s cadence: overdue one second after it was scheduled.
    await schedule(controlId, { every: '1s', paused: true });
    const view = await eventually(
      async () => {
        const response = await stack.request('GET', '/testing-schedule', { token: tokens.auditor });
        const entry = response.body.items.find((item: { controlId: string }) => item.controlId === controlId);
        return entry?.overdue && response.body;
      },
      20_000,
      'the control to become overdue',
    );
    const firstNotOverdue = view.items.findIndex((item: { overdue: boolean }) => !item.overdue);
    const overdueIndex = view.items.findIndex((item: { controlId: string }) => item.controlId === controlId);
    expect(firstNotOverdue === -1 || overdueIndex < firstNotOverdue).toBe(true);
    expect(view.items[overdueIndex]).toMatchObject({ paused: true, lastRun: null, lastTestedAt: null });
  });

  it('reads a cron cadence from the times Temporal computes, and refuses a cron it cannot parse', async () => {
    const controlId = await createControl(headersCheck(hardened.url));
    // Jitter moves each run up to an hour later; the cadence is the cron's own: one week.
    const weekly = await schedule(controlId, { cron: '0 3 * * 1', jitter: '1h', paused: true });
    expect(weekly.spec).toMatchObject({ cron: '0 3 * * 1', jitter: '1h', cadenceMs: 7 * 86_400_000 });
    expect(new Date(weekly.nextRunTimes[0]).getUTCDay()).toBe(1);
    const from = new Date().toISOString();
    const to = new Date(Date.now() + 15 * 86_400_000).toISOString();
    const view = await stack.request('GET', `/testing-schedule?from=${from}&to=${to}`, { token: tokens.auditor });
    expect(view.status, JSON.stringify(view.body)).toBe(200);
    const entry = view.body.items.find((item: { controlId: string }) => item.controlId === controlId);
    expect(entry.nextRunTimes.length).toBeGreaterThanOrEqual(2);
    expect(entry.nextRunTimes.length).toBeLessThanOrEqual(3);
    expect(entry.cadence).toBe('cron 0 3 * * 1');

    const bad = await stack.request('PUT', `/controls/${controlId}/schedule`, { token: tokens.manager, body: { cron: 'every tuesday' } });
    expect(bad.status).toBe(400);
    const both = await stack.request('PUT', `/controls/${controlId}/schedule`, {
      token: tokens.manager,
      body: { cron: '0 3 * * 1', every: '1d' },
    });
    expect(both.status).toBe(400);
  });
});
