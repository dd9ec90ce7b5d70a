import {
  ciFloor,
  combinedImpact,
  derivedImpact,
  describeFloor,
  describeHit,
  matchRules,
  changeRisks,
  type ChangeContent,
  type ChangeRisk,
  type ImpactDerivation,
  type ImpactRule,
  type SecurityImpact,
} from './change-impact';
import {
  type BaselineMeasure,
  baselineFor,
  classificationLevels,
  levelRank,
  securityAspects,
  type Classification,
  type SecurityAspect,
} from './classification';

/**
 * The security assessment of a change (ITIL service transition): which changes need a security
 * review, how many reviewers, and which evidence must be on file before approval.
 */
export const changeStatuses = [
  /** Recorded; the gate approves it without review in a moment. */
  'submitted',
  'in_review',
  'changes_requested',
  'approved',
  'rejected',
  'verifying',
  /** Implemented and the baseline verified by its controls. */
  'verified',
  /** Implemented, but no tested control could verify the baseline ("no controls to run"). */
  'implemented',
  'baseline_failed',
  'not_implemented',
  /** Ended by a permanent failure (domain/failure.ts); the failure is in process_failures and the audit trail. */
  'failed',
] as const;
export type ChangeStatus = (typeof changeStatuses)[number];

// Declared in change-impact.ts (which the assessment builds on) and part of this contract too.
export { changeRisks, type ChangeRisk, type SecurityImpact };

/** Where a change request came from: Warden's own API or an ITSM tool's outbound message. */
export const changeSources = ['api', 'servicenow', 'jira'] as const;
export type ChangeSource = (typeof changeSources)[number];

/** An approved change not reported implemented this long after its planned end is closed as not implemented. */
export const implementationReportGraceMs = 30 * 86_400_000;

/** The fields a requester writes and may amend. */
export interface ChangeDetails {
  title: string;
  description: string;
  affectedCis: string[];
  securityImpact: SecurityImpact;
  plannedStart: string;
  plannedEnd: string;
  rollbackPlan: string;
  problemId: string | null;
  knownErrorId: string | null;
  /** The change's category in the ITSM tool or as the requester filed it; content rules read it. */
  category?: string | null;
  /** Text fields an ITSM tool sent beyond those mapped above; content rules read them. */
  sourceFields?: Record<string, string>;
}

/** Evidence that lets a high-risk change be approved: one of these must be attached. */
export const approvalEvidenceKinds = ['penetration_test', 'configuration_review'] as const;

export interface ChangeEvidence {
  kind: string;
  ref: string;
}

export interface ChangeAssessment {
  risk: ChangeRisk;
  reviewRequired: boolean;
  /** Two different security reviewers must approve. */
  fourEyes: boolean;
  /** One evidence of any of these kinds must be attached before approval; empty when none is. */
  evidenceRequired: string[];
  reasons: string[];
  /** How the gate derived the impact itself (absent on assessments made before it did). */
  impact?: ImpactDerivation;
}

export interface AssessmentInput {
  impact: SecurityImpact;
  /** The classification of every affected configuration item. */
  cis: readonly Classification[];
  /** The change implements a problem's workaround or a known error's fix. */
  implementsProblemFix: boolean;
}

type ImpactArea = 'accessControls' | 'networkConfiguration' | 'dataHandling' | 'other';

/** The aspects a change in each area can weaken. */
const areaAspects: Record<ImpactArea, readonly SecurityAspect[]> = {
  accessControls: ['confidentiality', 'integrity'],
  networkConfiguration: securityAspects,
  dataHandling: ['confidentiality', 'integrity'],
  other: securityAspects,
};

const areaNames: Record<ImpactArea, string> = {
  accessControls: 'access controls',
  networkConfiguration: 'network configuration',
  dataHandling: 'data handling',
  other: 'other security impact',
};

export function impactAreas(impact: SecurityImpact): ImpactArea[] {
  const areas: ImpactArea[] = [];
  if (impact.accessControls) areas.push('accessControls');
  if (impact.networkConfiguration) areas.push('networkConfiguration');
  if (impact.dataHandling) areas.push('dataHandling');
  if (impact.other?.trim()) areas.push('other');
  return areas;
}

const riskAt = (rank: number): ChangeRisk => changeRisks[Math.min(rank, changeRisks.length - 1)] ?? 'high';

/**
 * Risk = the highest classification, over the affected CIs, of the aspects the impacted areas can
 * weaken: very_high → high, high → medium, otherwise low; an access-control change on a CI of high
 * integrity is high, and a change touching several areas is at least medium. A workaround or
 * known-error fix is always reviewed (ITIL: the workaround must introduce no new security problem);
 * without declared impact it is weighed on every aspect.
 */
