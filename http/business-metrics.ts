import type { Kysely } from 'kysely';
import { overdueRemediations, patchCompliance } from '../db/advisories';
import type { Database } from '../db/database';
import { slaBreachCounts } from '../db/incident-sla';
import { businessFigures, overdueControls } from '../db/metrics';
import { trainingCompletionKpi } from '../db/training';

/**
 * The figures of the process itself (incidents, tasks, tests, remediations), read from PostgreSQL
 * when Prometheus scrapes GET /metrics/business. They are the same whichever API replica answers,
 * so they are served apart from the per-process metrics of GET /metrics: scrape /metrics/business
 * once, through the load balancer, and every replica's /metrics directly (docs/metrics.md). Summing
 * a business figure over replicas would otherwise count it once per replica.
 *
 * To add a figure, append a `BusinessMetric` to `businessMetrics`; the names follow Prometheus:
 * - `warden_` prefix, snake case, the unit last (`_seconds`, `_ratio`);
 * - a **counter** for anything cumulative (it only grows: decisions taken, runs finished), named
 *   `…_total`; a **gauge** for what is true now (open, overdue), never named `…_total`;
 * - a proportion is a gauge `…_ratio` between 0 and 1, never a percentage; say what the
 *   denominator is in `help`, and export it too (`…_due`) so dashboards can aggregate ratios right;
 * - labels only with a small, known set of values (severity, kind, result, service), never ids.
 * `promtool check metrics` in tests/api/metrics.test.ts checks every name and type.
 */
export interface BusinessMetric {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  labelNames: readonly string[];
  /** Every series of the figure now; a series not returned is dropped from the scrape. */
  read(scrape: Scrape): Promise<Sample[]>;
}

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

const patchCompliancePeriodMs = 30 * 86_400_000;
/** Training campaigns are judged over a quarter: long enough that a campaign's due date falls in it. */
const trainingPeriodMs = 90 * 86_400_000;

/** One scrape: the database, its moment, and reads several metrics share, made once per scrape. */
export interface Scrape {
  db: Kysely<Database>;
  now: Date;
  once<T>(key: string, read: () => Promise<T>): Promise<T>;
}

export function newScrape(db: Kysely<Database>, now = new Date()): Scrape {
  const reads = new Map<string, Promise<unknown>>();
  return {
    db,
    now,
    once<T>(key: string, read: () => Promise<T>) {
      if (!reads.has(key)) reads.set(key, read());
      return reads.get(key) as Promise<T>;
    },
  };
}

const figures = (scrape: Scrape) => scrape.once('figures', () => businessFigures(scrape.db));
const compliance = (scrape: Scrape) =>
  scrape.once('patch-compliance', () =>
    patchCompliance(scrape.db, { from: new Date(scrape.now.getTime() - patchCompliancePeriodMs), to: scrape.now }),
  );

const training = (scrape: Scrape) =>
  scrape.once('training', () =>
    trainingCompletionKpi(scrape.db, { from: new Date(scrape.now.getTime() - trainingPeriodMs), to: scrape.now, asOf: scrape.now }),
  );

export const businessMetrics: BusinessMetric[] = [
  {
    name: 'warden_incidents_open',
    help: 'Incidents open (not closed, merged or failed), by severity; drills excluded',
    type: 'gauge',
    labelNames: ['severity'],
    read: async (scrape) => (await figures(scrape)).incidents.map((row) => ({ labels: { severity: row.severity }, value: row.n })),
  },
  {
    // Read from the breaches recorded in PostgreSQL, which are kept: it never decreases, whichever worker recorded one.
    name: 'warden_incident_sla_breaches_total',
    help: 'Incident SLA targets breached, by target (acknowledge, triage, resolve) and severity; drills excluded',
    type: 'counter',
    labelNames: ['target', 'severity'],
    read: async (scrape) =>
      (await slaBreachCounts(scrape.db)).map((row) => ({ labels: { target: row.target, severity: row.severity }, value: Number(row.n) })),
  },
  {
    name: 'warden_tasks_open',
    help: 'Open human tasks, by kind',
    type: 'gauge',
    labelNames: ['kind'],
    read: async (scrape) => (await figures(scrape)).tasks.map((row) => ({ labels: { kind: row.kind }, value: row.open })),
  },
  {
    name: 'warden_tasks_overdue',
    help: 'Open human tasks past their deadline, by kind',
    type: 'gauge',
    labelNames: ['kind'],
    read: async (scrape) => (await figures(scrape)).tasks.map((row) => ({ labels: { kind: row.kind }, value: row.overdue })),
  },
  {
    name: 'warden_approvals_decided_total',
    help: 'Approval tasks decided since Warden started recording, by outcome',
    type: 'counter',
    labelNames: ['outcome'],
    read: async (scrape) => (await figures(scrape)).approvals.map((row) => ({ labels: { outcome: row.outcome ?? 'none' }, value: row.n })),
  },
  {
    name: 'warden_test_runs_total',
    help: 'Security test runs finished, by result',
    type: 'counter',
    labelNames: ['result'],
    read: async (scrape) => (await figures(scrape)).testRuns.map((row) => ({ labels: { result: row.result }, value: row.n })),
  },
  {
    name: 'warden_security_tests_overdue',
    help: 'Active controls whose scheduled test is overdue (no test within cadence plus jitter)',
    type: 'gauge',
    labelNames: [],
    read: async (scrape) => [{ labels: {}, value: await overdueControls(scrape.db, scrape.now) }],
  },
  {
    name: 'warden_remediations_overdue',
    help: 'Advisory remediations open (or awaiting an exception decision) past their due date, by service',
    type: 'gauge',
    labelNames: ['service'],
    read: async (scrape) =>
      (await overdueRemediations(scrape.db, scrape.now)).map((row) => ({ labels: { service: row.serviceName ?? 'none' }, value: row.n })),
  },
  {
    name: 'warden_patch_remediations_due',
    help: 'Advisory remediations due in the last 30 days, by service (the denominator of warden_patch_compliance_ratio)',
    type: 'gauge',
    labelNames: ['service'],
    read: async (scrape) => (await compliance(scrape)).map((row) => ({ labels: { service: row.serviceName ?? 'none' }, value: row.due })),
  },
  {
    name: 'warden_patch_compliance_ratio',
    help: 'Advisory remediations due in the last 30 days that were patched or mitigated on time, 0 to 1, by service',
    type: 'gauge',
    labelNames: ['service'],
    read: async (scrape) =>
      (await compliance(scrape))
        .filter((row) => row.due > 0)
        .map((row) => ({ labels: { service: row.serviceName ?? 'none' }, value: row.doneOnTime / row.due })),
  },
  {
    name: 'warden_training_assignments_due',
    help: 'Training assignments of campaigns due in the last 90 days (the denominator of warden_training_completion_ratio)',
    type: 'gauge',
    labelNames: [],
    read: async (scrape) => [{ labels: {}, value: (await training(scrape)).assigned }],
  },
  {
    name: 'warden_training_completion_ratio',
    help: 'Training assignments of campaigns due in the last 90 days that are completed, 0 to 1 (the review KPI training-completion)',
    type: 'gauge',
    labelNames: [],
    read: async (scrape) => {
      const kpi = await training(scrape);
      return kpi.assigned > 0 ? [{ labels: {}, value: kpi.completed / kpi.assigned }] : [];
    },
  },
];
