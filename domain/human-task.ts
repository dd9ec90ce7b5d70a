// The contract of a human task, shared by the workflows that open tasks, the activities that record
// them and the servers that deliver decisions.

import { findFreeFormFault, findInputFault, type InputFault } from './input';
import type { Role } from './roles';

/** Who decides: the API fills this from the authenticated token, never from the request body. */
export interface DecidingActor {
  principalId: string;
  roles: Role[];
}

export interface DecisionRequest {
  taskId: string;
  actor: DecidingActor;
  outcome: string;
  comment?: string;
  data?: Record<string, unknown>;
}

export interface DecisionResult {
  taskId: string;
  /** `awaiting_approval` when a four-eyes task has its first approval and waits for a second person. */
  status: 'decided' | 'awaiting_approval';
  outcome: string;
  approvals: number;
  approvalsRequired: number;
}

export interface OpenTaskView {
  taskId: string;
  kind: string;
  allowedRoles: Role[];
  assignees: string[];
  approvals: string[];
  escalationLevel: number;
}

/** One person's decision on a task, as the workflow accepted it and the task row keeps it. */
export interface TaskDecision {
  principalId: string;
  outcome: string;
  comment: string | null;
  data: Record<string, unknown> | null;
  at: string;
}

/** A task as the workflow opens it: the row the inbox and the API read. */
export interface OpenTaskRecord {
  taskId: string;
  workflowId: string;
  kind: string;
  subject: { type: string; id: string };
  title: string;
  details: Record<string, unknown>;
  allowedRoles: Role[];
  assignees: string[];
  outcomes: string[];
  requester: string | null;
  forbidSelfDecision: boolean;
  approvalsRequired: number;
  approveOutcome: string | null;
  deadlineAt: string | null;
}

/** ApplicationFailure types the validator throws; the API maps each to an HTTP status. */
export const refusalTypes = {
  notFound: 'TaskNotFound',
  closed: 'TaskClosed',
  notPermitted: 'NotPermitted',
  ownRequest: 'OwnRequest',
  sameApprover: 'SameApproverTwice',
  outcomeNotAllowed: 'OutcomeNotAllowed',
  refused: 'DecisionRefused',
  /** A comment or data PostgreSQL or JSON cannot hold, or data too deep or too large; details[0] names the field. */
  invalidInput: 'InvalidDecisionInput',
  /** PostgreSQL refused to record the decision for good: it was not taken, and the task stays open. */
  notRecorded: 'DecisionNotRecorded',
} as const;
export type RefusalType = (typeof refusalTypes)[keyof typeof refusalTypes];

/**
 * An open task as it crosses continue-as-new: what the validator and the deadline need, so the next
 * run goes on deciding it under the same id without opening it again or notifying anyone twice.
 */
export interface CarriedTask {
  taskId: string;
  /** The workflow's name for the task (`acknowledge`, `remediation:<ciId>`), how the next run finds it. */
  key: string;
  allowedRoles: Role[];
  assignees: string[];
  excluded: string[];
  approvals: TaskDecision[];
  decisions: TaskDecision[];
  escalationLevel: number;
  /** When the current deadline passes (workflow time, ISO), or null without one. */
  deadlineAt: string | null;
}

/** Every open task of a run, and the ids of recently closed ones (so a late decision hears "closed"). */
export interface CarriedTasks {
  open: CarriedTask[];
  closed: string[];
}

/**
 * What the `decide` Update's validator refuses in a decision's own input, whoever sends it (the API
 * refuses the same at its boundary): a comment or data PostgreSQL cannot store, data nested too deep
 * or too large. Accepting it would make recording the decision fail on every retry.
 */
export function decisionInputFault(request: Pick<DecisionRequest, 'outcome' | 'comment' | 'data'>): InputFault | undefined {
  return (
    findInputFault(request.outcome, 'outcome') ??
    (request.comment === undefined || request.comment === null ? undefined : findInputFault(request.comment, 'comment')) ??
    (request.data === undefined || request.data === null ? undefined : findFreeFormFault(request.data, 'data'))
  );
}
