import type { Kysely } from 'kysely';
import type { TestResult } from '../../domain/controls';
import type { Control, Database } from '../database';
import { loadAssets, servicesOf, touchesScope, type Assets, type ServiceAsset } from './assets';
import { day, type MeasurePeriod, type MeasureScope } from './measure';

export interface ControlStanding {
  control: Control;
  services: ServiceAsset[];
  /** The latest run finished by the period's end (any result). */
  lastRun: { finishedAt: Date; result: TestResult } | null;
  /** When a test was last performed (passed or failed) by the period's end. */
  lastTestedAt: Date | null;
}

/** Active controls that existed by the period's end, in scope, with their test record as of then. */
export async function controlStandings(
  db: Kysely<Database>,
  period: MeasurePeriod,
  scope: MeasureScope,
): Promise<{ assets: Assets; standings: ControlStanding[] }> {
  const assets = await loadAssets(db, scope);
  const [controls, runs] = await Promise.all([
    db.selectFrom('controls').selectAll().where('status', '=', 'active').where('created_at', '<', period.asOf).orderBy('name').execute(),
    db
      .selectFrom('test_runs')
      .select(['control_id', 'finished_at', 'result'])
      .where('status', '=', 'finished')
      .where('finished_at', '<=', period.asOf)
      .orderBy('finished_at', 'desc')
      .execute(),
  ]);
  const standings = controls
    .map((control): ControlStanding => {
      const own = runs.filter((run) => run.control_id === control.id && run.finished_at !== null && run.result !== null);
      const last = own[0];
      const tested = own.find((run) => run.result === 'passed' || run.result === 'failed');
      return {
        control,
        services: servicesOf(
          assets,
          control.ci_ids,
          control.sla_requirements.map((r) => r.serviceId),
        ),
        lastRun: last ? { finishedAt: last.finished_at as Date, result: last.result as TestResult } : null,
        lastTestedAt: (tested?.finished_at as Date | undefined) ?? null,
      };
    })
    .filter(({ services }) => touchesScope(assets, services));
  return { assets, standings };
}

/** Tested (passed or failed) no longer ago than `cadenceMs` before the period's end. */
export function testedWithin(standing: ControlStanding, cadenceMs: number, period: MeasurePeriod): boolean {
  return standing.lastTestedAt !== null && period.asOf.getTime() - standing.lastTestedAt.getTime() <= cadenceMs;
}

export function lastRunText(standing: ControlStanding): string {
  return standing.lastRun ? `last run ${day(standing.lastRun.finishedAt)} ${standing.lastRun.result}` : 'never run';
}
