import { sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createActivities } from '../../activities/index';
import { createDb } from '../../db/create-db';
import { incidentPlaybookWorkflowType, makeIncidentWorkflowId, type IncidentPlaybookInput } from '../../domain/incident';
import { securityAlertWorkflowType, type SecurityAlertInput } from '../../domain/security-alert';
import { createWardenWorker } from '../../worker';
import { activityDeps } from '../../wiring';
import { changeBody, noImpact, reviewTask, submitChange } from '../api/change-gate-support';
import { decide, openTask, seedCi } from '../setup/fixtures';
import { closedPort } from '../setup/loopback';
import { eventually, startStack, type Stack } from '../setup/stack';

let stack: Stack;
const tokens = {} as Record<'analyst' | 'auditor' | 'requester', string>;
const silent = pino({ level: 'silent' });

beforeAll(async () => {
  stack = await startStack();
  tokens.analyst = await stack.token(['security_analyst'], 'ana');
  tokens.auditor = await stack.token(['auditor'], 'audrey');
  tokens.requester = await stack.token(['change_manager'], 'rita');
});
afterAll(() => stack?.close());

function incidentInput(overrides: Partial<IncidentPlaybookInput> = {}): IncidentPlaybookInput {
  return {
    incidentId: randomUUID(),
    title: 'Shared password',
    description: 'reported by a user',
    category: 'policy_violation',
    affectedCis: [],
    source: 'test',
    reportedBy: 'ana',
    reportedAt: new Date().toISOString(),
    ...overrides,
  };
}

/** Starts the incident workflow with the client, past the API's input boundary. */
async function startDirectly(input: IncidentPlaybookInput) {
  return stack.temporal.client.workflow.start(incidentPlaybookWorkflowType, {
    workflowId: makeIncidentWorkflowId(input.incidentId),
    taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
    args: [input],
  });
}

async function activityEvents(workflowId: string, activityType: string) {
  const history = await stack.temporal.client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activityType);
  const ids = new Set(scheduled.map((e) => String(e.eventId)));
  const started = events.filter((e) => ids.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId)));
  const failed = events.filter((e) => ids.has(String(e.activityTaskFailedEventAttributes?.scheduledEventId)));
  return { scheduled, started, failed };
}

function securityManagerNotifications(incidentId: string) {
  return stack.db
    .selectFrom('notifications')
    .selectAll()
    .where('subject_type', '=', 'incident')
    .where('subject_id', '=', incidentId)
    .execute()
    .then((rows) => rows.filter((row) => row.recipient_roles.includes('security_manager')));
}

describe('PostgreSQL refusing data fails an activity at once', () => {
  it('gives a non-retryable InvalidData for a NUL byte, called outside any worker', async () => {
    const activities = createActivities(activityDeps(stack.config, { db: stack.db, logger: silent, workerIdentity: 'test' }));
    const input = incidentInput({ title: 'a\u0000b' });
    const failure = await activities.registerIncident({ ...input, workflowId: makeIncidentWorkflowId(input.incidentId) }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'InvalidData', nonRetryable: true });
    expect((failure as ApplicationFailure).message).toMatch(/^registerIncident: .*0x00/);
  });

  it('leaves errors that are not PostgreSQL refusals as they were', async () => {
    const activities = createActivities(activityDeps(stack.config, { db: stack.db, logger: silent, workerIdentity: 'test' }));
    // A category without a published playbook is a plain Error: retried, like a bug until a fix lands.
    const input = incidentInput({ category: 'no-such-category' as IncidentPlaybookInput['category'] });
    const failure = await activities.registerIncident({ ...input, workflowId: makeIncidentWorkflowId(input.incidentId) }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(ApplicationFailure);
  });
});

