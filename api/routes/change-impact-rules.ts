import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { currentImpactRules, impactRuleHistory, saveImpactRule, type RuleContent, type RuleVersion } from '../../db/change-impact-rules';
import { impactRuleProblems } from '../../domain/change-impact';
import { conflict, invalid, notFound } from '../../http/problem';
import { changeReaders, securityManagement } from '../../http/roles';
import {
  impactRuleChangeBody,
  impactRuleCreateBody,
  impactRuleDetail,
  impactRuleList,
  impactRuleListQuery,
  impactRuleView,
} from '../../schemas/change-impact-rules';
import { responses, uuidParam } from '../../schemas/common';

const toView = (rule: RuleVersion) => ({ ...rule, changedAt: rule.changedAt.toISOString() });

/** An empty rule (no keyword, field or area) would never raise anything: refused, naming the field. */
function checkRule(content: Pick<RuleContent, 'keywords' | 'fields' | 'areas'>) {
  const problems = impactRuleProblems(content);
  if (problems.length) throw invalid(problems.map(({ field, message }) => ({ path: `body.${field}`, message })));
}

/** The change gate's content rules: read by everyone in the change process, written by Security Management. */
export async function changeImpactRuleRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['changes'];

  const latest = async (id: string) => {
    const versions = await impactRuleHistory(app.db, id);
    const current = versions[0];
    if (!current) throw notFound('change impact rule', id);
    return { current, versions };
  };

  routes.get('/change-impact-rules', {
    config: { roles: changeReaders },
    schema: {
      operationId: 'listChangeImpactRules',
      tags,
      summary: 'The change gate’s content rules, latest versions',
      description: 'Rules in force, by name; `includeRetired=true` adds retired ones.',
      querystring: impactRuleListQuery,
      response: responses({ 200: impactRuleList }),
    },
    handler: async (request) => ({
      items: (await currentImpactRules(app.db, { includeRetired: request.query.includeRetired })).map(toView),
    }),
  });

  routes.get('/change-impact-rules/:id', {
    config: { roles: changeReaders },
    schema: {
      operationId: 'getChangeImpactRule',
      tags,
      summary: 'One content rule with every version it had',
      description: 'Assessments name the rule version that raised them; every version stays readable here.',
      params: uuidParam,
      response: responses({ 200: impactRuleDetail }),
    },
    handler: async (request) => {
      const { current, versions } = await latest(request.params.id);
      return { ...toView(current), versions: versions.map(toView) };
    },
  });

  routes.post('/change-impact-rules', {
    config: { roles: securityManagement },
    schema: {
      operationId: 'createChangeImpactRule',
      tags,
      summary: 'Add a content rule (version 1)',
      description:
        'Changes assessed from now on are checked against it. A rule raises a change whose title, description, category or ITSM fields mention any of its keywords: the change gets the rule’s areas of impact and at least its minimum risk. Audited.',
      body: impactRuleCreateBody,
      response: responses({ 201: impactRuleView }),
    },
    handler: async (request, reply) => {
      const { reason, ...content } = request.body;
      checkRule(content);
      const id = randomUUID();
      await saveImpactRule(app.db, {
        id,
        expectedVersion: 0,
        content: { ...content, status: 'active' },
        actor: request.actor.principalId,
        reason,
      });
      const { current } = await latest(id);
      return reply.code(201).header('location', `/change-impact-rules/${id}`).send(toView(current));
    },
  });

  routes.put('/change-impact-rules/:id', {
    config: { roles: securityManagement },
    schema: {
      operationId: 'changeChangeImpactRule',
      tags,
      summary: 'Write the next version of a content rule, or retire it',
      description:
        'The whole rule as it should read, with the version it replaces and why. A stale version is a 409; earlier versions stay readable. Audited.',
      params: uuidParam,
      body: impactRuleChangeBody,
      response: responses({ 200: impactRuleView }),
    },
    handler: async (request) => {
      const { version, reason, retired, ...content } = request.body;
      await latest(request.params.id);
      checkRule(content);
      const saved = await saveImpactRule(app.db, {
        id: request.params.id,
        expectedVersion: version,
        content: { ...content, status: retired ? 'retired' : 'active' },
        actor: request.actor.principalId,
        reason,
      });
      const { current } = await latest(request.params.id);
      if (!saved) throw conflict(`rule ${request.params.id} is at version ${current.version}, not ${version}`);
      return toView(current);
    },
  });
}
