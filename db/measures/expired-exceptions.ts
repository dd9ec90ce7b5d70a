import { day, type Measure } from './measure';
import { scopedRisks } from './scoped-risks';

export const expiredExceptions: Measure = {
  id: 'expired-exceptions',
  title: 'Expired exceptions',
  definition:
    'Count of exceptions whose expiry is before the end of the period (or now): risks with treatment "accept" and accepted_until passed. Each is a deviation.',
  trend: false,
  async compute(db, period, scope) {
    const expired = (await scopedRisks(db, scope)).filter(
      ({ risk }) => risk.treatment === 'accept' && risk.accepted_until !== null && risk.accepted_until < period.asOf,
    );
    return {
      status: 'measured',
      value: expired.length,
      unit: 'exceptions',
      misses: expired.map(({ risk, services, level }) => ({
        key: `expired-exceptions:risk:${risk.id}`,
        title: `Accepted risk "${risk.title}" expired`,
        detail: `accepted until ${day(risk.accepted_until as Date)}: renew the acceptance or treat the risk`,
        owner: risk.owner,
        serviceId: services[0]?.id ?? null,
        likelihood: risk.likelihood,
        impact: risk.impact,
        level,
      })),
    };
  },
};