describe('an incident that meets a permanent failure ends visibly', () => {
  it('records a NUL-titled incident as registration_failed after one attempt, shows it, and tells the Security Manager', {
    timeout: 60_000,
  }, async () => {
    const input = incidentInput({ title: 'Poison a\u0000b \ud800 title' });
    const handle = await startDirectly(input);
    const result = await handle.result();
    expect(result).toMatchObject({
      status: 'registration_failed',
      severity: null,
      failure: { type: 'InvalidData', step: 'registerIncident' },
    });
    expect((await handle.describe()).status.name).toBe('COMPLETED');

    // One attempt: scheduled once, started once (attempt 1), failed non-retryable with the type.
    const { scheduled, started, failed } = await activityEvents(handle.workflowId, 'registerIncident');
    expect(scheduled).toHaveLength(1);
    expect(started.map((e) => e.activityTaskStartedEventAttributes?.attempt)).toEqual([1]);
    expect(failed).toHaveLength(1);
    const failureInfo = failed[0]?.activityTaskFailedEventAttributes?.failure;
    expect(failureInfo?.applicationFailureInfo).toMatchObject({ type: 'InvalidData', nonRetryable: true });

    const shown = await stack.request('GET', `/incidents/${input.incidentId}`, { token: tokens.auditor });
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ id: input.incidentId, status: 'registration_failed', title: 'Poison a\ufffdb \ufffd title' });
    expect(shown.body.classificationReason).toMatch(/InvalidData in registerIncident/);
    expect(shown.body.timeline.map((event: { action: string }) => event.action)).toContain('incident.registration_failed');
    const listed = await stack.request('GET', '/incidents?status=registration_failed', { token: tokens.auditor });
    expect(listed.status, JSON.stringify(listed.body)).toBe(200);
    expect(listed.body.items.map((i: { id: string }) => i.id)).toContain(input.incidentId);

    const told = await securityManagerNotifications(input.incidentId);
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({ dedup_key: `incident:${input.incidentId}:registration_failed` });
    expect(told[0]?.title).toMatch(/registration failed/);
    expect(told[0]?.body).toMatch(/InvalidData/);
  });

  it('moves a registered incident PostgreSQL later refuses to update to failed, and tells the Security Manager', {
    timeout: 90_000,
  }, async () => {
    const { ciId } = await seedCi(stack.db);
    const reported = await stack.request('POST', '/incidents', {
      token: tokens.analyst,
      body: { title: 'Malware on a laptop', description: 'EDR', category: 'malware', affectedCis: [ciId], source: 'edr' },
    });
    expect(reported.status).toBe(202);
    const id = reported.body.id as string;
    await decide(stack, tokens.analyst, (await openTask(stack, tokens.analyst, id, 'incident.acknowledge')).id, 'acknowledged');
    // Free-form triage data naming a CI id that is no UUID: PostgreSQL refuses the lookup for good.
    const triage = await openTask(stack, tokens.analyst, id, 'incident.triage');
    expect((await decide(stack, tokens.analyst, triage.id, 'triaged', { data: { affectedCis: ['not-a-uuid'] } })).status).toBe(200);

    const result = await stack.temporal.client.workflow.getHandle(makeIncidentWorkflowId(id)).result();
    expect(result).toMatchObject({ status: 'failed', failure: { type: 'InvalidData', step: 'applyTriage' } });
    const { started } = await activityEvents(makeIncidentWorkflowId(id), 'applyTriage');
    expect(started.map((e) => e.activityTaskStartedEventAttributes?.attempt)).toEqual([1]);

    const shown = await stack.request('GET', `/incidents/${id}`, { token: tokens.auditor });
    expect(shown.body.status).toBe('failed');
    const failedEvent = shown.body.timeline.find((event: { action: string }) => event.action === 'incident.failed');
    expect(failedEvent?.details).toMatchObject({ failure: { type: 'InvalidData', step: 'applyTriage' } });
    const recorded = await stack.db.selectFrom('process_failures').selectAll().where('subject_id', '=', id).execute();
    expect(recorded).toMatchObject([{ subject_type: 'incident', step: 'applyTriage', type: 'InvalidData' }]);
    const told = await securityManagerNotifications(id);
    expect(told.map((n) => n.dedup_key)).toContain(`incident:${id}:failed`);
    // Nobody works a failed incident: the resolve target (still running) stopped instead of breaching later.
    const resolve = shown.body.sla.targets.find((t: { target: string }) => t.target === 'resolve');
    expect(resolve).toMatchObject({ metAt: null, stopReason: 'failed', remainingSeconds: null });
    expect(resolve.stoppedAt).not.toBeNull();
    expect(shown.body.sla.nextDueAt).toBeNull();
  });
});

