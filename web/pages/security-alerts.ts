import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { everyone } from '../../http/roles';
import { cursorFrom } from '../../http/paging';
import { pageOf } from '../../db/pagination';
import { findSecurityAlert, listSecurityAlerts } from '../../db/security-alerts';
import { tasksOfSubject } from '../../db/tasks';
import { toAlertRecipient } from '../../domain/security-alert';
import { uuidParam } from '../../schemas/common';
import { facts, filters, humanize, nextPageLink, table, time } from '../format';
import { html } from '../html';
import { lookUpNames } from '../names';
import { blankIsUnset, pageRoute, uiPrefix, type WebContext, type WebPage, uuidsOnly } from '../page';
import { decisionNotice, decisionNoticeQuery, openTaskCards } from '../task-card';

const path = `${uiPrefix}/security-alerts`;
const alertPath = (id: string) => `${path}/${id}`;
const pageSize = 50;
// The subject type the security alert workflow gives its acknowledgement tasks.
const subjectType = 'security-alert';

const filterQuery = z.object({ pending: blankIsUnset(z.enum(['true', 'false'])), cursor: z.string().max(200).optional() });

/** Security alerts broadcast to owners and roles, readable by everyone as in the JSON API, with who acknowledged them. */
export const securityAlertsPage: WebPage = {
  nav: { label: 'Security alerts', path },
  subject: {
    type: subjectType,
    path: alertPath,
    async labels(app, _actor, ids) {
      const found = await Promise.all(uuidsOnly(ids).map((id) => findSecurityAlert(app.db, id)));
      return new Map(found.flatMap((f) => (f ? [[f.alert.id, f.alert.title] as const] : [])));
    },
  },
  async routes(app: FastifyInstance, web: WebContext) {
    const routes = app.withTypeProvider<ZodTypeProvider>();

    routes.get('/security-alerts', {
      ...pageRoute(everyone),
      schema: { hide: true, querystring: filterQuery },
      handler: async (request, reply) => {
        const { pending, cursor } = request.query;
        const { rows, counts } = await listSecurityAlerts(app.db, {
          ...(pending ? { pending: pending === 'true' } : {}),
          limit: pageSize,
          after: cursorFrom(cursor),
        });
        const { items, nextCursor } = pageOf(rows, pageSize);
        const names = await lookUpNames(app.db, {
          principals: items.map((a) => a.raised_by),
          cis: items.flatMap((a) => a.affected_cis),
          services: items.flatMap((a) => a.affected_services),
        });
        return web.render(request, reply, {
          title: 'Security alerts',
          body: html`<h1>Security alerts</h1>
${filters(path, 'Filter security alerts', request.query, [{ name: 'pending', label: 'Acknowledgements pending', options: ['true', 'false'] }])}
${table(
  ['Alert', 'Affected', 'Raised by', 'Acknowledged', 'Raised'],
  items.map((a) => {
    const count = counts.get(a.id) ?? { recipients: 0, acknowledged: 0 };
    return [
      html`<a href="${alertPath(a.id)}">${a.title}</a>`,
      [...a.affected_services.map(names.service), ...a.affected_cis.map(names.ci)].join(', ') || humanize(a.audience.join(', ')),
      names.person(a.raised_by),
      `${count.acknowledged} of ${count.recipients}`,
      time(a.created_at),
    ];
  }),
  'Security alerts',
)}
${nextPageLink(path, request.query, nextCursor, 'Older alerts')}`,
        });
      },
    });

    routes.get('/security-alerts/:id', {
      ...pageRoute(everyone),
      schema: { hide: true, params: uuidParam, querystring: decisionNoticeQuery },
      handler: async (request, reply) => {
        const found = await findSecurityAlert(app.db, request.params.id);
        if (!found) return reply.callNotFound();
        const { alert, recipients } = found;
        const tasks = await tasksOfSubject(app.db, { type: subjectType, id: alert.id });
        const names = await lookUpNames(app.db, {
          principals: [
            alert.raised_by,
            ...recipients.flatMap((r) => [toAlertRecipient(r.recipient).principalId ?? [], r.acknowledged_by ?? []].flat()),
          ],
          cis: alert.affected_cis,
          services: alert.affected_services,
        });
        const cards = await openTaskCards(web, request.actor, tasks, { csrfToken: reply.generateCsrf(), returnTo: alertPath(alert.id) });
        const acknowledged = recipients.filter((r) => r.acknowledged_at !== null);
        /** A recipient is a person (by name) or anyone holding a role. */
        const recipientName = (recipient: string) => {
          const { principalId, role } = toAlertRecipient(recipient);
          return principalId ? names.person(principalId) : role ? `Anyone who is ${humanize(role).toLowerCase()}` : recipient;
        };
        return web.render(request, reply, {
          title: alert.title,
          notice: decisionNotice(request.query.notice),
          body: html`<h1>${alert.title}</h1>
<section class="card" aria-labelledby="facts"><h2 id="facts">Alert</h2>
${facts([
  ['Threat', alert.threat],
  ['What to do', alert.actions.length > 0 && html`<ol>${alert.actions.map((action) => html`<li>${action}</li>`)}</ol>`],
  ['Affected services', alert.affected_services.length > 0 && alert.affected_services.map(names.service).join(', ')],
  ['Affected configuration items', alert.affected_cis.length > 0 && names.cis(alert.affected_cis)],
  ['Audience', alert.audience.length > 0 && alert.audience.map(humanize).join(', ')],
  ['Raised', html`by ${names.person(alert.raised_by)}, ${time(alert.created_at)}`],
  ['Acknowledged', html`<span data-testid="alert-acknowledged">${acknowledged.length} of ${recipients.length}</span>`],
  [
    'Linked records',
    alert.links.length > 0 && html`<ul class="plain">${alert.links.map((link) => html`<li>${web.linkTo(link)}</li>`)}</ul>`,
  ],
])}
</section>
<h2>Open tasks</h2>
${cards.length ? cards : html`<p class="hint">None.</p>`}
<h2>Recipients</h2>
${table(
  ['Recipient', 'Why', 'Acknowledged'],
  recipients.map((r) => [
    recipientName(r.recipient),
    r.reason,
    r.acknowledged_at
      ? html`by ${r.acknowledged_by ? names.person(r.acknowledged_by) : recipientName(r.recipient)}, ${time(r.acknowledged_at)}`
      : 'Not yet',
  ]),
  'Recipients',
)}`,
        });
      },
    });
  },
};
