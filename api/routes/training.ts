import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import {
  assignmentsOf,
  campaignsAwaiting,
  findTrainingCampaign,
  listTrainingCampaigns,
  recordTrainingCompletions,
  type TrainingCompletion,
} from '../../db/training';
import {
  lmsCompletionVerbs,
  makeTrainingCampaignWorkflowId,
  trainingCampaignWorkflowType,
  type CompletionSource,
  type TrainingCampaignInput,
} from '../../domain/training';
import { importBody, parseImport, peopleImport } from '../../schemas/access';
import { responses, uuidParam } from '../../schemas/common';
import {
  completionImport,
  completionResult,
  lmsResult,
  lmsStatementBody,
  trainingCampaignAccepted,
  trainingCampaignBody,
  trainingCampaignPage,
  trainingCampaignQuery,
  trainingCampaignView,
} from '../../schemas/training';
import { startOnce } from '../../temporal/start';
import { pageRequest } from '../../http/paging';
import { invalid, notFound } from '../../http/problem';
import { trainingCompletionSources, trainingManagers, trainingReaders } from '../../http/roles';
import { pageOf } from '../../db/pagination';
import { idempotencyKey, idempotent } from '../idempotency';
import { completionsRecordedSignal } from '../../workflows/training/definitions';

const tags = ['training'];
const completionCsv = 'principal_id,completed_at (completed_at ISO 8601, empty for now)';
// A completion a few minutes ahead of this server's clock is a clock difference; further is a mistake.
const clockSkewMs = 5 * 60_000;

function toSummary(c: NonNullable<Awaited<ReturnType<typeof findTrainingCampaign>>>) {
  return {
    id: c.id,
    workflowId: c.workflow_id,
    title: c.title,
    courseId: c.course_id,
    dueAt: c.due_at.toISOString(),
    status: c.status,
    createdBy: c.created_by,
    createdAt: c.created_at.toISOString(),
    closedAt: c.closed_at?.toISOString() ?? null,
  };
}

/** Completion times given, or now; none may lie in the future. */
function completionsAt(rows: { principalId: string; completedAt?: string | undefined }[], pathOf: (index: number) => string) {
  const now = Date.now();
  const errors = rows.flatMap((row, index) =>
    row.completedAt && Date.parse(row.completedAt) > now + clockSkewMs ? [{ path: pathOf(index), message: 'lies in the future' }] : [],
  );
  if (errors.length) throw invalid(errors);
  return rows.map((row) => ({ principalId: row.principalId, completedAt: row.completedAt ?? new Date(now).toISOString() }));
}

