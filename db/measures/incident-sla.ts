import type { Severity } from '../../domain/classification';
import type { Deviation } from '../../domain/security-report/model';
import { slaTargets } from '../../domain/sla';
import { incidentSelection, incidentsInPeriod } from './incidents-in-period';
import { percent, type Measure } from './measure';

const impactOf: Record<Severity, number> = { critical: 5, high: 4, medium: 3, low: 2 };

const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`;

export const incidentSla: Measure = {
  id: 'incident-sla',
  title: 'Incident SLA targets met',
  definition:
    `Share of SLA targets met over ${incidentSelection}, read from the incidents' SLA clocks (acknowledge, triage, resolve), each due at the time the workflow timed it in the services' support hours: ` +
    'a target is met when its clock stopped (met_at) by its due time; one met late, or still running past its due time as of the period end (a recorded breach included), is missed; one still running within it is not judged yet, nor is one stopped unmet because the incident was merged into another (whose clocks go on) or failed. Per service through the affected CIs; the note gives the figure per target; every miss is listed.',
  trend: true,
  async compute(db, period, scope) {
    const { incidents, assets } = await incidentsInPeriod(db, period, scope);
    const ids = incidents.map(({ incident }) => incident.id);
    const clocks = ids.length ? await db.selectFrom('incident_sla_clocks').selectAll().where('incident_id', 'in', ids).execute() : [];
    const judged: { met: boolean; target: string; serviceIds: string[] }[] = [];
    const misses: Deviation[] = [];
    for (const { incident, services } of incidents) {
      for (const clock of clocks.filter((c) => c.incident_id === incident.id)) {
        if (clock.met_at === null && clock.stopped_at !== null) continue;
        const due = clock.due_at.getTime();
        const end = clock.met_at?.getTime();
        if (end === undefined && clock.breached_at === null && due >= period.asOf.getTime()) continue;
        const met = end !== undefined && end <= due;
        judged.push({ met, target: clock.target, serviceIds: services.map((s) => s.id) });
        if (met) continue;
        const service = services[0];
        const taken = (end ?? period.asOf.getTime()) - clock.started_at.getTime();
        misses.push({
          key: `incident-sla:${incident.id}:${clock.target}`,
          title: `Incident #${incident.number} missed its ${clock.target} target`,
          detail:
            `"${incident.title}" (${clock.severity}): ${end === undefined ? `not ${clock.target}d after` : `${clock.target}d after`} ${minutes(taken)}, ` +
            `target ${clock.duration} (${clock.support_hours.kind === '24x7' ? '24x7' : `business hours, ${clock.support_hours.timeZone}`}), due ${clock.due_at.toISOString()}` +
            `${clock.responsible ? `; responsible: ${clock.responsible}` : ''}${service ? `; service ${service.name}` : ''}`,
          owner: service?.owner ?? null,
          serviceId: service?.id ?? null,
          likelihood: 4,
          impact: impactOf[clock.severity as Severity] ?? 3,
          level: service?.level ?? 'low',
        });
      }
    }
    const perService = [...assets.services.values()]
      .filter((s) => assets.inScope(s.id))
      .map((s) => {
        const own = judged.filter((j) => j.serviceIds.includes(s.id));
        return { label: s.name, value: percent(own.filter((j) => j.met).length, own.length), count: own.length };
      })
      .filter((entry) => entry.count > 0);
    const perTarget = slaTargets.map((target) => {
      const own = judged.filter((j) => j.target === target);
      return `${target} ${own.filter((j) => j.met).length} of ${own.length} met`;
    });
    return {
      status: 'measured',
      value: percent(judged.filter((j) => j.met).length, judged.length),
      unit: '%',
      breakdown: perService,
      misses,
      note: `Per target: ${perTarget.join(', ')}.`,
    };
  },
};
