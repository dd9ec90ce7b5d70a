import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { everyone } from '../../http/roles';
import { cursorFrom } from '../../http/paging';
import type { Incident } from '../../db/database';
import {
  findVisibleIncident,
  incidentRecords,
  incidentRelations,
  listIncidents,
  slaDuePosition,
  visibleIncidentLabels,
} from '../../db/incidents';
import { slaClocksOf } from '../../db/incident-sla';
import { incidentObservables } from '../../db/observables';
import { pageOf } from '../../db/pagination';
import { incidentCategories, severities } from '../../domain/classification';
import { incidentStatuses, type IncidentSlaClock } from '../../domain/incident';
import { uuidParam } from '../../schemas/common';
import { incidentStateQuery } from '../../workflows/incident/definitions';
import { badge, deadline, filters, humanize, table, time, timeline } from '../format';
import { html, type Html } from '../html';
import { lookUpNames } from '../names';
import { blankIsUnset, pageRoute, uiPrefix, type WebContext, type WebPage, uuidsOnly } from '../page';
import { decisionNotice, decisionNoticeQuery, openTaskCards, taskDecisions } from '../task-card';

const path = `${uiPrefix}/incidents`;
const incidentPath = (id: string) => `${path}/${id}`;
const pageSize = 50;

const filterQuery = z.object({
  status: blankIsUnset(z.enum(incidentStatuses)),
  severity: blankIsUnset(z.enum(severities)),
  category: blankIsUnset(z.enum(incidentCategories)),
  drill: blankIsUnset(z.enum(['true', 'false'])),
  cursor: z.string().max(200).optional(),
});
type Filter = z.infer<typeof filterQuery>;

const label = (incident: Pick<Incident, 'number' | 'title'>) => `#${incident.number} ${incident.title}`;

/**
 * Where the incident stands against its SLA: breached (which targets), else the next target's time
 * left, else met; the list is ordered the same way (breached first, then due soonest).
 */
function slaState(incident: Pick<Incident, 'closed_at'>, clocks: IncidentSlaClock[] = [], now = Date.now()): Html | string {
  const unmet = clocks.filter((clock) => clock.metAt === null);
  const breached = clocks.filter((clock) => clock.breachedAt !== null || (clock.metAt === null && Date.parse(clock.dueAt) < now));
  const next = unmet.find((clock) => Date.parse(clock.dueAt) >= now);
  if (breached.length)
    return html`${badge('breached')} ${breached.map((clock) => humanize(clock.target)).join(', ')}${next && html`; ${humanize(next.target)} ${deadline(new Date(next.dueAt), now)}`}`;
  if (next && incident.closed_at === null) return html`${humanize(next.target)} ${deadline(new Date(next.dueAt), now)}`;
  return clocks.length ? 'Met' : '—';
}

const filterForm = (filter: Filter) =>
  filters(path, 'Filter incidents', filter, [
    { name: 'status', label: 'Status', options: incidentStatuses },
    { name: 'severity', label: 'Severity', options: severities },
    { name: 'category', label: 'Category', options: incidentCategories },
    { name: 'drill', label: 'Drill', options: ['false', 'true'] },
  ]);

