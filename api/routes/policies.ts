import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { createPolicy, findPolicyDetail, listPolicies, proposePolicyVersion, updatePolicy } from '../../db/policies';
import { responses, uuidParam } from '../../schemas/common';
import {
  policyChangeRequest,
  policyCreateRequest,
  policyDetail,
  policyListQuery,
  policyPage,
  policyProposed,
  policyVersionRequest,
} from '../../schemas/reviews';
import { startOnce } from '../../temporal/start';
import { makePolicyApprovalWorkflowId, policyApprovalWorkflowType, type PolicyApprovalInput } from '../../domain/policy';
import { pageRequest } from '../../http/paging';
import { notFound } from '../../http/problem';
import { everyone, securityManagement } from '../../http/roles';

export async function policyRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['policies'];

  async function startApproval(input: PolicyApprovalInput) {
    const workflowId = makePolicyApprovalWorkflowId(input.policyId, input.version);
    await startOnce(app.temporal.client, policyApprovalWorkflowType, { workflowId, taskQueue: app.temporal.taskQueue, args: [input] });
    return { policyId: input.policyId, version: input.version, workflowId, status: 'pending_approval' as const };
  }

  routes.post('/policies', {
    config: { roles: securityManagement },
    schema: {
      tags,
      operationId: 'createPolicy',
      summary: 'Register a policy',
      description: 'Register a policy; version 1 takes effect when the Security Manager (not its author) approves it',
      body: policyCreateRequest,
      response: responses({ 202: policyProposed }),
    },
    handler: async (request, reply) => {
      const { policy, version } = await createPolicy(app.db, request.body, request.actor);
      return reply.code(202).send(
        await startApproval({
          policyId: policy.id,
          version: version.version,
          title: policy.title,
          proposedBy: request.actor.principalId,
        }),
      );
    },
  });

  routes.post('/policies/:id/versions', {
    config: { roles: securityManagement },
    schema: {
      tags,
      operationId: 'proposePolicyVersion',
      summary: 'Propose a policy version',
      description: "Propose a new version of a policy; it needs the Security Manager's approval",
      params: uuidParam,
      body: policyVersionRequest,
      response: responses({ 202: policyProposed }),
    },
    handler: async (request, reply) => {
      const { policy, version } = await proposePolicyVersion(app.db, request.params.id, request.body, request.actor);
      return reply.code(202).send(
        await startApproval({
          policyId: policy.id,
          version: version.version,
          title: policy.title,
          proposedBy: request.actor.principalId,
        }),
      );
    },
  });

  routes.get('/policies', {
    config: { roles: everyone },
    schema: {
      tags,
      operationId: 'listPolicies',
      summary: 'List policies',
      description: 'Policies with their approved version; `reviewDue=true` for those past their review date',
      querystring: policyListQuery,
      response: responses({ 200: policyPage }),
    },
    handler: async (request) => {
      const { owner, reviewDue, ...paging } = request.query;
      return listPolicies(app.db, { owner, reviewDue }, pageRequest(paging));
    },
  });

  routes.get('/policies/:id', {
    config: { roles: everyone },
    schema: {
      tags,
      operationId: 'getPolicy',
      summary: 'Read a policy',
      description: 'One policy with every version and its approval',
      params: uuidParam,
      response: responses({ 200: policyDetail }),
    },
    handler: async (request) => {
      const found = await findPolicyDetail(app.db, request.params.id);
      if (!found) throw notFound('policy', request.params.id);
      return found;
    },
  });

  routes.patch('/policies/:id', {
    config: { roles: securityManagement },
    schema: {
      tags,
      operationId: 'updatePolicy',
      summary: 'Change a policy',
      description: "Change a policy's title or owner (content changes are new versions)",
      params: uuidParam,
      body: policyChangeRequest,
      response: responses({ 200: policyDetail }),
    },
    handler: async (request) => {
      await updatePolicy(app.db, request.params.id, request.body, request.actor);
      const policy = await findPolicyDetail(app.db, request.params.id);
      if (!policy) throw notFound('policy', request.params.id);
      return policy;
    },
  });

  routes.delete('/policies/:id', {
    config: { roles: securityManagement },
    schema: {
      tags,
      operationId: 'retirePolicy',
      summary: 'Retire a policy',
      description: 'Retire a policy: it stays on record with its versions but is no longer reviewed',
      params: uuidParam,
      response: responses({ 204: z.null() }),
    },
    handler: async (request, reply) => {
      await updatePolicy(app.db, request.params.id, { status: 'retired' }, request.actor);
      return reply.code(204).send(null);
    },
  });
}
