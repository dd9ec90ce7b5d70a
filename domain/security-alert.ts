// The security alert process's contract, shared by its workflow, its activities, the advisory
// process that raises alerts, and the API.

import { isRole, type Role } from './roles';

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
  /** Null for a principal, and for a name that is no role (nobody holds it, so nobody could decide). */
  role: Role | null;
}

export function toAlertRecipient(recipient: string): AlertRecipient {
  const [kind, id] = recipient.split(/:(.*)/s) as [string, string];
  return { recipient, principalId: kind === 'principal' ? id : null, role: kind === 'role' && isRole(id) ? id : null };
}

/**
 * Who must acknowledge an alert, each with why: the owners of the affected CIs, then those of the
 * affected services (an owner of both is told once, as the CI's), then each audience role.
 */
export function alertRecipients(input: {
  ciOwners: { owner: string; name: string }[];
  serviceOwners: { owner: string; name: string }[];
  audience: string[];
}): Map<string, string> {
  const rows = new Map<string, string>();
  for (const ci of input.ciOwners) if (!rows.has(`principal:${ci.owner}`)) rows.set(`principal:${ci.owner}`, `owner of CI ${ci.name}`);
  for (const service of input.serviceOwners)
    if (!rows.has(`principal:${service.owner}`)) rows.set(`principal:${service.owner}`, `owner of service ${service.name}`);
  for (const role of input.audience) rows.set(`role:${role}`, 'audience');
  return rows;
}

/** An alert must reach someone: audience roles, or the owners of affected CIs or services. */
export function alertHasRecipients(input: Pick<SecurityAlertInput, 'affectedCis' | 'affectedServices' | 'audience'>): boolean {
  return input.affectedCis.length + input.affectedServices.length + input.audience.length > 0;
}
