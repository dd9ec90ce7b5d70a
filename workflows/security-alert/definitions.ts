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

export interface AlertRecipient {
  recipient: string;
  principalId: string | null;
  role: string | null;
}
