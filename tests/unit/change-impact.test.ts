import { describe, expect, it } from 'vitest';
import { impactRuleProblems, matchRules, mentions, type ImpactRule } from '../../domain/change-impact';
import { assessIndependently } from '../../domain/change-risk';
import type { ClassificationLevel } from '../../domain/classification';

const none = { accessControls: false, networkConfiguration: false, dataHandling: false };
const rule = (overrides: Partial<ImpactRule>): ImpactRule => ({
  id: '00000000-0000-4000-8000-00000000aaaa',
  version: 1,
  name: 'Network exposure',
  description: '',
  keywords: ['firewall', 'port', '3389'],
  fields: ['title', 'description', 'category', 'source'],
  areas: ['networkConfiguration'],
  minimumRisk: 'low',
  status: 'active',
  ...overrides,
});
const exposure = rule({
  id: '00000000-0000-4000-8000-00000000bbbb',
  name: 'Public exposure',
  keywords: ['internet', '0.0.0.0/0'],
  areas: ['networkConfiguration', 'accessControls'],
  minimumRisk: 'medium',
});
const ci = (id: string, c: ClassificationLevel, i: ClassificationLevel = 'low', a: ClassificationLevel = 'low') => ({
  id,
  confidentiality: c,
  integrity: i,
  availability: a,
});
const content = (title: string, extra: Partial<{ description: string; category: string; sourceFields: Record<string, string> }> = {}) => ({
  title,
  description: extra.description ?? '',
  category: extra.category ?? null,
  sourceFields: extra.sourceFields ?? {},
});

describe('mentions', () => {
  it('matches whole words and phrases, whatever the case and punctuation around them', () => {
    expect(mentions('Open Firewall port 3389.', 'firewall')).toBe(true);
    expect(mentions('allow from 0.0.0.0/0 on tcp', '0.0.0.0/0')).toBe(true);
    expect(mentions('Update the security-group rules', 'security group')).toBe(false);
    expect(mentions('change the Security Group', 'security group')).toBe(true);
  });

  it('does not match inside another word', () => {
    expect(mentions('Report on the support rota', 'port')).toBe(false);
    expect(mentions('Turn the role call', 'roles')).toBe(false);
  });
});

describe('matchRules', () => {
  it('names the rule, its version, the field and the keyword that raised it, once per rule', () => {
    const hits = matchRules([rule({ version: 3 })], content('Open firewall port 3389', { description: 'firewall again' }));
    expect(hits).toEqual([
      expect.objectContaining({
        name: 'Network exposure',
        version: 3,
        field: 'title',
        keyword: 'firewall',
        areas: ['networkConfiguration'],
      }),
    ]);
  });

  it('reads the ITSM fields and the category, and only the fields a rule names', () => {
    const fromSource = matchRules([rule({})], content('Routine', { sourceFields: { 'servicenow.justification': 'needs port 3389' } }));
    expect(fromSource[0]).toMatchObject({ field: 'source:servicenow.justification', keyword: 'port' });
    expect(matchRules([rule({ fields: ['title'] })], content('Routine', { category: 'firewall' }))).toEqual([]);
    expect(matchRules([rule({ fields: ['category'] })], content('Routine', { category: 'Firewall' }))[0]?.field).toBe('category');
  });

  it('ignores retired rules', () => {
    expect(matchRules([rule({ status: 'retired' })], content('Open firewall port 3389'))).toEqual([]);
  });
});

describe('assessIndependently', () => {
  const db = ci('00000000-0000-4000-8000-000000000db1', 'very_high');
  const wiki = ci('00000000-0000-4000-8000-000000000001', 'low');

  it('routes the firewall example to review with the rule named, whatever the requester declares', () => {
    const assessment = assessIndependently({
      declared: none,
      content: content('Open firewall port 3389 from the internet'),
      cis: [db],
      rules: [rule({}), exposure],
      implementsProblemFix: false,
    });
    expect(assessment).toMatchObject({ risk: 'high', reviewRequired: true, fourEyes: true });
    expect(assessment.reasons).toEqual(
      expect.arrayContaining([expect.stringContaining('content rule "Network exposure" (v1) matched "firewall" in title')]),
    );
    expect(assessment.impact).toMatchObject({ declaredRisk: 'none', derivedRisk: 'high', declaredLower: true });
    expect(assessment.impact?.ruleHits.map((hit) => hit.name)).toEqual(['Network exposure', 'Public exposure']);
  });

  it('never lets a change to a CI classified high or above be risk none', () => {
    const assessment = assessIndependently({
      declared: none,
      content: content('Rename a column'),
      cis: [ci('00000000-0000-4000-8000-000000000002', 'low', 'high')],
      rules: [rule({})],
      implementsProblemFix: false,
    });
    expect(assessment).toMatchObject({ risk: 'low', reviewRequired: true });
    expect(assessment.impact?.ciFloor).toEqual([{ ciId: '00000000-0000-4000-8000-000000000002', aspect: 'integrity', level: 'high' }]);
    expect(assessment.reasons.join(' ')).not.toMatch(/without review/);
  });

  it('raises a change to the minimum risk of the rules it triggers', () => {
    const assessment = assessIndependently({
      declared: none,
      content: content('Expose to the internet'),
      cis: [wiki],
      rules: [exposure],
      implementsProblemFix: false,
    });
    expect(assessment.risk).toBe('medium');
  });

  it('keeps the requester’s declaration when it is higher than anything derived', () => {
    const assessment = assessIndependently({
      declared: { ...none, accessControls: true },
      content: content('Tidy up'),
      cis: [ci('00000000-0000-4000-8000-000000000003', 'low', 'very_high')],
      rules: [rule({})],
      implementsProblemFix: false,
    });
    expect(assessment.risk).toBe('high');
    expect(assessment.impact).toMatchObject({ declaredRisk: 'high', declaredLower: false });
  });

  it('approves a change nothing raises, saying what was checked, and lists the rule set', () => {
    const assessment = assessIndependently({
      declared: none,
      content: content('Rename a wiki page'),
      cis: [wiki],
      rules: [rule({}), rule({ id: 'x', status: 'retired' })],
      implementsProblemFix: false,
    });
    expect(assessment).toMatchObject({ risk: 'none', reviewRequired: false });
    expect(assessment.reasons.join('; ')).toMatch(
      /no security impact declared.*no content rule matched \(1 checked\) and no affected CI is classified high or above/,
    );
    expect(assessment.impact?.rulesEvaluated).toEqual([{ id: '00000000-0000-4000-8000-00000000aaaa', version: 1 }]);
  });
});

describe('impactRuleProblems', () => {
  it('names each empty part of a rule', () => {
    expect(impactRuleProblems({ keywords: [], fields: [], areas: [] }).map((p) => p.field)).toEqual(['keywords', 'fields', 'areas']);
    expect(impactRuleProblems({ keywords: ['ok', '--'], fields: ['title'], areas: ['dataHandling'] })).toEqual([
      expect.objectContaining({ field: 'keywords.1' }),
    ]);
  });
});
