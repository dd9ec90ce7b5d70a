import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { problemReaders } from '../../http/roles';
import { cursorFrom } from '../../http/paging';
import { pageOf } from '../../db/pagination';
import { findVisibleProblem, involvesSecurityManagement, listProblems, problemLinks } from '../../db/problems';
import { tasksOfSubject } from '../../db/tasks';
import { problemStatuses } from '../../domain/problem';
import { uuidParam } from '../../schemas/common';
import { badge, facts, filters, humanize, nextPageLink, table, time } from '../format';
import { html } from '../html';
import { lookUpNames } from '../names';
import { blankIsUnset, pageRoute, subjectKey, uiPrefix, type WebContext, type WebPage, uuidsOnly } from '../page';
import { decisionNotice, decisionNoticeQuery, openTaskCards, taskDecisions } from '../task-card';

const path = `${uiPrefix}/problems`;
const problemPath = (id: string) => `${path}/${id}`;
const pageSize = 50;

const filterQuery = z.object({
  status: blankIsUnset(z.enum(problemStatuses)),
  securityRisk: blankIsUnset(z.enum(['true', 'false'])),
  cursor: z.string().max(200).optional(),
});

/**
 * Problems, visible per record as in the JSON API (`problemVisibleTo`): the process roles, auditors
 * and change managers see all; others those they recorded and those of services and CIs they own.
 */
