import { incidentCategories } from '../../domain/classification';
import { drillResults } from '../drills';
import { percent, type Measure } from './measure';

export const drillCoverage: Measure = {
  id: 'drill-coverage',
  title: 'Incident categories drilled',
  definition:
    'Share of the incident categories with at least one drill reported in the period (scheduled or reported with drill: true), ' +
    'organisation-wide; per category, the number of drills. Drills count here and nowhere else.',
  trend: true,
  async compute(db, period) {
    const drills = await drillResults(db, period);
    const breakdown = incidentCategories.map((category) => ({
      label: category,
      value: drills.filter((drill) => drill.category === category).length,
    }));
    return {
      status: 'measured',
      value: percent(breakdown.filter((entry) => entry.value > 0).length, incidentCategories.length),
      unit: '%',
      breakdown,
    };
  },
};