describe('the other processes end visibly too', () => {
  it('fails a security alert PostgreSQL refuses after one attempt, records why, and tells the Security Manager', {
    timeout: 60_000,
  }, async () => {
    const alertId = randomUUID();
    const input: SecurityAlertInput = {
      alertId,
      title: 'Patch a\u0000b now',
      threat: 'remote code execution',
      actions: ['patch'],
      affectedServices: [],
      affectedCis: [],
      audience: ['security_analyst'],
      raisedBy: 'max',
    };
    const handle = await stack.temporal.client.workflow.start(securityAlertWorkflowType, {
      workflowId: `security-alert/${alertId}`,
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      args: [input],
    });
    const failure = await handle.result().then(
      () => undefined,
      (error: unknown) => error as { cause?: { type?: string; nonRetryable?: boolean } },
    );
    expect(failure?.cause).toMatchObject({ type: 'InvalidData', nonRetryable: true });
    expect((await handle.describe()).status.name).toBe('FAILED');
    const { started } = await activityEvents(handle.workflowId, 'registerSecurityAlert');
    expect(started.map((e) => e.activityTaskStartedEventAttributes?.attempt)).toEqual([1]);

    const recorded = await stack.db.selectFrom('process_failures').selectAll().where('workflow_id', '=', handle.workflowId).execute();
    expect(recorded).toMatchObject([
      { subject_type: 'security-alert', subject_id: alertId, step: 'registerSecurityAlert', type: 'InvalidData' },
    ]);
    const audit = await stack.request('GET', `/audit?subjectType=security-alert&subjectId=${alertId}`, { token: tokens.auditor });
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(['security-alert.failed']);
    const told = await stack.db
      .selectFrom('notifications')
      .selectAll()
      .where('dedup_key', '=', `security-alert:${alertId}:failed`)
      .execute();
    expect(told).toHaveLength(1);
    expect(told[0]?.recipient_roles).toEqual(['security_manager']);
    expect(told[0]?.title).toBe('Security alert "Patch a\ufffdb now" failed');
  });

  it('shows a change that met a permanent failure as failed through the API', { timeout: 60_000 }, async () => {
    const { ciId } = await seedCi(stack.db);
    const change = await submitChange(
      stack,
      tokens.requester,
      changeBody({ affectedCis: [ciId], securityImpact: { ...noImpact, accessControls: true } }),
    );
    const activities = createActivities(activityDeps(stack.config, { db: stack.db, logger: silent, workerIdentity: 'test' }));
    const review = await reviewTask(stack, tokens.auditor, change.id);
    const failure = { type: 'ConstraintViolation' as const, step: 'recordEvidence', message: 'recordEvidence: refused' };
    await activities.recordProcessFailure({ workflowId: change.workflowId, record: { process: 'change', changeId: change.id }, failure });
    // A retry records nothing twice.
    await activities.recordProcessFailure({ workflowId: change.workflowId, record: { process: 'change', changeId: change.id }, failure });
    const shown = await stack.request('GET', `/changes/${change.id}`, { token: tokens.requester });
    expect(shown.status).toBe(200);
    expect(shown.body.status).toBe('failed');
    // Nobody is asked to decide for a process that ended: its open review task is cancelled.
    const task = await stack.db.selectFrom('human_tasks').select('status').where('id', '=', review.id).executeTakeFirstOrThrow();
    expect(task.status).toBe('cancelled');
    const listed = await stack.request('GET', '/changes?status=failed', { token: tokens.requester });
    expect(listed.status).toBe(200);
    const audit = await stack.request('GET', `/audit?subjectType=change&subjectId=${change.id}&action=change.failed`, {
      token: tokens.auditor,
    });
    expect(audit.body.items).toHaveLength(1);
    await stack.temporal.client.workflow.getHandle(change.workflowId).terminate('test done');
  });
});

