import { requiredMeasures } from '../../domain/cmdb';
import { baselineInForce } from '../baseline';
import { durationMs } from '../../domain/duration';
import { completeSla } from '../../domain/sla';
import type { Deviation } from '../../domain/security-report/model';
import { controlStandings, lastRunText, testedWithin, type ControlStanding } from './control-tests';
import type { Measure } from './measure';

export const measuresWithoutControl: Measure = {
  id: 'measures-without-control',
  title: 'Required measures without a working control',
  definition:
    "Per service in scope: the measures its active CIs' classifications require (baselineFor over each CI) plus its SLA's additional requirements. A baseline measure is covered by an active control listing the measure id that protects at least one of the service's CIs; an SLA requirement by an active control whose sla_requirements name that service and requirement. " +
    "Counted when no control covers it, or when no covering control was tested (passed or failed) within its cadence (the service SLA's testCadence for an unscheduled control) before the end of the period, with a last finished run that passed. Each one is a deviation owned by the service owner.",
  trend: false,
  async compute(db, period, scope) {
    const { assets, standings } = await controlStandings(db, period, scope);
    const [baseline, services, cis] = await Promise.all([
      baselineInForce(db, period.asOf),
      db.selectFrom('services').select(['id', 'name', 'owner', 'sla']).orderBy('name').execute(),
      db
        .selectFrom('configuration_items')
        .select(['id', 'service_id', 'confidentiality', 'integrity', 'availability'])
        .where('status', '=', 'active')
        .execute(),
    ]);
    const misses: Deviation[] = [];
    let required = 0;
    for (const service of services.filter((s) => assets.inScope(s.id))) {
      const own = cis.filter((ci) => ci.service_id === service.id);
      const ownIds = new Set(own.map((ci) => ci.id));
      const slaCadenceMs = durationMs(completeSla(service.sla).testCadence);
      const working = (s: ControlStanding) =>
        testedWithin(s, s.control.cadence_ms ?? slaCadenceMs, period) && s.lastRun?.result === 'passed';
      for (const measure of requiredMeasures(own, service.sla, baseline)) {
        required += 1;
        const covering = standings.filter(({ control }) =>
          measure.source === 'baseline'
            ? control.baseline_measures.includes(measure.id) && control.ci_ids.some((id) => ownIds.has(id))
            : control.sla_requirements.some((r) => r.serviceId === service.id && r.requirementId === measure.id),
        );
        if (covering.some(working)) continue;
        const gap =
          covering.length === 0
            ? 'no active control implements it'
            : covering.map((s) => `control "${s.control.name}" (${s.control.owner}): ${lastRunText(s)}`).join('; ');
        misses.push({
          key: `measures-without-control:${service.id}:${measure.id}`,
          title: `${service.name}: required measure ${measure.id} "${measure.title}" ${covering.length === 0 ? 'has no control' : 'has no working control'}`,
          detail: `${measure.source === 'baseline' ? 'required by the classification of its CIs' : 'required by its SLA'}; ${gap}`,
          owner: service.owner,
          serviceId: service.id,
          // Defaults: the measure is required because the service's classification or SLA calls for it, so
          // its absence is a likely (3) and serious (4) gap; the classification weight then ranks it by the
          // service's level. A control that exists but is unverified or failed is treated the same: nothing
          // shows it protects the service.
          likelihood: 3,
          impact: 4,
          level: assets.services.get(service.id)?.level ?? 'low',
        });
      }
    }
    return {
      status: 'measured',
      value: misses.length,
      unit: 'measures',
      breakdown: [
        { label: 'required', value: required },
        { label: 'without a working control', value: misses.length },
      ],
      misses,
    };
  },
};