export const incidentsPage: WebPage = {
  nav: { label: 'Incidents', path },
  subject: {
    type: 'incident',
    path: incidentPath,
    async labels(app, actor, ids) {
      const valid = uuidsOnly(ids);
      if (!valid.length) return new Map();
      const rows = await visibleIncidentLabels(app.db, actor, valid);
      return new Map(rows.map((row) => [row.id, label(row)]));
    },
  },
  async routes(app: FastifyInstance, web: WebContext) {
    const routes = app.withTypeProvider<ZodTypeProvider>();

    routes.get('/incidents', {
      ...pageRoute(everyone),
      schema: { hide: true, querystring: filterQuery },
      handler: async (request, reply) => {
        const { cursor, drill, ...filter } = request.query;
        // By urgency, as people work them: breached first, then the SLA target due soonest (none last).
        const rows = await listIncidents(app.db, request.actor, {
          ...filter,
          ...(drill ? { drill: drill === 'true' } : {}),
          sort: 'slaDue',
          limit: pageSize,
          after: cursorFrom(cursor),
        });
        const { items, nextCursor } = pageOf(rows, pageSize, slaDuePosition);
        const [clocks, names] = await Promise.all([
          slaClocksOf(
            app.db,
            items.map((incident) => incident.id),
          ),
          lookUpNames(app.db, { cis: items.flatMap((incident) => incident.affected_cis) }),
        ]);
        const now = Date.now();
        const next =
          nextCursor &&
          `${path}?${new URLSearchParams({ ...Object.fromEntries(Object.entries(request.query).filter(([, v]) => v)), cursor: nextCursor })}`;
        return web.render(request, reply, {
          title: 'Incidents',
          body: html`<h1>Incidents</h1>
${filterForm(request.query)}
${table(
  ['Incident', 'Severity', 'SLA', 'Status', 'Owner', 'Service', 'Configuration items', 'Reported'],
  items.map((incident) => [
    html`<a href="${incidentPath(incident.id)}">${label(incident)}</a>${incident.drill ? html` ${badge('drill')}` : ''}`,
    badge(incident.severity),
    slaState(incident, clocks.get(incident.id), now),
    humanize(incident.status),
    names.ownersOf(incident.affected_cis),
    names.servicesOf(incident.affected_cis),
    names.cis(incident.affected_cis),
    time(incident.reported_at),
  ]),
  'Incidents',
)}
${next && html`<p><a href="${next}">Older incidents</a></p>`}`,
        });
      },
    });

    routes.get('/incidents/:id', {
      ...pageRoute(everyone),
      schema: { hide: true, params: uuidParam, querystring: decisionNoticeQuery },
      handler: async (request, reply) => {
        const incident = await findVisibleIncident(app.db, request.actor, request.params.id);
        if (!incident) return reply.callNotFound();
        const [records, observables, related, clocks] = await Promise.all([
          incidentRecords(app.db, incident.id),
          incidentObservables(app.db, incident.id),
          incidentRelations(app.db, incident.id),
          slaClocksOf(app.db, [incident.id]),
        ]);
        const names = await lookUpNames(app.db, {
          cis: incident.affected_cis,
          principals: [
            incident.reported_by,
            ...records.timeline.map((event) => event.actor),
            ...records.tasks.flatMap((task) => task.decisions.map((decision) => decision.principalId)),
            ...records.actions.flatMap((action) => action.approved_by),
            ...records.communications.flatMap((c) => [c.requested_by, ...(c.decided_by ? [c.decided_by] : [])]),
          ],
        });
        const open = incident.closed_at === null;
        const live = open
          ? await app.temporal.client.workflow
              .getHandle(incident.workflow_id)
              .query(incidentStateQuery)
              .catch(() => null)
          : null;
        const cards = await openTaskCards(web, request.actor, records.tasks, {
          csrfToken: reply.generateCsrf(),
          returnTo: incidentPath(incident.id),
        });
        const stamps = [
          ['Occurred', incident.occurred_at],
          ['Detected', incident.detected_at],
          ['Reported', incident.reported_at],
          ['Acknowledged', incident.acknowledged_at],
          ['Contained', incident.contained_at],
          ['Resolved', incident.resolved_at],
          ['Closed', incident.closed_at],
        ] as const;
        return web.render(request, reply, {
          title: label(incident),
          notice: decisionNotice(request.query.notice),
          body: html`<h1>${label(incident)} ${badge(incident.severity)}${incident.drill ? html` ${badge('drill')}` : ''}</h1>
<section class="card" aria-labelledby="state">
<h2 id="state">Current state</h2>
<dl class="facts">
  <dt>Status</dt><dd data-testid="incident-status">${humanize(incident.status)}</dd>
  ${live?.currentStep && html`<dt>Current step</dt><dd>${humanize(live.currentStep)}</dd>`}
  <dt>Category</dt><dd>${humanize(incident.category)}</dd>
  <dt>Classification</dt><dd>${incident.security_incident ? 'Security incident' : 'Not a security incident'}: ${incident.classification_reason}</dd>
  <dt>SLA</dt><dd data-testid="incident-sla">${slaState(incident, clocks.get(incident.id))}</dd>
  <dt>Targets</dt><dd>acknowledge within ${incident.acknowledge_target}, resolve within ${incident.resolve_target}</dd>
  <dt>Affected</dt><dd>${incident.affected_cis.length ? html`<ul class="plain">${incident.affected_cis.map((ci) => html`<li>${names.ci(ci)}</li>`)}</ul>` : '—'}</dd>
  <dt>Owner</dt><dd>${names.ownersOf(incident.affected_cis)}</dd>
  <dt>Reported by</dt><dd>${names.person(incident.reported_by)} via ${incident.source}</dd>
  <dt>Playbook</dt><dd>${humanize(incident.playbook_category)}, version ${incident.playbook_version}</dd>
  ${incident.scope && html`<dt>Scope</dt><dd>${incident.scope}</dd>`}
  ${incident.attack_techniques.length > 0 && html`<dt>ATT&amp;CK</dt><dd>${incident.attack_techniques.join(', ')}</dd>`}
  ${incident.merged_into && html`<dt>Merged into</dt><dd><a href="${incidentPath(incident.merged_into)}">${incident.merged_into}</a></dd>`}
  <dt>Description</dt><dd>${incident.description}</dd>
  ${stamps.filter(([, at]) => at).map(([name, at]) => html`<dt>${name}</dt><dd>${time(at)}</dd>`)}
</dl>
</section>
<h2>Open tasks</h2>
${cards.length ? cards : html`<p class="hint">None.</p>`}
<h2>Playbook steps</h2>
${table(
  ['Step', 'Phase', 'Status', 'Started', 'Finished'],
  records.steps.map((s) => [s.title, humanize(s.phase), humanize(s.status), time(s.started_at), time(s.finished_at)]),
  'Playbook steps',
)}
<h2>Decisions</h2>
${taskDecisions(records.tasks, 'Decisions', names.person)}
<h2>Actions</h2>
${table(
  ['Action', 'Status', 'Approved by', 'Detail', 'At'],
  records.actions.map((a) => [a.name, humanize(a.status), names.people(a.approved_by), a.detail, time(a.executed_at)]),
  'Actions',
)}
<h2>Observables</h2>
${table(
  ['Type', 'Value', 'From', 'IOC', 'Last seen'],
  observables.map((o) => [o.type, o.value, o.origin, o.marked_at ? 'IOC' : '', time(o.last_seen_at)]),
  'Observables',
)}
${
  related.length > 0 &&
  html`<h2>Related incidents</h2><ul>${related.map((r) => html`<li>${humanize(r.kind)}: <a href="${incidentPath(r.id)}">${label(r)}</a> (${humanize(r.status)})${r.note ? `: ${r.note}` : ''}</li>`)}</ul>`
}
<h2>Linked records</h2>
${
  incident.links.length || records.alerts.length
    ? html`<ul>${incident.links.map((link) => html`<li>${web.linkTo(link)}</li>`)}${records.alerts.map((a) => html`<li>Alert ${a.source}/${a.rule}${a.host ? ` on ${a.host}` : ''}${a.account ? ` for ${a.account}` : ''}: ${a.verdict} (${time(a.observed_at)})</li>`)}</ul>`
    : html`<p class="hint">None.</p>`
}
${
  records.communications.length > 0 &&
  html`<h2>Communications</h2>${table(
    ['Audience', 'Status', 'Requested by', 'Decided by', 'Sent'],
    records.communications.map((c) => [
      c.audience,
      humanize(c.status),
      names.person(c.requested_by),
      c.decided_by ? names.person(c.decided_by) : '—',
      time(c.sent_at),
    ]),
    'Communications',
  )}`
}
<h2>Timeline</h2>
${timeline(records.timeline, names.person)}`,
        });
      },
    });
  },
};
