import { incidentCategories } from '../../domain/classification';
import { incidentSelection, incidentsInPeriod } from './incidents-in-period';
import type { Measure } from './measure';

export const incidentsPerCategory: Measure = {
  id: 'incidents-per-category',
  title: 'Incidents per category',
  definition: `Count of ${incidentSelection}, by category as recorded at triage.`,
  trend: true,
  async compute(db, period, scope) {
    const { incidents } = await incidentsInPeriod(db, period, scope);
    return {
      status: 'measured',
      value: incidents.length,
      unit: 'incidents',
      breakdown: incidentCategories.map((category) => ({
        label: category,
        value: incidents.filter(({ incident }) => incident.category === category).length,
      })),
    };
  },
};