export function assessChange({ impact, cis, implementsProblemFix }: AssessmentInput): ChangeAssessment {
  const areas = impactAreas(impact);
  if (areas.length === 0 && !implementsProblemFix) {
    return {
      risk: 'none',
      reviewRequired: false,
      fourEyes: false,
      evidenceRequired: [],
      reasons: [
        'no security impact declared (access controls, network configuration, data handling, other): approved by the gate without review',
      ],
    };
  }
  const reasons: string[] = [];
  if (areas.length > 0) reasons.push(`changes ${areas.map((area) => areaNames[area]).join(', ')}`);
  if (implementsProblemFix) reasons.push('implements a problem workaround or known-error fix: a security review is always required');

  const aspects = new Set<SecurityAspect>(areas.length > 0 ? areas.flatMap((area) => areaAspects[area]) : securityAspects);
  let worst = levelRank('low');
  for (const classification of cis) {
    for (const aspect of aspects) worst = Math.max(worst, levelRank(classification[aspect]));
  }
  // low/medium CIs → low, high → medium, very_high → high
  let rank = Math.max(1, worst);
  if (worst >= levelRank('medium'))
    reasons.push(`affected CIs are classified up to ${classificationLevels[worst]} on ${[...aspects].join(', ')}`);
  if (impact.accessControls && cis.some((ci) => levelRank(ci.integrity) >= levelRank('high'))) {
    rank = changeRisks.indexOf('high');
    reasons.push('changes access controls of a CI of high integrity');
  }
  if (areas.length >= 2 && rank < changeRisks.indexOf('medium')) {
    rank = changeRisks.indexOf('medium');
    reasons.push('touches several security areas at once');
  }
  const risk = riskAt(rank);
  const high = risk === 'high';
  if (high) reasons.push('high risk: two different security reviewers and a penetration test or configuration review are required');
  return { risk, reviewRequired: true, fourEyes: high, evidenceRequired: high ? [...approvalEvidenceKinds] : [], reasons };
}

/** A configuration item as the CMDB classifies it; ITSM tools name it rather than use its id. */
export interface ClassifiedCi extends Classification {
  id: string;
  name: string;
}

/**
 * The gate's assessment: the highest of the requester's declared impact, the impact the content
 * rules derive from what the change says, and the floor the affected CIs' classification sets. The
 * derivation is kept with it, so the assessment names the rules and facts that raised it.
 */
export function assessIndependently(input: {
  declared: SecurityImpact;
  content: ChangeContent;
  cis: readonly (Classification & { id: string })[];
  rules: readonly ImpactRule[];
  implementsProblemFix: boolean;
}): ChangeAssessment {
  const { declared, content, cis, rules, implementsProblemFix } = input;
  const ruleHits = matchRules(rules, content);
  const floor = ciFloor(cis);
  const derived = derivedImpact(ruleHits);
  const declaredOnly = assessChange({ impact: declared, cis, implementsProblemFix: false });
  const derivedOnly = raise(assessChange({ impact: derived, cis, implementsProblemFix: false }), ruleHits, floor);
  const combined = raise(assessChange({ impact: combinedImpact(declared, derived), cis, implementsProblemFix }), ruleHits, floor);
  const reasons = [...combined.reasons];
  if (!combined.reviewRequired)
    reasons.push(
      `no content rule matched (${rules.filter((rule) => rule.status === 'active').length} checked) and no affected CI is classified high or above`,
    );
  return {
    ...combined,
    reasons,
    impact: {
      declaredRisk: declaredOnly.risk,
      derivedRisk: derivedOnly.risk,
      declaredLower: changeRisks.indexOf(declaredOnly.risk) < changeRisks.indexOf(derivedOnly.risk),
      ruleHits,
      ciFloor: floor,
      rulesEvaluated: rules.filter((rule) => rule.status === 'active').map(({ id, version }) => ({ id, version })),
    },
  };
}

/** Raises an assessment to the rules' minimum risks and the CI floor, naming each that raised it. */
function raise(assessment: ChangeAssessment, hits: ImpactDerivation['ruleHits'], floor: ImpactDerivation['ciFloor']): ChangeAssessment {
  let rank = changeRisks.indexOf(assessment.risk);
  const reasons = [...assessment.reasons.filter((reason) => !reason.startsWith('no security impact declared'))];
  for (const hit of hits) {
    reasons.push(describeHit(hit));
    rank = Math.max(rank, changeRisks.indexOf(hit.minimumRisk));
  }
  if (floor.length > 0) {
    reasons.push(...floor.map(describeFloor));
    rank = Math.max(rank, changeRisks.indexOf('low'));
  }
  if (rank === 0) return assessment;
  const risk = riskAt(rank);
  const high = risk === 'high';
  if (high && !assessment.fourEyes)
    reasons.push('high risk: two different security reviewers and a penetration test or configuration review are required');
  return { risk, reviewRequired: true, fourEyes: high, evidenceRequired: high ? [...approvalEvidenceKinds] : [], reasons };
}

