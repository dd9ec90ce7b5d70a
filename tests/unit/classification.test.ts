import { describe, expect, it } from 'vitest';
import {
  baselineFor,
  baselineMeasures,
  classificationLevels,
  incidentCategories,
  incidentSeverity,
  securityAspects,
  type Classification,
  type ClassificationLevel,
  type IncidentCategory,
  type Severity,
} from '../../domain/classification';
import { durationMs } from '../../domain/duration';
import { defaultSla } from '../../domain/sla';

const c = (
  confidentiality: ClassificationLevel,
  integrity: ClassificationLevel = 'low',
  availability: ClassificationLevel = 'low',
): Classification => ({
  confidentiality,
  integrity,
  availability,
});

const everyClassification: Classification[] = classificationLevels.flatMap((confidentiality) =>
  classificationLevels.flatMap((integrity) => classificationLevels.map((availability) => ({ confidentiality, integrity, availability }))),
);

describe('baselineFor', () => {
  it.each<[string, Classification, string[]]>([
    ['low everywhere: the floor of each aspect', c('low'), ['BL-C1', 'BL-I1', 'BL-A1']],
    ['medium confidentiality adds its medium measure', c('medium'), ['BL-C1', 'BL-C2', 'BL-I1', 'BL-A1']],
    ['high confidentiality adds both high measures', c('high'), ['BL-C1', 'BL-C2', 'BL-C3', 'BL-C4', 'BL-I1', 'BL-A1']],
    ['very high confidentiality only', c('very_high'), ['BL-C1', 'BL-C2', 'BL-C3', 'BL-C4', 'BL-C5', 'BL-I1', 'BL-A1']],
    ['very high integrity only', c('low', 'very_high'), ['BL-C1', 'BL-I1', 'BL-I2', 'BL-I3', 'BL-I4', 'BL-A1']],
    ['high availability only', c('low', 'low', 'high'), ['BL-C1', 'BL-I1', 'BL-A1', 'BL-A2', 'BL-A3']],
    ['aspects count independently', c('high', 'low', 'medium'), ['BL-C1', 'BL-C2', 'BL-C3', 'BL-C4', 'BL-I1', 'BL-A1', 'BL-A2']],
    ['very high everywhere: the whole baseline', c('very_high', 'very_high', 'very_high'), baselineMeasures.map((measure) => measure.id)],
  ])('%s', (_, classification, expected) => {
    expect(baselineFor(classification, baselineMeasures).map((measure) => measure.id)).toEqual(expected);
  });

  it('is cumulative: raising one aspect a level keeps every measure and adds only that aspect’s', () => {
    for (const classification of everyClassification) {
      for (const aspect of securityAspects) {
        const rank = classificationLevels.indexOf(classification[aspect]);
        const higher = classificationLevels[rank + 1];
        if (!higher) continue;
        const before = baselineFor(classification, baselineMeasures);
        const after = baselineFor({ ...classification, [aspect]: higher }, baselineMeasures);
        expect(after).toEqual(expect.arrayContaining(before));
        expect(
          after.filter((measure) => !before.includes(measure)).every((measure) => measure.aspect === aspect && measure.from === higher),
        ).toBe(true);
      }
    }
  });
});

