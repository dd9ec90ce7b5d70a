import { describe, expect, it } from 'vitest';
import { durationMs } from '../../domain/duration';
import { completeSla, defaultSla, mergeSla, slaDueTimes, untimeableTargets } from '../../domain/sla';
import { addSupportTime, roundTheClock, supportTimeBetween, type SupportHours } from '../../domain/support-hours';
import { remainingSupportSeconds, type RecordedSlaClock } from '../../db/incident-sla';

const berlinOffice: SupportHours = {
  kind: 'business',
  timeZone: 'Europe/Berlin',
  days: [1, 2, 3, 4, 5],
  start: '08:00',
  end: '18:00',
  holidays: [],
};
// The seed scenario: a service account failing logons at 02:00 on a Saturday (Berlin, winter: UTC+1).
const saturdayTwoAm = new Date('2026-12-05T01:00:00Z');

describe('support hours', () => {
  it('adds round-the-clock time as it is', () => {
    expect(addSupportTime(saturdayTwoAm, durationMs('4h'), roundTheClock).toISOString()).toBe('2026-12-05T05:00:00.000Z');
  });

  it('counts business hours only: a weekend report is due on Monday', () => {
    // Monday 08:00 Berlin is 07:00Z; four supported hours later, 11:00Z.
    expect(addSupportTime(saturdayTwoAm, durationMs('4h'), berlinOffice).toISOString()).toBe('2026-12-07T11:00:00.000Z');
    // Twelve hours: Monday's ten, then two on Tuesday.
    expect(addSupportTime(saturdayTwoAm, durationMs('12h'), berlinOffice).toISOString()).toBe('2026-12-08T09:00:00.000Z');
  });

  it('skips holidays and counts from inside the working day', () => {
    const withHoliday = { ...berlinOffice, holidays: ['2026-12-07'] };
    expect(addSupportTime(saturdayTwoAm, durationMs('4h'), withHoliday).toISOString()).toBe('2026-12-08T11:00:00.000Z');
    // Wednesday 16:00 Berlin: two hours left that day, one more on Thursday.
    expect(addSupportTime(new Date('2026-12-09T15:00:00Z'), durationMs('3h'), berlinOffice).toISOString()).toBe('2026-12-10T08:00:00.000Z');
  });

  it('follows the zone across a daylight-saving change', () => {
    // Friday 17:00 Berlin before the March change (UTC+1); the next hour lands on Monday 08:00, UTC+2.
    expect(addSupportTime(new Date('2026-03-27T16:00:00Z'), durationMs('2h'), berlinOffice).toISOString()).toBe('2026-03-30T07:00:00.000Z');
  });

  it('counts in zones whose date is not the UTC date', () => {
    const office = (timeZone: string): SupportHours => ({ ...berlinOffice, timeZone, start: '09:00', end: '17:00' });
    // Kiritimati is UTC+14: Sunday 20:00Z is Monday 10:00 there, seven hours before its close.
    expect(supportTimeBetween(new Date('2026-12-06T20:00:00Z'), new Date('2026-12-07T08:00:00Z'), office('Pacific/Kiritimati'))).toBe(
      durationMs('7h'),
    );
    // Pago Pago is UTC-11: Saturday 03:00Z is Friday 16:00 there, an hour before its close; Monday opens at 20:00Z.
    expect(addSupportTime(new Date('2026-12-05T03:00:00Z'), durationMs('90m'), office('Pacific/Pago_Pago')).toISOString()).toBe(
      '2026-12-07T20:30:00.000Z',
    );
  });

  it('refuses hours with no supported time instead of looping', () => {
    expect(() => addSupportTime(saturdayTwoAm, 1000, { ...berlinOffice, days: [] })).toThrow(/no supported time/);
  });

  it('counts years of support time whole, and stops at ten years rather than walking a target written as centuries', () => {
    // Monday 5 January 2026 to Monday 6 March 2028 at midnight in Berlin (both UTC+1): 113 weeks of five ten-hour days.
    const from = new Date('2026-01-04T23:00:00Z');
    const to = new Date('2028-03-05T23:00:00Z');
    const workedWeeks = 113 * durationMs('50h');
    expect(supportTimeBetween(from, to, berlinOffice)).toBe(workedWeeks);
    // An incident overdue that long shows all of it, not the first year's.
    expect(supportTimeBetween(to, from, berlinOffice)).toBe(-workedWeeks);
    expect(addSupportTime(from, workedWeeks, berlinOffice).toISOString()).toBe('2028-03-03T17:00:00.000Z');
    // Ten years hold about 26,000 supported hours: a target of a million is refused, not walked day by day for centuries.
    expect(() => addSupportTime(from, durationMs('1000000h'), berlinOffice)).toThrow(/within ten years/);
  });
});

