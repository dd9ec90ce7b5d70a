import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { everyone } from '../../http/roles';
import { cursorFrom } from '../../http/paging';
import { findPolicyDetail, listPolicies } from '../../db/policies';
import { tasksOfSubject } from '../../db/tasks';
import { uuidParam } from '../../schemas/common';
import { deadline, facts, filters, humanize, nextPageLink, table, time } from '../format';
import { html } from '../html';
import { lookUpNames } from '../names';
import { blankIsUnset, pageRoute, uiPrefix, type WebContext, type WebPage, uuidsOnly } from '../page';
import { decisionNotice, decisionNoticeQuery, openTaskCards, taskDecisions } from '../task-card';

const path = `${uiPrefix}/policies`;
const policyPath = (id: string) => `${path}/${id}`;
const pageSize = 100;

const filterQuery = z.object({ reviewDue: blankIsUnset(z.enum(['true'])), cursor: z.string().max(200).optional() });
const at = (iso: string | null) => (iso ? new Date(iso) : null);

/** Policies and their versions, readable by everyone as in the JSON API (`GET /policies`). */
export const policiesPage: WebPage = {
  nav: { label: 'Policies', path },
  subject: {
    type: 'policy',
    path: policyPath,
    async labels(app, _actor, ids) {
      const found = await Promise.all(uuidsOnly(ids).map((id) => findPolicyDetail(app.db, id)));
      return new Map(found.flatMap((policy) => (policy ? [[policy.id, policy.title] as const] : [])));
    },
  },
  async routes(app: FastifyInstance, web: WebContext) {
    const routes = app.withTypeProvider<ZodTypeProvider>();

    routes.get('/policies', {
      ...pageRoute(everyone),
      schema: { hide: true, querystring: filterQuery },
      handler: async (request, reply) => {
        const { reviewDue, cursor } = request.query;
        const { items, nextCursor } = await listPolicies(
          app.db,
          { reviewDue: reviewDue === 'true' },
          { limit: pageSize, after: cursorFrom(cursor) },
        );
        const names = await lookUpNames(app.db, { principals: items.flatMap((p) => [p.owner, ...(p.approvedBy ? [p.approvedBy] : [])]) });
        return web.render(request, reply, {
          title: 'Policies',
          body: html`<h1>Policies</h1>
${filters(path, 'Filter policies', request.query, [{ name: 'reviewDue', label: 'Review due', options: ['true'] }])}
${table(
  ['Policy', 'Status', 'Version', 'Owner', 'Approved', 'Next review'],
  items.map((p) => [
    html`<a href="${policyPath(p.id)}">${p.title}</a>`,
    humanize(p.status),
    p.version === null ? 'None approved yet' : String(p.version),
    names.person(p.owner),
    p.approvedBy ? html`${names.person(p.approvedBy)}, ${time(at(p.approvedAt))}` : '—',
    deadline(at(p.nextReviewAt)),
  ]),
  'Policies',
)}
${nextPageLink(path, request.query, nextCursor, 'More policies')}`,
        });
      },
    });

    routes.get('/policies/:id', {
      ...pageRoute(everyone),
      schema: { hide: true, params: uuidParam, querystring: decisionNoticeQuery },
      handler: async (request, reply) => {
        const policy = await findPolicyDetail(app.db, request.params.id);
        if (!policy) return reply.callNotFound();
        const tasks = await tasksOfSubject(app.db, { type: 'policy', id: policy.id });
        const names = await lookUpNames(app.db, {
          principals: [
            policy.owner,
            ...policy.versions.flatMap((v) => [v.proposedBy, ...(v.approvedBy ? [v.approvedBy] : [])]),
            ...tasks.flatMap((t) => t.decisions.map((d) => d.principalId)),
          ],
        });
        const cards = await openTaskCards(web, request.actor, tasks, { csrfToken: reply.generateCsrf(), returnTo: policyPath(policy.id) });
        return web.render(request, reply, {
          title: policy.title,
          notice: decisionNotice(request.query.notice),
          body: html`<h1>${policy.title}</h1>
<section class="card" aria-labelledby="facts"><h2 id="facts">Policy</h2>
${facts([
  ['Status', html`<span data-testid="policy-status">${humanize(policy.status)}</span>`],
  ['Approved version', policy.version === null ? 'None yet' : String(policy.version)],
  ['Owner', names.person(policy.owner)],
  ['Approved', policy.approvedBy && html`by ${names.person(policy.approvedBy)}, ${time(at(policy.approvedAt))}`],
  ['Next review', deadline(at(policy.nextReviewAt))],
  // Linked only over http(s): the API takes any URL, and a javascript: one must not become a link.
  [
    'Document',
    policy.documentUrl &&
      (/^https?:\/\//i.test(policy.documentUrl)
        ? html`<a href="${policy.documentUrl}" rel="noopener noreferrer">${policy.documentUrl}</a>`
        : policy.documentUrl),
  ],
  ['Text', policy.body && html`<div class="prose">${policy.body}</div>`],
])}
</section>
<h2>Open tasks</h2>
${cards.length ? cards : html`<p class="hint">None.</p>`}
<h2>Versions</h2>
${table(
  ['Version', 'Status', 'Proposed by', 'Decided', 'Next review', 'Comment'],
  policy.versions.map((v) => [
    String(v.version),
    humanize(v.status),
    names.person(v.proposedBy),
    v.decidedAt ? html`${v.approvedBy ? html`${names.person(v.approvedBy)}, ` : ''}${time(at(v.decidedAt))}` : '—',
    time(at(v.nextReviewAt)),
    v.comment ?? '',
  ]),
  'Versions',
)}
<h2>Decisions</h2>
${taskDecisions(tasks, 'Decisions', names.person)}`,
        });
      },
    });
  },
};