export async function trainingRoutes(app: FastifyInstance) {
  /** Wakes the campaign to look again at who is outstanding; a closed campaign has nothing left to do. */
  async function tellCampaign(campaignId: string) {
    try {
      await app.temporal.client.workflow.getHandle(makeTrainingCampaignWorkflowId(campaignId)).signal(completionsRecordedSignal);
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
  }

  const routes = app.withTypeProvider<ZodTypeProvider>();
  // A CSV upload (`curl --data-binary @completions.csv -H 'content-type: text/csv'`) becomes `{ csv }`.
  app.addContentTypeParser('text/csv', { parseAs: 'string' }, (_request, body, done) => done(null, { csv: body }));

  routes.post('/training-campaigns', {
    config: { roles: trainingManagers },
    schema: {
      tags,
      operationId: 'startTrainingCampaign',
      summary: 'Start an awareness training campaign',
      description:
        'Assigns a training to an audience (roles, principals and/or a directory export), reminds the outstanding through the notifier until the due date, then escalates the overdue to their manager or the Security Manager (send Idempotency-Key to retry safely)',
      body: trainingCampaignBody,
      headers: z.object({ 'idempotency-key': z.string().max(200).optional() }),
      response: responses({ 202: trainingCampaignAccepted }),
    },
    handler: async (request, reply) => {
      const { audience, ...body } = request.body;
      const directory =
        audience.directoryExport === undefined
          ? { rows: [] }
          : parseImport(peopleImport, { csv: audience.directoryExport }, (row) => `person ${row.principalId}`);
      if ('errors' in directory) {
        throw invalid(
          directory.errors.map((e) => ({ path: `body.audience.directoryExport.${e.path.replace(/^csv\./, '')}`, message: e.message })),
        );
      }
      const work = await idempotent(
        app.db,
        { scope: 'training-campaigns', principalId: request.actor.principalId, key: idempotencyKey(request), body: request.body },
        () => {
          const campaignId = randomUUID();
          const input: TrainingCampaignInput = {
            campaignId,
            title: body.title,
            courseId: body.courseId,
            dueAt: new Date(body.dueAt).toISOString(),
            audience: {
              roles: audience.roles,
              principals: audience.principals,
              directory: directory.rows
                .filter((person) => person.status === 'active')
                .map((person) => ({ principalId: person.principalId, displayName: person.displayName, manager: person.manager })),
            },
            createdBy: request.actor.principalId,
            securityManager: body.securityManager ?? request.actor.principalId,
            ...(body.reminderEvery ? { reminderEvery: body.reminderEvery } : {}),
          };
          return { resourceId: campaignId, request: input };
        },
      );
      const workflowId = makeTrainingCampaignWorkflowId(work.resourceId);
      await startOnce(app.temporal.client, trainingCampaignWorkflowType, {
        workflowId,
        taskQueue: app.temporal.taskQueue,
        args: [work.request],
      });
      return reply.code(202).send({ id: work.resourceId, workflowId });
    },
  });

  routes.get('/training-campaigns', {
    config: { roles: trainingReaders },
    schema: {
      tags,
      operationId: 'listTrainingCampaigns',
      summary: 'Training campaigns, newest first',
      description: 'Training campaigns, newest first, optionally only open or closed ones; paged with `cursor`',
      querystring: trainingCampaignQuery,
      response: responses({ 200: trainingCampaignPage }),
    },
    handler: async (request) => {
      const page = pageOf(
        await listTrainingCampaigns(app.db, { ...pageRequest(request.query), status: request.query.status }),
        request.query.limit,
      );
      return { items: page.items.map(toSummary), nextCursor: page.nextCursor };
    },
  });

  routes.get('/training-campaigns/:id', {
    config: { roles: trainingReaders },
    schema: {
      tags,
      operationId: 'getTrainingCampaign',
      summary: 'One training campaign with who completed it',
      description:
        'A campaign, its completion rate, and every assignment: completed when and how, reminders sent, overdue, escalated to whom',
      params: uuidParam,
      response: responses({ 200: trainingCampaignView }),
    },
    handler: async (request) => {
      const campaign = await findTrainingCampaign(app.db, request.params.id);
      if (!campaign) throw notFound('training campaign', request.params.id);
      const assignments = await assignmentsOf(app.db, campaign.id);
      const now = Date.now();
      const completed = assignments.filter((a) => a.completed_at !== null).length;
      return {
        ...toSummary(campaign),
        completion: { assigned: assignments.length, completed, rate: assignments.length ? completed / assignments.length : null },
        assignments: assignments.map((a) => ({
          principalId: a.principal_id,
          manager: a.manager,
          completedAt: a.completed_at?.toISOString() ?? null,
          completionSource: a.completion_source,
          recordedBy: a.recorded_by,
          reminders: a.reminders,
          overdue: a.completed_at === null && campaign.due_at.getTime() <= now,
          escalatedAt: a.escalated_at?.toISOString() ?? null,
          escalatedTo: a.escalated_to,
        })),
      };
    },
  });

  routes.post('/training-campaigns/:id/completions', {
    config: { roles: trainingManagers },
    schema: {
      tags,
      operationId: 'recordTrainingCompletions',
      summary: 'Record completions of a campaign (JSON or CSV)',
      description:
        'Records who completed the training: a JSON list, or a CSV import (`content-type: text/csv`); all or nothing, every unknown or unassigned principal named. A completion already recorded stands.',
      params: uuidParam,
      body: importBody('completions', completionCsv).meta({
        examples: [
          { completions: [{ principalId: 'pat', completedAt: '2026-12-01T10:00:00Z' }] },
          { csv: 'principal_id,completed_at\r\npat,2026-12-01T10:00:00Z\r\n' },
        ],
      }),
      response: responses({ 200: completionResult }),
    },
    handler: async (request) => {
      const campaign = await findTrainingCampaign(app.db, request.params.id);
      if (!campaign) throw notFound('training campaign', request.params.id);
      const parsed = parseImport(completionImport, request.body, (row) => `principal ${row.principalId}`);
      if ('errors' in parsed) throw invalid(parsed.errors.map((e) => ({ path: `body.${e.path}`, message: e.message })));
      const source: CompletionSource = 'csv' in request.body ? 'csv' : 'api';
      const rowPath = (index: number) =>
        source === 'csv' ? `body.csv.row.${index + 1}.completedAt` : `body.completions.${index}.completedAt`;
      const completions: TrainingCompletion[] = completionsAt(parsed.rows, rowPath);
      const result = await recordTrainingCompletions(app.db, {
        campaignId: campaign.id,
        completions,
        source,
        actor: request.actor.principalId,
      });
      if (result.unassigned.length) {
        throw invalid(
          completions.flatMap((c, index) =>
            result.unassigned.includes(c.principalId)
              ? [
                  {
                    path: source === 'csv' ? `body.csv.row.${index + 1}.principalId` : `body.completions.${index}.principalId`,
                    message: `${c.principalId} is not assigned this training`,
                  },
                ]
              : [],
          ),
        );
      }
      if (result.recorded.length) await tellCampaign(campaign.id);
      return {
        recorded: result.recorded,
        alreadyCompleted: completions.map((c) => c.principalId).filter((id) => !result.recorded.includes(id)),
      };
    },
  });

  routes.post('/training/lms-statements', {
    config: { roles: trainingCompletionSources },
    schema: {
      tags,
      operationId: 'receiveLmsStatement',
      summary: "A learning platform's completion (an xAPI statement)",
      description:
        "The LMS webhook, one xAPI statement per request (as LRS statement forwarding sends them). A `completed` or `passed` statement records the completion of the learner (`actor.account.name`, a principal id) in every campaign of the course (`object.id`) that still awaits them; another verb, or a learner who owes nothing, is answered with the reason under `ignored`. Authenticated with the LMS's own token (role `reporter`).",
      body: lmsStatementBody,
      response: responses({ 200: lmsResult }),
    },
    handler: async (request) => {
      const statement = request.body;
      const [completion] = completionsAt(
        [{ principalId: statement.actor.account.name, completedAt: statement.timestamp }],
        () => 'body.timestamp',
      ) as [TrainingCompletion];
      if (!(lmsCompletionVerbs as readonly string[]).includes(statement.verb.id) || statement.result?.completion === false) {
        return { recorded: [], ignored: `verb ${statement.verb.id} does not complete a course` };
      }
      const campaigns = await campaignsAwaiting(app.db, statement.object.id, completion.principalId);
      if (campaigns.length === 0) {
        return { recorded: [], ignored: `${completion.principalId} owes no open training of course ${statement.object.id}` };
      }
      const recorded: { principalId: string; campaignId: string }[] = [];
      for (const campaignId of campaigns) {
        const result = await recordTrainingCompletions(app.db, {
          campaignId,
          completions: [completion],
          source: 'lms',
          actor: request.actor.principalId,
        });
        if (result.recorded.length) {
          recorded.push({ principalId: completion.principalId, campaignId });
          await tellCampaign(campaignId);
        }
      }
      return { recorded, ignored: null };
    },
  });
}
