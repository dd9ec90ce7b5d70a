import type { ClassificationLevel, Severity } from './classification';
import { durationMs, type DurationText, withinLongest } from './duration';
import { addSupportTime, roundTheClock, type SupportHours } from './support-hours';

export interface AdditionalRequirement {
  id: string;
  title: string;
  description?: string;
}

/** The security section of a service's SLA: the targets Warden measures the process against. */
export interface ServiceSla {
  acknowledgeTargets: Record<Severity, DurationText>;
  /** Time from registration to a finished triage (scope, category, CIs, severity). */
  triageTargets: Record<Severity, DurationText>;
  resolveTargets: Record<Severity, DurationText>;
  /** The hours incident targets count in; stored SLAs from before support hours are 24x7. */
  supportHours: SupportHours;
  patchDeadlines: Record<ClassificationLevel, DurationText>;
  testCadence: DurationText;
  reviewCadence: DurationText;
  /** Percentage, e.g. 99.9. */
  availabilityTarget: number;
  additionalRequirements: AdditionalRequirement[];
}

export const defaultSla: ServiceSla = {
  acknowledgeTargets: { critical: '15m', high: '1h', medium: '4h', low: '1d' },
  triageTargets: { critical: '1h', high: '4h', medium: '1d', low: '3d' },
  resolveTargets: { critical: '4h', high: '1d', medium: '3d', low: '10d' },
  supportHours: roundTheClock,
  patchDeadlines: { very_high: '3d', high: '7d', medium: '30d', low: '90d' },
  testCadence: '30d',
  reviewCadence: '90d',
  availabilityTarget: 99.5,
  additionalRequirements: [],
};

/** A partial SLA: what a create leaves out or an update changes. */
export interface SlaChanges {
  acknowledgeTargets?: Partial<Record<Severity, DurationText>>;
  triageTargets?: Partial<Record<Severity, DurationText>>;
  resolveTargets?: Partial<Record<Severity, DurationText>>;
  supportHours?: SupportHours;
  patchDeadlines?: Partial<Record<ClassificationLevel, DurationText>>;
  testCadence?: DurationText;
  reviewCadence?: DurationText;
  availabilityTarget?: number;
  additionalRequirements?: AdditionalRequirement[];
}

/**
 * Targets merge per severity or level, so a change names only the targets it moves; the list of
 * additional requirements is replaced whole, because a merge could never remove one.
 */
export function mergeSla(base: ServiceSla, changes: SlaChanges): ServiceSla {
  return {
    acknowledgeTargets: { ...base.acknowledgeTargets, ...changes.acknowledgeTargets },
    triageTargets: { ...base.triageTargets, ...changes.triageTargets },
    resolveTargets: { ...base.resolveTargets, ...changes.resolveTargets },
    supportHours: changes.supportHours ?? base.supportHours,
    patchDeadlines: { ...base.patchDeadlines, ...changes.patchDeadlines },
    testCadence: changes.testCadence ?? base.testCadence,
    reviewCadence: changes.reviewCadence ?? base.reviewCadence,
    availabilityTarget: changes.availabilityTarget ?? base.availabilityTarget,
    additionalRequirements: changes.additionalRequirements ?? base.additionalRequirements,
  };
}

/** Each duration of `durations`, ten years at most (`withinLongest`). */
function withinLongestEach<Key extends string>(durations: Record<Key, DurationText>): Record<Key, DurationText> {
  const bounded = Object.entries<DurationText>(durations).map(([key, text]) => [key, withinLongest(text)]);
  return Object.fromEntries(bounded) as Record<Key, DurationText>;
}

/**
 * A stored SLA as Warden holds services to it: what it predates filled in from the defaults (triage
 * targets, support hours, a severity or level it lacks), and every duration ten years at most. One
 * stored before durations were bounded may hold `99999999w`, from which no deadline, due time or
 * timer can be set.
 */