/** A configuration item as the CMDB classifies it; ITSM tools name it rather than use its id. */
export interface ClassifiedCi extends Classification {
  id: string;
  name: string;
}

/** What the content rules read of a change. */
export const changeContent = (details: Pick<ChangeDetails, 'title' | 'description' | 'category' | 'sourceFields'>): ChangeContent => ({
  title: details.title,
  description: details.description,
  category: details.category ?? null,
  sourceFields: details.sourceFields ?? {},
});

/**
 * The assessment of a change on the active CIs its references (Warden ids or CI names) resolved
 * to, under the current content rules; `unknownRefs` are those no active CI answers to, and a
 * change naming one is refused.
 */
export function assessOnCis(
  details: Pick<ChangeDetails, 'securityImpact' | 'problemId' | 'knownErrorId' | 'title' | 'description' | 'category' | 'sourceFields'>,
  refs: readonly string[],
  cis: readonly ClassifiedCi[],
  rules: readonly ImpactRule[],
): { unknownRefs: string[]; affectedCis: string[]; assessment: ChangeAssessment } {
  return {
    unknownRefs: refs.filter((ref) => !cis.some((ci) => ci.id === ref || ci.name === ref)),
    affectedCis: [...new Set(cis.map((ci) => ci.id))],
    assessment: assessIndependently({
      declared: details.securityImpact,
      content: changeContent(details),
      cis,
      rules,
      implementsProblemFix: Boolean(details.problemId || details.knownErrorId),
    }),
  };
}

/** The problem record a change implements, as the gate weighs it. */
export interface ProblemContext {
  id: string;
  title: string;
  status: string;
  /** The problem carries a security risk (flagged, or raised by a security incident). */
  securityRisk: boolean;
}

/**
 * A change that implements a problem's solution goes through the gate with the problem's context:
 * the reviewer sees which problem, and a problem carrying a security risk makes it at least medium.
 */
export function withProblemContext(assessment: ChangeAssessment, problem: ProblemContext): ChangeAssessment {
  const reason = `implements problem "${problem.title}" (${problem.id}, ${problem.status}${problem.securityRisk ? ', carries a security risk' : ''})`;
  const atLeast = problem.securityRisk ? changeRisks.indexOf('medium') : changeRisks.indexOf('low');
  const rank = Math.max(changeRisks.indexOf(assessment.risk), atLeast);
  return { ...assessment, risk: riskAt(rank), reviewRequired: true, reasons: [...assessment.reasons, reason] };
}

/** Why a change's schedule cannot go through the gate, by field; empty when it can. */
export function scheduleProblems(
  details: Pick<ChangeDetails, 'plannedStart' | 'plannedEnd'>,
  now: number,
): { field: 'plannedStart' | 'plannedEnd'; message: string }[] {
  const problems: { field: 'plannedStart' | 'plannedEnd'; message: string }[] = [];
  if (Date.parse(details.plannedStart) <= now)
    problems.push({ field: 'plannedStart', message: 'must be in the future: the review has to finish before the change starts' });
  if (Date.parse(details.plannedEnd) <= Date.parse(details.plannedStart))
    problems.push({ field: 'plannedEnd', message: 'must be after plannedStart' });
  return problems;
}

/** The offered evidence not already on file (same kind and reference). */
export function newEvidence(known: readonly ChangeEvidence[], offered: readonly ChangeEvidence[]): ChangeEvidence[] {
  return offered.filter(
    (item, index) =>
      !known.some((k) => k.kind === item.kind && k.ref === item.ref) &&
      offered.findIndex((o) => o.kind === item.kind && o.ref === item.ref) === index,
  );
}

/** Why an approval must wait for evidence, or undefined when the evidence on file suffices. */
export function missingEvidence(assessment: ChangeAssessment, evidence: readonly ChangeEvidence[]): string | undefined {
  if (assessment.evidenceRequired.length === 0) return undefined;
  if (evidence.some((item) => assessment.evidenceRequired.includes(item.kind))) return undefined;
  return `a ${assessment.risk}-risk change needs evidence of kind ${assessment.evidenceRequired.join(' or ')} before it may be approved`;
}

export interface ReviewWindow {
  /** After this the review expires as rejected. */
  expiresInMs: number;
  /** When reviewers and their managers are reminded. */
  remindInMs: number;
  endsAt: 'planned_start' | 'review_limit';
}

