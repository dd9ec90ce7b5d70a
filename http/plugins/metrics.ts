import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { businessMetrics, newScrape, type BusinessMetric } from '../business-metrics';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: {
      /** This process: Node.js's standard metrics (unprefixed, as stock dashboards expect) and request latency. */
      process: Registry;
      /** The process figures from PostgreSQL, the same on every replica (http/business-metrics.ts). */
      business: Registry;
      refreshBusiness(): Promise<void>;
    };
  }
}

/** A prom-client metric whose series are replaced wholesale by each scrape's reading. */
function businessSeries(metric: BusinessMetric, registry: Registry) {
  const options = { name: metric.name, help: metric.help, labelNames: metric.labelNames, registers: [registry] };
  if (metric.type === 'gauge') {
    const gauge = new Gauge(options);
    return { reset: () => gauge.reset(), set: (labels: Record<string, string>, value: number) => gauge.set(labels, value) };
  }
  // A counter read back from PostgreSQL: its value is the count so far, never decreasing while the
  // rows stay, so the series is rewritten rather than incremented.
  const counter = new Counter(options);
  return { reset: () => counter.reset(), set: (labels: Record<string, string>, value: number) => counter.inc(labels, value) };
}

/**
 * Prometheus metrics of an API process. Two registries, so several replicas are not multiplied:
 * GET /metrics serves this process's own (scrape every replica), GET /metrics/business the
 * figures read from PostgreSQL (scrape once, through the load balancer). One pair per app, so
 * several apps in one process (tests) do not collide.
 */
export const metricsPlugin = fp(async (app) => {
  const processRegistry = new Registry();
  collectDefaultMetrics({ register: processRegistry });
  // prom-client names three gauges `…_total`, which Prometheus reserves for counters (promtool
  // refuses them). Each is the sum of a labelled gauge it also exports (nodejs_active_handles,
  // nodejs_active_requests, nodejs_active_resources), so nothing is lost.
  for (const misnamed of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    processRegistry.removeSingleMetric(misnamed);
  }

  const latency = new Histogram({
    name: 'warden_http_request_duration_seconds',
    help: 'API request latency by route and status',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [processRegistry],
  });
  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern, never the raw URL: ids in paths would explode the label set.
    latency.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });

  const businessRegistry = new Registry();
  const series = businessMetrics.map((metric) => ({ metric, series: businessSeries(metric, businessRegistry) }));

  // Called by the scrape before serialising: prom-client reads metrics concurrently, so a collect()
  // on one could not refresh the others in time. Every reading first, then every series, so a
  // failed read leaves the previous scrape's values rather than half of them.
  const refreshBusiness = async () => {
    const scrape = newScrape(app.db);
    const readings = await Promise.all(series.map(({ metric }) => metric.read(scrape)));
    series.forEach(({ series: target }, index) => {
      target.reset();
      for (const sample of readings[index] ?? []) target.set(sample.labels, sample.value);
    });
  };

  app.decorate('metrics', { process: processRegistry, business: businessRegistry, refreshBusiness });
});
