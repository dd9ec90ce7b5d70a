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
