import { accessReviewKpi } from '../access';
import { day, type Measure } from './measure';

export const accessReviewsOnSchedule: Measure = {
  id: 'access-reviews-on-schedule',
  title: 'Access reviews completed on schedule',
  definition:
    'Share of access review campaigns whose deadline falls in the period that had every reviewer answer by the deadline (a campaign still open past its deadline is late); computed by accessReviewKpi in db/access.ts. Not scoped to services.',
  trend: true,
  async compute(db, period) {
    const kpi = await accessReviewKpi(db, period);
    const late = kpi.due - kpi.completedOnTime;
    return {
      status: 'measured',
      value: kpi.percentage,
      unit: '%',
      breakdown: [
        { label: 'due', value: kpi.due },
        { label: 'completed on time', value: kpi.completedOnTime },
      ],
      misses:
        late > 0
          ? [
              {
                key: `access-reviews-on-schedule:${day(period.from)}`,
                title: `${late} access review campaign(s) not completed on schedule`,
                detail: `${kpi.completedOnTime} of ${kpi.due} campaigns due in the period were completed by their deadline`,
                owner: null,
                serviceId: null,
                likelihood: 3,
                impact: 3,
                level: 'medium' as const,
              },
            ]
          : [],
    };
  },
};
