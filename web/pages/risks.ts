import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { reportReaders } from '../../http/roles';
import { cursorFrom } from '../../http/paging';
import { findRisk, listRisks } from '../../db/risks';
import { riskTreatments } from '../../domain/risk';
import { uuidParam } from '../../schemas/common';
import { deadline, facts, filters, humanize, nextPageLink, table, time } from '../format';
import { html } from '../html';
import { lookUpNames } from '../names';
import { blankIsUnset, pageRoute, subjectKey, uiPrefix, type WebContext, type WebPage, uuidsOnly } from '../page';

const path = `${uiPrefix}/risks`;
const riskPath = (id: string) => `${path}/${id}`;
const pageSize = 100;

const filterQuery = z.object({
  treatment: blankIsUnset(z.enum(riskTreatments)),
  reviewDue: blankIsUnset(z.enum(['true'])),
  cursor: z.string().max(200).optional(),
});

/** The risk register, read by the roles `GET /risks` admits (`reportReaders`), every risk alike. */
export const risksPage: WebPage = {
  nav: { label: 'Risks', path, roles: reportReaders },
  subject: {
    type: 'risk',
    path: riskPath,
    async labels(app, actor, ids) {
      if (!actor.roles.some((role) => reportReaders.includes(role))) return new Map();
      const found = await Promise.all(uuidsOnly(ids).map((id) => findRisk(app.db, id)));
      return new Map(found.flatMap((risk) => (risk ? [[risk.id, risk.title] as const] : [])));
    },
  },
  async routes(app: FastifyInstance, web: WebContext) {
    const routes = app.withTypeProvider<ZodTypeProvider>();

    routes.get('/risks', {
      ...pageRoute(reportReaders),
      schema: { hide: true, querystring: filterQuery },
      handler: async (request, reply) => {
        const { treatment, reviewDue, cursor } = request.query;
        const { items, nextCursor } = await listRisks(
          app.db,
          { treatment, reviewDue: reviewDue === 'true' },
          { limit: pageSize, after: cursorFrom(cursor) },
        );
        const names = await lookUpNames(app.db, { principals: items.map((risk) => risk.owner) });
        return web.render(request, reply, {
          title: 'Risks',
          body: html`<h1>Risk register</h1>
${filters(path, 'Filter risks', request.query, [
  { name: 'treatment', label: 'Treatment', options: riskTreatments },
  { name: 'reviewDue', label: 'Review due', options: ['true'] },
])}
${table(
  ['Risk', 'Likelihood × impact', 'Treatment', 'Owner', 'Review'],
  items.map((risk) => [
    html`<a href="${riskPath(risk.id)}">${risk.title}</a>`,
    `${risk.likelihood} × ${risk.impact} = ${risk.likelihood * risk.impact}`,
    humanize(risk.treatment),
    names.person(risk.owner),
    deadline(risk.review_at),
  ]),
  'Risks',
)}
${nextPageLink(path, request.query, nextCursor, 'More risks')}`,
        });
      },
    });

    routes.get('/risks/:id', {
      ...pageRoute(reportReaders),
      schema: { hide: true, params: uuidParam },
      handler: async (request, reply) => {
        const risk = await findRisk(app.db, request.params.id);
        if (!risk) return reply.callNotFound();
        const controls = await web.subjectLabels(
          request.actor,
          risk.controls.map((id) => ({ type: 'control', id })),
        );
        const names = await lookUpNames(app.db, {
          cis: risk.affected_cis,
          services: risk.affected_services,
          principals: [risk.owner],
        });
        return web.render(request, reply, {
          title: risk.title,
          body: html`<h1>${risk.title}</h1>
<section class="card" aria-labelledby="facts"><h2 id="facts">Risk</h2>
${facts([
  ['Threat', risk.threat],
  ['Likelihood × impact', `${risk.likelihood} × ${risk.impact} = ${risk.likelihood * risk.impact}`],
  ['Treatment', html`<span data-testid="risk-treatment">${humanize(risk.treatment)}</span>`],
  ['Accepted until', risk.accepted_until && deadline(risk.accepted_until)],
  [
    'Controls',
    risk.controls.length > 0 &&
      html`<ul class="plain">${risk.controls.map((control) => {
        // A control is named in words or by its catalogue id; only a catalogued one links to its page.
        const name = controls.get(subjectKey({ type: 'control', id: control }));
        return html`<li>${name ? web.linkTo({ type: 'control', id: control }, name) : control}</li>`;
      })}</ul>`,
  ],
  ['Affected services', risk.affected_services.length > 0 && risk.affected_services.map(names.service).join(', ')],
  ['Affected configuration items', risk.affected_cis.length > 0 && names.cis(risk.affected_cis)],
  ['Owner', names.person(risk.owner)],
  ['Next review', deadline(risk.review_at)],
  ['Recorded', time(risk.created_at)],
])}
</section>`,
        });
      },
    });
  },
};
