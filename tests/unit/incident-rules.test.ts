import { describe, expect, it } from 'vitest';
import { checkExpectedActivity, type ExpectedActivity } from '../../domain/expected-activity';
import { assessSecurityRelevance, strictest } from '../../domain/incident';
import { boundedPlaybook, phaseEnds, type PlaybookStep } from '../../domain/playbook';
import { alertBody } from '../../schemas/alerts';

/** An alert as POST /alerts reads it. */
const readAlert = (body: Record<string, unknown>) => alertBody.parse(body).alert;

describe('security relevance', () => {
  it.each([
    ['malware', [], 0, true],
    ['data_leak', [], 3, true],
    ['other', [], 2, false],
    ['other', ['integrity'], 0, false],
    ['other', ['integrity'], 1, true],
  ] as const)('%s threatening %j with %i CIs → %s', (category, threatens, cis, expected) => {
    expect(assessSecurityRelevance(category, threatens, cis).securityIncident).toBe(expected);
  });
});

describe('expected account activity', () => {
  const weekdaysDaytime: ExpectedActivity = {
    windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '07:00', end: '19:00' }],
    systems: ['batch-01'],
  };
  const overnight: ExpectedActivity = { windows: [{ days: ['fri'], start: '22:00', end: '04:00' }], systems: ['backup'] };
  it.each([
    [weekdaysDaytime, '2026-11-18T10:00:00Z', ['batch-01'], true, 'Wednesday 10:00 on a documented system'],
    [weekdaysDaytime, '2026-11-21T02:00:00Z', ['batch-01'], false, 'Saturday 02:00'],
    [weekdaysDaytime, '2026-11-18T19:00:00Z', ['batch-01'], false, 'end of window is exclusive'],
    [weekdaysDaytime, '2026-11-18T07:00:00Z', ['batch-01'], true, 'start of window is inclusive'],
    [weekdaysDaytime, '2026-11-18T10:00:00Z', ['hr-db'], false, 'inside the window on an undocumented system'],
    [overnight, '2026-11-21T03:00:00Z', ['backup'], true, 'Saturday 03:00 belongs to Friday night'],
    [overnight, '2026-11-20T03:00:00Z', ['backup'], false, 'Friday 03:00 belongs to Thursday night'],
    [overnight, '2026-11-20T23:00:00Z', ['backup'], true, 'Friday 23:00'],
  ] as const)('$4', (expected, at, systems, outcome, _case) => {
    expect(checkExpectedActivity(expected as ExpectedActivity, { at: new Date(at), systems: [...systems] }).expected).toBe(outcome);
  });
});

describe('playbook phases', () => {
  it('ends each phase at its last step', () => {
    const steps = [
      { id: 'a', type: 'timer', phase: 'containment', title: 'a', duration: '1s' },
      { id: 'b', type: 'timer', phase: 'containment', title: 'b', duration: '1s' },
      { id: 'c', type: 'timer', phase: 'recovery', title: 'c', duration: '1s' },
    ] satisfies PlaybookStep[];
    expect([...phaseEnds(steps)]).toEqual([
      ['b', 'containment'],
      ['c', 'recovery'],
    ]);
  });
});

describe('a stored playbook', () => {
  it('is followed with every deadline and timer ten years at most, the rest as published', () => {
    // Published before durations were bounded.
    const steps = [
      { id: 'a', type: 'task', phase: 'containment', title: 'a', roles: ['security_analyst'], deadline: '99999999w' },
      { id: 'b', type: 'approval', phase: 'containment', title: 'b', roles: ['security_manager'], deadline: '4h' },
      { id: 'c', type: 'timer', phase: 'recovery', title: 'c', duration: '5000d' },
      { id: 'd', type: 'task', phase: 'recovery', title: 'd', roles: ['security_analyst'] },
    ] satisfies PlaybookStep[];
    expect(boundedPlaybook({ category: 'malware', version: 3, title: 't', steps }).steps).toEqual([
      { ...steps[0], deadline: '3653d' },
      steps[1],
      { ...steps[2], duration: '3653d' },
      steps[3],
    ]);
  });
});

describe('SLA targets', () => {
  it.each([
    [['4h', '15m', '1d'], '15m'],
    [[], '1h'],
    [['90s', '2m'], '90s'],
  ])('strictest of %j is %s', (targets, expected) => {
    expect(strictest(targets, '1h')).toBe(expected);
  });
});

describe('Wazuh alerts', () => {
  it.each([
    [3, 'low'],
    [5, 'medium'],
    [10, 'high'],
    [12, 'critical'],
  ] as const)('level %i is %s', (level, severity) => {
    const alert = readAlert({ timestamp: '2026-11-22T09:00:00Z', rule: { id: '1', level, description: 'd' }, agent: { name: 'h' } });
    expect(alert).toMatchObject({ severity, host: 'h', fingerprint: 'wazuh:1:h', format: 'wazuh' });
  });
});
