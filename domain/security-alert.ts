// The security alert process's contract, shared by its workflow, its activities, the advisory
// process that raises alerts, and the API.

/** The workflow type's wire name: running alerts and recorded histories carry it. */
export const securityAlertWorkflowType = 'securityAlert';
export const makeSecurityAlertWorkflowId = (alertId: string) => `security-alert/${alertId}`;

export interface SecurityAlertInput {
  alertId: string;
  title: string;
  threat: string;
  actions: string[];
  affectedServices: string[];
  affectedCis: string[];
  /** Roles told besides the owners of the affected CIs and services. */
  audience: string[];
  raisedBy: string;
  links?: { type: string; id: string }[];
}

export interface SecurityAlertResult {
  acknowledged: number;
}

/** One who must acknowledge an alert: a principal (`principal:<id>`) or anyone of a role (`role:<role>`). */
export interface AlertRecipient {
  recipient: string;
  principalId: string | null;
  role: string | null;
}

export function toAlertRecipient(recipient: string): AlertRecipient {
  const [kind, id] = recipient.split(/:(.*)/s) as [string, string];
  return { recipient, principalId: kind === 'principal' ? id : null, role: kind === 'role' ? id : null };
}
