import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { ScheduleAlreadyRunning, type ScheduleOptionsStartWorkflowAction, type ScheduleUpdateOptions } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import type { Kysely } from 'kysely';
import {
  accessReviewKpi,
  campaignItems,
  findVisibleCampaign,
  listCampaigns,
  provisioningActionsFor,
  scopeReviewCadences,
} from '../../db/access';
import type { AccessReviewCampaign } from '../../db/access-tables';
import type { Database } from '../../db/database';
import { pageOf } from '../../db/pagination';
import {
  accessReviewCampaignWorkflowType,
  makeAccessReviewScheduleId,
  makeAccessReviewWorkflowId,
  type AccessReviewCampaignInput,
  type CampaignScope,
} from '../../domain/access';
import { accountFlags, type AccountFlag } from '../../domain/access-review';
import { durationMs, type DurationText } from '../../domain/duration';
import {
  accessReviewKpi as accessReviewKpiView,
  campaignAccepted,
  campaignBody,
  campaignDetail,
  campaignPage,
  kpiPeriodQuery,
  scheduleBody,
  scheduleView,
} from '../../schemas/access';
import { pageQuery, responses } from '../../schemas/common';
import { startOnce } from '../../temporal/start';
import { idempotencyKey, idempotent } from '../idempotency';
import { invalid, notFound } from '../../http/problem';
import { accessReaders, auditReaders, securityManagement } from '../../http/roles';
import { cursorFrom } from '../../http/paging';
import { iso, toProvisioningView } from '../views';

function toCampaignSummary(c: AccessReviewCampaign) {
  return {
    id: c.id,
    workflowId: c.workflow_id,
    scope: c.scope,
    systems: c.ci_ids,
    startedBy: c.started_by,
    status: c.status,
    deadlineAt: c.deadline_at.toISOString(),
    completedAt: iso(c.completed_at),
    completedOnTime: c.completed_on_time,
    createdAt: c.created_at.toISOString(),
  };
}

/** The scope's SLA review cadences; 400 naming what does not exist. */
async function scopeCadences(db: Kysely<Database>, scope: CampaignScope): Promise<DurationText[]> {
  const { cadences, unknown } = await scopeReviewCadences(db, scope);
  if (!unknown.length) return cadences;
  if ('serviceId' in scope) throw invalid([{ path: 'body.serviceId', message: `no service ${scope.serviceId}` }]);
  const missing = scope.ciIds.map((id, i) => ({ id, i })).filter(({ id }) => unknown.includes(id));
  throw invalid(missing.map(({ id, i }) => ({ path: `body.ciIds.${i}`, message: `no configuration item ${id}` })));
}

/** One schedule per scope: a service, or a set of systems (order does not matter). */
function scopeKey(scope: CampaignScope): string {
  if ('serviceId' in scope) return `service-${scope.serviceId}`;
  return `systems-${createHash('sha256')
    .update([...scope.ciIds].sort().join(','))
    .digest('hex')
    .slice(0, 16)}`;
}

