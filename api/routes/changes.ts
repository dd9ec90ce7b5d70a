import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { callbackSettings } from '../../config';
import { recordAudit } from '../../db/audit';
import { currentImpactRules } from '../../db/change-impact-rules';
import { problemContext } from '../../db/problems';
import { changeDetailsOf, changeHistory, classifiedCis, findChange, listChanges } from '../../db/changes';
import type { Change } from '../../db/database';
import { pageOf } from '../../db/pagination';
import {
  callbackUrlProblem,
  changeGateInput,
  changeSecurityGateWorkflowType,
  makeChangeWorkflowId,
  requestedDetails,
  type ChangeGateInput,
  type ChangeSubmission,
} from '../../domain/change';
import { assessOnCis, scheduleProblems, withProblemContext, type ChangeDetails } from '../../domain/change-risk';
import type { Actor } from '../../domain/roles';
import { changeLiveState } from '../../http/change-live-state';
import { pageRequest } from '../../http/paging';
import { invalid, notFound } from '../../http/problem';
import { changeReaders, changeRequesters, evidenceProviders } from '../../http/roles';
import { updateRefusal } from '../../http/update-refusal';
import { fromServiceNow, jiraChangeSchema, parseJiraFieldMap, serviceNowChange, type ItsmChange } from '../../schemas/change-sources';
import {
  amendmentBody,
  changeAccepted,
  changeDetail,
  changeListQuery,
  changePage,
  changeRequestBody,
  changeUpdated,
  changeView,
  evidenceBody,
  implementedBody,
} from '../../schemas/changes';
import { responses, uuidParam } from '../../schemas/common';
import { idempotencyHeaders } from '../../schemas/idempotency';
import { startOnce } from '../../temporal/start';
import { addEvidenceUpdate, amendChangeUpdate, reportImplementedUpdate } from '../../workflows/change/definitions';
import { idempotencyScopes, idempotent } from '../idempotency';
import { toTaskView } from '../views';

const callbackQuery = z.strictObject({
  callbackUrl: z.url().max(2000).optional().describe('every decision is POSTed here, signed; its origin must be allowed by configuration'),
});

export function toChangeView(change: Change) {
  return {
    id: change.id,
    workflowId: change.workflow_id,
    ...changeDetailsOf(change),
    evidence: change.evidence,
    requester: change.requester,
    source: change.source,
    externalRef: change.external_ref,
    callbackUrl: change.callback_url,
    status: change.status,
    risk: change.risk,
    assessment: change.assessment,
    revision: change.revision,
    verification: change.verification,
    incidentId: change.incident_id,
    createdAt: change.created_at.toISOString(),
    updatedAt: change.updated_at.toISOString(),
  };
}

interface GateRequest {
  actor: Actor;
  idempotencyKey: string | undefined;
  /** The request as the client sent it, fingerprinted with the idempotency key. */
  body: unknown;
  /** The CIs as the request names them (ids or names), resolved against the CMDB. */
  ciRefs: string[];
  submission: ChangeSubmission;
}

