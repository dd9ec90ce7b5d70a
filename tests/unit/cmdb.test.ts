import { describe, expect, it } from 'vitest';
import { changedFields } from '../../db/audit';
import { baselineMeasures, combinedBaseline, levelsFrom, type Classification } from '../../domain/classification';
import { mayChangeRecord, requiredMeasures } from '../../domain/cmdb';
import type { Actor, Role } from '../../domain/roles';
import { completeSla, defaultSla, mergeSla, type ServiceSla, type SlaChanges } from '../../domain/sla';

describe('mergeSla', () => {
  it.each<[string, SlaChanges, Partial<typeof defaultSla>]>([
    ['nothing changes nothing', {}, {}],
    [
      'a target merges into its severity map',
      { acknowledgeTargets: { critical: '5m' } },
      { acknowledgeTargets: { ...defaultSla.acknowledgeTargets, critical: '5m' } },
    ],
    [
      'a patch deadline merges per level',
      { patchDeadlines: { very_high: '1d' } },
      { patchDeadlines: { ...defaultSla.patchDeadlines, very_high: '1d' } },
    ],
    ['scalars replace', { testCadence: '7d', availabilityTarget: 99.99 }, { testCadence: '7d', availabilityTarget: 99.99 }],
    ['zero is a value, not a gap', { availabilityTarget: 0 }, { availabilityTarget: 0 }],
  ])('%s', (_, changes, expected) => {
    expect(mergeSla(defaultSla, changes)).toEqual({ ...defaultSla, ...expected });
  });

  it('replaces the additional requirements whole, so one can be removed', () => {
    const withTwo = mergeSla(defaultSla, {
      additionalRequirements: [
        { id: 'A', title: 'a' },
        { id: 'B', title: 'b' },
      ],
    });
    expect(mergeSla(withTwo, { additionalRequirements: [{ id: 'B', title: 'b' }] }).additionalRequirements).toEqual([
      { id: 'B', title: 'b' },
    ]);
    expect(mergeSla(withTwo, {}).additionalRequirements).toHaveLength(2);
  });

  it('leaves its inputs alone', () => {
    const before = structuredClone(defaultSla);
    mergeSla(defaultSla, { resolveTargets: { low: '1d' } });
    expect(defaultSla).toEqual(before);
  });
});

describe('completeSla', () => {
  it('reads a stored SLA with what it predates from the defaults and every duration ten years at most', () => {
    // Stored before durations were bounded, and before triage targets and support hours existed.
    const stored = {
      acknowledgeTargets: { critical: '99999999w', high: '1h' },
      resolveTargets: { ...defaultSla.resolveTargets, low: '5000d' },
      patchDeadlines: { ...defaultSla.patchDeadlines, low: '520w' },
      testCadence: '99999999d',
      reviewCadence: '30d',
    } as Partial<ServiceSla>;
    expect(completeSla(stored)).toEqual({
      ...defaultSla,
      acknowledgeTargets: { ...defaultSla.acknowledgeTargets, critical: '3653d', high: '1h' },
      resolveTargets: { ...defaultSla.resolveTargets, low: '3653d' },
      patchDeadlines: { ...defaultSla.patchDeadlines, low: '520w' },
      testCadence: '3653d',
      reviewCadence: '30d',
    });
    expect(completeSla(null)).toEqual(defaultSla);
  });
});

describe('what a service requires', () => {
  const c = (
    confidentiality: Classification['confidentiality'],
    integrity: Classification['integrity'] = 'low',
    availability: Classification['availability'] = 'low',
  ) => ({
    confidentiality,
    integrity,
    availability,
  });

  it.each<[string, Classification[], string[]]>([
    ['no CIs, no baseline', [], []],
    ['one CI, its own baseline', [c('medium')], ['BL-C1', 'BL-C2', 'BL-I1', 'BL-A1']],
    [
      'several CIs, the highest level per aspect',
      [c('high'), c('low', 'medium'), c('low', 'low', 'very_high')],
      ['BL-C1', 'BL-C2', 'BL-C3', 'BL-C4', 'BL-I1', 'BL-I2', 'BL-A1', 'BL-A2', 'BL-A3', 'BL-A4'],
    ],
  ])('%s', (_, classifications, expected) => {
    expect(combinedBaseline(classifications, baselineMeasures).map((measure) => measure.id)).toEqual(expected);
  });

  it('puts the SLA’s additional requirements after the baseline', () => {
    const sla = mergeSla(defaultSla, { additionalRequirements: [{ id: 'PCI-1', title: 'PCI DSS scope' }] });
    expect(requiredMeasures([c('low')], sla, baselineMeasures).map((measure) => [measure.source, measure.id])).toEqual([
      ['baseline', 'BL-C1'],
      ['baseline', 'BL-I1'],
      ['baseline', 'BL-A1'],
      ['sla', 'PCI-1'],
    ]);
  });

  it.each([
    ['low', ['low', 'medium', 'high', 'very_high']],
    ['high', ['high', 'very_high']],
    ['very_high', ['very_high']],
  ] as const)('levels from %s', (level, expected) => {
    expect(levelsFrom(level)).toEqual(expected);
  });
});

describe('mayChangeRecord', () => {
  const actor = (roles: Role[], principalId = 'alice'): Actor => ({ principalId, displayName: principalId, roles });

  it.each<[string, Actor, (string | null)[], boolean]>([
    ['an admin changes anyone’s record', actor(['admin']), ['bob'], true],
    ['a security manager changes anyone’s record', actor(['security_manager']), ['bob', null], true],
    ['a service owner changes a record they own', actor(['service_owner']), ['alice'], true],
    ['a service owner changes a CI in a service they own', actor(['service_owner']), ['bob', 'alice'], true],
    ['a service owner does not change someone else’s record', actor(['service_owner']), ['bob', null], false],
    ['a record without a service is not everyone’s', actor(['service_owner']), [null], false],
    ['other roles do not widen ownership', actor(['service_owner', 'auditor', 'tester']), ['bob'], false],
  ])('%s', (_, who, owners, expected) => {
    expect(mayChangeRecord(who, owners)).toBe(expected);
  });
});

describe('changedFields', () => {
  it.each<[string, object, object, Record<string, { from: unknown; to: unknown }>]>([
    ['nothing', { a: 1, b: { c: [1] } }, { b: { c: [1] }, a: 1 }, {}],
    ['a scalar', { a: 1 }, { a: 2 }, { a: { from: 1, to: 2 } }],
    [
      'a nested value, by dotted path',
      { sla: { targets: { high: '1h', low: '1d' } } },
      { sla: { targets: { high: '2h', low: '1d' } } },
      { 'sla.targets.high': { from: '1h', to: '2h' } },
    ],
    ['an array, whole', { list: [1, 2] }, { list: [2] }, { list: { from: [1, 2], to: [2] } }],
    [
      'a key added or removed, absent as null',
      { gone: 'x' },
      { added: 'y' },
      { gone: { from: 'x', to: null }, added: { from: null, to: 'y' } },
    ],
    ['a value where there was null', { serviceId: null }, { serviceId: 'abc' }, { serviceId: { from: null, to: 'abc' } }],
  ])('%s', (_, before, after, expected) => {
    expect(changedFields(before, after)).toEqual(expected);
  });
});
