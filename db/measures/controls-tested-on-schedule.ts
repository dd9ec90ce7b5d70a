import { controlStandings, lastRunText, testedWithin } from './control-tests';
import { levelOf } from './assets';
import { percent, type Measure } from './measure';

export const controlsTestedOnSchedule: Measure = {
  id: 'controls-tested-on-schedule',
  title: 'Controls tested on schedule',
  definition:
    'Share of active controls with a test schedule (cadence_ms set), touching a service in scope through their CIs or SLA requirements, whose last performed test (a finished run that passed or failed) finished no longer than one cadence before the end of the period (or now). Each control that misses is listed with its owner and last run.',
  trend: true,
  async compute(db, period, scope) {
    const { assets, standings } = await controlStandings(db, period, scope);
    const scheduled = standings.filter((s) => s.control.cadence_ms !== null);
    const late = scheduled.filter((s) => !testedWithin(s, s.control.cadence_ms as number, period));
    return {
      status: 'measured',
      value: percent(scheduled.length - late.length, scheduled.length),
      unit: '%',
      breakdown: [
        { label: 'scheduled', value: scheduled.length },
        { label: 'tested on schedule', value: scheduled.length - late.length },
      ],
      misses: late.map((s) => ({
        key: `controls-tested-on-schedule:${s.control.id}`,
        title: `Control "${s.control.name}" not tested on schedule`,
        detail: `owner ${s.control.owner}; ${lastRunText(s)}; cadence ${Math.round((s.control.cadence_ms as number) / 86_400_000)}d`,
        owner: s.control.owner,
        serviceId: s.services[0]?.id ?? null,
        // An untested control may still work: possible (3), and a control failing unnoticed hurts moderately (3).
        likelihood: 3,
        impact: 3,
        level: levelOf(assets, s.control.ci_ids, s.services),
      })),
    };
  },
};