export async function changeRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const callbacks = callbackSettings(app.config);

  const checkCallback = (url: string | null, path: string) => {
    const problem = url === null ? undefined : callbackUrlProblem(url, callbacks);
    if (problem) throw invalid([{ path, message: problem }]);
  };

  const checkSchedule = (details: Pick<ChangeDetails, 'plannedStart' | 'plannedEnd'>, prefix: string) => {
    const problems = scheduleProblems(details, Date.now());
    if (problems.length) throw invalid(problems.map(({ field, message }) => ({ path: `${prefix}${field}`, message })));
  };

  /**
   * The gate's own assessment: the CMDB classification and the content rules in force, beside what
   * the requester declared; every named CI must exist and be active.
   */
  const assess = async (details: ChangeDetails, ciRefs: string[], path: string) => {
    const [cis, rules, problem] = await Promise.all([
      classifiedCis(app.db, ciRefs),
      currentImpactRules(app.db),
      details.problemId ? problemContext(app.db, details.problemId) : undefined,
    ]);
    const { unknownRefs, affectedCis, assessment } = assessOnCis(details, ciRefs, cis, rules);
    if (unknownRefs.length) throw invalid(unknownRefs.map((ref) => ({ path, message: `no active configuration item ${ref}` })));
    // A problem id in Warden's form must name a Warden problem; any other form is the ITSM tool's own.
    if (problem === null) throw invalid([{ path: 'body.problemId', message: `no problem ${details.problemId}` }]);
    return { affectedCis, assessment: problem ? withProblemContext(assessment, problem) : assessment };
  };

  const submit = async ({ actor, idempotencyKey, body, ciRefs, submission }: GateRequest, reply: FastifyReply) => {
    checkCallback(submission.callbackUrl, 'body.callbackUrl');
    checkSchedule(submission.fields, 'body.');
    const { resourceId, request } = await idempotent<ChangeGateInput>(
      app.db,
      { scope: idempotencyScopes.change, principalId: actor.principalId, key: idempotencyKey, body },
      async () => {
        const resolved = await assess(requestedDetails(submission.fields), ciRefs, 'body.affectedCis');
        const changeId = randomUUID();
        return { resourceId: changeId, request: changeGateInput(changeId, submission, resolved, app.config.WARDEN_CHANGE_REVIEW_LIMIT) };
      },
    );
    const workflowId = makeChangeWorkflowId(resourceId);
    // Started from the stored request: a duplicate or a retry after a crash repeats the same start.
    await startOnce(app.temporal.client, changeSecurityGateWorkflowType, {
      workflowId,
      taskQueue: app.temporal.taskQueue,
      args: [request],
    });
    return reply
      .code(202)
      .header('location', `/changes/${resourceId}`)
      .send({
        id: resourceId,
        workflowId,
        risk: request.assessment.risk,
        reviewRequired: request.assessment.reviewRequired,
        reasons: request.assessment.reasons,
        ...(request.assessment.impact ? { impact: request.assessment.impact } : {}),
      });
  };

  /** An ITSM tool's change: the tool's own id is the idempotency key unless the caller sends one. */
  const submitFromItsm = (
    actor: Actor,
    mapped: ItsmChange,
    idempotencyKey: string | undefined,
    body: unknown,
    callbackUrl: string | undefined,
    reply: FastifyReply,
  ) =>
    submit(
      {
        actor,
        idempotencyKey: idempotencyKey ?? mapped.naturalKey,
        body,
        ciRefs: mapped.ciRefs,
        submission: {
          requester: actor.principalId,
          source: mapped.source,
          externalRef: mapped.externalRef,
          externalRequester: mapped.externalRequester,
          fields: mapped.fields,
          callbackUrl: callbackUrl ?? null,
        },
      },
      reply,
    );

  /** Runs a change Update; a validator's refusal becomes a 403/409 and is kept in the audit trail. */
  const updateGate = async <T>(
    change: Change,
    actor: Actor,
    action: string,
    run: (handle: ReturnType<typeof app.temporal.client.workflow.getHandle>) => Promise<T>,
  ) => {
    try {
      return await run(app.temporal.client.workflow.getHandle(change.workflow_id));
    } catch (error) {
      const refusal = updateRefusal(error, 'the security gate of this change has finished');
      if (!refusal) throw error;
      const { problem } = refusal;
      await recordAudit(app.db, {
        actor: actor.principalId,
        action: 'change.update_refused',
        subjectType: 'change',
        subjectId: change.id,
        details: { attempted: action, status: problem.status, reason: problem.detail },
      });
      throw problem;
    }
  };

  const loadChange = async (id: string) => {
    const change = await findChange(app.db, id);
    if (!change) throw notFound('change', id);
    return change;
  };

  routes.post('/changes', {
    config: { roles: changeRequesters },
    schema: {
      tags: ['changes'],
      operationId: 'submitChange',
      summary: 'Submit a change to the security gate',
      description: 'Put a change through the security gate; the caller is its requester',
      headers: idempotencyHeaders,
      body: changeRequestBody,
      response: responses({ 202: changeAccepted }),
    },
    handler: async (request, reply) => {
      const { affectedCis, callbackUrl, ...fields } = request.body;
      return submit(
        {
          actor: request.actor,
          idempotencyKey: request.headers['idempotency-key'],
          body: request.body,
          ciRefs: affectedCis,
          submission: {
            requester: request.actor.principalId,
            source: 'api',
            externalRef: null,
            externalRequester: null,
            fields,
            callbackUrl: callbackUrl ?? null,
          },
        },
        reply,
      );
    },
  });

  routes.post('/changes/servicenow', {
    config: { roles: changeRequesters },
    schema: {
      tags: ['changes'],
      operationId: 'receiveServiceNowChange',
      summary: 'Receive a ServiceNow change',
      description: 'A change request as a ServiceNow outbound REST message sends it; sys_id is the default idempotency key',
      headers: idempotencyHeaders,
      querystring: callbackQuery,
      body: serviceNowChange,
      response: responses({ 202: changeAccepted }),
    },
    handler: async (request, reply) =>
      submitFromItsm(
        request.actor,
        fromServiceNow(request.body),
        request.headers['idempotency-key'],
        request.body,
        request.query.callbackUrl,
        reply,
      ),
  });

  routes.post('/changes/jira', {
    config: { roles: changeRequesters },
    schema: {
      tags: ['changes'],
      operationId: 'receiveJiraChange',
      summary: 'Receive a Jira change',
      description: 'A change request as a Jira Service Management issue webhook sends it; the issue id is the default idempotency key',
      headers: idempotencyHeaders,
      querystring: callbackQuery,
      body: jiraChangeSchema(parseJiraFieldMap(app.config.WARDEN_JIRA_FIELDS)),
      response: responses({ 202: changeAccepted }),
    },
    handler: async (request, reply) =>
      submitFromItsm(request.actor, request.body, request.headers['idempotency-key'], request.body, request.query.callbackUrl, reply),
  });

  routes.get('/changes', {
    config: { roles: changeReaders },
    schema: {
      tags: ['changes'],
      operationId: 'listChanges',
      summary: 'List changes',
      description: 'Changes, oldest first, filtered; cursor-paginated',
      querystring: changeListQuery,
      response: responses({ 200: changePage }),
    },
    handler: async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const rows = await listChanges(app.db, filter, pageRequest({ limit, cursor }));
      const { items, nextCursor } = pageOf(rows, limit);
      return { items: items.map(toChangeView), nextCursor };
    },
  });

  routes.get('/changes/:id', {
    config: { roles: changeReaders },
    schema: {
      tags: ['changes'],
      operationId: 'getChange',
      summary: 'Read a change',
      description: 'One change with its decisions, reviewers, evidence, timeline and the gate’s live state',
      params: uuidParam,
      response: responses({ 200: changeDetail }),
    },
    handler: async (request) => {
      const change = await loadChange(request.params.id);
      const [history, live] = await Promise.all([
        changeHistory(app.db, change.id),
        changeLiveState(app.temporal.client, change.workflow_id),
      ]);
      return {
        ...toChangeView(change),
        decisions: history.decisions.map((d) => ({
          key: d.decision_key,
          revision: d.revision,
          outcome: d.outcome,
          decidedBy: d.decided_by,
          reason: d.reason,
          taskId: d.task_id,
          decidedAt: new Date(d.decided_at).toISOString(),
        })),
        reviewers: history.tasks.flatMap((task) =>
          task.decisions.map((d) => ({
            principalId: d.principalId,
            outcome: d.outcome,
            revision: typeof task.details.revision === 'number' ? task.details.revision : null,
            at: d.at,
          })),
        ),
        reviews: history.tasks.map(toTaskView),
        callbacks: history.deliveries.map((d) => ({
          eventKey: d.event_key,
          url: d.url,
          status: d.status,
          attempts: d.attempts,
          lastStatusCode: d.last_status_code,
          lastError: d.last_error,
          deliveredAt: d.delivered_at?.toISOString() ?? null,
        })),
        timeline: history.events.map((e) => ({
          id: e.id,
          occurredAt: e.occurred_at.toISOString(),
          actor: e.actor,
          action: e.action,
          details: e.details,
        })),
        live,
      };
    },
  });

  routes.patch('/changes/:id', {
    config: { roles: changeRequesters },
    schema: {
      tags: ['changes'],
      operationId: 'amendChange',
      summary: 'Amend a sent-back change',
      description: 'The requester amends a change a reviewer sent back; the review restarts on the amended change',
      params: uuidParam,
      body: amendmentBody,
      response: responses({ 200: changeUpdated }),
    },
    handler: async (request) => {
      const change = await loadChange(request.params.id);
      const { revision, evidence, ...changes } = request.body;
      if (Object.keys(changes).length === 0 && !evidence?.length) throw invalid([{ path: 'body', message: 'amend at least one field' }]);
      const amended: ChangeDetails = { ...changeDetailsOf(change), ...changes };
      if (changes.plannedStart !== undefined || changes.plannedEnd !== undefined) checkSchedule(amended, 'body.');
      const { affectedCis, assessment } = await assess(amended, amended.affectedCis, 'body.affectedCis');
      const { principalId, roles } = request.actor;
      const result = await updateGate(change, request.actor, 'amend', (handle) =>
        handle.executeUpdate(amendChangeUpdate, {
          args: [
            {
              actor: { principalId, roles },
              revision: revision ?? change.revision,
              changes: { ...changes, ...(changes.affectedCis ? { affectedCis } : {}) },
              ...(evidence ? { evidence } : {}),
              assessment,
            },
          ],
        }),
      );
      return { id: change.id, ...result };
    },
  });

  routes.post('/changes/:id/evidence', {
    config: { roles: evidenceProviders },
    schema: {
      tags: ['changes'],
      operationId: 'attachChangeEvidence',
      summary: 'Attach evidence to a change',
      description: 'Attach evidence (a penetration test, a configuration review) while the change is in review',
      params: uuidParam,
      body: evidenceBody,
      response: responses({ 200: z.object({ evidence: changeView.shape.evidence }) }),
    },
    handler: async (request) => {
      const change = await loadChange(request.params.id);
      const { principalId, roles } = request.actor;
      const evidence = await updateGate(change, request.actor, 'add_evidence', (handle) =>
        handle.executeUpdate(addEvidenceUpdate, { args: [{ actor: { principalId, roles }, evidence: request.body.evidence }] }),
      );
      return { evidence };
    },
  });

  routes.post('/changes/:id/implemented', {
    config: { roles: changeRequesters },
    schema: {
      tags: ['changes'],
      operationId: 'reportChangeImplemented',
      summary: 'Report a change implemented',
      description: 'The requester reports an approved change implemented; the gate then verifies the baseline of its CIs',
      params: uuidParam,
      body: implementedBody,
      response: responses({ 202: changeUpdated }),
    },
    handler: async (request, reply) => {
      const change = await loadChange(request.params.id);
      const { principalId, roles } = request.actor;
      const result = await updateGate(change, request.actor, 'report_implemented', (handle) =>
        handle.executeUpdate(reportImplementedUpdate, {
          args: [
            {
              actor: { principalId, roles },
              implementedAt: request.body.implementedAt ?? new Date().toISOString(),
              notes: request.body.notes ?? null,
            },
          ],
        }),
      );
      return reply.code(202).send({ id: change.id, ...result });
    },
  });
}
