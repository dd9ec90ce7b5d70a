import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { everyone } from '../../http/roles';
import { testingSchedule } from '../../http/testing-schedule';
import { controlNames, findControl } from '../../db/controls';
import { cadenceText } from '../../domain/controls';
import { tasksOfSubject } from '../../db/tasks';
import { findTestRun, findTestRuns, listTestRuns, type TestRunWithControl } from '../../db/test-runs';
import { uuidParam } from '../../schemas/common';
import { describeTestSchedule } from '../../temporal/security-test-schedule';
import { badge, detailText, humanize, table, time } from '../format';
import { html } from '../html';
import { pageRoute, uiPrefix, type WebContext, type WebPage, uuidsOnly } from '../page';
import { decisionNotice, decisionNoticeQuery, openTaskCards, taskDecisions } from '../task-card';

const path = `${uiPrefix}/testing-schedule`;
const controlPath = (id: string) => `${uiPrefix}/controls/${id}`;
const testRunPath = (id: string) => `${uiPrefix}/test-runs/${id}`;
/** The schedule's window, as GET /testing-schedule defaults to. */
const windowMs = 30 * 86_400_000;
const recentRuns = 20;

const runLabel = (run: Pick<TestRunWithControl, 'control_name' | 'started_at'>) =>
  `${run.control_name} test of ${run.started_at.toISOString().slice(0, 10)}`;
const resultBadge = (run: { result: string | null; status: string }) => (run.result ? badge(run.result) : humanize(run.status));

/** Controls and test runs are visible to every role, as in the JSON API. */
const isLink = (value: unknown): value is string => typeof value === 'string' && /^https?:\/\/\S+$/i.test(value);
/** A test's evidence as people read it: links a tester gave as links, anything a check recorded as compact text. */
const evidenceList = (evidence: Record<string, unknown>) =>
  html`<ul class="plain">${Object.entries(evidence).flatMap(([key, value]) =>
    Array.isArray(value) && value.every(isLink)
      ? value.map((link) => html`<li><a href="${link}" rel="noopener noreferrer">${link}</a></li>`)
      : [html`<li>${humanize(key)}: ${detailText(value)}</li>`],
  )}</ul>`;

export const testingSchedulePage: WebPage = {
  nav: { label: 'Testing schedule', path },
  subject: {
    type: 'control',
    path: controlPath,
    labels: (app, _actor, ids) => controlNames(app.db, uuidsOnly(ids)),
  },
  async routes(app: FastifyInstance, web: WebContext) {
    const routes = app.withTypeProvider<ZodTypeProvider>();

    routes.get('/testing-schedule', {
      ...pageRoute(everyone),
      schema: { hide: true },
      handler: async (request, reply) => {
        const now = new Date();
        const items = await testingSchedule(app.db, app.temporal.client, { from: now, to: new Date(now.getTime() + windowMs), now });
        return web.render(request, reply, {
          title: 'Testing schedule',
          body: html`<h1>Testing schedule</h1>
<p class="hint">Every active control, overdue first, then by its next run in the coming 30 days.</p>
${table(
  ['Control', 'Cadence', 'Owner', 'Process', 'Last result', 'Next runs'],
  items.map((item) => [
    html`<a href="${controlPath(item.controlId)}">${item.name}</a>${item.overdue ? html` ${badge('overdue')}` : ''}${item.paused ? html` ${badge('paused')}` : ''}${item.scheduleState === 'missing' ? html` ${badge('schedule missing', 'missing')}` : ''}`,
    item.cadence,
    item.owner,
    humanize(item.process),
    item.lastRun
      ? html`<a href="${testRunPath(item.lastRun.id)}">${resultBadge(item.lastRun)}</a> ${time(item.lastRun.startedAt)}`
      : 'Never tested',
    item.nextRunTimes.length ? item.nextRunTimes.slice(0, 3).map((at) => html`<div>${time(at)}</div>`) : '—',
  ]),
  'Testing schedule',
)}`,
        });
      },
    });

    routes.get('/controls/:id', {
      ...pageRoute(everyone),
      schema: { hide: true, params: uuidParam },
      handler: async (request, reply) => {
        const control = await findControl(app.db, request.params.id);
        if (!control) return reply.callNotFound();
        const [runs, schedule] = await Promise.all([
          listTestRuns(app.db, { controlId: control.id, limit: recentRuns }),
          control.schedule && control.status === 'active' ? describeTestSchedule(app.temporal.client, control.id) : undefined,
        ]);
        const { procedure } = control;
        return web.render(request, reply, {
          title: control.name,
          body: html`<h1>${control.name}${control.status === 'retired' ? html` ${badge('retired')}` : ''}</h1>
<section class="card" aria-labelledby="control">
<h2 id="control">Control</h2>
<dl class="facts">
  <dt>Owner</dt><dd>${control.owner}</dd>
  <dt>Kind</dt><dd>${humanize(control.kind)}</dd>
  <dt>Process</dt><dd>${humanize(control.process)}</dd>
  <dt>Method</dt><dd>${procedure.type === 'automated' ? `Automated check ${procedure.check}` : `Manual: ${procedure.instructions}`}</dd>
  <dt>Cadence</dt><dd>${cadenceText(control.schedule)}${schedule?.state.paused ? html` ${badge('paused')} ${schedule.state.note ?? ''}` : ''}</dd>
  ${schedule && html`<dt>Next runs</dt><dd>${schedule.info.nextActionTimes.slice(0, 5).map((at) => html`<div>${time(at)}</div>`)}</dd>`}
</dl>
</section>
<h2>Recent test reports</h2>
${table(
  ['Test', 'Result', 'Tested by', 'Summary', 'Finished'],
  runs
    .slice(0, recentRuns)
    .map((run) => [
      html`<a href="${testRunPath(run.id)}">${time(run.started_at)}</a>`,
      resultBadge(run),
      run.tested_by ?? '—',
      run.summary ?? '',
      time(run.finished_at),
    ]),
  'Recent test reports',
)}`,
        });
      },
    });
  },
};

