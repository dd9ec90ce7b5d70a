import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { findChange } from '../../db/changes';
import type { Actor } from '../../domain/roles';
import { pageOf } from '../../db/pagination';
import {
  createProblem,
  findVisibleProblem,
  involvesSecurityManagement,
  listProblems,
  problemLinks,
  problemReferenceProblems,
  updateProblem,
  type Problem,
} from '../../db/problems';
import {
  makeProblemCheckWorkflowId,
  problemCheckDeadline,
  problemSecurityCheckWorkflowType,
  type ProblemCheckInput,
} from '../../domain/problem';
import { pageRequest } from '../../http/paging';
import { conflict, invalid, notFound } from '../../http/problem';
import { problemManagers, problemReaders } from '../../http/roles';
import { responses, uuidParam } from '../../schemas/common';
import { idempotencyHeaders } from '../../schemas/idempotency';
import {
  problemCreateBody,
  problemDetail,
  problemListQuery,
  problemPage,
  problemPatchBody,
  problemView,
  proposalAccepted,
  proposalBody,
} from '../../schemas/problems';
import { startOnce } from '../../temporal/start';
import { idempotencyScopes, idempotent } from '../idempotency';

export function toProblemView(problem: Problem) {
  return {
    id: problem.id,
    title: problem.title,
    description: problem.description,
    status: problem.status,
    serviceIds: problem.affected_service_ids,
    ciIds: problem.affected_ci_ids,
    securityRisk: problem.security_risk,
    rootCause: problem.root_cause,
    workaround: problem.workaround,
    solution: problem.solution,
    parentId: problem.parent_id,
    source: { type: problem.source_type, id: problem.source_id },
    createdBy: problem.created_by,
    createdAt: problem.created_at.toISOString(),
    updatedAt: problem.updated_at.toISOString(),
  };
}

