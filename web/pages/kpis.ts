import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { kpiReaders } from '../../http/roles';
import { listReviews } from '../../db/reviews';
import { formatValue } from '../../domain/security-report/document';
import { trendChart } from '../../domain/security-report/html';
import { table, time } from '../format';
import { html, raw } from '../html';
import { pageRoute, uiPrefix, type WebContext, type WebPage } from '../page';

const path = `${uiPrefix}/kpis`;
/** Enough reviews to show two years of quarterly ones. */
const shownReviews = 8;

/**
 * The KPI dashboard: each trended KPI over the last quarters as the newest measured review computed
 * them (charts drawn as inline SVG by the report's own `trendChart`, so the page needs no script and
 * no chart library), and every KPI's value in each recent review, for the roles that read KPIs.
 */
export const kpisPage: WebPage = {
  nav: { label: 'KPIs', path, roles: kpiReaders },
  async routes(app: FastifyInstance, web: WebContext) {
    app.withTypeProvider<ZodTypeProvider>().get('/kpis', {
      ...pageRoute(kpiReaders),
      schema: { hide: true },
      handler: async (request, reply) => {
        const measured = (await listReviews(app.db, shownReviews)).filter((review) => review.measures !== null);
        const newest = measured[0];
        const oldestFirst = [...measured].reverse();
        const kpis = newest?.measures ?? [];
        const trended = kpis.filter((kpi) => (newest?.history ?? []).some((point) => kpi.id in point.values));
        const reviewLink = (id: string) => web.linkTo({ type: 'security_review', id }, id);
        return web.render(request, reply, {
          title: 'KPIs',
          body: html`<h1>Key performance indicators</h1>
${
  newest
    ? html`<p class="hint">From ${reviewLink(newest.id)}, measured ${time(newest.updated_at)}.</p>
<h2>Over the last quarters</h2>
${
  trended.length
    ? html`<div class="charts">${trended.map((kpi) =>
        raw(
          trendChart(
            `${kpi.title} (${kpi.result.unit})`,
            (newest.history ?? []).map((point) => ({ period: point.period, value: point.values[kpi.id] ?? null })),
          ),
        ),
      )}</div>`
    : html`<p class="hint">No KPI with a trend yet.</p>`
}
<h2>By review</h2>
${table(
  ['KPI', ...oldestFirst.map((review) => review.id)],
  kpis.map((kpi) => [
    kpi.title,
    ...oldestFirst.map((review) => {
      const measure = review.measures?.find((m) => m.id === kpi.id);
      return measure ? formatValue(measure) : '—';
    }),
  ]),
  'KPI values by review',
)}`
    : html`<p class="hint">No review has been measured yet. A review measures the KPIs when it starts.</p>`
}`,
        });
      },
    });
  },
};
