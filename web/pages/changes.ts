import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { changeLiveState } from '../../http/change-live-state';
import { cursorFrom } from '../../http/paging';
import { changeReaders } from '../../http/roles';
import { changeHistory, changeTitles, findChange, listChanges } from '../../db/changes';
import { pageOf } from '../../db/pagination';
import { changeRisks, changeStatuses, type SecurityImpact } from '../../domain/change-risk';
import { uuidParam } from '../../schemas/common';
import { badge, filters, humanize, jsonText, table, time, timeline } from '../format';
import { html } from '../html';
import { blankIsUnset, pageRoute, uiPrefix, type WebContext, type WebPage } from '../page';
import { decisionNotice, decisionNoticeQuery, openTaskCards, taskDecisions } from '../task-card';

const path = `${uiPrefix}/changes`;
const changePath = (id: string) => `${path}/${id}`;
const pageSize = 50;

const filterQuery = z.object({
  status: blankIsUnset(z.enum(changeStatuses)),
  risk: blankIsUnset(z.enum(changeRisks)),
  cursor: z.string().max(200).optional(),
});

const impactAreas: [keyof SecurityImpact, string][] = [
  ['accessControls', 'Access controls'],
  ['networkConfiguration', 'Network configuration'],
  ['dataHandling', 'Data handling'],
];
const impactText = (impact: SecurityImpact) => {
  const areas = impactAreas.filter(([area]) => impact[area]).map(([, text]) => text);
  if (impact.other) areas.push(impact.other);
  return areas.length ? areas.join(', ') : 'None declared';
};

/**
 * Changes are visible by role, as in the JSON API (`changeReaders`): every reader sees every change,
 * so the pages and the subject labels check only the route's roles.
 */
export const changesPage: WebPage = {
  nav: { label: 'Changes', path, roles: changeReaders },
  subject: {
    type: 'change',
    path: changePath,
    async labels(app, actor, ids) {
      if (!actor.roles.some((role) => changeReaders.includes(role))) return new Map();
      return changeTitles(app.db, ids);
    },
  },
  async routes(app: FastifyInstance, web: WebContext) {
    const routes = app.withTypeProvider<ZodTypeProvider>();

    routes.get('/changes', {
      ...pageRoute(changeReaders),
      schema: { hide: true, querystring: filterQuery },
      handler: async (request, reply) => {
        const { cursor, ...filter } = request.query;
        const rows = await listChanges(app.db, filter, { limit: pageSize, after: cursorFrom(cursor) });
        const { items, nextCursor } = pageOf(rows, pageSize);
        const next =
          nextCursor &&
          `${path}?${new URLSearchParams({ ...Object.fromEntries(Object.entries(request.query).filter(([, v]) => v)), cursor: nextCursor })}`;
        return web.render(request, reply, {
          title: 'Changes',
          body: html`<h1>Changes</h1>
${filters(path, 'Filter changes', request.query, [
  { name: 'status', label: 'Status', options: changeStatuses },
  { name: 'risk', label: 'Risk', options: changeRisks },
])}
${table(
  ['Change', 'Risk', 'Status', 'Requester', 'Planned start'],
  items.map((change) => [
    html`<a href="${changePath(change.id)}">${change.title}</a>`,
    badge(change.risk),
    humanize(change.status),
    change.requester,
    time(change.planned_start),
  ]),
  'Changes',
)}
${next && html`<p><a href="${next}">More changes</a></p>`}`,
        });
      },
    });

    routes.get('/changes/:id', {
      ...pageRoute(changeReaders),
      schema: { hide: true, params: uuidParam, querystring: decisionNoticeQuery },
      handler: async (request, reply) => {
        const change = await findChange(app.db, request.params.id);
        if (!change) return reply.callNotFound();
        const [history, live] = await Promise.all([
          changeHistory(app.db, change.id),
          changeLiveState(app.temporal.client, change.workflow_id),
        ]);
        const cards = await openTaskCards(web, request.actor, history.tasks, {
          csrfToken: reply.generateCsrf(),
          returnTo: changePath(change.id),
        });
        const { assessment } = change;
        return web.render(request, reply, {
          title: change.title,
          notice: decisionNotice(request.query.notice),
          body: html`<h1>${change.title} ${badge(change.risk)}</h1>
<section class="card" aria-labelledby="state">
<h2 id="state">Current state</h2>
<dl class="facts">
  <dt>Status</dt><dd data-testid="change-status">${humanize(change.status)}</dd>
  ${live?.waitingFor && html`<dt>Waiting for</dt><dd>${humanize(live.waitingFor)}${live.reviewExpiresAt ? html`, review expires ${time(live.reviewExpiresAt)}` : ''}</dd>`}
  <dt>Risk</dt><dd>${humanize(change.risk)}${assessment.reasons.length ? `: ${assessment.reasons.join('; ')}` : ''}</dd>
  <dt>Review</dt><dd>${assessment.reviewRequired ? (assessment.fourEyes ? 'Two security reviewers must approve' : 'A security reviewer must approve') : 'Not required'}${assessment.evidenceRequired.length ? `; needs evidence: ${assessment.evidenceRequired.map(humanize).join(' or ')}` : ''}</dd>
  <dt>Security impact</dt><dd>${impactText(change.security_impact)}</dd>
  <dt>Revision</dt><dd>${change.revision}</dd>
  <dt>Requester</dt><dd>${change.requester} via ${change.source}</dd>
  <dt>Planned</dt><dd>${time(change.planned_start)} to ${time(change.planned_end)}</dd>
  <dt>Description</dt><dd>${change.description}</dd>
  <dt>Rollback plan</dt><dd>${change.rollback_plan}</dd>
  ${change.affected_cis.length > 0 && html`<dt>Affected CIs</dt><dd>${change.affected_cis.join(', ')}</dd>`}
  ${change.incident_id && html`<dt>Incident</dt><dd>${web.linkTo({ type: 'incident', id: change.incident_id })}</dd>`}
  ${change.verification && html`<dt>Verification</dt><dd>${jsonText(change.verification)}</dd>`}
</dl>
</section>
<h2>Open tasks</h2>
${cards.length ? cards : html`<p class="hint">None.</p>`}
<h2>Evidence</h2>
${table(
  ['Kind', 'Reference'],
  change.evidence.map((e) => [humanize(e.kind), e.ref]),
  'Evidence',
)}
<h2>Decisions</h2>
${table(
  ['Decision', 'Revision', 'Outcome', 'Decided by', 'Reason', 'At'],
  history.decisions.map((d) => [
    humanize(d.decision_key),
    String(d.revision),
    humanize(d.outcome),
    d.decided_by.join(', '),
    d.reason,
    time(d.decided_at),
  ]),
  'Decisions',
)}
<h2>Reviews</h2>
${taskDecisions(history.tasks, 'Reviews')}
<h2>Timeline</h2>
${timeline(history.events)}`,
        });
      },
    });
  },
};