export async function accessReviewRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.post('/access-reviews', {
    config: { roles: securityManagement },
    schema: {
      tags: ['access-reviews'],
      operationId: 'startAccessReview',
      summary: 'Start an access review campaign',
      description: 'Start an access review campaign now over systems or a service (send Idempotency-Key to retry safely)',
      body: campaignBody,
      headers: z.object({ 'idempotency-key': z.string().max(200).optional() }),
      response: responses({ 202: campaignAccepted }),
    },
    handler: async (request, reply) => {
      const { deadline, escalationPeriod, unusedAfterDays, ...scope } = request.body;
      await scopeCadences(app.db, scope);
      const work = await idempotent(
        app.db,
        { scope: 'access-reviews', principalId: request.actor.principalId, key: idempotencyKey(request) },
        () => {
          const campaignId = randomUUID();
          const input: AccessReviewCampaignInput = {
            campaignId,
            scope,
            startedBy: request.actor.principalId,
            deadline,
            escalationPeriod,
            unusedAfterDays,
          };
          return { resourceId: campaignId, request: input };
        },
      );
      const campaignId = work.request.campaignId as string;
      const workflowId = makeAccessReviewWorkflowId(campaignId);
      await startOnce(app.temporal.client, accessReviewCampaignWorkflowType, {
        workflowId,
        taskQueue: app.temporal.taskQueue,
        args: [work.request],
      });
      return reply.code(202).send({ id: campaignId, workflowId });
    },
  });

  routes.put('/access-reviews/schedule', {
    config: { roles: securityManagement },
    schema: {
      tags: ['access-reviews'],
      operationId: 'putAccessReviewSchedule',
      summary: 'Set an access review Schedule',
      description:
        'Create or change the Temporal Schedule that starts a campaign over a scope at its cadence (default: the SLA reviewCadence)',
      body: scheduleBody,
      response: responses({ 200: scheduleView }),
    },
    handler: async (request) => {
      const { scope, every, ...options } = request.body;
      const cadences = await scopeCadences(app.db, scope);
      // Several services' SLAs: the strictest (shortest) cadence keeps every one of them.
      const cadence = every ?? cadences.reduce((a, b) => (durationMs(b) < durationMs(a) ? b : a));
      const key = scopeKey(scope);
      const scheduleId = makeAccessReviewScheduleId(key);
      const input: AccessReviewCampaignInput = { scope, startedBy: `schedule:${scheduleId}`, ...options };
      const definition: ScheduleUpdateOptions<ScheduleOptionsStartWorkflowAction<Workflow>> = {
        spec: { intervals: [{ every: durationMs(cadence) }] },
        // Temporal appends the action time to this id: every run is its own campaign, `access-review/<key>-<time>`.
        action: {
          type: 'startWorkflow',
          workflowType: accessReviewCampaignWorkflowType,
          workflowId: makeAccessReviewWorkflowId(key),
          taskQueue: app.temporal.taskQueue,
          args: [input],
        },
        state: { note: `access review of ${key}, set by ${request.actor.principalId}` },
      };
      try {
        await app.temporal.client.schedule.create({ scheduleId, ...definition });
      } catch (error) {
        if (!(error instanceof ScheduleAlreadyRunning)) throw error;
        await app.temporal.client.schedule.getHandle(scheduleId).update(() => definition);
      }
      const described = await app.temporal.client.schedule.getHandle(scheduleId).describe();
      return { scheduleId, every: cadence, scope, nextRunAt: iso(described.info.nextActionTimes[0] ?? null) };
    },
  });

  routes.get('/access-reviews', {
    config: { roles: accessReaders },
    schema: {
      tags: ['access-reviews'],
      operationId: 'listAccessReviews',
      summary: 'List access review campaigns',
      description: 'Access review campaigns you may see, newest first',
      querystring: z.strictObject(pageQuery),
      response: responses({ 200: campaignPage }),
    },
    handler: async (request) => {
      const { limit, cursor } = request.query;
      const rows = await listCampaigns(app.db, request.actor, { limit, after: cursorFrom(cursor) });
      const { items, nextCursor } = pageOf(rows, limit);
      return { items: items.map(toCampaignSummary), nextCursor };
    },
  });

  routes.get('/access-reviews/:id', {
    config: { roles: accessReaders },
    schema: {
      tags: ['access-reviews'],
      operationId: 'getAccessReview',
      summary: 'Read an access review campaign',
      description: 'One campaign: progress, findings per flag, every account with its flags and decision, and the provisioning actions',
      params: z.strictObject({ id: z.string().min(1).max(300) }),
      response: responses({ 200: campaignDetail }),
    },
    handler: async (request) => {
      const campaign = await findVisibleCampaign(app.db, request.actor, request.params.id);
      if (!campaign) throw notFound('access review', request.params.id);
      const [items, actions] = await Promise.all([
        campaignItems(app.db, request.actor, campaign.id),
        provisioningActionsFor(app.db, { type: 'access_review', id: campaign.id }),
      ]);
      const findings = Object.fromEntries(accountFlags.map((flag) => [flag, items.filter((i) => i.flags.includes(flag)).length])) as Record<
        AccountFlag,
        number
      >;
      const reviewers = new Set(items.map((i) => i.reviewer));
      const pendingReviewers = new Set(items.filter((i) => i.decision === null).map((i) => i.reviewer));
      return {
        ...toCampaignSummary(campaign),
        progress: {
          accounts: items.length,
          decided: items.filter((i) => i.decision !== null).length,
          flagged: items.filter((i) => i.flags.length > 0).length,
          reviewers: reviewers.size,
          reviewersDone: reviewers.size - pendingReviewers.size,
        },
        findings,
        items: items.map((i) => ({
          system: i.ci_id,
          account: i.account_id,
          reviewer: i.reviewer,
          accountOwner: i.account_owner,
          kind: i.kind,
          employmentStatus: i.employment_status,
          entitlements: i.entitlements,
          flags: i.flags,
          sodConflicts: i.sod_conflicts,
          decision: i.decision,
          keptEntitlements: i.kept_entitlements,
          decidedBy: i.decided_by,
          decidedAt: iso(i.decided_at),
        })),
        provisioning: actions.map(toProvisioningView),
      };
    },
  });

  routes.get('/kpis/access-reviews', {
    config: { roles: auditReaders },
    schema: {
      tags: ['kpis'],
      operationId: 'getAccessReviewKpi',
      summary: 'Access reviews on schedule',
      description: 'Access reviews completed on schedule: campaigns due in [from, to), how many on time, percentage',
      querystring: kpiPeriodQuery,
      response: responses({ 200: accessReviewKpiView }),
    },
    handler: async (request) => accessReviewKpi(app.db, { from: new Date(request.query.from), to: new Date(request.query.to) }),
  });
}
