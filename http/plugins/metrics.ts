import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { patchCompliance } from '../../db/advisories';
import { slaBreachCounts } from '../../db/incident-sla';
import { processFigures } from '../../db/metrics';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: { registry: Registry; refresh(): Promise<void> };
  }
}

const patchCompliancePeriodMs = 30 * 86_400_000;

/**
 * Prometheus metrics of the API process: request latency, observed on every response, and the
 * process figures (incidents, tasks, approvals, test runs, patch compliance), read from PostgreSQL
 * when scraped. One registry per app, so several apps in one process (tests) do not collide.
 */
export const metricsPlugin = fp(async (app) => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'warden_api_' });

  const latency = new Histogram({
    name: 'warden_http_request_duration_seconds',
    help: 'API request latency by route and status',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, never the raw URL: ids in paths would explode the label set.
    latency.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  const incidentsOpen = new Gauge({
    name: 'warden_incidents_open',
    help: 'Open incidents by severity',
    labelNames: ['severity'],
    registers: [registry],
  });
  const tasksOverdue = new Gauge({ name: 'warden_tasks_overdue', help: 'Open human tasks past their deadline', registers: [registry] });
  const approvals = new Gauge({
    name: 'warden_approvals_decided',
    help: 'Decided approval tasks by outcome',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const testRuns = new Gauge({
    name: 'warden_test_runs',
    help: 'Finished security test runs by result',
    labelNames: ['result'],
    registers: [registry],
  });
  const compliance = new Gauge({
    name: 'warden_patch_compliance_percent',
    help: 'Advisory remediations done on time, % of those due in the last 30 days, per service',
    labelNames: ['service'],
    registers: [registry],
  });
  const remediationsDue = new Gauge({
    name: 'warden_patch_remediations_due',
    help: 'Advisory remediations due in the last 30 days, per service',
    labelNames: ['service'],
    registers: [registry],
  });

  // A counter read from the breaches recorded in PostgreSQL (never decreasing: breaches are kept), so
  // every API replica reports the same total whichever worker recorded a breach.
  const slaBreaches = new Counter({
    name: 'warden_incident_sla_breaches_total',
    help: 'Incident SLA targets breached, by target (acknowledge, triage, resolve) and severity; drills excluded',
    labelNames: ['target', 'severity'],
    registers: [registry],
  });

  const tasksOpen = new Gauge({ name: 'warden_tasks_open', help: 'Open human tasks', registers: [registry] });

  // Called by the scrape before serialising: prom-client reads gauges concurrently, so a collect()
  // on one gauge could not refresh the others in time.
  const refresh = async () => {
    const now = new Date();
    const [figures, services, breaches] = await Promise.all([
      processFigures(app.db),
      patchCompliance(app.db, { from: new Date(now.getTime() - patchCompliancePeriodMs), to: now }),
      slaBreachCounts(app.db),
    ]);
    slaBreaches.reset();
    for (const row of breaches) slaBreaches.inc({ target: row.target, severity: row.severity }, Number(row.n));
    for (const gauge of [incidentsOpen, approvals, testRuns, compliance, remediationsDue]) gauge.reset();
    for (const row of figures.incidents) incidentsOpen.set({ severity: row.severity }, row.n);
    tasksOpen.set(figures.tasks.open);
    tasksOverdue.set(figures.tasks.overdue);
    for (const row of figures.approvals) approvals.set({ outcome: row.outcome ?? 'none' }, row.n);
    for (const row of figures.testRuns) testRuns.set({ result: row.result }, row.n);
    for (const service of services) {
      const label = { service: service.serviceName ?? 'none' };
      remediationsDue.set(label, service.due);
      if (service.percentage !== null) compliance.set(label, service.percentage);
    }
  };

  app.decorate('metrics', { registry, refresh });
});