export const testRunPage: WebPage = {
  subject: {
    type: 'test-run',
    path: testRunPath,
    async labels(app, _actor, ids) {
      const runs = await findTestRuns(app.db, uuidsOnly(ids));
      return new Map(runs.map((run) => [run.id, runLabel(run)]));
    },
  },
  async routes(app: FastifyInstance, web: WebContext) {
    const routes = app.withTypeProvider<ZodTypeProvider>();

    routes.get('/test-runs/:id', {
      ...pageRoute(everyone),
      schema: { hide: true, params: uuidParam, querystring: decisionNoticeQuery },
      handler: async (request, reply) => {
        const run = await findTestRun(app.db, request.params.id);
        if (!run) return reply.callNotFound();
        const tasks = await tasksOfSubject(app.db, { type: 'test-run', id: run.id });
        const cards = await openTaskCards(web, request.actor, tasks, { csrfToken: reply.generateCsrf(), returnTo: testRunPath(run.id) });
        return web.render(request, reply, {
          title: runLabel(run),
          notice: decisionNotice(request.query.notice),
          body: html`<h1>${runLabel(run)} ${resultBadge(run)}</h1>
<section class="card" aria-labelledby="run">
<h2 id="run">Test report</h2>
<dl class="facts">
  <dt>Control</dt><dd><a href="${controlPath(run.control_id)}">${run.control_name}</a></dd>
  <dt>Status</dt><dd data-testid="test-run-status">${humanize(run.status)}</dd>
  <dt>Method</dt><dd>${humanize(run.method)}</dd>
  <dt>Requested by</dt><dd>${run.requested_by}</dd>
  <dt>Scheduled</dt><dd>${time(run.scheduled_at)}</dd>
  <dt>Started</dt><dd>${time(run.started_at)}</dd>
  <dt>Finished</dt><dd>${time(run.finished_at)}</dd>
  ${run.tested_by && html`<dt>Tested by</dt><dd>${run.tested_by}</dd>`}
  ${run.summary && html`<dt>Summary</dt><dd>${run.summary}</dd>`}
  ${run.notes && html`<dt>Notes</dt><dd>${run.notes}</dd>`}
  ${Object.keys(run.evidence).length > 0 && html`<dt>Evidence</dt><dd>${evidenceList(run.evidence)}</dd>`}
  ${run.incident_id && html`<dt>Incident</dt><dd>${web.linkTo({ type: 'incident', id: run.incident_id })}</dd>`}
</dl>
</section>
<h2>Open tasks</h2>
${cards.length ? cards : html`<p class="hint">None.</p>`}
<h2>Decisions</h2>
${taskDecisions(tasks, 'Decisions')}`,
        });
      },
    });
  },
};