describe('incidentSeverity', () => {
  it.each<[IncidentCategory, Classification[], Severity, string]>([
    // no CIs
    ['data_leak', [], 'low', 'nothing recorded to raise it'],
    ['denial_of_service', [], 'low', 'nothing recorded to raise it'],
    // one CI: the aspects the category threatens, shifted by its impact
    ['data_leak', [c('medium')], 'high', 'confidentiality one step up'],
    ['data_leak', [c('low', 'very_high', 'very_high')], 'medium', 'only confidentiality counts for a leak'],
    ['denial_of_service', [c('very_high', 'very_high', 'medium')], 'high', 'only availability counts for a denial of service'],
    ['unauthorised_access', [c('low', 'high')], 'high', 'integrity at its own level beats confidentiality raised from low'],
    ['unauthorised_access', [c('medium', 'low')], 'high', 'confidentiality raised a step'],
    ['malware', [c('medium', 'medium', 'high')], 'high', 'availability at its own level'],
    ['vulnerability_exploitation', [c('medium', 'high', 'low')], 'high', 'every aspect at its own level'],
    ['policy_violation', [c('high', 'medium', 'very_high')], 'medium', 'a step down, availability ignored'],
    ['other', [c('very_high', 'very_high', 'very_high')], 'high', 'a step down everywhere'],
    // clamping at both ends
    ['data_leak', [c('very_high')], 'critical', 'cannot rise above critical'],
    ['malware', [c('low', 'very_high')], 'critical', 'cannot rise above critical'],
    ['policy_violation', [c('low', 'low', 'very_high')], 'low', 'cannot fall below low'],
    ['other', [c('low')], 'low', 'cannot fall below low'],
    // several CIs: the worst wins, whichever CI and aspect it comes from
    ['data_leak', [c('low'), c('medium')], 'high', 'the more confidential CI'],
    ['data_leak', [c('low'), c('high'), c('medium')], 'critical', 'order does not matter'],
    ['denial_of_service', [c('very_high'), c('low', 'low', 'medium')], 'high', 'the second CI’s availability'],
    [
      'unauthorised_access',
      [c('low', 'high'), c('high', 'low')],
      'critical',
      'the second CI’s raised confidentiality beats the first’s integrity',
    ],
    ['policy_violation', [c('low'), c('low', 'low', 'very_high')], 'low', 'none of them threatened enough'],
  ])('%s with %j is %s: %s', (category, affected, expected) => {
    expect(incidentSeverity(category, affected)).toBe(expected);
  });

  it('does not depend on the order of the CIs, and never falls when a CI is added', () => {
    const samples = everyClassification.filter((_, index) => index % 7 === 0);
    for (const category of incidentCategories) {
      for (const first of samples) {
        for (const second of samples) {
          const both = incidentSeverity(category, [first, second]);
          expect(incidentSeverity(category, [second, first])).toBe(both);
          const rank = (severity: Severity) => ['low', 'medium', 'high', 'critical'].indexOf(severity);
          expect(rank(both)).toBeGreaterThanOrEqual(rank(incidentSeverity(category, [first])));
        }
      }
    }
  });
});

describe('durationMs', () => {
  it.each<[string, number]>([
    ['0s', 0],
    ['1ms', 1],
    ['2s', 2_000],
    ['30s', 30_000],
    ['15m', 15 * 60_000],
    ['4h', 4 * 3_600_000],
    ['1d', 86_400_000],
    ['30d', 30 * 86_400_000],
    ['2w', 14 * 86_400_000],
    ['0090m', 90 * 60_000],
  ])('%s is %d ms', (text, expected) => {
    expect(durationMs(text)).toBe(expected);
  });

  it.each(['', '15', 'm', '1.5h', '-1h', '1 h', ' 1h', '1h ', '1H', '1y', '1h30m', 'PT1H'])('refuses %j, naming it', (text) => {
    expect(() => durationMs(text)).toThrow(RangeError);
    expect(() => durationMs(text)).toThrow(JSON.stringify(text));
  });

  it('reads every duration of the default SLA', () => {
    const { acknowledgeTargets, resolveTargets, patchDeadlines, testCadence, reviewCadence } = defaultSla;
    const texts = [
      ...Object.values(acknowledgeTargets),
      ...Object.values(resolveTargets),
      ...Object.values(patchDeadlines),
      testCadence,
      reviewCadence,
    ];
    for (const text of texts) expect(durationMs(text)).toBeGreaterThan(0);
    expect(durationMs(acknowledgeTargets.critical)).toBeLessThan(durationMs(resolveTargets.critical));
  });
});
