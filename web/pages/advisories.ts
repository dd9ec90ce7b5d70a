import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { everyone } from '../../http/roles';
import type { Advisory } from '../../db/database';
import { findAdvisory, listAdvisories, listRemediations, remediationCounts } from '../../db/advisories';
import { tasksOfSubject } from '../../db/tasks';
import { advisoryParam } from '../../schemas/advisories';
import { badge, deadline, facts, filters, humanize, table, time } from '../format';
import { html } from '../html';
import { lookUpNames } from '../names';
import { blankIsUnset, pageRoute, uiPrefix, type WebContext, type WebPage } from '../page';
import { decisionNotice, decisionNoticeQuery, openTaskCards, taskDecisions } from '../task-card';

const path = `${uiPrefix}/advisories`;
const advisoryPath = (id: string) => `${path}/${encodeURIComponent(id)}`;
const shownAdvisories = 200;
const advisoryStatuses = ['open', 'closed', 'failed', 'withdrawn'] as const;

const filterQuery = z.object({ status: blankIsUnset(z.enum(advisoryStatuses)) });

const label = (advisory: Pick<Advisory, 'id' | 'title'>) => `${advisory.id} ${advisory.title}`;
const counted = (counts: Record<string, number> | undefined) =>
  Object.entries(counts ?? {})
    .map(([status, n]) => `${n} ${humanize(status).toLowerCase()}`)
    .join(', ') || 'None';

/** Advisories and their remediations, readable by everyone as in the JSON API (`GET /advisories`). */
export const advisoriesPage: WebPage = {
  nav: { label: 'Advisories', path },
  subject: {
    type: 'advisory',
    path: advisoryPath,
    async labels(app, _actor, ids) {
      const found = await Promise.all(ids.map((id) => findAdvisory(app.db, id)));
      return new Map(found.flatMap((advisory) => (advisory ? [[advisory.id, label(advisory)] as const] : [])));
    },
  },
  async routes(app: FastifyInstance, web: WebContext) {
    const routes = app.withTypeProvider<ZodTypeProvider>();

    routes.get('/advisories', {
      ...pageRoute(everyone),
      schema: { hide: true, querystring: filterQuery },
      handler: async (request, reply) => {
        const advisories = await listAdvisories(app.db, { ...request.query, limit: shownAdvisories });
        const counts = await remediationCounts(
          app.db,
          advisories.map((advisory) => advisory.id),
        );
        return web.render(request, reply, {
          title: 'Advisories',
          body: html`<h1>Advisories</h1>
${filters(path, 'Filter advisories', request.query, [{ name: 'status', label: 'Status', options: advisoryStatuses }])}
${table(
  ['Advisory', 'Status', 'CVSS', 'Exploited', 'Remediations', 'Received'],
  advisories.map((advisory) => [
    html`<a href="${advisoryPath(advisory.id)}">${label(advisory)}</a>`,
    humanize(advisory.status),
    advisory.cvss_score === null ? '—' : String(advisory.cvss_score),
    advisory.exploited ? badge('exploited', 'critical') : 'No',
    counted(counts.get(advisory.id)),
    time(advisory.created_at),
  ]),
  'Advisories',
)}`,
        });
      },
    });

    routes.get('/advisories/:id', {
      ...pageRoute(everyone),
      schema: { hide: true, params: advisoryParam, querystring: decisionNoticeQuery },
      handler: async (request, reply) => {
        const advisory = await findAdvisory(app.db, request.params.id);
        if (!advisory) return reply.callNotFound();
        const [remediations, tasks] = await Promise.all([
          listRemediations(app.db, advisory.id),
          tasksOfSubject(app.db, { type: 'advisory', id: advisory.id }),
        ]);
        const names = await lookUpNames(app.db, {
          cis: remediations.map((r) => r.ci_id),
          principals: [...remediations.map((r) => r.owner), ...tasks.flatMap((task) => task.decisions.map((d) => d.principalId))],
        });
        const cards = await openTaskCards(web, request.actor, tasks, {
          csrfToken: reply.generateCsrf(),
          returnTo: advisoryPath(advisory.id),
        });
        const now = Date.now();
        return web.render(request, reply, {
          title: label(advisory),
          notice: decisionNotice(request.query.notice),
          body: html`<h1>${label(advisory)} ${advisory.exploited ? badge('exploited', 'critical') : ''}</h1>
<section class="card" aria-labelledby="facts">
<h2 id="facts">Advisory</h2>
${facts([
  ['Status', html`<span data-testid="advisory-status">${humanize(advisory.status)}</span>`],
  ['Supplier', advisory.supplier],
  ['Aliases', advisory.aliases.length > 0 && advisory.aliases.join(', ')],
  ['Format', advisory.format],
  ['CVSS', advisory.cvss_score !== null && `${advisory.cvss_score}${advisory.cvss_vector ? ` (${advisory.cvss_vector})` : ''}`],
  [
    'Affected products',
    html`<ul class="plain">${advisory.affected.map((product) => html`<li>${product.product} ${product.ranges.join(' || ')}</li>`)}</ul>`,
  ],
  ['Preventive measures', advisory.preventive_measures],
  ['Published', advisory.published_at && time(advisory.published_at)],
  ['Received', html`${time(advisory.created_at)} from ${advisory.received_by}`],
])}
</section>
<h2>Open tasks</h2>
${cards.length ? cards : html`<p class="hint">None.</p>`}
<h2>Remediations</h2>
${table(
  ['Configuration item', 'Owner', 'Product', 'Installed', 'Status', 'Deadline', 'Escalations'],
  remediations.map((r) => [
    web.linkTo({ type: 'configuration_item', id: r.ci_id }, names.ci(r.ci_id)),
    names.person(r.owner),
    r.product,
    r.installed_version,
    humanize(r.status),
    r.status === 'open'
      ? deadline(r.due_at, now)
      : html`${r.deadline}, ${r.resolved_at ? html`resolved ${time(r.resolved_at)}` : html`due ${time(r.due_at)}`}`,
    String(r.escalations),
  ]),
  'Remediations',
)}
<h2>Decisions</h2>
${taskDecisions(tasks, 'Decisions', names.person)}`,
        });
      },
    });
  },
};