export function completeSla(stored: Partial<ServiceSla> | null | undefined): ServiceSla {
  const sla = mergeSla(defaultSla, stored ?? {});
  return {
    ...sla,
    acknowledgeTargets: withinLongestEach(sla.acknowledgeTargets),
    triageTargets: withinLongestEach(sla.triageTargets),
    resolveTargets: withinLongestEach(sla.resolveTargets),
    patchDeadlines: withinLongestEach(sla.patchDeadlines),
    testCadence: withinLongest(sla.testCadence),
    reviewCadence: withinLongest(sla.reviewCadence),
  };
}

/** The incident targets Warden times, each counted from registration. */
export const slaTargets = ['acknowledge', 'triage', 'resolve'] as const;
export type SlaTarget = (typeof slaTargets)[number];

const targetsOf: Record<SlaTarget, (sla: ServiceSla) => Record<Severity, DurationText>> = {
  acknowledge: (sla) => sla.acknowledgeTargets,
  triage: (sla) => sla.triageTargets,
  resolve: (sla) => sla.resolveTargets,
};

/** One target as an incident is held to it: the duration, where it came from, and when it is due. */
export interface SlaDue {
  target: SlaTarget;
  duration: DurationText;
  dueAt: Date;
  /** The hours the target counts in: what it has left is support time in these hours. */
  supportHours: SupportHours;
}

/**
 * When `durationMs` of support time after `from` has passed in `hours`, or undefined when these hours
 * cannot say: no supported minute for 400 days in a row, or more support time than ten years of them
 * hold (an unknown time zone too).
 */
function dueInHours(from: Date, durationMs: number, hours: SupportHours): Date | undefined {
  try {
    return addSupportTime(from, durationMs, hours);
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}

/**
 * When each target falls due for an incident of `severity` registered at `from`: per service, the
 * target counted in that service's support hours; across the affected CIs' services, the earliest
 * (a CI in two services answers to the tighter SLA). With no service, Warden's defaults, 24x7.
 *
 * An SLA is refused where it is written when its hours cannot time a target (`untimeableTargets`),
 * but one stored before that check still times its incidents: such a target counts round the clock
 * (ten years at most, as `completeSla` bounds every duration), and its clock says so by its hours.
 * Were it refused here, the incident would wait for ever on the activity that starts its clocks,
 * before anyone is asked to acknowledge it.
 */
export function slaDueTimes(slas: readonly ServiceSla[], severity: Severity, from: Date): SlaDue[] {
  const held = slas.length ? slas : [defaultSla];
  return slaTargets.map((target) => {
    const candidates = held.map((sla): SlaDue => {
      const duration = targetsOf[target](sla)[severity];
      const lengthMs = durationMs(duration);
      const inHours = dueInHours(from, lengthMs, sla.supportHours);
      return inHours
        ? { target, duration, dueAt: inHours, supportHours: sla.supportHours }
        : { target, duration, dueAt: new Date(from.getTime() + lengthMs), supportHours: roundTheClock };
    });
    return candidates.reduce((earliest, candidate) => (candidate.dueAt < earliest.dueAt ? candidate : earliest));
  });
}

/** An incident target, by the SLA's own field names (`resolveTargets`, `critical`). */
export interface SlaTargetField {
  field: `${SlaTarget}Targets`;
  severity: Severity;
  duration: DurationText;
}

/**
 * The incident targets `sla`'s support hours cannot time for an incident registered at `from`, so
 * a service is not given an SLA whose incidents could not be held to it: hours with no supported
 * minute for 400 days (one weekday, every one of them a holiday), or a target needing more support
 * time than ten years of the hours hold (3653d counted in office hours).
 */
export function untimeableTargets(sla: ServiceSla, from: Date): SlaTargetField[] {
  return slaTargets.flatMap((target) =>
    (Object.entries(targetsOf[target](sla)) as [Severity, DurationText][])
      .filter(([, duration]) => !dueInHours(from, durationMs(duration), sla.supportHours))
      .map(([severity, duration]) => ({ field: `${target}Targets` as const, severity, duration })),
  );
}
