import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import {
  activeExceptionRules,
  allHoldings,
  createSodRule,
  existingCis,
  findSodRule,
  listSodRules,
  toSodRule,
  updateSodRule,
  type SodRuleRow,
} from '../../db/sod';
import { sodConflicts, sodRuleProblems, type SodMember } from '../../domain/sod';
import { invalid, notFound } from '../../http/problem';
import { accessReaders, securityManagement } from '../../http/roles';
import { responses, uuidParam } from '../../schemas/common';
import { sodConflictList, sodRuleChangeBody, sodRuleCreateBody, sodRuleList, sodRuleListQuery, sodRuleView } from '../../schemas/sod';

const toView = (row: SodRuleRow) => ({
  id: row.id,
  name: row.name,
  description: row.description,
  members: row.members,
  status: row.status,
  createdBy: row.created_by,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

/** Separation of duties over entitlements: conflict rules (Security Management writes them) and the conflicts people hold. */
export async function sodRuleRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['access'];

  /** A rule needs two different entitlements, on systems that exist. */
  const checkMembers = async (members: SodMember[]) => {
    const problems = sodRuleProblems(members).map(({ field, message }) => ({ path: `body.${field}`, message }));
    const known = await existingCis(
      app.db,
      members.flatMap((m) => (m.ciId ? [m.ciId] : [])),
    );
    members.forEach((m, index) => {
      if (m.ciId && !known.has(m.ciId)) problems.push({ path: `body.members.${index}.ciId`, message: `no configuration item ${m.ciId}` });
    });
    if (problems.length) throw invalid(problems);
  };

  routes.get('/sod-rules', {
    config: { roles: accessReaders },
    schema: {
      operationId: 'listSodRules',
      tags,
      summary: 'Separation-of-duties conflict rules, by name',
      description: 'Rules in force; `includeRetired=true` adds retired ones.',
      querystring: sodRuleListQuery,
      response: responses({ 200: sodRuleList }),
    },
    handler: async (request) => ({ items: (await listSodRules(app.db, { includeRetired: request.query.includeRetired })).map(toView) }),
  });

  routes.post('/sod-rules', {
    config: { roles: securityManagement },
    schema: {
      operationId: 'createSodRule',
      tags,
      summary: 'Add a separation-of-duties conflict rule',
      description:
        'Entitlements one person may not hold together, within one system (every member names it) or across systems; a member without a system matches the entitlement on any. From now on a request that would complete the set is refused or needs an exception, and access reviews flag people who hold it. Audited.',
      body: sodRuleCreateBody,
      response: responses({ 201: sodRuleView }),
    },
    handler: async (request, reply) => {
      await checkMembers(request.body.members);
      const id = randomUUID();
      await createSodRule(app.db, { id, ...request.body, actor: request.actor.principalId });
      return reply
        .code(201)
        .header('location', `/sod-rules/${id}`)
        .send(toView((await findSodRule(app.db, id)) as SodRuleRow));
    },
  });

  routes.put('/sod-rules/:id', {
    config: { roles: securityManagement },
    schema: {
      operationId: 'changeSodRule',
      tags,
      summary: 'Change or retire a conflict rule',
      description: 'The whole rule as it should read, with the reason; audited with the rule before and after.',
      params: uuidParam,
      body: sodRuleChangeBody,
      response: responses({ 200: sodRuleView }),
    },
    handler: async (request) => {
      if (!(await findSodRule(app.db, request.params.id))) throw notFound('conflict rule', request.params.id);
      await checkMembers(request.body.members);
      const { retired, ...rule } = request.body;
      await updateSodRule(app.db, {
        id: request.params.id,
        ...rule,
        status: retired ? 'retired' : 'active',
        actor: request.actor.principalId,
      });
      return toView((await findSodRule(app.db, request.params.id)) as SodRuleRow);
    },
  });

  routes.get('/sod-conflicts', {
    config: { roles: accessReaders },
    schema: {
      operationId: 'listSodConflicts',
      tags,
      summary: 'Separation-of-duties conflicts held now',
      description:
        'Computed from the latest account imports, each with whether an unexpired exception covers it; an account whose revocation is recorded no longer counts.',
      response: responses({ 200: sodConflictList }),
    },
    handler: async () => {
      const [rules, holdings, exceptions] = await Promise.all([listSodRules(app.db), allHoldings(app.db), activeExceptionRules(app.db)]);
      const active = rules.map(toSodRule);
      return {
        items: [...holdings].flatMap(([principalId, held]) =>
          sodConflicts(active, held).map((c) => ({
            principalId,
            ...c,
            exception: exceptions.some((e) => e.principalId === principalId && e.ruleId === c.ruleId),
          })),
        ),
      };
    },
  });
}
