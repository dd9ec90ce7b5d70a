import { systemActor } from '../../domain/roles';
import type { ChangeAssessment, SecurityImpact } from '../../domain/change-risk';
import type { Deviation } from '../../domain/security-report/model';
import { levelOf } from './assets';
import { changesInPeriod } from './changes-in-period';
import { percent, type Measure } from './measure';

const hasSecurityImpact = (impact: SecurityImpact) =>
  impact.accessControls || impact.networkConfiguration || impact.dataHandling || Boolean(impact.other?.trim());

/** The gate found impact itself (content rules, CI classification), whatever was declared. */
const hasDerivedImpact = (assessment: ChangeAssessment) => (assessment.impact?.derivedRisk ?? 'none') !== 'none';

/** The gate records its own decisions (auto-approval, expiry) under this principal. */
const gateItself = systemActor.principalId;

export const changesThroughGate: Measure = {
  id: 'changes-through-gate',
  title: 'Changes with security impact decided by the gate review',
  definition:
    'Share of changes submitted in the period with a security impact, declared by the requester (access controls, network configuration, data handling or another impact named) or derived by the gate (a content rule or the classification of an affected CI raised it), whose final gate decision (the latest in change_decisions) was taken by reviewers in the security review task, rather than auto-approved (decision key auto:*) or expired (decided by the system). Changes not decided yet are not judged. Each auto-approved or expired one is a deviation. The breakdown separates declared from derived impact and counts the changes whose declared impact was lower than the gate derived.',
  trend: true,
  async compute(db, period, scope) {
    const { assets, changes } = await changesInPeriod(db, period, scope);
    const impacting = changes.filter(({ change }) => hasSecurityImpact(change.security_impact) || hasDerivedImpact(change.assessment));
    const decisions =
      impacting.length === 0
        ? []
        : await db
            .selectFrom('change_decisions')
            .select(['change_id', 'decision_key', 'decided_by', 'outcome'])
            .distinctOn('change_id')
            .where(
              'change_id',
              'in',
              impacting.map(({ change }) => change.id),
            )
            .orderBy('change_id')
            .orderBy('decided_at', 'desc')
            .execute();
    const finalDecision = new Map(decisions.map((d) => [d.change_id, d]));
    const judged = impacting.filter(({ change }) => finalDecision.has(change.id));
    const misses: Deviation[] = [];
    for (const { change, services } of judged) {
      const decision = finalDecision.get(change.id) as (typeof decisions)[number];
      const reviewed = decision.decision_key.startsWith('review:') && !decision.decided_by.includes(gateItself);
      if (reviewed) continue;
      const how = decision.decision_key.startsWith('auto:') ? 'auto-approved' : `expired (${decision.outcome})`;
      misses.push({
        key: `changes-through-gate:${change.id}`,
        title: `Change "${change.title}" with security impact was ${how} without a security review`,
        detail: `requested by ${change.requester}${services[0] ? `; service ${services[0].name}` : ''}`,
        owner: services[0]?.owner ?? null,
        serviceId: services[0]?.id ?? null,
        // A security-relevant change nobody reviewed: likely to carry an unassessed weakness (3), moderate harm (3).
        likelihood: 3,
        impact: 3,
        level: levelOf(assets, change.affected_cis, services),
      });
    }
    return {
      status: 'measured',
      value: percent(judged.length - misses.length, judged.length),
      unit: '%',
      breakdown: [
        { label: 'with security impact, decided', value: judged.length },
        { label: 'decided by review', value: judged.length - misses.length },
        { label: 'impact declared', value: judged.filter(({ change }) => hasSecurityImpact(change.security_impact)).length },
        { label: 'impact derived by the gate', value: judged.filter(({ change }) => hasDerivedImpact(change.assessment)).length },
        { label: 'declared lower than derived', value: judged.filter(({ change }) => change.assessment.impact?.declaredLower).length },
      ],
      misses,
    };
  },
};
