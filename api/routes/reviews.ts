import { z } from 'zod';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ScheduleDescription } from '@temporalio/client';
import { computeMeasures, measurePeriod } from '../../db/measures/index';
import { currentReport, findReview, listReviews } from '../../db/reviews';
import type { SecurityReviewRow } from '../../db/database';
import { dayRange, quarter } from '../../domain/review-period';
import { reportHtml } from '../../domain/security-report/html';
import { reportMarkdown } from '../../domain/security-report/markdown';
import { responses } from '../../schemas/common';
import {
  kpiQuery,
  kpiResponse,
  reviewAccepted,
  reviewDetail,
  reviewListQuery,
  reviewParams,
  reviewStartRequest,
  reviewSummary,
  scheduleRequest,
  scheduleView,
  securityReport,
} from '../../schemas/reviews';
import { describeReviewSchedule, putReviewSchedule } from '../../temporal/review-schedule';
import { startOnce } from '../../temporal/start';
import {
  makeReviewWorkflowId,
  quarterlyReviewCron,
  reviewScheduleId,
  securityReviewWorkflowType,
  type ScheduledReviewInput,
  type SecurityReviewInput,
} from '../../domain/security-review';
import { invalid, notFound } from '../../http/problem';
import { liveReviewState } from '../../http/review-state';
import { reportReaders, securityManagement } from '../../http/roles';

// The page's only resource is its inline stylesheet: nothing else may load or run.
const reportPagePolicy =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

function toReviewSummary(review: SecurityReviewRow) {
  return {
    id: review.id,
    workflowId: review.workflow_id,
    period: { from: review.period_from.toISOString(), to: review.period_to.toISOString() },
    scope: review.scope,
    status: review.status,
    requestedBy: review.requested_by,
    deviations: review.measures ? review.measures.reduce((n, k) => n + (k.result.misses?.length ?? 0), 0) : null,
    signOff: review.sign_off,
    createdAt: review.created_at.toISOString(),
    updatedAt: review.updated_at.toISOString(),
  };
}

function toScheduleView(description: ScheduleDescription) {
  const action = description.action as { args?: unknown[] };
  const memo = (action.args?.[0] as ScheduledReviewInput | undefined)?.cadence ?? {};
  return {
    scheduleId: description.scheduleId,
    cronExpressions: memo.cronExpressions ?? [],
    every: memo.every ?? [],
    paused: description.state.paused,
    nextRunTimes: description.info.nextActionTimes.map((t) => t.toISOString()),
  };
}

/** A rendered report goes out as is: the route's JSON schema describes only the JSON form. */
function sendDocument(reply: FastifyReply, type: string, text: string) {
  return reply
    .type(type)
    .serializer((payload: unknown) => payload as string)
    .send(text);
}

function periodOf(body: { period?: string; from?: string; to?: string }) {
  try {
    return body.period ? quarter(body.period) : dayRange(body.from as string, body.to as string);
  } catch (error) {
    throw invalid([{ path: 'body.to', message: (error as Error).message }]);
  }
}

