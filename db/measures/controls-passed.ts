import { levelOf } from './assets';
import { controlStandings, lastRunText } from './control-tests';
import { day, percent, type Measure } from './measure';

export const controlsPassed: Measure = {
  id: 'controls-passed',
  title: 'Control tests passed',
  definition:
    'Share of test runs finished in the period (any result: passed, failed, error, missed) that passed, over active controls touching a service in scope. Each control with a run in the period that did not pass is listed with its owner and last run.',
  trend: true,
  async compute(db, period, scope) {
    const { assets, standings } = await controlStandings(db, period, scope);
    const byId = new Map(standings.map((s) => [s.control.id, s]));
    const runs =
      byId.size === 0
        ? []
        : await db
            .selectFrom('test_runs')
            .select(['control_id', 'result', 'finished_at'])
            .where('status', '=', 'finished')
            .where('finished_at', '>=', period.from)
            .where('finished_at', '<', period.to)
            .where('control_id', 'in', [...byId.keys()])
            .execute();
    const notPassed = new Map<string, number>();
    for (const run of runs) if (run.result !== 'passed') notPassed.set(run.control_id, (notPassed.get(run.control_id) ?? 0) + 1);
    const passed = runs.length - [...notPassed.values()].reduce((sum, n) => sum + n, 0);
    return {
      status: 'measured',
      value: percent(passed, runs.length),
      unit: '%',
      breakdown: [
        { label: 'finished runs', value: runs.length },
        { label: 'passed', value: passed },
      ],
      misses: [...notPassed].map(([controlId, count]) => {
        const s = byId.get(controlId) as (typeof standings)[number];
        return {
          key: `controls-passed:${controlId}:${day(period.from)}`,
          title: `Control "${s.control.name}" did not pass its tests`,
          detail: `owner ${s.control.owner}; ${count} run(s) in the period did not pass; ${lastRunText(s)}`,
          owner: s.control.owner,
          serviceId: s.services[0]?.id ?? null,
          // A failed test shows the control does not work: likely (4); the exposure it leaves is moderate (3).
          likelihood: 4,
          impact: 3,
          level: levelOf(assets, s.control.ci_ids, s.services),
        };
      }),
    };
  },
};
