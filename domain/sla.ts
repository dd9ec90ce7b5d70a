import type { ClassificationLevel, Severity } from './classification';
import type { DurationText } from './duration';

export interface AdditionalRequirement {
  id: string;
  title: string;
  description?: string;
}

/** The security section of a service's SLA: the targets Warden measures the process against. */
export interface ServiceSla {
  acknowledgeTargets: Record<Severity, DurationText>;
  resolveTargets: Record<Severity, DurationText>;
  patchDeadlines: Record<ClassificationLevel, DurationText>;
  testCadence: DurationText;
  reviewCadence: DurationText;
  /** Percentage, e.g. 99.9. */
  availabilityTarget: number;
  additionalRequirements: AdditionalRequirement[];
}

export const defaultSla: ServiceSla = {
  acknowledgeTargets: { critical: '15m', high: '1h', medium: '4h', low: '1d' },
  resolveTargets: { critical: '4h', high: '1d', medium: '3d', low: '10d' },
  patchDeadlines: { very_high: '3d', high: '7d', medium: '30d', low: '90d' },
  testCadence: '30d',
  reviewCadence: '90d',
  availabilityTarget: 99.5,
  additionalRequirements: [],
};

/** A partial SLA: what a create leaves out or an update changes. */
export interface SlaChanges {
  acknowledgeTargets?: Partial<Record<Severity, DurationText>>;
  resolveTargets?: Partial<Record<Severity, DurationText>>;
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
    resolveTargets: { ...base.resolveTargets, ...changes.resolveTargets },
    patchDeadlines: { ...base.patchDeadlines, ...changes.patchDeadlines },
    testCadence: changes.testCadence ?? base.testCadence,
    reviewCadence: changes.reviewCadence ?? base.reviewCadence,
    availabilityTarget: changes.availabilityTarget ?? base.availabilityTarget,
    additionalRequirements: changes.additionalRequirements ?? base.additionalRequirements,
  };
}