/** Reviews never run shorter than this: a timer of zero would mean "no deadline". */
export const minimumReviewMs = 1000;

/**
 * A review must be decided before the change's planned start or within the configured limit,
 * whichever comes first; the reminder goes out halfway.
 */
export function reviewWindow({ now, plannedStart, limitMs }: { now: number; plannedStart: number; limitMs: number }): ReviewWindow {
  const untilStart = plannedStart - now;
  const endsAt = untilStart < limitMs ? 'planned_start' : 'review_limit';
  const expiresInMs = Math.max(minimumReviewMs, Math.min(untilStart, limitMs));
  return { expiresInMs, remindInMs: Math.floor(expiresInMs / 2), endsAt };
}

/** One baseline measure a CI must have, and whether its control still holds after the change. */
export interface BaselineCheck {
  ciId: string;
  measureId: string;
  title: string;
  aspect: SecurityAspect;
  status: 'holds' | 'fails' | 'not_covered';
  /** The control that tests the measure, when one does. */
  controlId: string | null;
  detail: string;
}

/** The post-implementation verification: `no_controls` when nothing could be tested. */
export interface BaselineVerification {
  outcome: 'holds' | 'fails' | 'no_controls';
  summary: string;
  checks: BaselineCheck[];
  verifiedAt: string;
}

/** A control that protects CIs, as the testing schedule records it, with its latest result. */
export interface RecordedControl {
  controlId: string;
  name: string;
  ciIds: string[];
  baselineMeasures: string[];
  /** The latest finished test run's result (`passed`, `failed`, …); null when never tested. */
  lastResult: string | null;
}

/**
 * Does the baseline still hold after the change? Every measure the affected CIs' classification
 * requires is checked against the controls that implement it for that CI: a failed latest test
 * fails the measure, a passed one holds it; a measure whose controls were never tested, or whose
 * test could not run (`error`, `missed`), is reported as not covered rather than failed. `controls` undefined means there is no control register to check against.
 */
export function evaluateBaseline(
  cis: readonly (Classification & { id: string })[],
  controls: readonly RecordedControl[] | undefined,
  verifiedAt: string,
  baseline: readonly BaselineMeasure[],
): BaselineVerification {
  const checks: BaselineCheck[] = cis.flatMap((ci) =>
    baselineFor(ci, baseline).map((measure): BaselineCheck => {
      const base = { ciId: ci.id, measureId: measure.id, title: measure.title, aspect: measure.aspect };
      const covering = (controls ?? []).filter((c) => c.ciIds.includes(ci.id) && c.baselineMeasures.includes(measure.id));
      const failed = covering.find((c) => c.lastResult === 'failed');
      if (failed)
        return {
          ...base,
          status: 'fails',
          controlId: failed.controlId,
          detail: `control "${failed.name}": latest test ${failed.lastResult}`,
        };
      const passed = covering.find((c) => c.lastResult === 'passed');
      if (passed) return { ...base, status: 'holds', controlId: passed.controlId, detail: `control "${passed.name}": latest test passed` };
      const untested = covering[0];
      const detail = untested
        ? `control "${untested.name}": ${untested.lastResult ? `latest test ${untested.lastResult}` : 'never tested'}`
        : 'no control implements it';
      return { ...base, status: 'not_covered', controlId: untested?.controlId ?? null, detail };
    }),
  );
  const failing = checks.filter((check) => check.status === 'fails');
  const holding = checks.filter((check) => check.status === 'holds');
  if (failing.length > 0) {
    return {
      outcome: 'fails',
      summary: `${failing.length} baseline measure(s) no longer hold: ${failing.map((c) => c.measureId).join(', ')}`,
      checks,
      verifiedAt,
    };
  }
  if (holding.length === 0) {
    const why = controls === undefined ? 'no control register is installed' : 'no tested control protects the affected CIs';
    return {
      outcome: 'no_controls',
      summary: `no controls to run: ${why}; ${checks.length} baseline measure(s) unverified`,
      checks,
      verifiedAt,
    };
  }
  return {
    outcome: 'holds',
    summary: `${holding.length} of ${checks.length} baseline measure(s) verified by their controls`,
    checks,
    verifiedAt,
  };
}

/** Where a verified change ends: its baseline holds, fails, or could not be checked. */
export function verifiedStatus(verification: BaselineVerification): Extract<ChangeStatus, 'verified' | 'implemented' | 'baseline_failed'> {
  if (verification.outcome === 'fails') return 'baseline_failed';
  return verification.outcome === 'holds' ? 'verified' : 'implemented';
}