export const problemsPage: WebPage = {
  nav: { label: 'Problems', path, roles: problemReaders },
  subject: {
    type: 'problem',
    path: problemPath,
    async labels(app, actor, ids) {
      const found = await Promise.all(uuidsOnly(ids).map((id) => findVisibleProblem(app.db, actor, id)));
      return new Map(found.flatMap((problem) => (problem ? [[problem.id, problem.title] as const] : [])));
    },
  },
  async routes(app: FastifyInstance, web: WebContext) {
    const routes = app.withTypeProvider<ZodTypeProvider>();

    routes.get('/problems', {
      ...pageRoute(problemReaders),
      schema: { hide: true, querystring: filterQuery },
      handler: async (request, reply) => {
        const { status, securityRisk, cursor } = request.query;
        const rows = await listProblems(
          app.db,
          request.actor,
          { status, ...(securityRisk ? { securityRisk: securityRisk === 'true' } : {}) },
          { limit: pageSize, after: cursorFrom(cursor) },
        );
        const { items, nextCursor } = pageOf(rows, pageSize);
        const names = await lookUpNames(app.db, {
          cis: items.flatMap((p) => p.affected_ci_ids),
          services: items.flatMap((p) => p.affected_service_ids),
          principals: items.map((p) => p.created_by),
        });
        return web.render(request, reply, {
          title: 'Problems',
          body: html`<h1>Problems</h1>
${filters(path, 'Filter problems', request.query, [
  { name: 'status', label: 'Status', options: problemStatuses },
  { name: 'securityRisk', label: 'Security risk', options: ['true', 'false'] },
])}
${table(
  ['Problem', 'Status', 'Affected', 'Recorded by', 'Recorded'],
  items.map((p) => [
    html`<a href="${problemPath(p.id)}">${p.title}</a>${p.security_risk ? html` ${badge('security risk', 'high')}` : ''}`,
    humanize(p.status),
    [...p.affected_service_ids.map(names.service), ...p.affected_ci_ids.map(names.ci)].join(', ') || '—',
    names.person(p.created_by),
    time(p.created_at),
  ]),
  'Problems',
)}
${nextPageLink(path, request.query, nextCursor, 'More problems')}`,
        });
      },
    });

    routes.get('/problems/:id', {
      ...pageRoute(problemReaders),
      schema: { hide: true, params: uuidParam, querystring: decisionNoticeQuery },
      handler: async (request, reply) => {
        const problem = await findVisibleProblem(app.db, request.actor, request.params.id);
        if (!problem) return reply.callNotFound();
        const [links, involved, tasks] = await Promise.all([
          problemLinks(app.db, problem.id),
          involvesSecurityManagement(app.db, problem),
          tasksOfSubject(app.db, { type: 'problem', id: problem.id }),
        ]);
        const [names, incidentLabels] = await Promise.all([
          lookUpNames(app.db, {
            cis: problem.affected_ci_ids,
            services: problem.affected_service_ids,
            principals: [
              problem.created_by,
              ...links.proposals.flatMap((p) => [p.proposed_by, ...p.checked_by]),
              ...tasks.flatMap((t) => t.decisions.map((d) => d.principalId)),
            ],
          }),
          web.subjectLabels(
            request.actor,
            links.incidentIds.map((id) => ({ type: 'incident', id })),
          ),
        ]);
        const cards = await openTaskCards(web, request.actor, tasks, {
          csrfToken: reply.generateCsrf(),
          returnTo: problemPath(problem.id),
        });
        return web.render(request, reply, {
          title: problem.title,
          notice: decisionNotice(request.query.notice),
          body: html`<h1>${problem.title}${problem.security_risk ? html` ${badge('security risk', 'high')}` : ''}</h1>
<section class="card" aria-labelledby="facts"><h2 id="facts">Problem</h2>
${facts([
  ['Status', html`<span data-testid="problem-status">${humanize(problem.status)}</span>`],
  ['Reason', problem.reason],
  ['Description', problem.description || null],
  ['Affected services', problem.affected_service_ids.length > 0 && problem.affected_service_ids.map(names.service).join(', ')],
  ['Affected configuration items', problem.affected_ci_ids.length > 0 && names.cis(problem.affected_ci_ids)],
  ['Security Management', involved ? 'Involved: it checks every workaround and solution' : 'Not involved'],
  ['Root cause', problem.root_cause],
  ['Workaround', problem.workaround],
  ['Solution', problem.solution],
  ['Parent problem', problem.parent_id && web.linkTo({ type: 'problem', id: problem.parent_id })],
  ['Recorded', html`by ${names.person(problem.created_by)}, ${time(problem.created_at)}`],
])}
</section>
<h2>Open tasks</h2>
${cards.length ? cards : html`<p class="hint">None.</p>`}
<h2>Incidents</h2>
${
  links.incidentIds.length
    ? html`<ul>${links.incidentIds.map((id) => html`<li>${web.linkTo({ type: 'incident', id }, incidentLabels.get(subjectKey({ type: 'incident', id })))}</li>`)}</ul>`
    : html`<p class="hint">None.</p>`
}
<h2>Workarounds and solutions</h2>
${table(
  ['Proposal', 'Status', 'Proposed by', 'Checklist', 'Checked by'],
  links.proposals.map((p) => [
    html`<strong>${humanize(p.kind)}</strong>: ${p.text}${p.change_id ? html`<div>${web.linkTo({ type: 'change', id: p.change_id })}</div>` : ''}`,
    html`${humanize(p.status)}${p.reasons.length ? html`<div class="hint">${p.reasons.join('; ')}</div>` : ''}`,
    html`${names.person(p.proposed_by)}, ${time(p.created_at)}`,
    p.checklist.length
      ? html`<ul class="plain">${p.checklist.map((item) => {
          const result = p.results.find((r) => r.itemId === item.id);
          return html`<li>${item.title}: ${result ? html`${humanize(result.result)}${result.note ? ` — ${result.note}` : ''}` : 'not checked'}</li>`;
        })}</ul>`
      : '—',
    names.people(p.checked_by),
  ]),
  'Workarounds and solutions',
)}
<h2>Changes</h2>
${table(
  ['Change', 'Status', 'Risk'],
  links.changes.map((c) => [web.linkTo({ type: 'change', id: c.id }, c.title), humanize(c.status), humanize(c.risk ?? '—')]),
  'Changes',
)}
<h2>Decisions</h2>
${taskDecisions(tasks, 'Decisions', names.person)}`,
        });
      },
    });
  },
};