describe('unavailability still retries', () => {
  it('retries registerIncident while its database is unreachable, then registers once it is back', { timeout: 120_000 }, async () => {
    await stack.stopWorker();
    // This worker's pool points at a port nothing listens on: every attempt fails with ECONNREFUSED.
    const unreachable = createDb(`postgres://postgres@127.0.0.1:${await closedPort()}/warden`, silent);
    const worker = await createWardenWorker({
      config: stack.config,
      db: unreachable.db,
      logger: silent,
      workflowBundlePath: inject('workflowBundlePath'),
    });
    const running = worker.run();
    const input = incidentInput();
    const handle = await startDirectly(input);
    try {
      const pending = await eventually(
        async () => {
          const activity = (await handle.describe()).raw.pendingActivities?.find((a) => a.activityType?.name === 'registerIncident');
          return (activity?.attempt ?? 0) >= 3 && activity;
        },
        60_000,
        'registerIncident retried twice',
      );
      expect(pending.lastFailure?.applicationFailureInfo?.nonRetryable ?? false).toBe(false);
      expect((await handle.describe()).status.name).toBe('RUNNING');
    } finally {
      await worker.shutdown();
      await running;
      await unreachable.close();
      await stack.startWorker();
    }
    const shown = await eventually(
      async () => {
        const response = await stack.request('GET', `/incidents/${input.incidentId}`, { token: tokens.auditor });
        return response.status === 200 && response.body.status !== 'registration_failed' && response.body;
      },
      60_000,
      'the incident registered once PostgreSQL is reachable',
    );
    expect(shown.title).toBe('Shared password');
    await handle.terminate('test done');
  });
});

describe('a decision PostgreSQL refuses to record', () => {
  it('is not taken: the caller hears why, and the task stays open for one that can be recorded', { timeout: 90_000 }, async () => {
    const { ciId } = await seedCi(stack.db);
    const reported = await stack.request('POST', '/incidents', {
      token: tokens.analyst,
      body: { title: 'Phishing mail clicked', description: 'user report', category: 'malware', affectedCis: [ciId], source: 'user' },
    });
    const id = reported.body.id as string;
    const task = await openTask(stack, tokens.analyst, id, 'incident.acknowledge');
    // The database refuses this task's decision for good (an invalid-parameter error, class 22).
    await sql
      .raw(`create function refuse_decision() returns trigger language plpgsql as $$ begin
        if new.id = '${task.id}' and new.decisions <> old.decisions then raise exception 'refused' using errcode = '22023'; end if;
        return new; end $$;
        create trigger refuse_decision before update on human_tasks for each row execute function refuse_decision();`)
      .execute(stack.db);
    const refused = await decide(stack, tokens.analyst, task.id, 'acknowledged');
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(/could not be recorded/);

    await sql.raw('drop trigger refuse_decision on human_tasks; drop function refuse_decision();').execute(stack.db);
    expect((await decide(stack, tokens.analyst, task.id, 'acknowledged')).status).toBe(200);
    await eventually(
      async () => (await stack.request('GET', `/incidents/${id}`, { token: tokens.auditor })).body.timestamps.acknowledgedAt,
      20_000,
      'the acknowledgement',
    );
    const row = await stack.db
      .selectFrom('human_tasks')
      .select(['status', 'decisions'])
      .where('id', '=', task.id)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('decided');
    expect(row.decisions).toHaveLength(1);
  });
});
