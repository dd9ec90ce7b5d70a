import type { Deviation } from '../../domain/security-report/model';
import { patchCompliance as patchComplianceByService } from '../advisories';
import { loadAssets } from './assets';
import { day, percent, type Measure } from './measure';

export const patchCompliance: Measure = {
  id: 'patch-compliance',
  title: 'Remediations on time',
  definition:
    'Share of advisory remediations due in the period, and due by its end (or now, if earlier) or already resolved, that were patched or mitigated by their due date, overall and per service in scope; computed by patchCompliance in db/advisories.ts. A remediation not yet due is not counted against the period; one closed as not applicable (advisory withdrawn) is no obligation. See "Systems currently patched" for the state of the systems themselves. Each service below 100% is a deviation owned by its owner.',
  trend: true,
  async compute(db, period, scope) {
    const assets = await loadAssets(db, scope);
    const perService = (await patchComplianceByService(db, period)).filter((row) => assets.inScope(row.serviceId));
    const due = perService.reduce((sum, row) => sum + row.due, 0);
    const onTime = perService.reduce((sum, row) => sum + row.doneOnTime, 0);
    const misses: Deviation[] = perService
      .filter((row) => row.doneOnTime < row.due)
      .map((row) => {
        const service = row.serviceId ? assets.services.get(row.serviceId) : undefined;
        return {
          key: `patch-compliance:${row.serviceId ?? 'none'}:${day(period.from)}`,
          title: `${row.due - row.doneOnTime} remediation(s) not done by their due date${service ? ` on ${service.name}` : ''}`,
          detail: `${row.doneOnTime} of ${row.due} remediations due in the period were patched or mitigated in time`,
          owner: service?.owner ?? null,
          serviceId: service?.id ?? null,
          // A known vulnerability left open past its deadline: likely exploited (4), serious (4).
          likelihood: 4,
          impact: 4,
          level: service?.level ?? 'low',
        };
      });
    return {
      status: 'measured',
      value: percent(onTime, due),
      unit: '%',
      breakdown: perService.map((row) => ({ label: row.serviceName ?? 'no service', value: row.percentage, count: row.due })),
      misses,
    };
  },
};
