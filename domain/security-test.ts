// The contract of a security test run, shared by the workflow, the Schedules that start it and the
// servers that start and list runs.
import type { TestResult } from './controls';
import type { IncidentLink } from './incident';

/** The wire name Schedules and the API start. */
export const securityTestWorkflowType = 'securityTest';
export const manualTestTaskKind = 'security-test.manual';

/** One Temporal Schedule per control. */
export const makeSecurityTestScheduleId = (controlId: string) => `security-test/${controlId}`;
/**
 * A Schedule starts each run as `<this id>-<scheduled time, RFC 3339>`; a run started directly
 * (no Schedule) gets the same shape, so every run of a control sorts and reads alike.
 */
export const makeSecurityTestWorkflowIdPrefix = (controlId: string) => `security-test/${controlId}`;
export const makeSecurityTestWorkflowId = (controlId: string, at: Date) =>
  `${makeSecurityTestWorkflowIdPrefix(controlId)}-${at.toISOString().replace(/\.\d{3}Z$/, 'Z')}`;
/**
 * A run the API starts directly carries its time to the millisecond: a workflow id is never reused,
 * so a run asked for within the same second as one that already finished would otherwise be taken
 * for that run, answered 202 and never started.
 */
export const makeDirectSecurityTestWorkflowId = (controlId: string, at: Date) =>
  `${makeSecurityTestWorkflowIdPrefix(controlId)}-${at.toISOString()}`;

export interface SecurityTestInput {
  controlId: string;
  /** `schedule`, or the principal who asked for the run. */
  requestedBy: string;
  /** Records the run was made for (a change being verified): a failure's incident links back to them too. */
  links?: IncidentLink[];
}

export interface SecurityTestOutcome {
  runId: string;
  result: TestResult | 'control-retired';
  incidentId: string | null;
}