export async function reviewRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['security reviews'];

  routes.post('/reviews', {
    config: { roles: securityManagement },
    schema: {
      tags,
      operationId: 'startSecurityReview',
      summary: 'Start a security review',
      description: 'Start the security review of a period (a quarter or from–to days); the same period twice returns the running review',
      body: reviewStartRequest,
      response: responses({ 202: reviewAccepted }),
    },
    handler: async (request, reply) => {
      const period = periodOf(request.body);
      const input: SecurityReviewInput = {
        period: period.label,
        from: period.from.toISOString(),
        to: period.to.toISOString(),
        ...(request.body.scope ? { scope: request.body.scope } : {}),
        requestedBy: request.actor.principalId,
        ...(request.body.deadlines ? { deadlines: request.body.deadlines } : {}),
      };
      const workflowId = makeReviewWorkflowId(period.label);
      const { started } = await startOnce(app.temporal.client, securityReviewWorkflowType, {
        workflowId,
        taskQueue: app.temporal.taskQueue,
        args: [input],
      });
      return reply.code(202).send({ id: period.label, workflowId, started });
    },
  });

  routes.get('/reviews', {
    config: { roles: reportReaders },
    schema: {
      tags,
      operationId: 'listSecurityReviews',
      summary: 'List security reviews',
      description: 'Security reviews, latest period first',
      querystring: reviewListQuery,
      response: responses({ 200: z.object({ items: z.array(reviewSummary) }) }),
    },
    handler: async (request) => ({ items: (await listReviews(app.db, request.query.limit)).map(toReviewSummary) }),
  });

  routes.get('/reviews/schedule', {
    // 404 while the quarterly Schedule does not exist.
    config: { roles: securityManagement, alsoAnswers: [404] },
    schema: {
      tags,
      operationId: 'getSecurityReviewSchedule',
      summary: 'Read the quarterly review Schedule',
      description: `The Schedule ${reviewScheduleId} that starts the quarterly review, with its next run times`,
      response: responses({ 200: scheduleView }),
    },
    handler: async () => {
      const description = await describeReviewSchedule(app.temporal.client);
      if (!description) throw notFound('schedule', reviewScheduleId);
      return toScheduleView(description);
    },
  });

  routes.put('/reviews/schedule', {
    config: { roles: securityManagement },
    schema: {
      tags,
      operationId: 'putSecurityReviewSchedule',
      summary: 'Set the quarterly review Schedule',
      description: `Create or change the Schedule ${reviewScheduleId}: cron expressions or an interval (default: 06:00 UTC on the first day of each quarter)`,
      body: scheduleRequest,
      response: responses({ 200: scheduleView }),
    },
    handler: async (request) => {
      const { cronExpressions, every, paused, securityManager, deadlines } = request.body;
      const input: ScheduledReviewInput = {
        cadence: every ? { every: [every] } : { cronExpressions: cronExpressions ?? quarterlyReviewCron },
        securityManager: securityManager ?? request.actor.principalId,
        ...(deadlines ? { deadlines } : {}),
      };
      return toScheduleView(await putReviewSchedule(app.temporal.client, app.temporal.taskQueue, input, paused));
    },
  });

  routes.get('/reviews/:id', {
    config: { roles: reportReaders },
    schema: {
      tags,
      operationId: 'getSecurityReview',
      summary: 'Read a security review',
      description: "One security review: where it stands, with the workflow's live step and open tasks",
      params: reviewParams,
      response: responses({ 200: reviewDetail }),
    },
    handler: async (request) => {
      const review = await findReview(app.db, request.params.id);
      if (!review) throw notFound('security review', request.params.id);
      const live = await liveReviewState(app.temporal.client, review.workflow_id);
      return {
        ...toReviewSummary(review),
        live: live && { step: live.step, openTaskIds: live.openTaskIds, signOffRounds: live.signOffRounds },
      };
    },
  });

  routes.get('/reviews/:id/report', {
    // The inbox links here: a signed-in reader opens the HTML report with the session cookie.
    config: { roles: reportReaders, credentials: ['bearer', 'session'] },
    schema: {
      tags,
      operationId: 'getSecurityReport',
      summary: 'Read the IT Security Report',
      description:
        'The IT Security Report: JSON, or Markdown (Accept: text/markdown), or a self-contained HTML page with KPI charts (Accept: text/html)',
      params: reviewParams,
      response: responses({
        200: {
          description: 'The report, in the media type the Accept header asks for',
          content: {
            'application/json': { schema: securityReport },
            'text/markdown': { schema: z.string() },
            'text/html': { schema: z.string() },
          },
        },
      }),
    },
    handler: async (request, reply) => {
      const review = await findReview(app.db, request.params.id);
      if (!review) throw notFound('security review', request.params.id);
      const report = await currentReport(app.db, review);
      const accept = request.headers.accept ?? '';
      if (accept.includes('text/html')) {
        return sendDocument(reply.header('content-security-policy', reportPagePolicy), 'text/html; charset=utf-8', reportHtml(report));
      }
      if (accept.includes('text/markdown')) {
        return sendDocument(reply, 'text/markdown; charset=utf-8', reportMarkdown(report));
      }
      return report;
    },
  });

  routes.get('/kpis', {
    config: { roles: reportReaders },
    schema: {
      tags,
      operationId: 'getKpis',
      summary: "Compute the report's KPIs",
      description: "The report's measures, computed live over whole days from–to (both included); `service` narrows the scope",
      querystring: kpiQuery,
      response: responses({ 200: kpiResponse }),
    },
    handler: async (request) => {
      let range: ReturnType<typeof dayRange>;
      try {
        range = dayRange(request.query.from, request.query.to);
      } catch (error) {
        throw invalid([{ path: 'querystring.to', message: (error as Error).message }]);
      }
      const period = measurePeriod(range.from, range.to);
      const measures = await computeMeasures(app.db, period, request.query.service ?? null);
      return { from: period.from.toISOString(), to: period.to.toISOString(), asOf: period.asOf.toISOString(), measures };
    },
  });
}
