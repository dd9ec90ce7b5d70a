/**
 * An account CI (service or user account) documents when and where it is expected to act. An alert
 * about the account inside that window and on those systems is benign; outside, it is a security
 * incident on its own.
 */
export const weekdays = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof weekdays)[number];

export interface ActivityWindow {
  days: Weekday[];
  /** "HH:MM", inclusive, in UTC. */
  start: string;
  /** "HH:MM", exclusive, in UTC; an end before the start wraps past midnight. */
  end: string;
}

export interface ExpectedActivity {
  windows: ActivityWindow[];
  systems: string[];
}

const minutes = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

function insideWindow(window: ActivityWindow, at: Date): boolean {
  const day = weekdays[at.getUTCDay()] as Weekday;
  const previousDay = weekdays[(at.getUTCDay() + 6) % 7] as Weekday;
  const now = at.getUTCHours() * 60 + at.getUTCMinutes();
  const start = minutes(window.start);
  const end = minutes(window.end);
  if (start <= end) return window.days.includes(day) && now >= start && now < end;
  // Overnight window: the part after midnight belongs to the day it started on.
  return (window.days.includes(day) && now >= start) || (window.days.includes(previousDay) && now < end);
}

export function checkExpectedActivity(
  expected: ExpectedActivity,
  activity: { at: Date; systems: string[] },
): { expected: boolean; reason: string } {
  const when = `${weekdays[activity.at.getUTCDay()]} ${activity.at.toISOString().slice(11, 16)} UTC`;
  const window = expected.windows.find((w) => insideWindow(w, activity.at));
  if (!window) return { expected: false, reason: `activity at ${when} is outside the documented windows` };
  const unexpected = activity.systems.filter((system) => !expected.systems.includes(system));
  if (unexpected.length > 0) return { expected: false, reason: `activity on undocumented systems: ${unexpected.join(', ')}` };
  return {
    expected: true,
    reason: `activity at ${when} on documented systems, inside window ${window.days.join(',')} ${window.start}-${window.end}`,
  };
}

/**
 * Expected activity is no licence for a storm: more alerts about the account than `threshold`
 * within `windowMs` (this one included) are a burst, not benign, whatever the window says.
 */
export interface BurstRule {
  threshold: number;
  windowMs: number;
  /** As configured, for the reason people read. */
  window: string;
}

export function burstVerdict(alertsInWindow: number, rule: BurstRule): { burst: boolean; reason: string } {
  const burst = alertsInWindow > rule.threshold;
  return {
    burst,
    reason: `${alertsInWindow} alert(s) about the account within ${rule.window}${burst ? `, above the burst threshold of ${rule.threshold}` : ''}`,
  };
}
