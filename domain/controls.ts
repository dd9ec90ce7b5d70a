import type { IncidentCategory } from './classification';
import { durationMs, type DurationText } from './duration';

/**
 * Security controls and their tests. ITIL asks that every security mechanism is tested on a
 * schedule kept jointly by Availability, IT Service Continuity and Security Management, and that
 * every test leaves a report.
 */
export const controlKinds = ['technical', 'organisational'] as const;
export type ControlKind = (typeof controlKinds)[number];

/** The process that owns the control and its tests. */
export const controlProcesses = ['availability', 'continuity', 'security'] as const;
export type ControlProcess = (typeof controlProcesses)[number];

export const defaultIncidentCategory: IncidentCategory = 'vulnerability_exploitation';
export const defaultManualTestDeadline: DurationText = '7d';

export interface AutomatedProcedure {
  type: 'automated';
  /** A check type from domain/security-checks.ts. */
  check: string;
  params: Record<string, unknown>;
}

export interface ManualProcedure {
  type: 'manual';
  instructions: string;
  /** A named tester; without one, anyone with the `tester` role may perform the test. */
  tester?: string;
  /** How long the tester has before the test escalates to the control owner (and again before it is missed). */
  deadline: DurationText;
}

export type TestProcedure = AutomatedProcedure | ManualProcedure;

/** A control implements SLA additional requirements of a service (`sla.additionalRequirements[].id`). */
export interface SlaRequirementRef {
  serviceId: string;
  requirementId: string;
}

/** What PUT /controls/:id/schedule asked for, as stored beside the Temporal Schedule. */
export interface ControlScheduleSpec {
  cron?: string;
  every?: string;
  startAt?: string;
  endAt?: string;
  jitter?: string;
}

/** The cadence as people read it on the testing schedule. */
export const cadenceText = (schedule: ControlScheduleSpec | null) =>
  schedule ? (schedule.every ? `every ${schedule.every}` : `cron ${schedule.cron}`) : 'not scheduled';

/**
 * `passed`/`failed`: the test was performed. `error`: an automated check could not run (its
 * configuration is wrong, or command checks are disabled). `missed`: nobody performed a manual test
 * before its last deadline.
 */
export const testResults = ['passed', 'failed', 'error', 'missed'] as const;
export type TestResult = (typeof testResults)[number];

/** Results that count as "the control was tested" for the cadence. */
export const performedResults: readonly TestResult[] = ['passed', 'failed'];

/**
 * A scheduled control is overdue when it has not been tested (passed or failed) within one cadence
 * of its last test, or of the moment it was scheduled if it never was. `graceMs` is the schedule's
 * jitter: a run may legitimately start that much later than its slot.
 */
export function isOverdue(input: {
  cadenceMs: number | null;
  graceMs?: number;
  lastTestedAt: Date | null;
  scheduledSince: Date | null;
  now: Date;
}): boolean {
  if (input.cadenceMs === null) return false;
  const since = input.lastTestedAt ?? input.scheduledSince;
  if (!since) return false;
  return input.now.getTime() - since.getTime() > input.cadenceMs + (input.graceMs ?? 0);
}

/**
 * The cadence of a cron schedule, from the upcoming times Temporal computed for it: the longest gap
 * between consecutive times, so a weekday-only cron counts the weekend as one period.
 */
export function cadenceFromTimes(times: readonly Date[]): number | null {
  let longest: number | null = null;
  for (let i = 1; i < times.length; i += 1) {
    const gap = (times[i] as Date).getTime() - (times[i - 1] as Date).getTime();
    longest = Math.max(longest ?? 0, gap);
  }
  return longest;
}

const goDurationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * The interval a schedule asks for when it says so outright (`every`, or a cron string's
 * `@every 1h30m`); undefined for a cron expression, whose interval shows only in its run times.
 */
export function statedIntervalMs(schedule: ControlScheduleSpec): number | undefined {
  if (schedule.every) return durationMs(schedule.every);
  const every = /^@every\s+((?:\d+(?:\.\d+)?(?:ms|s|m|h))+)$/.exec(schedule.cron?.trim() ?? '');
  if (!every) return undefined;
  let total = 0;
  for (const [, amount, unit] of (every[1] as string).matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g))
    total += Number(amount) * (goDurationUnits[unit as string] as number);
  return total;
}

/** The shortest gap between consecutive run times: how fast a cron schedule really runs. */
export function shortestGapMs(times: readonly Date[]): number | null {
  let shortest: number | null = null;
  for (let i = 1; i < times.length; i += 1) {
    const gap = (times[i] as Date).getTime() - (times[i - 1] as Date).getTime();
    shortest = Math.min(shortest ?? gap, gap);
  }
  return shortest;
}
