import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { accessReaders, everyone } from '../../http/roles';
import { cursorFrom } from '../../http/paging';
import type { AccessRequest, AccessReviewCampaign } from '../../db/access-tables';
import {
  campaignItems,
  findVisibleAccessRequest,
  findVisibleCampaign,
  listAccessRequests,
  listCampaigns,
  provisioningActionsFor,
} from '../../db/access';
import { pageOf } from '../../db/pagination';
import { tasksOfSubject } from '../../db/tasks';
import { accountFlags, oversees } from '../../domain/access-review';
import { uuidParam } from '../../schemas/common';
import { badge, deadline, facts, filters, humanize, nextPageLink, table, time } from '../format';
import { html, type Html } from '../html';
import { lookUpNames, type Names } from '../names';
import { blankIsUnset, pageRoute, uiPrefix, type WebContext, type WebPage, uuidsOnly } from '../page';
import { decisionNotice, decisionNoticeQuery, openTaskCards, taskDecisions } from '../task-card';

const requestsPath = `${uiPrefix}/access-requests`;
const requestPath = (id: string) => `${requestsPath}/${id}`;
const reviewsPath = `${uiPrefix}/access-reviews`;
const reviewPath = (id: string) => `${reviewsPath}/${encodeURIComponent(id)}`;
const pageSize = 50;
const requestStatuses = [
  'pending_owner',
  'pending_security',
  'rejected',
  'provisioning',
  'active',
  'provisioning_failed',
  'revoked',
  'failed',
] as const;

const requestQuery = z.object({ status: blankIsUnset(z.enum(requestStatuses)), cursor: z.string().max(200).optional() });
const campaignQuery = z.object({ cursor: z.string().max(200).optional() });
const campaignParams = z.strictObject({ id: z.string().min(1).max(300) });

const requestLabel = (r: Pick<AccessRequest, 'account_id' | 'beneficiary'>, names: Names) =>
  `Access for ${names.person(r.beneficiary)} to account ${r.account_id}`;
const entitlementList = (entitlements: { name: string; privilege: string }[]) =>
  entitlements.map((e) => (e.privilege === 'privileged' ? `${e.name} (privileged)` : e.name)).join(', ') || '—';

/** Provisioning carried out for a request or a review: what, on which account, how, by whose approval. */
const provisioning = (actions: Awaited<ReturnType<typeof provisioningActionsFor>>, names: Names) =>
  table(
    ['Operation', 'Account', 'Entitlements', 'Method', 'Status', 'Approved by', 'Detail', 'At'],
    actions.map((a) => [
      humanize(a.operation),
      html`${a.account_id} on ${names.ci(a.ci_id)}`,
      a.entitlements.join(', ') || '—',
      humanize(a.method),
      humanize(a.status),
      names.people(a.approved_by),
      a.detail,
      time(a.completed_at ?? a.created_at),
    ]),
    'Provisioning',
  );

