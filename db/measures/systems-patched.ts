import type { Deviation } from '../../domain/security-report/model';
import { patchedSystems } from '../advisories';
import { loadAssets } from './assets';
import { day, percent, type Measure } from './measure';

export const systemsPatched: Measure = {
  id: 'systems-patched',
  title: 'Systems currently patched',
  definition:
    'Share of active CIs in scope that, at the end of the period (or now, if earlier), had no open scanner finding and no advisory remediation past its deadline unresolved; per service in scope; computed by patchedSystems in db/advisories.ts. A remediation under an exception past its deadline counts as unpatched; one closed as not applicable (advisory withdrawn) does not count. Each unpatched CI is a deviation owned by its service owner.',
  trend: true,
  async compute(db, period, scope) {
    const assets = await loadAssets(db, scope);
    const perService = (await patchedSystems(db, period.asOf)).filter((row) => assets.inScope(row.serviceId));
    const systems = perService.reduce((sum, row) => sum + row.systems, 0);
    const patched = perService.reduce((sum, row) => sum + row.patched, 0);
    const misses: Deviation[] = perService.flatMap((row) => {
      const service = row.serviceId ? assets.services.get(row.serviceId) : undefined;
      return row.unpatched.map((ci) => ({
        key: `systems-patched:${ci.ciId}:${day(period.asOf)}`,
        title: `${ci.ciName} not patched`,
        detail: `${ci.openFindings} open scanner finding(s), ${ci.overdueRemediations} remediation(s) past their deadline`,
        owner: service?.owner ?? null,
        serviceId: service?.id ?? null,
        // A known vulnerability left open on a system: likely exploited (4), serious (4).
        likelihood: 4,
        impact: 4,
        level: assets.cis.get(ci.ciId)?.level ?? 'low',
      }));
    });
    return {
      status: 'measured',
      value: percent(patched, systems),
      unit: '%',
      breakdown: perService.map((row) => ({
        label: row.serviceName ?? 'no service',
        value: percent(row.patched, row.systems),
        count: row.systems,
      })),
      misses,
    };
  },
};
