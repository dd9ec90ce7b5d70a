// When a service is supported, and how an SLA target counted in those hours becomes a due time.
// Pure and built-in only (Intl for time zones), so the activity that times an incident's targets and
// the unit tests compute the same instant.

import { longestDurationMs } from './duration';

/** Round the clock, or business hours in a time zone, with holidays off. */
export type SupportHours =
  | { kind: '24x7' }
  | {
      kind: 'business';
      /** An IANA zone, e.g. `Europe/Berlin`: the hours and holidays are local to it. */
      timeZone: string;
      /** ISO weekdays worked: 1 Monday … 7 Sunday. */
      days: number[];
      /** Local `HH:MM`, start before end. */
      start: string;
      end: string;
      /** Local dates (`YYYY-MM-DD`) with no support. */
      holidays: string[];
    };

export const roundTheClock: SupportHours = { kind: '24x7' };

const minuteMs = 60_000;
const dayMs = 86_400_000;

function minutesOf(time: string): number {
  const [hours, minutes] = time.split(':').map(Number);
  return (hours ?? 0) * 60 + (minutes ?? 0);
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

/** The zone's wall clock at `instant`, as a UTC-based millisecond count (for offsets). */
function wallClockMs(instant: number, timeZone: string): number {
  const parts = Object.fromEntries(
    formatter(timeZone)
      .formatToParts(new Date(instant))
      .map((p) => [p.type, p.value]),
  );
  return Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
}

/** The instant the zone's clock shows `minutes` past midnight of local `date` (DST-aware). */
function instantOf(date: string, minutes: number, timeZone: string): number {
  const wall = Date.parse(`${date}T00:00:00Z`) + minutes * minuteMs;
  // The offset at the guess, then at the corrected instant: right on both sides of a DST change.
  const first = wall - (wallClockMs(wall, timeZone) - wall);
  return wall - (wallClockMs(first, timeZone) - first);
}

/** Whether `timeZone` is one the runtime knows (checked where a service's SLA is accepted). */
export function knownTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** A local date as a count of days (the calendar's, no zone in it), and back. */
const dayNumberOf = (date: string) => Date.parse(`${date}T00:00:00Z`) / dayMs;
const dateOfDay = (day: number) => new Date(day * dayMs).toISOString().slice(0, 10);

/**
 * `instantOf`, remembered per zone by day and minute: each costs two Intl calls, and a page of SLA
 * clocks walks the same days over and over (an incident overdue for two months walks sixty of them,
 * for each of its clocks). The answers never change; the memo is emptied when it holds its bound
 * over all zones, since the days and zones walked over a process's life are not bounded: checking a
 * service's SLA walks up to ten years of days (about 6,300 instants) in whatever zone it names.
 */
const instantsByZone = new Map<string, Map<number, number>>();
const instantsRemembered = 50_000;
let instantsHeld = 0;
function dayInstant(day: number, minutes: number, timeZone: string): number {
  const key = day * 1440 + minutes;
  const remembered = instantsByZone.get(timeZone)?.get(key);
  if (remembered !== undefined) return remembered;
  if (instantsHeld >= instantsRemembered) {
    instantsByZone.clear();
    instantsHeld = 0;
  }
  let instants = instantsByZone.get(timeZone);
  if (!instants) {
    instants = new Map();
    instantsByZone.set(timeZone, instants);
  }
  const instant = instantOf(dateOfDay(day), minutes, timeZone);
  instants.set(key, instant);
  instantsHeld += 1;
  return instant;
}

/**
 * The local day `instant` falls in: the UTC day's number, or the one before or after it, by the
 * zone's remembered midnights (no zone is more than a day off UTC). Every SLA clock on a page starts
 * its walk at an instant of its own, and reading each in the zone cost two Intl calls.
 */
function localDayOf(instant: number, timeZone: string): number {
  const utcDay = Math.floor(instant / dayMs);
  if (instant < dayInstant(utcDay, 0, timeZone)) return utcDay - 1;
  if (instant >= dayInstant(utcDay + 1, 0, timeZone)) return utcDay + 1;
  return utcDay;
}

/** The ISO weekday (1 Monday … 7 Sunday) of a day's number: day 0, 1 January 1970, was a Thursday. */
const weekdayOf = (day: number) => ((day + 3) % 7) + 1;

/** How far support time is counted: the longest duration accepted, in days. */
const walkedDays = longestDurationMs / dayMs;

/**
 * The supported stretches of time from `from` on, in order: for business hours each working day's
 * hours outside holidays (the first one cut at `from`). Days are counted as numbers from `from`'s
 * local day; only their start and end instants are read in the zone, once each (`dayInstant`). Ends
 * after 400 days in a row without a supported minute (no days, or every day a holiday) instead of
 * looping, and after ten years in any case: an SLA target's length is written by people and
 * unbounded, and the walk costs a step a day.
 */
function* supportWindows(from: number, hours: Extract<SupportHours, { kind: 'business' }>): Generator<[number, number]> {
  const startMinutes = minutesOf(hours.start);
  const endMinutes = minutesOf(hours.end);
  const holidays = new Set(hours.holidays.map(dayNumberOf));
  const first = localDayOf(from, hours.timeZone);
  for (let day = first, unsupportedDays = 0; unsupportedDays < 400 && day < first + walkedDays; day += 1) {
    const end = dayInstant(day, endMinutes, hours.timeZone);
    if (hours.days.includes(weekdayOf(day)) && !holidays.has(day) && from < end) {
      unsupportedDays = 0;
      yield [Math.max(from, dayInstant(day, startMinutes, hours.timeZone)), end];
    } else unsupportedDays += 1;
  }
}

/**
 * The instant at which `durationMs` of support time has passed since `from`: the same as adding it
 * for 24×7 support; for business hours only time inside a working day's hours, outside holidays,
 * counts. A year without a single supported minute has no due time, nor has a target further than
 * ten years ahead, and each says so.
 */
export function addSupportTime(from: Date, durationMs: number, hours: SupportHours): Date {
  if (hours.kind === '24x7') return new Date(from.getTime() + durationMs);
  let remaining = durationMs;
  for (const [windowStart, windowEnd] of supportWindows(from.getTime(), hours)) {
    if (windowStart + remaining <= windowEnd) return new Date(windowStart + remaining);
    remaining -= windowEnd - windowStart;
  }
  throw new RangeError('the support hours leave no supported time within a year, or too little within ten years');
}

/**
 * The support time between two instants, in ms: negative when `to` is before `from` (a target
 * overdue by that much support time). What an SLA target has left is counted this way, so a target
 * due on Monday morning has little left on Friday evening, however long the weekend. For business
 * hours it is counted over ten years at most.
 */
export function supportTimeBetween(from: Date, to: Date, hours: SupportHours): number {
  if (to < from) return -supportTimeBetween(to, from, hours);
  if (hours.kind === '24x7') return to.getTime() - from.getTime();
  let counted = 0;
  for (const [windowStart, windowEnd] of supportWindows(from.getTime(), hours)) {
    if (windowStart >= to.getTime()) break;
    counted += Math.min(windowEnd, to.getTime()) - windowStart;
  }
  return counted;
}
