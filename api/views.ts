import type { ProvisioningAction } from '../db/access-tables';
import type { HumanTask } from '../db/database';

/** Timestamps leave the API as ISO 8601 strings; an absent one as null. */
export const iso = (value: Date | null) => value?.toISOString() ?? null;

/** A task as every route that lists tasks shows it. */
export function toTaskView(task: HumanTask) {
  return {
    id: task.id,
    kind: task.kind,
    subject: { type: task.subject_type, id: task.subject_id },
    title: task.title,
    details: task.details,
    allowedRoles: task.allowed_roles,
    assignees: task.assignees,
    allowedOutcomes: task.allowed_outcomes,
    requester: task.requester,
    approvalsRequired: task.approvals_required,
    status: task.status,
    deadlineAt: task.deadline_at?.toISOString() ?? null,
    overdue: task.status === 'open' && task.deadline_at !== null && task.deadline_at.getTime() < Date.now(),
    escalationLevel: task.escalation_level,
    outcome: task.outcome,
    decisions: task.decisions,
    createdAt: task.created_at.toISOString(),
    closedAt: task.closed_at?.toISOString() ?? null,
  };
}

/** A provisioning action, on its access request and in the review campaign that revoked it. */
export function toProvisioningView(a: ProvisioningAction) {
  return {
    id: a.id,
    system: a.ci_id,
    account: a.account_id,
    operation: a.operation,
    entitlements: a.entitlements,
    method: a.method,
    status: a.status,
    detail: a.detail,
    approvedBy: a.approved_by,
    taskId: a.task_id,
    createdAt: a.created_at.toISOString(),
    completedAt: iso(a.completed_at),
  };
}
