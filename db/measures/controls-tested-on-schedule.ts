import { levelOf } from './assets';
import { controlStandings, lastRunText, type ControlStanding } from './control-tests';
import { percent, type Measure, type MeasurePeriod } from './measure';

/** Late when more than one cadence passed since the last test, or since the schedule began if that is later (a new schedule is not late before its first due date). */
function late({ control, lastTestedAt }: ControlStanding, period: MeasurePeriod): boolean {
  const since = Math.max(lastTestedAt?.getTime() ?? 0, (control.scheduled_since as Date).getTime());
  return period.asOf.getTime() - since > (control.cadence_ms as number);
}

export const controlsTestedOnSchedule: Measure = {
  id: 'controls-tested-on-schedule',
  title: 'Controls tested on schedule',
  definition:
    'Share of active controls scheduled (cadence_ms set) since before the end of the period (or now), touching a service in scope through their CIs or SLA requirements, whose last performed test (a finished run that passed or failed) finished no longer than one cadence before that date; a schedule younger than one cadence is not late yet. Each control that misses is listed with its owner and last run.',
  trend: true,
  async compute(db, period, scope) {
    const { assets, standings } = await controlStandings(db, period, scope);
    const scheduled = standings.filter(
      ({ control }) => control.cadence_ms !== null && control.scheduled_since !== null && control.scheduled_since < period.asOf,
    );
    const missed = scheduled.filter((s) => late(s, period));
    return {
      status: 'measured',
      value: percent(scheduled.length - missed.length, scheduled.length),
      unit: '%',
      breakdown: [
        { label: 'scheduled', value: scheduled.length },
        { label: 'tested on schedule', value: scheduled.length - missed.length },
      ],
      misses: missed.map((s) => ({
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
