import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { ServiceError, type ScheduleDescription } from '@temporalio/client';
import { findControl, recordSchedule, recordScheduleRemoved, recordSchedulePaused } from '../../db/controls';
import { recordAudit } from '../../db/audit';
import type { Control } from '../../db/database';
import { openTestRun } from '../../db/test-runs';
import {
  pauseBody,
  runRequested,
  scheduleBody,
  scheduleDescription,
  testingSchedule as testingScheduleView,
  testingScheduleQuery,
} from '../../schemas/controls';
import { responses, uuidParam } from '../../schemas/common';
import { startOnce } from '../../temporal/start';
import {
  deleteTestSchedule,
  describeTestSchedule,
  putTestSchedule,
  setTestSchedulePaused,
  triggerTestSchedule,
} from '../../temporal/security-test-schedule';
import {
  makeSecurityTestScheduleId,
  makeDirectSecurityTestWorkflowId,
  securityTestWorkflowType,
  type SecurityTestInput,
} from '../../domain/security-test';
import { shortestGapMs, statedIntervalMs } from '../../domain/controls';
import { durationMs } from '../../domain/duration';
import { assertMayWriteControl } from '../control-access';
import { testingSchedule } from '../../http/testing-schedule';
import { idempotencyKey, idempotent } from '../idempotency';
import { conflict, invalid, notFound, type Problem } from '../../http/problem';
import { controlWriters, everyone, testTriggerers } from '../../http/roles';

const defaultWindowMs = 30 * 86_400_000;
const grpcInvalidArgument = 3;

function describeSchedule(control: Control, description: ScheduleDescription) {
  return {
    scheduleId: makeSecurityTestScheduleId(control.id),
    controlId: control.id,
    spec: {
      ...(control.schedule ?? {}),
      paused: description.state.paused,
      cadenceMs: control.cadence_ms,
      scheduledSince: control.scheduled_since?.toISOString() ?? null,
    },
    paused: description.state.paused,
    note: description.state.note ?? null,
    nextRunTimes: description.info.nextActionTimes.map((time) => time.toISOString()),
    recentRuns: description.info.recentActions.map((run) => ({
      workflowId: run.action.workflow.workflowId,
      scheduledAt: run.scheduledAt.toISOString(),
      takenAt: run.takenAt.toISOString(),
    })),
    runningWorkflowIds: description.info.runningActions.map((run) => run.workflow.workflowId),
    actionsTaken: description.info.numActionsTaken,
    skippedOverlap: description.info.numActionsSkippedOverlap,
    missedCatchupWindow: description.info.numActionsMissedCatchupWindow,
  };
}

/**
 * Temporal refuses a spec it cannot parse (a bad cron): the client turns "Invalid schedule spec"
 * into a TypeError, any other INVALID_ARGUMENT stays a ServiceError with the gRPC error as cause.
 */
function invalidSpec(error: unknown): Problem | undefined {
  const refused =
    error instanceof TypeError ||
    (error instanceof ServiceError && (error.cause as { code?: number } | undefined)?.code === grpcInvalidArgument);
  if (!refused) return undefined;
  return invalid([{ path: 'body', message: `Temporal refused the schedule: ${error.message}` }]);
}

