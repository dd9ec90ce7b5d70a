import { sodConflicts } from '../../domain/sod';
import { activeExceptionRules, allHoldings, listSodRules, toSodRule } from '../sod';
import { levelOf, loadAssets, servicesOf, touchesScope } from './assets';
import type { Measure } from './measure';

export const sodConflictsHeld: Measure = {
  id: 'sod-conflicts',
  title: 'Open separation-of-duties conflicts',
  definition:
    'Count, as of the latest account imports, of people holding every entitlement of an active conflict rule (sod_rules) on systems in scope, through accounts whose revocation is not recorded, without an unexpired exception. Each is a deviation. The breakdown adds the conflicts an exception covers and the exceptions in force and lapsed.',
  trend: false,
  async compute(db, _period, scope) {
    const assets = await loadAssets(db, scope);
    const [rules, holdings, exceptions, lapsed] = await Promise.all([
      listSodRules(db),
      allHoldings(db),
      activeExceptionRules(db),
      db.selectFrom('sod_exceptions').select('id').where('status', '=', 'lapsed').execute(),
    ]);
    const active = rules.map(toSodRule);
    const conflicts = [...holdings].flatMap(([principalId, held]) =>
      sodConflicts(active, held)
        .map((conflict) => ({ principalId, conflict, ciIds: [...new Set(conflict.holdings.map((h) => h.ciId))] }))
        .filter(({ ciIds }) => touchesScope(assets, servicesOf(assets, ciIds))),
    );
    const excepted = (principalId: string, ruleId: string) => exceptions.some((e) => e.principalId === principalId && e.ruleId === ruleId);
    const open = conflicts.filter(({ principalId, conflict }) => !excepted(principalId, conflict.ruleId));
    return {
      status: 'measured',
      value: open.length,
      unit: 'conflicts',
      breakdown: [
        { label: 'open conflicts', value: open.length },
        { label: 'covered by an exception', value: conflicts.length - open.length },
        { label: 'exceptions in force', value: exceptions.length },
        { label: 'exceptions lapsed', value: lapsed.length },
      ],
      misses: open.map(({ principalId, conflict, ciIds }) => {
        const services = servicesOf(assets, ciIds);
        return {
          key: `sod-conflicts:${principalId}:${conflict.ruleId}`,
          title: `${principalId} holds conflicting entitlements under "${conflict.ruleName}"`,
          detail: `${conflict.holdings.map((h) => `${h.entitlement} (account ${h.accountId})`).join(' + ')}: revoke one, or grant a time-limited exception`,
          owner: null,
          serviceId: services[0]?.id ?? null,
          // Held conflicting duties are a standing fraud opportunity: likely (3), serious harm (4).
          likelihood: 3,
          impact: 4,
          level: levelOf(assets, ciIds, services),
        };
      }),
    };
  },
};
