import { severities } from '../../domain/classification';
import type { IncidentsTable } from '../database';
import { incidentSelection, incidentsInPeriod } from './incidents-in-period';
import { round2, type Measure } from './measure';

type Stamp = keyof Pick<IncidentsTable, 'occurred_at' | 'detected_at' | 'reported_at' | 'acknowledged_at' | 'resolved_at'>;

/** Mean time between two incident timestamps, in minutes, overall and by severity. */
export function meanInterval(spec: { id: string; title: string; start: Stamp; end: Stamp }): Measure {
  return {
    id: spec.id,
    title: spec.title,
    definition: `Mean of (${spec.end} − ${spec.start}) in minutes over ${incidentSelection} that have both timestamps; also per severity.`,
    trend: true,
    async compute(db, period, scope) {
      const { incidents } = await incidentsInPeriod(db, period, scope);
      const minutes = incidents.flatMap(({ incident }) => {
        const start = incident[spec.start];
        const end = incident[spec.end];
        return start && end ? [{ severity: incident.severity, minutes: (end.getTime() - start.getTime()) / 60_000 }] : [];
      });
      const mean = (values: number[]) => (values.length ? round2(values.reduce((a, b) => a + b, 0) / values.length) : null);
      return {
        status: 'measured',
        value: mean(minutes.map((m) => m.minutes)),
        unit: 'minutes',
        breakdown: [...severities].reverse().map((severity) => {
          const values = minutes.filter((m) => m.severity === severity).map((m) => m.minutes);
          return { label: severity, value: mean(values), count: values.length };
        }),
      };
    },
  };
}
