import { day, type Measure } from './measure';
import { scopedRisks } from './scoped-risks';

export const risksPastReview: Measure = {
  id: 'risks-past-review',
  title: 'Risks past their review date',
  definition:
    'Count of risks in the register (in scope: touching a scoped service) whose review_at is before the end of the period (or now, if earlier); each is listed.',
  trend: false,
  async compute(db, period, scope) {
    const overdue = (await scopedRisks(db, scope)).filter(({ risk }) => risk.review_at < period.asOf);
    return {
      status: 'measured',
      value: overdue.length,
      unit: 'risks',
      misses: overdue.map(({ risk, services, level }) => ({
        key: `risks-past-review:${risk.id}`,
        title: `Review risk "${risk.title}"`,
        detail: `review was due ${day(risk.review_at)}; likelihood ${risk.likelihood}, impact ${risk.impact}, treatment ${risk.treatment}`,
        owner: risk.owner,
        serviceId: services[0]?.id ?? null,
        likelihood: risk.likelihood,
        impact: risk.impact,
        level,
      })),
    };
  },
};
