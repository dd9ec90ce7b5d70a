import { type IncidentCategory, type SecurityAspect, categoryImpact } from './classification';
import { durationMs, type DurationText } from './duration';

export const incidentStatuses = [
  'registered',
  'acknowledged',
  'triaged',
  'containment',
  'eradication',
  'recovery',
  'post_incident_review',
  'closed',
  'closed_not_security',
] as const;
export type IncidentStatus = (typeof incidentStatuses)[number];

/**
 * ITIL: an incident is a security incident when it threatens an SLA security requirement or the
 * security baseline of an affected CI. Every category but `other` threatens the aspects in its
 * impact table; an `other` incident does only when the reporter names a threatened aspect and
 * there is an affected CI whose baseline covers it (every CI has a baseline on every aspect).
 */
export function assessSecurityRelevance(
  category: IncidentCategory,
  threatens: readonly SecurityAspect[],
  affectedCiCount: number,
): { securityIncident: boolean; reason: string } {
  if (category !== 'other') {
    const aspects = Object.keys(categoryImpact[category]).join(', ');
    return { securityIncident: true, reason: `${category} threatens the ${aspects} baseline of the affected CIs` };
  }
  if (threatens.length === 0) {
    return { securityIncident: false, reason: 'category other with no threatened security aspect: not a security incident' };
  }
  if (affectedCiCount === 0) {
    return { securityIncident: false, reason: 'no affected CI, so no security baseline or SLA security requirement is threatened' };
  }
  return { securityIncident: true, reason: `threatens the ${threatens.join(', ')} baseline of ${affectedCiCount} affected CI(s)` };
}

/** The strictest of several targets (a CI in two services answers to the tighter SLA). */
export function strictest(targets: readonly DurationText[], fallback: DurationText): DurationText {
  return targets.reduce((best, target) => (durationMs(target) < durationMs(best) ? target : best), targets[0] ?? fallback);
}

/** A record another process links the incident to: the failing test run, the change, the alert. */
export interface IncidentLink {
  type: string;
  id: string;
}