/** Access requests, each visible as in the JSON API: one's own, one's access, one's systems'; all for oversight. */
export const accessRequestsPage: WebPage = {
  nav: { label: 'Access requests', path: requestsPath },
  subject: {
    type: 'access_request',
    path: requestPath,
    async labels(app, actor, ids) {
      const found = await Promise.all(uuidsOnly(ids).map((id) => findVisibleAccessRequest(app.db, actor, id)));
      const visible = found.flatMap((r) => r ?? []);
      const names = await lookUpNames(app.db, { principals: visible.map((r) => r.beneficiary) });
      return new Map(visible.map((r) => [r.id, requestLabel(r, names)]));
    },
  },
  async routes(app: FastifyInstance, web: WebContext) {
    const routes = app.withTypeProvider<ZodTypeProvider>();

    routes.get('/access-requests', {
      ...pageRoute(everyone),
      schema: { hide: true, querystring: requestQuery },
      handler: async (request, reply) => {
        const { cursor, ...filter } = request.query;
        const rows = await listAccessRequests(app.db, request.actor, { ...filter, limit: pageSize, after: cursorFrom(cursor) });
        const { items, nextCursor } = pageOf(rows, pageSize);
        const names = await lookUpNames(app.db, {
          cis: items.map((r) => r.ci_id),
          principals: items.flatMap((r) => [r.beneficiary, r.requester]),
        });
        return web.render(request, reply, {
          title: 'Access requests',
          body: html`<h1>Access requests</h1>
${filters(requestsPath, 'Filter access requests', request.query, [{ name: 'status', label: 'Status', options: requestStatuses }])}
${table(
  ['Request', 'System', 'Entitlements', 'Requested by', 'Status', 'Filed'],
  items.map((r) => [
    html`<a href="${requestPath(r.id)}">${requestLabel(r, names)}</a>`,
    names.ci(r.ci_id),
    html`${entitlementList(r.entitlements)}${r.privileged ? html` ${badge('privileged', 'high')}` : ''}`,
    names.person(r.requester),
    humanize(r.status),
    time(r.created_at),
  ]),
  'Access requests',
)}
${nextPageLink(requestsPath, request.query, nextCursor, 'Older requests')}`,
        });
      },
    });

    routes.get('/access-requests/:id', {
      ...pageRoute(everyone),
      schema: { hide: true, params: uuidParam, querystring: decisionNoticeQuery },
      handler: async (request, reply) => {
        const found = await findVisibleAccessRequest(app.db, request.actor, request.params.id);
        if (!found) return reply.callNotFound();
        const subject = { type: 'access_request', id: found.id };
        const [tasks, actions] = await Promise.all([tasksOfSubject(app.db, subject), provisioningActionsFor(app.db, subject)]);
        const names = await lookUpNames(app.db, {
          cis: [found.ci_id],
          principals: [
            found.beneficiary,
            found.requester,
            ...found.approved_by,
            ...actions.flatMap((a) => a.approved_by),
            ...tasks.flatMap((t) => t.decisions.map((d) => d.principalId)),
          ],
        });
        const cards = await openTaskCards(web, request.actor, tasks, { csrfToken: reply.generateCsrf(), returnTo: requestPath(found.id) });
        const title = requestLabel(found, names);
        return web.render(request, reply, {
          title,
          notice: decisionNotice(request.query.notice),
          body: html`<h1>${title}</h1>
<section class="card" aria-labelledby="facts"><h2 id="facts">Request</h2>
${facts([
  ['Status', html`<span data-testid="access-request-status">${humanize(found.status)}</span>`],
  ['System', names.ci(found.ci_id)],
  ['Account', found.account_id],
  ['Entitlements', html`${entitlementList(found.entitlements)}${found.privileged ? html` ${badge('privileged', 'high')}` : ''}`],
  ['Justification', found.justification],
  ['Requested by', names.person(found.requester)],
  ['Requested until', found.requested_until && time(found.requested_until)],
  ['Approved by', found.approved_by.length > 0 && names.people(found.approved_by)],
  ['Filed', time(found.created_at)],
  ['Decided', found.decided_at && time(found.decided_at)],
  ['Provisioned', found.provisioned_at && time(found.provisioned_at)],
  ['Expires', found.expires_at && deadline(found.expires_at)],
  ['Revoked', found.revoked_at && time(found.revoked_at)],
])}
</section>
<h2>Open tasks</h2>
${cards.length ? cards : html`<p class="hint">None.</p>`}
<h2>Decisions</h2>
${taskDecisions(tasks, 'Decisions', names.person)}
<h2>Provisioning</h2>
${provisioning(actions, names)}`,
        });
      },
    });
  },
};

const campaignLabel = (c: Pick<AccessReviewCampaign, 'id'>) => `Access review ${c.id}`;
const flagCounts = (items: { flags: string[] }[]): Html =>
  html`${accountFlags.map((flag) => {
    const n = items.filter((i) => i.flags.includes(flag)).length;
    return n ? html`<span class="badge high">${humanize(flag)}: ${n}</span> ` : '';
  })}`;

/**
 * Access review campaigns and their findings, as `GET /access-reviews` shows them: oversight sees
 * every campaign and account; a service owner the campaigns covering their systems, and only their
 * own systems' accounts and certification tasks.
 */
