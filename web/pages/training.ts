import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { trainingReaders } from '../../http/roles';
import { cursorFrom } from '../../http/paging';
import { pageOf } from '../../db/pagination';
import { assignmentsOf, findTrainingCampaign, listTrainingCampaigns } from '../../db/training';
import { uuidParam } from '../../schemas/common';
import { badge, deadline, facts, filters, humanize, nextPageLink, table, time } from '../format';
import { html } from '../html';
import { lookUpNames } from '../names';
import { blankIsUnset, pageRoute, uiPrefix, type WebContext, type WebPage, uuidsOnly } from '../page';

const path = `${uiPrefix}/training`;
const campaignPath = (id: string) => `${path}/${id}`;
const pageSize = 50;

const filterQuery = z.object({ status: blankIsUnset(z.enum(['open', 'closed'])), cursor: z.string().max(200).optional() });

/** Training campaigns and who completed them, read by the roles `GET /training-campaigns` admits. */
export const trainingPage: WebPage = {
  nav: { label: 'Training', path, roles: trainingReaders },
  subject: {
    type: 'training_campaign',
    path: campaignPath,
    async labels(app, actor, ids) {
      if (!actor.roles.some((role) => trainingReaders.includes(role))) return new Map();
      const found = await Promise.all(uuidsOnly(ids).map((id) => findTrainingCampaign(app.db, id)));
      return new Map(found.flatMap((c) => (c ? [[c.id, c.title] as const] : [])));
    },
  },
  async routes(app: FastifyInstance, web: WebContext) {
    const routes = app.withTypeProvider<ZodTypeProvider>();

    routes.get('/training', {
      ...pageRoute(trainingReaders),
      schema: { hide: true, querystring: filterQuery },
      handler: async (request, reply) => {
        const { status, cursor } = request.query;
        const rows = await listTrainingCampaigns(app.db, { status, limit: pageSize, after: cursorFrom(cursor) });
        const { items, nextCursor } = pageOf(rows, pageSize);
        const names = await lookUpNames(app.db, { principals: items.map((c) => c.created_by) });
        return web.render(request, reply, {
          title: 'Training',
          body: html`<h1>Training campaigns</h1>
${filters(path, 'Filter training campaigns', request.query, [{ name: 'status', label: 'Status', options: ['open', 'closed'] }])}
${table(
  ['Campaign', 'Course', 'Status', 'Due', 'Opened by'],
  items.map((c) => [
    html`<a href="${campaignPath(c.id)}">${c.title}</a>`,
    c.course_id,
    humanize(c.status),
    c.status === 'open' ? deadline(c.due_at) : time(c.due_at),
    html`${names.person(c.created_by)}, ${time(c.created_at)}`,
  ]),
  'Training campaigns',
)}
${nextPageLink(path, request.query, nextCursor, 'Older campaigns')}`,
        });
      },
    });

    routes.get('/training/:id', {
      ...pageRoute(trainingReaders),
      schema: { hide: true, params: uuidParam },
      handler: async (request, reply) => {
        const campaign = await findTrainingCampaign(app.db, request.params.id);
        if (!campaign) return reply.callNotFound();
        const assignments = await assignmentsOf(app.db, campaign.id);
        const names = await lookUpNames(app.db, {
          principals: [
            campaign.created_by,
            ...assignments.flatMap((a) => [a.principal_id, ...(a.manager ? [a.manager] : []), ...(a.escalated_to ? [a.escalated_to] : [])]),
          ],
        });
        const completed = assignments.filter((a) => a.completed_at !== null).length;
        const overdue = campaign.due_at.getTime() <= Date.now();
        return web.render(request, reply, {
          title: campaign.title,
          body: html`<h1>${campaign.title}</h1>
<section class="card" aria-labelledby="facts"><h2 id="facts">Campaign</h2>
${facts([
  ['Status', humanize(campaign.status)],
  ['Course', campaign.course_id],
  ['Due', campaign.status === 'open' ? deadline(campaign.due_at) : time(campaign.due_at)],
  [
    'Completion',
    html`<span data-testid="training-completion">${completed} of ${assignments.length}${assignments.length ? ` (${Math.round((100 * completed) / assignments.length)} %)` : ''}</span>`,
  ],
  ['Opened', html`by ${names.person(campaign.created_by)}, ${time(campaign.created_at)}`],
  ['Closed', campaign.closed_at && time(campaign.closed_at)],
])}
</section>
<h2>Assignments</h2>
${table(
  ['Person', 'Manager', 'Completed', 'Reminders', 'Escalated'],
  assignments.map((a) => [
    names.person(a.principal_id),
    a.manager ? names.person(a.manager) : '—',
    a.completed_at
      ? html`${time(a.completed_at)}${a.completion_source ? ` (${humanize(a.completion_source)})` : ''}`
      : overdue
        ? badge('overdue')
        : 'Not yet',
    String(a.reminders),
    a.escalated_at ? html`to ${names.person(a.escalated_to ?? '')}, ${time(a.escalated_at)}` : '—',
  ]),
  'Assignments',
)}`,
        });
      },
    });
  },
};
