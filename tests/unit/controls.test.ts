import { describe, expect, it } from 'vitest';
import { cadenceFromTimes, isOverdue } from '../../domain/controls';
import { makeDirectSecurityTestWorkflowId, makeSecurityTestWorkflowId } from '../../domain/security-test';

const at = (iso: string) => new Date(iso);
const day = 86_400_000;

describe('isOverdue', () => {
  const now = at('2026-11-23T12:00:00Z');
  it('counts from the last test, or from scheduling when never tested', () => {
    expect(isOverdue({ cadenceMs: day, lastTestedAt: at('2026-11-22T13:00:00Z'), scheduledSince: at('2026-01-01T00:00:00Z'), now })).toBe(
      false,
    );
    expect(isOverdue({ cadenceMs: day, lastTestedAt: at('2026-11-22T11:00:00Z'), scheduledSince: at('2026-01-01T00:00:00Z'), now })).toBe(
      true,
    );
    expect(isOverdue({ cadenceMs: day, lastTestedAt: null, scheduledSince: at('2026-11-23T00:00:00Z'), now })).toBe(false);
    expect(isOverdue({ cadenceMs: day, lastTestedAt: null, scheduledSince: at('2026-11-21T00:00:00Z'), now })).toBe(true);
  });

  it('allows the jitter on top of the cadence, and never flags an unscheduled control', () => {
    expect(isOverdue({ cadenceMs: day, graceMs: 2 * 3_600_000, lastTestedAt: at('2026-11-22T11:00:00Z'), scheduledSince: null, now })).toBe(
      false,
    );
    expect(isOverdue({ cadenceMs: null, lastTestedAt: null, scheduledSince: null, now })).toBe(false);
  });
});

describe('cadenceFromTimes', () => {
  it('takes the longest gap, so a weekday cron counts the weekend', () => {
    const weekdays = ['2026-11-19', '2026-11-20', '2026-11-23', '2026-11-24'].map((d) => at(`${d}T03:00:00Z`));
    expect(cadenceFromTimes(weekdays)).toBe(3 * day);
    expect(cadenceFromTimes([at('2026-11-23T03:00:00Z')])).toBeNull();
  });
});

describe('security test workflow ids', () => {
  it('gives two direct runs within one second ids of their own, in the shape of the scheduled ones', () => {
    const [first, second] = ['2026-11-23T05:39:51.207Z', '2026-11-23T05:39:51.912Z'].map((iso) =>
      makeDirectSecurityTestWorkflowId('c1', at(iso)),
    );
    expect(first).toBe('security-test/c1-2026-11-23T05:39:51.207Z');
    expect(second).not.toBe(first);
    // Workflows start runs with whole seconds, as Schedules name them: recorded histories keep replaying.
    expect(makeSecurityTestWorkflowId('c1', at('2026-11-23T05:39:51.207Z'))).toBe('security-test/c1-2026-11-23T05:39:51Z');
  });
});