/** Problems (ITIL problem management): records, their links, and the security check of every workaround and solution. */
export async function problemRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['problems'];

  /** Unknown and invisible to the caller answer alike, so a 404 leaks no problem's existence. */
  const loadProblem = async (actor: Actor, id: string) => {
    const problem = await findVisibleProblem(app.db, actor, id);
    if (!problem) throw notFound('problem', id);
    return problem;
  };

  const checkReferences = async (problemId: string, fields: Parameters<typeof problemReferenceProblems>[2]) => {
    const problems = await problemReferenceProblems(app.db, problemId, fields);
    if (problems.length) throw invalid(problems);
  };

  routes.post('/problems', {
    config: { roles: problemManagers },
    schema: {
      operationId: 'createProblem',
      tags,
      summary: 'Record a problem',
      description:
        'A problem is the unknown cause of one or more incidents. Affected services and CIs, linked incidents, and whether it introduces a security risk; a flag or a linked incident involves Security Management. Every named service, CI, incident and parent must exist, and the parent chain may not loop. Audited.',
      body: problemCreateBody,
      response: responses({ 201: problemView }),
    },
    handler: async (request, reply) => {
      const id = randomUUID();
      await checkReferences(id, request.body);
      await createProblem(app.db, { id, fields: request.body, actor: request.actor.principalId });
      return reply
        .code(201)
        .header('location', `/problems/${id}`)
        .send(toProblemView(await loadProblem(request.actor, id)));
    },
  });

  routes.get('/problems', {
    config: { roles: problemReaders },
    schema: {
      operationId: 'listProblems',
      tags,
      summary: 'Problems, oldest first, filtered',
      description: 'Filters: status, an affected service or CI, a linked incident, security risk. Cursor-paginated.',
      querystring: problemListQuery,
      response: responses({ 200: problemPage }),
    },
    handler: async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const rows = await listProblems(app.db, request.actor, filter, pageRequest({ limit, cursor }));
      const { items, nextCursor } = pageOf(rows, limit);
      return { items: items.map(toProblemView), nextCursor };
    },
  });

  routes.get('/problems/:id', {
    config: { roles: problemReaders },
    schema: {
      operationId: 'getProblem',
      tags,
      summary: 'One problem with its incidents, proposals and changes',
      description:
        'Each proposal shows the checklist it was checked against and the result per item; changes are those that implement the problem.',
      params: uuidParam,
      response: responses({ 200: problemDetail }),
    },
    handler: async (request) => {
      const problem = await loadProblem(request.actor, request.params.id);
      const [links, involved] = await Promise.all([problemLinks(app.db, problem.id), involvesSecurityManagement(app.db, problem)]);
      return {
        ...toProblemView(problem),
        incidentIds: links.incidentIds,
        securityManagementInvolved: involved,
        proposals: links.proposals.map((p) => ({
          id: p.id,
          workflowId: p.workflow_id,
          kind: p.kind,
          text: p.text,
          changeId: p.change_id,
          proposedBy: p.proposed_by,
          status: p.status,
          checklist: p.checklist,
          results: p.results,
          reasons: p.reasons,
          checkedBy: p.checked_by,
          createdAt: p.created_at.toISOString(),
          decidedAt: p.decided_at?.toISOString() ?? null,
        })),
        changes: links.changes,
      };
    },
  });

  routes.patch('/problems/:id', {
    config: { roles: problemManagers },
    schema: {
      operationId: 'updateProblem',
      tags,
      summary: 'Change a problem’s fields, links or status',
      description:
        'Only the fields sent change. `known_error` is reached by an accepted workaround, never set here; workaround and solution are set only by a passed security check. Audited with what changed.',
      params: uuidParam,
      body: problemPatchBody,
      response: responses({ 200: problemView }),
    },
    handler: async (request) => {
      const problem = await loadProblem(request.actor, request.params.id);
      if (Object.keys(request.body).length === 0) throw invalid([{ path: 'body', message: 'change at least one field' }]);
      await checkReferences(problem.id, request.body);
      await updateProblem(app.db, { id: problem.id, patch: request.body, actor: request.actor.principalId });
      return toProblemView(await loadProblem(request.actor, problem.id));
    },
  });

  routes.post('/problems/:id/proposals', {
    config: { roles: problemManagers },
    schema: {
      operationId: 'proposeProblemFix',
      tags,
      summary: 'Propose a workaround or solution for its check',
      description:
        'Starts the security check workflow: a reviewer (Security Management when the problem carries a security risk) checks it item by item against the SLA security requirements and baseline measures of the affected services and CIs. A solution that needs a change names it: the change must implement this problem (its problemId). `Idempotency-Key` header.',
      params: uuidParam,
      headers: idempotencyHeaders,
      body: proposalBody,
      response: responses({ 202: proposalAccepted }),
    },
    handler: async (request, reply) => {
      const problem = await loadProblem(request.actor, request.params.id);
      if (problem.status === 'closed') throw conflict(`problem ${problem.id} is closed`);
      const { kind, text, changeId } = request.body;
      if (changeId) {
        const change = await findChange(app.db, changeId);
        if (!change) throw invalid([{ path: 'body.changeId', message: `no change ${changeId}` }]);
        if (change.problem_id !== problem.id)
          throw invalid([
            {
              path: 'body.changeId',
              message: `change ${changeId} does not implement this problem (its problemId is ${change.problem_id ?? 'empty'})`,
            },
          ]);
      }
      const securityRisk = await involvesSecurityManagement(app.db, problem);
      const { resourceId, request: input } = await idempotent<ProblemCheckInput>(
        app.db,
        {
          scope: idempotencyScopes.problemProposal,
          principalId: request.actor.principalId,
          key: request.headers['idempotency-key'],
          body: { problemId: problem.id, ...request.body },
        },
        () => {
          const proposalId = randomUUID();
          return {
            resourceId: proposalId,
            request: {
              proposalId,
              problemId: problem.id,
              problemTitle: problem.title,
              kind,
              text,
              changeId: changeId ?? null,
              proposedBy: request.actor.principalId,
              securityRisk,
              reviewDeadline: problemCheckDeadline,
            },
          };
        },
      );
      const workflowId = makeProblemCheckWorkflowId(resourceId);
      await startOnce(app.temporal.client, problemSecurityCheckWorkflowType, {
        workflowId,
        taskQueue: app.temporal.taskQueue,
        args: [input],
      });
      return reply.code(202).send({ proposalId: resourceId, workflowId });
    },
  });
}
