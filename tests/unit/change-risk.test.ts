import { describe, expect, it } from 'vitest';
import { baselineMeasures as builtInBaseline, type Classification, type ClassificationLevel } from '../../domain/classification';
import {
  assessChange,
  assessOnCis,
  evaluateBaseline,
  missingEvidence,
  reviewWindow,
  scheduleProblems,
  type ChangeRisk,
  type SecurityImpact,
} from '../../domain/change-risk';

const none: SecurityImpact = { accessControls: false, networkConfiguration: false, dataHandling: false };
const ci = (confidentiality: ClassificationLevel, integrity: ClassificationLevel, availability: ClassificationLevel): Classification => ({
  confidentiality,
  integrity,
  availability,
});

const cases: {
  name: string;
  impact: SecurityImpact;
  cis: Classification[];
  fix?: boolean;
  risk: ChangeRisk;
  review: boolean;
  fourEyes: boolean;
}[] = [
  { name: 'no impact, no CI', impact: none, cis: [], risk: 'none', review: false, fourEyes: false },
  {
    name: 'no impact on a very_high CI',
    impact: none,
    cis: [ci('very_high', 'very_high', 'very_high')],
    risk: 'none',
    review: false,
    fourEyes: false,
  },
  { name: 'blank "other" is no impact', impact: { ...none, other: '  ' }, cis: [], risk: 'none', review: false, fourEyes: false },
  {
    name: 'data handling on low CIs',
    impact: { ...none, dataHandling: true },
    cis: [ci('low', 'low', 'low')],
    risk: 'low',
    review: true,
    fourEyes: false,
  },
  {
    name: 'data handling on medium CI',
    impact: { ...none, dataHandling: true },
    cis: [ci('medium', 'low', 'low')],
    risk: 'low',
    review: true,
    fourEyes: false,
  },
  {
    name: 'data handling on high confidentiality',
    impact: { ...none, dataHandling: true },
    cis: [ci('high', 'low', 'low')],
    risk: 'medium',
    review: true,
    fourEyes: false,
  },
  {
    name: 'data handling ignores availability',
    impact: { ...none, dataHandling: true },
    cis: [ci('low', 'low', 'very_high')],
    risk: 'low',
    review: true,
    fourEyes: false,
  },
  {
    name: 'network configuration weighs availability',
    impact: { ...none, networkConfiguration: true },
    cis: [ci('low', 'low', 'very_high')],
    risk: 'high',
    review: true,
    fourEyes: true,
  },
  {
    name: 'very_high confidentiality is high risk',
    impact: { ...none, dataHandling: true },
    cis: [ci('low', 'low', 'low'), ci('very_high', 'low', 'low')],
    risk: 'high',
    review: true,
    fourEyes: true,
  },
  {
    name: 'access controls on a high-integrity CI',
    impact: { ...none, accessControls: true },
    cis: [ci('low', 'high', 'low')],
    risk: 'high',
    review: true,
    fourEyes: true,
  },
  {
    name: 'access controls on medium CIs',
    impact: { ...none, accessControls: true },
    cis: [ci('medium', 'medium', 'high')],
    risk: 'low',
    review: true,
    fourEyes: false,
  },
  {
    name: 'several areas at once are at least medium',
    impact: { ...none, accessControls: true, networkConfiguration: true },
    cis: [ci('low', 'low', 'low')],
    risk: 'medium',
    review: true,
    fourEyes: false,
  },
  { name: 'other impact, no CI', impact: { ...none, other: 'new logging pipeline' }, cis: [], risk: 'low', review: true, fourEyes: false },
  {
    name: 'problem fix without impact is reviewed',
    impact: none,
    cis: [ci('low', 'low', 'low')],
    fix: true,
    risk: 'low',
    review: true,
    fourEyes: false,
  },
  {
    name: 'problem fix weighs every aspect',
    impact: none,
    cis: [ci('low', 'low', 'high')],
    fix: true,
    risk: 'medium',
    review: true,
    fourEyes: false,
  },
];

describe('assessChange', () => {
  it.each(cases)('$name → $risk', ({ impact, cis, fix, risk, review, fourEyes }) => {
    const assessment = assessChange({ impact, cis, implementsProblemFix: fix ?? false });
    expect(assessment.risk).toBe(risk);
    expect(assessment.reviewRequired).toBe(review);
    expect(assessment.fourEyes).toBe(fourEyes);
    expect(assessment.evidenceRequired.length > 0).toBe(risk === 'high');
    expect(assessment.reasons.length).toBeGreaterThan(0);
  });

  it('records why a change passes without review', () => {
    expect(assessChange({ impact: none, cis: [], implementsProblemFix: false }).reasons[0]).toMatch(/no security impact declared/);
  });

  it('records why a workaround is reviewed', () => {
    expect(assessChange({ impact: none, cis: [], implementsProblemFix: true }).reasons.join(' ')).toMatch(/workaround/);
  });
});

