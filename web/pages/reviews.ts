import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { reportReaders } from '../../http/roles';
import type { SecurityReviewRow } from '../../db/database';
import { currentReport, findReview, listReviews } from '../../db/reviews';
import { tasksOfSubject } from '../../db/tasks';
import type { MeasureResult, SignOffRecord } from '../../domain/security-report/model';
import { reviewParams } from '../../schemas/reviews';
import { liveReviewState } from '../../http/review-state';
import { badge, humanize, table, time } from '../format';
import { html } from '../html';
import { pageRoute, uiPrefix, type WebContext, type WebPage } from '../page';
import { decisionNotice, decisionNoticeQuery, openTaskCards, taskDecisions } from '../task-card';

const path = `${uiPrefix}/reviews`;
const reviewPath = (id: string) => `${path}/${encodeURIComponent(id)}`;
const shownReviews = 100;

const label = (review: Pick<SecurityReviewRow, 'id'>) => `Security review ${review.id}`;
const period = (review: Pick<SecurityReviewRow, 'period_from' | 'period_to'>) =>
  `${review.period_from.toISOString().slice(0, 10)} to ${review.period_to.toISOString().slice(0, 10)}`;
const measured = (result: MeasureResult) =>
  result.status === 'measured' && result.value !== null ? `${result.value} ${result.unit}` : 'Not measured';
const signOffText = (signOff: SignOffRecord) =>
  html`${humanize(signOff.outcome)} by ${signOff.by} (${time(signOff.at)})${signOff.comment ? ` — “${signOff.comment}”` : ''}`;

/** Reviews are visible by role, as in the JSON API (`reportReaders`): every reader sees every review. */
export const reviewsPage: WebPage = {
  nav: { label: 'Reviews', path, roles: reportReaders },
  subject: {
    type: 'security_review',
    path: reviewPath,
    async labels(_app, actor, ids) {
      return new Map(actor.roles.some((role) => reportReaders.includes(role)) ? ids.map((id) => [id, label({ id })]) : []);
    },
  },
  async routes(app: FastifyInstance, web: WebContext) {
    const routes = app.withTypeProvider<ZodTypeProvider>();

    routes.get('/reviews', {
      ...pageRoute(reportReaders),
      schema: { hide: true },
      handler: async (request, reply) => {
        const reviews = await listReviews(app.db, shownReviews);
        return web.render(request, reply, {
          title: 'Reviews',
          body: html`<h1>Security reviews</h1>
${table(
  ['Review', 'Period', 'Status', 'Requested by', 'Signed off'],
  reviews.map((review) => [
    html`<a href="${reviewPath(review.id)}">${label(review)}</a>`,
    period(review),
    humanize(review.status),
    review.requested_by,
    review.sign_off ? signOffText(review.sign_off) : '—',
  ]),
  'Security reviews',
)}`,
        });
      },
    });

    routes.get('/reviews/:id', {
      ...pageRoute(reportReaders),
      schema: { hide: true, params: reviewParams, querystring: decisionNoticeQuery },
      handler: async (request, reply) => {
        const review = await findReview(app.db, request.params.id);
        if (!review) return reply.callNotFound();
        const [report, tasks, live] = await Promise.all([
          currentReport(app.db, review),
          tasksOfSubject(app.db, { type: 'security_review', id: review.id }),
          review.status === 'signed_off' ? null : liveReviewState(app.temporal.client, review.workflow_id),
        ]);
        const cards = await openTaskCards(web, request.actor, tasks, { csrfToken: reply.generateCsrf(), returnTo: reviewPath(review.id) });
        return web.render(request, reply, {
          title: label(review),
          notice: decisionNotice(request.query.notice),
          body: html`<h1>${label(review)} ${badge(review.status)}</h1>
<section class="card" aria-labelledby="state">
<h2 id="state">Current state</h2>
<dl class="facts">
  <dt>Status</dt><dd data-testid="review-status">${humanize(review.status)}</dd>
  ${live && html`<dt>Current step</dt><dd>${humanize(live.step)}${live.signOffRounds ? `, sign-off round ${live.signOffRounds + 1}` : ''}</dd>`}
  <dt>Period</dt><dd>${period(review)}</dd>
  <dt>Scope</dt><dd>${report.scope ? report.scope.map((service) => service.name).join(', ') : 'Every service'}</dd>
  <dt>Requested by</dt><dd>${review.requested_by}</dd>
  <dt>Sign-off</dt><dd>${review.sign_off ? signOffText(review.sign_off) : 'Not yet'}</dd>
  <dt>Report</dt><dd><a href="/reviews/${encodeURIComponent(review.id)}/report">The IT Security Report (HTML)</a></dd>
</dl>
</section>
<h2>Open tasks</h2>
${cards.length ? cards : html`<p class="hint">None.</p>`}
<h2>KPI summary</h2>
${table(
  ['KPI', 'Value', 'Deviations', 'Definition'],
  report.measures.map((kpi) => [kpi.title, measured(kpi.result), String(kpi.result.misses?.length ?? 0), kpi.definition]),
  'KPI summary',
)}
<h2>Deviations</h2>
${table(
  ['Deviation', 'KPI', 'Owner', 'Level', 'Detail'],
  report.deviations.map((d) => [d.title, d.measureId, d.owner ?? '—', humanize(d.level), d.detail]),
  'Deviations',
)}
<h2>Improvement actions</h2>
${table(
  ['Action', 'Owner', 'Risk score', 'Status', 'Due', 'Progress'],
  report.improvementActions.map((a) => [
    a.title,
    a.owner,
    a.riskScore === null ? '—' : String(a.riskScore),
    humanize(a.status),
    time(a.dueAt),
    a.progress ?? '',
  ]),
  'Improvement actions',
)}
<h2>Owner reviews</h2>
${table(
  ['Service', 'Owner', 'Outcome', 'Comment'],
  report.ownerReviews.map((r) => [r.serviceName, r.owner, r.expired ? 'Expired' : humanize(r.outcome), r.comment ?? '']),
  'Owner reviews',
)}
${report.revisions.length > 0 && html`<h2>Earlier sign-off rounds</h2><ul>${report.revisions.map((round) => html`<li>${signOffText(round)}</li>`)}</ul>`}
<h2>Decisions</h2>
${taskDecisions(tasks, 'Decisions')}`,
        });
      },
    });
  },
};