export async function testScheduleRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const client = app.temporal.client;
  // A schedule may not test faster than this: a check every few seconds is a scanner, not a control test.
  const floor = app.config.WARDEN_TEST_INTERVAL_FLOOR;
  const floorMs = durationMs(floor);
  const tooFast = (path: string, intervalMs: number) =>
    invalid([{ path, message: `runs every ${intervalMs / 1000}s, faster than the floor of ${floor} (WARDEN_TEST_INTERVAL_FLOOR)` }]);

  const activeControl = async (id: string) => {
    const control = await findControl(app.db, id);
    if (!control) throw notFound('control', id);
    if (control.status !== 'active') throw conflict('the control is retired');
    return control;
  };

  routes.put('/controls/:id/schedule', {
    config: { roles: controlWriters },
    schema: {
      tags: ['testing schedule'],
      operationId: 'putControlSchedule',
      summary: "Set a control's test Schedule",
      description: "Create or replace the control's test Schedule (Temporal Schedule security-test/<controlId>)",
      params: uuidParam,
      body: scheduleBody,
      response: responses({ 200: scheduleDescription }),
    },
    handler: async (request) => {
      const control = await activeControl(request.params.id);
      assertMayWriteControl(request.actor, control.owner);
      const { paused, ...spec } = request.body;
      const stated = statedIntervalMs(spec);
      if (stated !== undefined && stated < floorMs) throw tooFast(spec.every ? 'body.every' : 'body.cron', stated);
      const note = `schedule set by ${request.actor.principalId}`;
      let result: Awaited<ReturnType<typeof putTestSchedule>>;
      try {
        result = await putTestSchedule(client, app.temporal.taskQueue, control.id, spec, { paused, note });
      } catch (error) {
        throw invalidSpec(error) ?? error;
      }
      // A cron's pace shows only in the times Temporal computes for it. Those include jitter, which can
      // bring two runs up to `jitter` closer than the cron says: only a gap too short even so is refused.
      const gap = shortestGapMs(result.description.info.nextActionTimes);
      if (spec.cron && gap !== null && gap + (spec.jitter ? durationMs(spec.jitter) : 0) < floorMs) {
        // Put back what was there: the previous schedule, or none.
        if (control.schedule) await putTestSchedule(client, app.temporal.taskQueue, control.id, control.schedule, { note: 'restored' });
        else await deleteTestSchedule(client, control.id);
        throw tooFast('body.cron', gap);
      }
      await recordSchedule(app.db, control.id, { spec, cadenceMs: result.cadenceMs, paused: result.paused }, request.actor.principalId);
      return describeSchedule((await findControl(app.db, control.id)) as Control, result.description);
    },
  });

  routes.get('/controls/:id/schedule', {
    config: { roles: everyone },
    schema: {
      tags: ['testing schedule'],
      operationId: 'getControlSchedule',
      summary: "Read a control's test Schedule",
      description: "The control's Schedule as Temporal describes it: next run times, recent runs, paused",
      params: uuidParam,
      response: responses({ 200: scheduleDescription }),
    },
    handler: async (request) => {
      const control = await findControl(app.db, request.params.id);
      if (!control) throw notFound('control', request.params.id);
      const description = await describeTestSchedule(client, control.id);
      if (!description) throw notFound('schedule of control', control.id);
      return describeSchedule(control, description);
    },
  });

  routes.delete('/controls/:id/schedule', {
    config: { roles: controlWriters },
    schema: {
      tags: ['testing schedule'],
      operationId: 'deleteControlSchedule',
      summary: "Delete a control's test Schedule",
      description: "Delete the control's Schedule; a run already started finishes",
      params: uuidParam,
      response: responses({ 204: z.null() }),
    },
    handler: async (request, reply) => {
      const control = await activeControl(request.params.id);
      assertMayWriteControl(request.actor, control.owner);
      const deleted = await deleteTestSchedule(client, control.id);
      if (!deleted && !control.schedule) throw notFound('schedule of control', control.id);
      await recordScheduleRemoved(app.db, control.id, request.actor.principalId);
      return reply.code(204).send(null);
    },
  });

  for (const paused of [true, false]) {
    routes.post(`/controls/:id/schedule/${paused ? 'pause' : 'unpause'}`, {
      config: { roles: controlWriters },
      schema: {
        tags: ['testing schedule'],
        operationId: paused ? 'pauseControlSchedule' : 'unpauseControlSchedule',
        summary: paused ? "Pause a control's test Schedule" : "Resume a control's test Schedule",
        description: paused ? "Pause the control's Schedule, saying why (audited)" : "Resume the control's Schedule, saying why (audited)",
        params: uuidParam,
        body: pauseBody,
        response: responses({ 200: scheduleDescription }),
      },
      handler: async (request) => {
        const control = await activeControl(request.params.id);
        assertMayWriteControl(request.actor, control.owner);
        const note = `${paused ? 'paused' : 'unpaused'} by ${request.actor.principalId}: ${request.body.reason}`;
        if (!(await setTestSchedulePaused(client, control.id, paused, note))) throw notFound('schedule of control', control.id);
        await recordSchedulePaused(app.db, control.id, paused, request.body.reason, request.actor.principalId);
        const updated = (await findControl(app.db, control.id)) as Control;
        return describeSchedule(updated, (await describeTestSchedule(client, control.id)) as ScheduleDescription);
      },
    });
  }

  routes.post('/controls/:id/runs', {
    config: { roles: testTriggerers },
    schema: {
      tags: ['testing schedule'],
      operationId: 'runControlTest',
      summary: 'Test a control now',
      description:
        'Test the control now: through its Schedule if it has one, otherwise directly; refused while a run is open (send Idempotency-Key to retry safely)',
      params: uuidParam,
      headers: z.object({ 'idempotency-key': z.string().max(200).optional() }),
      response: responses({ 202: runRequested }),
    },
    handler: async (request, reply) => {
      const control = await activeControl(request.params.id);
      const { principalId } = request.actor;
      const scheduled = (await describeTestSchedule(client, control.id)) !== undefined;
      const work = await idempotent(app.db, { scope: `control-runs/${control.id}`, principalId, key: idempotencyKey(request) }, () => ({
        resourceId: makeDirectSecurityTestWorkflowId(control.id, new Date()),
        request: { via: scheduled ? ('schedule' as const) : ('direct' as const) },
      }));
      const { via } = work.request;
      const answer = { controlId: control.id, via, workflowId: via === 'direct' ? work.resourceId : null };
      const startDirectly = () => {
        const input: SecurityTestInput = { controlId: control.id, requestedBy: principalId };
        return startOnce(client, securityTestWorkflowType, {
          workflowId: work.resourceId,
          taskQueue: app.temporal.taskQueue,
          args: [input],
        });
      };
      if (work.replayed) {
        // Starting the same workflow id again is a no-op, and heals a first request that crashed before it started.
        if (via === 'direct') await startDirectly();
        return reply.code(202).send(answer);
      }
      const open = await openTestRun(app.db, control.id);
      if (open) throw conflict(`a run of this control is still open: /test-runs/${open.id}`);
      if (via === 'direct') await startDirectly();
      else if (!(await triggerTestSchedule(client, control.id))) throw conflict('the schedule was deleted meanwhile; ask again');
      await recordAudit(app.db, {
        actor: principalId,
        action: 'control.run_requested',
        subjectType: 'control',
        subjectId: control.id,
        details: answer,
      });
      return reply.code(202).send(answer);
    },
  });

  routes.get('/testing-schedule', {
    config: { roles: everyone },
    schema: {
      tags: ['testing schedule'],
      operationId: 'getTestingSchedule',
      summary: 'Read the testing schedule',
      description:
        'The testing schedule as people read it: every control, its cadence, last result and next runs in [from, to]; overdue controls first',
      querystring: testingScheduleQuery,
      response: responses({ 200: testingScheduleView }),
    },
    handler: async (request) => {
      const now = new Date();
      const from = request.query.from ? new Date(request.query.from) : now;
      const to = request.query.to ? new Date(request.query.to) : new Date(from.getTime() + defaultWindowMs);
      const items = await testingSchedule(app.db, client, { from, to, now });
      return { from: from.toISOString(), to: to.toISOString(), generatedAt: now.toISOString(), items };
    },
  });
}