describe('SLA due times', () => {
  it('takes, per target, the earliest due time over the services, each in its own hours', () => {
    const office = mergeSla(defaultSla, { resolveTargets: { critical: '2h' }, supportHours: berlinOffice });
    const roundTheClockService = mergeSla(defaultSla, { resolveTargets: { critical: '8h' } });
    const due = slaDueTimes([office, roundTheClockService], 'critical', saturdayTwoAm);
    expect(due.map((d) => [d.target, d.duration, d.dueAt.toISOString()])).toEqual([
      ['acknowledge', '15m', '2026-12-05T01:15:00.000Z'],
      ['triage', '1h', '2026-12-05T02:00:00.000Z'],
      // The office's 2 h would end on Monday; the round-the-clock service's 8 h end on Saturday.
      ['resolve', '8h', '2026-12-05T09:00:00.000Z'],
    ]);
  });

  it('times a target its hours cannot time round the clock, for ten years at most, rather than not at all', () => {
    // Stored before SLAs were checked: Sundays only, every Sunday of the next 400 days a holiday; a target of centuries.
    const sundays = Array.from({ length: 58 }, (_, week) => new Date(Date.UTC(2026, 11, 6 + 7 * week)).toISOString().slice(0, 10));
    const neverSupported = mergeSla(defaultSla, { supportHours: { ...berlinOffice, days: [7], holidays: sundays } });
    const [acknowledge] = slaDueTimes([neverSupported], 'critical', saturdayTwoAm);
    expect(acknowledge).toMatchObject({ duration: '15m', dueAt: new Date('2026-12-05T01:15:00Z'), supportHours: roundTheClock });
    // Read as Warden reads a stored SLA (completeSla): every duration ten years at most.
    const centuries = completeSla({ resolveTargets: { ...defaultSla.resolveTargets, low: '99999999w' }, supportHours: berlinOffice });
    const resolve = slaDueTimes([centuries], 'low', saturdayTwoAm)[2];
    expect(resolve).toMatchObject({ duration: '3653d', supportHours: roundTheClock });
    expect(resolve?.dueAt.getTime()).toBe(saturdayTwoAm.getTime() + durationMs('3653d'));
    // The targets an SLA is refused for when it is written: every one of the first, the centuries of the second.
    expect(untimeableTargets(neverSupported, saturdayTwoAm)).toHaveLength(12);
    expect(untimeableTargets(centuries, saturdayTwoAm)).toEqual([{ field: 'resolveTargets', severity: 'low', duration: '3653d' }]);
    // Ten years of office hours hold about 26,000 hours: 3653d of them cannot be timed, 1000d can.
    expect(untimeableTargets(mergeSla(centuries, { resolveTargets: { low: '3653d' } }), saturdayTwoAm)).toHaveLength(1);
    expect(untimeableTargets(mergeSla(centuries, { resolveTargets: { low: '1000d' } }), saturdayTwoAm)).toEqual([]);
    expect(untimeableTargets(mergeSla(defaultSla, { resolveTargets: { low: '3653d' } }), saturdayTwoAm)).toEqual([]);
  });

  it('uses the defaults, round the clock, without a service', () => {
    const due = slaDueTimes([], 'high', saturdayTwoAm);
    expect(due.map((d) => d.duration)).toEqual([
      defaultSla.acknowledgeTargets.high,
      defaultSla.triageTargets.high,
      defaultSla.resolveTargets.high,
    ]);
  });

  it('counts the support time between two instants, so what a target has left skips nights, weekends and holidays', () => {
    const fridayFivePm = new Date('2026-12-04T16:00:00Z'); // 17:00 Berlin
    const mondayNineAm = new Date('2026-12-07T08:00:00Z'); // 09:00 Berlin
    // Friday's last hour and Monday's first: two supported hours, not sixty-four wall-clock ones.
    expect(supportTimeBetween(fridayFivePm, mondayNineAm, berlinOffice)).toBe(durationMs('2h'));
    expect(supportTimeBetween(mondayNineAm, fridayFivePm, berlinOffice)).toBe(-durationMs('2h'));
    expect(supportTimeBetween(fridayFivePm, mondayNineAm, { ...berlinOffice, holidays: ['2026-12-04'] })).toBe(durationMs('1h'));
    expect(supportTimeBetween(fridayFivePm, mondayNineAm, roundTheClock)).toBe(durationMs('64h'));
    // The inverse of adding support time.
    const due = addSupportTime(saturdayTwoAm, durationMs('12h'), berlinOffice);
    expect(supportTimeBetween(saturdayTwoAm, due, berlinOffice)).toBe(durationMs('12h'));
  });

  it('shows an open clock’s remaining support time in seconds, and none once it is met or stopped', () => {
    const clock: RecordedSlaClock = {
      target: 'resolve',
      duration: '4h',
      dueAt: '2026-12-07T11:00:00.000Z',
      metAt: null,
      breachedAt: null,
      stoppedAt: null,
      stopReason: null,
      supportHours: berlinOffice,
    };
    expect(remainingSupportSeconds(clock, saturdayTwoAm)).toBe(4 * 3600);
    expect(remainingSupportSeconds(clock, new Date('2026-12-07T12:00:00Z'))).toBe(-3600);
    expect(remainingSupportSeconds({ ...clock, metAt: '2026-12-07T10:00:00.000Z' }, saturdayTwoAm)).toBeNull();
    expect(remainingSupportSeconds({ ...clock, stoppedAt: '2026-12-05T03:00:00.000Z', stopReason: 'merged' }, saturdayTwoAm)).toBeNull();
  });
});
