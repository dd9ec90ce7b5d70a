import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import {
  findSystem,
  findVisibleAccessRequest,
  importPeople,
  importSystemAccounts,
  listAccessRequests,
  listSystemAccounts,
  provisioningActionsFor,
} from '../../db/access';
import type { AccessRequest } from '../../db/access-tables';
import { recordAudit } from '../../db/audit';
import { activeExceptionRules, holdingsOf, listSodRules, toSodRule } from '../../db/sod';
import { conflictsCreatedBy } from '../../domain/sod';
import type { Actor } from '../../domain/roles';
import { pageOf } from '../../db/pagination';
import { tasksOfSubject } from '../../db/tasks';
import { accessRequestWorkflowType, makeAccessRequestWorkflowId, type AccessRequestInput } from '../../domain/access';
import { employmentStatus, ownsOrOversees } from '../../domain/access-review';
import {
  accessRequestBody,
  accessRequestListQuery,
  accessRequestPage,
  accessRequestView,
  accountImport,
  importBody,
  importResult,
  parseImport,
  peopleImport,
  provisioningActionView,
  systemAccount,
} from '../../schemas/access';
import { responses, uuidParam } from '../../schemas/common';
import { taskView } from '../../schemas/tasks';
import { startOnce } from '../../temporal/start';
import { idempotencyKey, idempotent } from '../idempotency';
import { conflict, forbidden, invalid, notFound } from '../../http/problem';
import { accessReaders, accessRequesters, accountImporters, everyone, securityManagement } from '../../http/roles';
import { cursorFrom } from '../../http/paging';
import { iso, toProvisioningView, toTaskView } from '../views';

function toAccessRequestView(r: AccessRequest) {
  return {
    id: r.id,
    workflowId: r.workflow_id,
    system: r.ci_id,
    account: r.account_id,
    beneficiary: r.beneficiary,
    requester: r.requester,
    entitlements: r.entitlements,
    privileged: r.privileged,
    justification: r.justification,
    status: r.status,
    approvedBy: r.approved_by,
    requestedUntil: iso(r.requested_until),
    requestedFor: r.requested_for,
    expiresAt: iso(r.expires_at),
    createdAt: r.created_at.toISOString(),
    decidedAt: iso(r.decided_at),
    provisionedAt: iso(r.provisioned_at),
    revokedAt: iso(r.revoked_at),
  };
}

const ciIdParam = z.strictObject({ ciId: z.uuid() });
const accountCsv = 'account_id,kind,owner,entitlements,last_used_at (entitlements as admin:privileged;reader)';
const peopleCsv = 'principal_id,display_name,status,manager';

