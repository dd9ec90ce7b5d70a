import type { Severity } from '../../domain/classification';
import { durationMs } from '../../domain/duration';
import type { Deviation } from '../../domain/security-report/model';
import { incidentSelection, incidentsInPeriod } from './incidents-in-period';
import { percent, type Measure } from './measure';

const impactOf: Record<Severity, number> = { critical: 5, high: 4, medium: 3, low: 2 };

const targets = [
  { name: 'acknowledge', start: 'reported_at', end: 'acknowledged_at', target: 'acknowledge_target' },
  { name: 'resolve', start: 'reported_at', end: 'resolved_at', target: 'resolve_target' },
] as const;

const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`;

export const incidentSla: Measure = {
  id: 'incident-sla',
  title: 'Incident SLA targets met',
  definition:
    `Share of acknowledge and resolve targets met over ${incidentSelection}: a target is met when acknowledged_at (resolved_at) − reported_at ≤ the ` +
    'acknowledge_target (resolve_target) recorded on the incident from its service SLA; a target still open past its deadline counts as missed, one still open within it is not judged yet. Per service through the affected CIs; every miss is listed.',
  trend: true,
  async compute(db, period, scope) {
    const { incidents, assets } = await incidentsInPeriod(db, period, scope);
    const judged: { met: boolean; serviceIds: string[] }[] = [];
    const misses: Deviation[] = [];
    for (const { incident, services } of incidents) {
      for (const target of targets) {
        const allowed = durationMs(incident[target.target]);
        const start = incident[target.start].getTime();
        const end = incident[target.end]?.getTime();
        const taken = (end ?? period.asOf.getTime()) - start;
        if (end === undefined && taken <= allowed) continue;
        const met = taken <= allowed;
        judged.push({ met, serviceIds: services.map((s) => s.id) });
        if (met) continue;
        const service = services[0];
        misses.push({
          key: `incident-sla:${incident.id}:${target.name}`,
          title: `Incident #${incident.number} missed its ${target.name} target`,
          detail: `"${incident.title}" (${incident.severity}): ${end === undefined ? `not ${target.name}d after` : `${target.name}d after`} ${minutes(taken)}, target ${incident[target.target]}${service ? `; service ${service.name}` : ''}`,
          owner: service?.owner ?? null,
          serviceId: service?.id ?? null,
          likelihood: 4,
          impact: impactOf[incident.severity as Severity] ?? 3,
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
    return {
      status: 'measured',
      value: percent(judged.filter((j) => j.met).length, judged.length),
      unit: '%',
      breakdown: perService,
      misses,
    };
  },
};
