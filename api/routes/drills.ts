import { z } from 'zod';
import type { ScheduleDescription } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { assessIncident } from '../../db/incidents';
import { drillResults } from '../../db/drills';
import type { ScheduledDrillInput } from '../../domain/drill';
import { invalid } from '../../http/problem';
import { auditReaders, securityManagement } from '../../http/roles';
import { responses } from '../../schemas/common';
import { drillCategoryParams, drillResult, drillResultsQuery, drillScheduleRequest, drillScheduleView } from '../../schemas/drills';
import { listDrillSchedules, putDrillSchedule } from '../../temporal/drill-schedule';

const tags = ['drills'];

function toDrillScheduleView(description: ScheduleDescription) {
  const input = (description.action as { args?: unknown[] }).args?.[0] as ScheduledDrillInput;
  return {
    scheduleId: description.scheduleId,
    category: input.category,
    cronExpressions: input.cadence.cronExpressions ?? [],
    every: input.cadence.every ?? [],
    affectedCis: input.affectedCis,
    paused: description.state.paused,
    nextRunTimes: description.info.nextActionTimes.map((t) => t.toISOString()),
  };
}

/** The drill programme: a Temporal Schedule per incident category, and how the drills went. */
export async function drillRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.put('/drill-schedules/:category', {
    config: { roles: securityManagement },
    schema: {
      operationId: 'putDrillSchedule',
      tags,
      summary: 'Create or change the drill Schedule of an incident category',
      description:
        'The Temporal Schedule `incident-drill/<category>` starts a drill incident of the category at each run: the real ' +
        'playbook, marked as an exercise (notifications suppressed, responders never called, outside the KPIs).',
      params: drillCategoryParams,
      body: drillScheduleRequest,
      response: responses({ 200: drillScheduleView }),
    },
    handler: async (request) => {
      const { cronExpressions, every, paused, affectedCis } = request.body;
      const assessment = await assessIncident(app.db, { category: request.params.category, affectedCis });
      if (assessment.unknownCis.length) {
        throw invalid(
          assessment.unknownCis.map((id) => ({
            path: `body.affectedCis.${affectedCis.indexOf(id)}`,
            message: `no configuration item ${id}`,
          })),
        );
      }
      const input: ScheduledDrillInput = {
        category: request.params.category,
        cadence: every ? { every: [every] } : { cronExpressions: cronExpressions ?? [] },
        affectedCis,
        requestedBy: request.actor.principalId,
      };
      return toDrillScheduleView(await putDrillSchedule(app.temporal.client, app.temporal.taskQueue, input, paused));
    },
  });

  routes.get('/drill-schedules', {
    config: { roles: auditReaders },
    schema: {
      operationId: 'listDrillSchedules',
      tags,
      summary: 'List the drill Schedules',
      description:
        'One per category that has one, with their next run times. Read from Temporal; a Schedule just created may take a moment to be listed.',
      response: responses({ 200: z.object({ items: z.array(drillScheduleView) }) }),
    },
    handler: async () => ({ items: (await listDrillSchedules(app.temporal.client)).map(toDrillScheduleView) }),
  });

  routes.get('/drills', {
    config: { roles: auditReaders },
    schema: {
      operationId: 'listDrillResults',
      tags,
      summary: 'List the drill results of a period',
      description:
        'Time to acknowledge, contain and close, and playbook steps skipped. Every drill incident reported in [from, to), scheduled or reported with drill: true, oldest first.',
      querystring: drillResultsQuery,
      response: responses({ 200: z.object({ items: z.array(drillResult) }) }),
    },
    handler: async (request) => {
      const results = await drillResults(app.db, { from: new Date(request.query.from), to: new Date(request.query.to) });
      return { items: results.map((result) => ({ ...result, reportedAt: result.reportedAt.toISOString() })) };
    },
  });
}