export const accessReviewsPage: WebPage = {
  nav: { label: 'Access reviews', path: reviewsPath, roles: accessReaders },
  subject: {
    type: 'access_review',
    path: reviewPath,
    async labels(app, actor, ids) {
      const found = await Promise.all(ids.map((id) => findVisibleCampaign(app.db, actor, id)));
      return new Map(found.flatMap((c) => (c ? [[c.id, campaignLabel(c)] as const] : [])));
    },
  },
  async routes(app: FastifyInstance, web: WebContext) {
    const routes = app.withTypeProvider<ZodTypeProvider>();

    routes.get('/access-reviews', {
      ...pageRoute(accessReaders),
      schema: { hide: true, querystring: campaignQuery },
      handler: async (request, reply) => {
        const rows = await listCampaigns(app.db, request.actor, { limit: pageSize, after: cursorFrom(request.query.cursor) });
        const { items, nextCursor } = pageOf(rows, pageSize);
        const names = await lookUpNames(app.db, { cis: items.flatMap((c) => c.ci_ids), principals: items.map((c) => c.started_by) });
        return web.render(request, reply, {
          title: 'Access reviews',
          body: html`<h1>Access review campaigns</h1>
${table(
  ['Campaign', 'Systems', 'Status', 'Started by', 'Deadline', 'Completed'],
  items.map((c) => [
    html`<a href="${reviewPath(c.id)}">${campaignLabel(c)}</a>`,
    names.cis(c.ci_ids),
    humanize(c.status),
    names.person(c.started_by),
    c.status === 'open' ? deadline(c.deadline_at) : time(c.deadline_at),
    c.completed_at ? html`${time(c.completed_at)}${c.completed_on_time === false ? ' (late)' : ''}` : '—',
  ]),
  'Access review campaigns',
)}
${nextPageLink(reviewsPath, request.query, nextCursor, 'Older campaigns')}`,
        });
      },
    });

    routes.get('/access-reviews/:id', {
      ...pageRoute(accessReaders),
      schema: { hide: true, params: campaignParams, querystring: decisionNoticeQuery },
      handler: async (request, reply) => {
        const campaign = await findVisibleCampaign(app.db, request.actor, request.params.id);
        if (!campaign) return reply.callNotFound();
        const subject = { type: 'access_review', id: campaign.id };
        const [items, actions, allTasks] = await Promise.all([
          campaignItems(app.db, request.actor, campaign.id),
          provisioningActionsFor(app.db, subject),
          tasksOfSubject(app.db, subject),
        ]);
        // A reviewer's task lists their accounts: a service owner sees their own tasks only, as their own items.
        const tasks = oversees(request.actor) ? allTasks : allTasks.filter((task) => task.assignees.includes(request.actor.principalId));
        const names = await lookUpNames(app.db, {
          cis: [...campaign.ci_ids, ...items.map((i) => i.ci_id)],
          principals: [
            campaign.started_by,
            ...items.flatMap((i) => [i.reviewer, ...(i.account_owner ? [i.account_owner] : []), ...(i.decided_by ? [i.decided_by] : [])]),
            ...tasks.flatMap((t) => t.decisions.map((d) => d.principalId)),
          ],
        });
        const cards = await openTaskCards(web, request.actor, tasks, {
          csrfToken: reply.generateCsrf(),
          returnTo: reviewPath(campaign.id),
        });
        const decided = items.filter((i) => i.decision !== null).length;
        return web.render(request, reply, {
          title: campaignLabel(campaign),
          notice: decisionNotice(request.query.notice),
          body: html`<h1>${campaignLabel(campaign)}</h1>
<section class="card" aria-labelledby="facts"><h2 id="facts">Campaign</h2>
${facts([
  ['Status', html`<span data-testid="access-review-status">${humanize(campaign.status)}</span>`],
  ['Systems', names.cis(campaign.ci_ids)],
  ['Started by', html`${names.person(campaign.started_by)}, ${time(campaign.created_at)}`],
  ['Deadline', campaign.status === 'open' ? deadline(campaign.deadline_at) : time(campaign.deadline_at)],
  ['Progress', `${decided} of ${items.length} accounts decided`],
  ['Findings', items.some((i) => i.flags.length) ? flagCounts(items) : 'None'],
  ['Completed', campaign.completed_at && html`${time(campaign.completed_at)}${campaign.completed_on_time === false ? ' (late)' : ''}`],
])}
</section>
<h2>Open tasks</h2>
${cards.length ? cards : html`<p class="hint">None.</p>`}
<h2>Accounts</h2>
${table(
  ['System', 'Account', 'Owner', 'Employment', 'Entitlements', 'Findings', 'Reviewer', 'Decision'],
  items.map((i) => [
    names.ci(i.ci_id),
    html`${i.account_id} <span class="hint">${humanize(i.kind)}</span>`,
    i.account_owner ? names.person(i.account_owner) : '—',
    humanize(i.employment_status),
    entitlementList(i.entitlements),
    i.flags.length
      ? html`${i.flags.map((flag) => badge(flag, 'high'))}${i.sod_conflicts.length ? html`<div class="hint">${i.sod_conflicts.map((c) => c.ruleName).join(', ')}</div>` : ''}`
      : '—',
    names.person(i.reviewer),
    i.decision
      ? html`${humanize(i.decision)}${i.kept_entitlements?.length ? ` (keeps ${i.kept_entitlements.join(', ')})` : ''} by ${names.person(i.decided_by ?? '')} ${time(i.decided_at)}`
      : 'Pending',
  ]),
  'Accounts under review',
)}
<h2>Decisions</h2>
${taskDecisions(tasks, 'Decisions', names.person)}
<h2>Provisioning</h2>
${provisioning(actions, names)}`,
        });
      },
    });
  },
};