export async function accessRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  // A CSV upload (`curl --data-binary @accounts.csv -H 'content-type: text/csv'`) becomes `{ csv }`.
  app.addContentTypeParser('text/csv', { parseAs: 'string' }, (_request, body, done) => done(null, { csv: body }));

  routes.post('/systems/:ciId/accounts/import', {
    config: { roles: accountImporters },
    schema: {
      tags: ['access'],
      operationId: 'importSystemAccounts',
      summary: "Import a system's accounts",
      description: "Replace a system's account list (CSV or JSON); all-or-nothing, every bad row named",
      params: ciIdParam,
      body: importBody('accounts', accountCsv),
      response: responses({ 200: importResult }),
    },
    handler: async (request) => {
      const system = await findSystem(app.db, request.params.ciId);
      if (!system) throw notFound('configuration item', request.params.ciId);
      if (!ownsOrOversees(request.actor, system))
        throw forbidden('only the system owner, an admin or the Security Manager imports its accounts');
      const parsed = parseImport(accountImport, request.body, (row) => `account ${row.accountId}`);
      if ('errors' in parsed) throw invalid(parsed.errors.map((e) => ({ path: `body.${e.path}`, message: e.message })));
      return importSystemAccounts(app.db, { ciId: system.id, rows: parsed.rows, actor: request.actor.principalId });
    },
  });

  routes.get('/systems/:ciId/accounts', {
    config: { roles: accessReaders },
    schema: {
      tags: ['access'],
      operationId: 'listSystemAccounts',
      summary: "List a system's accounts",
      description: "A system's accounts as last imported, with each owner's employment status",
      params: ciIdParam,
      response: responses({ 200: z.object({ items: z.array(systemAccount) }) }),
    },
    handler: async (request) => {
      const system = await findSystem(app.db, request.params.ciId);
      if (!system || !ownsOrOversees(request.actor, system)) throw notFound('configuration item', request.params.ciId);
      const rows = await listSystemAccounts(app.db, system.id);
      return {
        items: rows.map((a) => ({
          accountId: a.account_id,
          kind: a.kind,
          owner: a.owner,
          employmentStatus: employmentStatus(a.person_status),
          entitlements: a.entitlements,
          lastUsedAt: iso(a.last_used_at),
          revocationNotApplied: a.revocation_not_applied,
          importedAt: a.imported_at.toISOString(),
        })),
      };
    },
  });

  routes.post('/people/import', {
    config: { roles: securityManagement },
    schema: {
      tags: ['access'],
      operationId: 'importPeople',
      summary: 'Import the people list',
      description: 'Replace the people list (employees, status, manager): the source of truth for leavers; all-or-nothing',
      body: importBody('people', peopleCsv),
      response: responses({ 200: z.object({ imported: z.number(), leavers: z.number(), removed: z.number() }) }),
    },
    handler: async (request) => {
      const parsed = parseImport(peopleImport, request.body, (row) => `person ${row.principalId}`);
      if ('errors' in parsed) throw invalid(parsed.errors.map((e) => ({ path: `body.${e.path}`, message: e.message })));
      return importPeople(app.db, { rows: parsed.rows, actor: request.actor.principalId });
    },
  });

  /**
   * The separation-of-duties conflicts the request would create for its beneficiary, beyond those
   * an unexpired exception covers. Without an exception asked for, a conflict refuses the request
   * (409, audited); an exception asked for needs a conflict to except and an expiry in the future.
   */
  const sodCheck = async (actor: Actor, body: z.infer<typeof accessRequestBody>, ciId: string) => {
    const beneficiary = body.beneficiary ?? actor.principalId;
    const [rules, holdings, excepted] = await Promise.all([
      listSodRules(app.db),
      holdingsOf(app.db, beneficiary),
      activeExceptionRules(app.db, beneficiary),
    ]);
    const requested = body.entitlements.map((e) => ({ ciId, accountId: body.account ?? beneficiary, entitlement: e.name }));
    const conflicts = conflictsCreatedBy(rules.map(toSodRule), holdings, requested).filter(
      (conflict) => !excepted.some((e) => e.ruleId === conflict.ruleId),
    );
    if (body.sodException) {
      if (conflicts.length === 0)
        throw invalid([{ path: 'body.sodException', message: 'the request creates no separation-of-duties conflict to except' }]);
      if (Date.parse(body.sodException.expiresAt) <= Date.now())
        throw invalid([{ path: 'body.sodException.expiresAt', message: 'must be in the future' }]);
      return conflicts;
    }
    if (conflicts.length) {
      const named = conflicts.map((c) => `"${c.ruleName}" (${c.holdings.map((h) => h.entitlement).join(' + ')})`).join(', ');
      await recordAudit(app.db, {
        actor: actor.principalId,
        action: 'access_request.sod_refused',
        subjectType: 'principal',
        subjectId: beneficiary,
        details: { system: ciId, entitlements: body.entitlements.map((e) => e.name), rules: conflicts.map((c) => c.ruleId) },
      });
      throw conflict(
        `${beneficiary} would hold conflicting entitlements under ${named}: refused; ask for an exception with sodException { reason, expiresAt }`,
      );
    }
    return conflicts;
  };

  routes.post('/access-requests', {
    config: { roles: accessRequesters },
    schema: {
      tags: ['access'],
      operationId: 'requestAccess',
      summary: 'Request access',
      description:
        'Request access; the system owner (and for privileged entitlements the Security Manager) approves (send Idempotency-Key to retry safely)',
      body: accessRequestBody,
      headers: z.object({ 'idempotency-key': z.string().max(200).optional() }),
      response: responses({ 202: z.object({ id: z.string(), workflowId: z.string(), status: z.literal('pending_owner') }) }),
    },
    handler: async (request, reply) => {
      const body = request.body;
      const system = await findSystem(app.db, body.system);
      if (!system) throw invalid([{ path: 'body.system', message: `no configuration item ${body.system}` }]);
      if (body.until && Date.parse(body.until) <= Date.now()) throw invalid([{ path: 'body.until', message: 'must be in the future' }]);
      const requester = request.actor.principalId;
      const conflicts = await sodCheck(request.actor, body, system.id);
      const work = await idempotent(app.db, { scope: 'access-requests', principalId: requester, key: idempotencyKey(request) }, () => {
        const requestId = randomUUID();
        const beneficiary = body.beneficiary ?? requester;
        const input: AccessRequestInput = {
          requestId,
          ciId: system.id,
          accountId: body.account ?? beneficiary,
          beneficiary,
          requester,
          entitlements: body.entitlements,
          justification: body.justification,
          ...(body.until ? { until: body.until } : {}),
          ...(body.for ? { for: body.for } : {}),
          approvalDeadline: app.config.WARDEN_ACCESS_APPROVAL_DEADLINE,
          ...(body.sodException && conflicts.length
            ? { sodException: { rules: conflicts.map((c) => ({ id: c.ruleId, name: c.ruleName })), ...body.sodException } }
            : {}),
        };
        return { resourceId: requestId, request: input };
      });
      const input = work.request;
      const workflowId = makeAccessRequestWorkflowId(input.requestId);
      await startOnce(app.temporal.client, accessRequestWorkflowType, { workflowId, taskQueue: app.temporal.taskQueue, args: [input] });
      return reply.code(202).send({ id: input.requestId, workflowId, status: 'pending_owner' as const });
    },
  });

  routes.get('/access-requests', {
    config: { roles: everyone },
    schema: {
      tags: ['access'],
      operationId: 'listAccessRequests',
      summary: 'List access requests',
      description: 'Access requests you may see (your own, your access, your systems’; all for oversight roles), newest first',
      querystring: accessRequestListQuery,
      response: responses({ 200: accessRequestPage }),
    },
    handler: async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const rows = await listAccessRequests(app.db, request.actor, { ...filter, limit, after: cursorFrom(cursor) });
      const { items, nextCursor } = pageOf(rows, limit);
      return { items: items.map(toAccessRequestView), nextCursor };
    },
  });

  routes.get('/access-requests/:id', {
    config: { roles: everyone },
    schema: {
      tags: ['access'],
      operationId: 'getAccessRequest',
      summary: 'Read an access request',
      description: 'One access request with its approval tasks and provisioning actions',
      params: uuidParam,
      response: responses({ 200: accessRequestView.extend({ tasks: z.array(taskView), provisioning: z.array(provisioningActionView) }) }),
    },
    handler: async (request) => {
      const found = await findVisibleAccessRequest(app.db, request.actor, request.params.id);
      if (!found) throw notFound('access request', request.params.id);
      const [tasks, actions] = await Promise.all([
        tasksOfSubject(app.db, { type: 'access_request', id: found.id }),
        provisioningActionsFor(app.db, { type: 'access_request', id: found.id }),
      ]);
      return { ...toAccessRequestView(found), tasks: tasks.map(toTaskView), provisioning: actions.map(toProvisioningView) };
    },
  });
}