describe('assessOnCis', () => {
  const web = { id: '00000000-0000-4000-8000-000000000001', name: 'web', ...ci('high', 'low', 'low') };

  it('resolves CIs named by id or by name, once each, and names the references no active CI answers to', () => {
    const result = assessOnCis(
      { securityImpact: { ...none, dataHandling: true }, problemId: null, knownErrorId: null, title: 'Rotate logs', description: '' },
      [web.id, 'web', 'gone'],
      [web],
      [],
    );
    expect(result.unknownRefs).toEqual(['gone']);
    expect(result.affectedCis).toEqual([web.id]);
    expect(result.assessment.risk).toBe('medium');
  });

  it('always reviews a problem fix', () => {
    const { assessment } = assessOnCis(
      { securityImpact: none, problemId: 'PRB1', knownErrorId: null, title: 'Apply workaround', description: '' },
      [],
      [],
      [],
    );
    expect(assessment.reviewRequired).toBe(true);
  });
});

describe('scheduleProblems', () => {
  const now = Date.parse('2026-12-01T00:00:00Z');

  it('accepts a change planned in the future that ends after it starts', () => {
    expect(scheduleProblems({ plannedStart: '2026-12-02T00:00:00Z', plannedEnd: '2026-12-02T01:00:00Z' }, now)).toEqual([]);
  });

  it('names each field at fault', () => {
    const problems = scheduleProblems({ plannedStart: '2026-11-30T00:00:00Z', plannedEnd: '2026-11-29T00:00:00Z' }, now);
    expect(problems.map((problem) => problem.field)).toEqual(['plannedStart', 'plannedEnd']);
  });
});

describe('missingEvidence', () => {
  const high = assessChange({
    impact: { ...none, accessControls: true },
    cis: [ci('low', 'very_high', 'low')],
    implementsProblemFix: false,
  });
  const low = assessChange({ impact: { ...none, dataHandling: true }, cis: [], implementsProblemFix: false });

  it.each([
    { name: 'high risk without evidence', assessment: high, evidence: [], missing: true },
    { name: 'high risk with an unrelated document', assessment: high, evidence: [{ kind: 'design_doc', ref: 'DOC-1' }], missing: true },
    { name: 'high risk with a penetration test', assessment: high, evidence: [{ kind: 'penetration_test', ref: 'PT-7' }], missing: false },
    {
      name: 'high risk with a configuration review',
      assessment: high,
      evidence: [{ kind: 'configuration_review', ref: 'CR-2' }],
      missing: false,
    },
    { name: 'low risk needs none', assessment: low, evidence: [], missing: false },
  ])('$name', ({ assessment, evidence, missing }) => {
    expect(missingEvidence(assessment, evidence) !== undefined).toBe(missing);
  });
});

describe('reviewWindow', () => {
  const now = Date.parse('2026-12-01T10:00:00Z');
  const hour = 3_600_000;

  it.each([
    { name: 'the limit comes first', plannedStart: now + 10 * hour, limitMs: 2 * hour, expires: 2 * hour, endsAt: 'review_limit' },
    { name: 'the planned start comes first', plannedStart: now + hour, limitMs: 2 * hour, expires: hour, endsAt: 'planned_start' },
    {
      name: 'a past planned start leaves the minimum',
      plannedStart: now - hour,
      limitMs: 2 * hour,
      expires: 1000,
      endsAt: 'planned_start',
    },
    { name: 'seconds for tests', plannedStart: now + 10 * hour, limitMs: 4000, expires: 4000, endsAt: 'review_limit' },
  ])('$name', ({ plannedStart, limitMs, expires, endsAt }) => {
    const window = reviewWindow({ now, plannedStart, limitMs });
    expect(window.expiresInMs).toBe(expires);
    expect(window.remindInMs).toBe(expires / 2);
    expect(window.endsAt).toBe(endsAt);
  });
});

describe('evaluateBaseline', () => {
  const web = { id: 'ci-web', ...ci('medium', 'low', 'low') };
  const at = '2026-12-01T10:00:00.000Z';
  const control = (baselineMeasures: string[], lastResult: string | null) => ({
    controlId: `ctl-${lastResult}`,
    name: `mfa ${lastResult}`,
    ciIds: ['ci-web'],
    baselineMeasures,
    lastResult,
  });

  it('without a control register nothing runs', () => {
    const result = evaluateBaseline([web], undefined, at, builtInBaseline);
    expect(result.outcome).toBe('no_controls');
    expect(result.summary).toMatch(/^no controls to run/);
    expect(result.checks.map((c) => c.measureId)).toEqual(['BL-C1', 'BL-C2', 'BL-I1', 'BL-A1']);
  });

  it.each([
    { name: 'a passed control holds', controls: [control(['BL-C2'], 'passed')], outcome: 'holds', c2: 'holds' },
    {
      name: 'a failed control fails',
      controls: [control(['BL-C2'], 'passed'), control(['BL-C2'], 'failed')],
      outcome: 'fails',
      c2: 'fails',
    },
    { name: 'an errored test is not a failure', controls: [control(['BL-C2'], 'error')], outcome: 'no_controls', c2: 'not_covered' },
    { name: 'an untested control is not covered', controls: [control(['BL-C2'], null)], outcome: 'no_controls', c2: 'not_covered' },
    {
      name: "another CI's control does not count",
      controls: [{ ...control(['BL-C2'], 'failed'), ciIds: ['ci-db'] }],
      outcome: 'no_controls',
      c2: 'not_covered',
    },
  ])('$name', ({ controls, outcome, c2 }) => {
    const result = evaluateBaseline([web], controls, at, builtInBaseline);
    expect(result.outcome).toBe(outcome);
    expect(result.checks.find((c) => c.measureId === 'BL-C2')?.status).toBe(c2);
  });
});
