import type { IncidentCategory } from './classification';

// The drill programme's contract: a Temporal Schedule per incident category starts a drill
// incident (the real playbook, marked `drill`), shared by the workflow, the Schedule and the API.

export const scheduledDrillWorkflowType = 'scheduledIncidentDrill';
export const drillSchedulePrefix = 'incident-drill/';
export const makeDrillScheduleId = (category: IncidentCategory) => `${drillSchedulePrefix}${category}`;

/** What each of a category's scheduled runs starts with; the cadence travels too, as it was set. */
export interface ScheduledDrillInput {
  category: IncidentCategory;
  cadence: { cronExpressions?: string[]; every?: string[] };
  /** The CIs the exercise pretends are affected (they set its severity and SLA targets). */
  affectedCis: string[];
  /** Who set the schedule up: the drill incidents are reported in their name. */
  requestedBy: string;
}

export interface ScheduledDrillResult {
  incidentId: string;
}
