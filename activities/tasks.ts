import { systemActor } from '../domain/roles';
import { sql } from 'kysely';
import { appendAudit } from '../db/audit';
import { json } from '../db/create-db';
import type { TaskDecisionRecord } from '../db/database';
import type { ActivityDeps } from './deps';

export interface OpenTaskRecord {
  taskId: string;
  workflowId: string;
  kind: string;
  subject: { type: string; id: string };
  title: string;
  details: Record<string, unknown>;
  allowedRoles: string[];
  assignees: string[];
  outcomes: string[];
  requester: string | null;
  forbidSelfDecision: boolean;
  approvalsRequired: number;
  approveOutcome: string | null;
  deadlineAt: string | null;
}

export function createTaskActivities({ db }: ActivityDeps) {
  return {
    /** Safe to retry: the task id comes from the workflow, and a second insert does nothing. */
    async openHumanTask(task: OpenTaskRecord): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const inserted = await trx
          .insertInto('human_tasks')
          .values({
            id: task.taskId,
            workflow_id: task.workflowId,
            kind: task.kind,
            subject_type: task.subject.type,
            subject_id: task.subject.id,
            title: task.title,
            details: json(task.details),
            allowed_roles: task.allowedRoles,
            assignees: task.assignees,
            allowed_outcomes: task.outcomes,
            requester: task.requester,
            forbid_self_decision: task.forbidSelfDecision,
            approvals_required: task.approvalsRequired,
            approve_outcome: task.approveOutcome,
            status: 'open',
            deadline_at: task.deadlineAt,
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .returning('id')
          .executeTakeFirst();
        if (!inserted) return;
        await appendAudit(trx, {
          actor: systemActor.principalId,
          action: 'task.opened',
          subjectType: task.subject.type,
          subjectId: task.subject.id,
          details: {
            taskId: task.taskId,
            kind: task.kind,
            allowedRoles: task.allowedRoles,
            assignees: task.assignees,
            deadlineAt: task.deadlineAt,
          },
        });
      });
    },

    /**
     * Safe to retry: a decision is appended only if this principal's decision is not there yet,
     * and the task closes only while it is still open.
     */
    async recordTaskDecision(input: { taskId: string; decision: TaskDecisionRecord; closes: boolean }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const { decision } = input;
        const updated = await trx
          .updateTable('human_tasks')
          .set({
            decisions: sql`decisions || ${json([decision])}::jsonb`,
            ...(input.closes ? { status: 'decided' as const, outcome: decision.outcome, closed_at: new Date(decision.at) } : {}),
          })
          .where('id', '=', input.taskId)
          .where('status', '=', 'open')
          .where(sql<boolean>`not decisions @> ${json([{ principalId: decision.principalId, at: decision.at }])}::jsonb`)
          .returning(['subject_type', 'subject_id', 'kind'])
          .executeTakeFirst();
        if (!updated) return;
        await appendAudit(trx, {
          actor: decision.principalId,
          action: input.closes ? 'task.decided' : 'task.approval_recorded',
          subjectType: updated.subject_type,
          subjectId: updated.subject_id,
          details: { taskId: input.taskId, kind: updated.kind, outcome: decision.outcome, comment: decision.comment, data: decision.data },
        });
      });
    },

    /** Safe to retry: the level only moves from `level - 1` to `level`. */
    async escalateHumanTask(input: {
      taskId: string;
      level: number;
      allowedRoles: string[];
      assignees: string[];
      deadlineAt: string | null;
    }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const updated = await trx
          .updateTable('human_tasks')
          .set({
            escalation_level: input.level,
            allowed_roles: input.allowedRoles,
            assignees: input.assignees,
            deadline_at: input.deadlineAt,
          })
          .where('id', '=', input.taskId)
          .where('escalation_level', '=', input.level - 1)
          .returning(['subject_type', 'subject_id', 'kind'])
          .executeTakeFirst();
        if (!updated) return;
        await appendAudit(trx, {
          actor: systemActor.principalId,
          action: 'task.escalated',
          subjectType: updated.subject_type,
          subjectId: updated.subject_id,
          details: {
            taskId: input.taskId,
            kind: updated.kind,
            level: input.level,
            allowedRoles: input.allowedRoles,
            assignees: input.assignees,
            deadlineAt: input.deadlineAt,
          },
        });
      });
    },

    /** Safe to retry: only an open task closes. */
    async closeHumanTask(input: {
      taskId: string;
      status: 'expired' | 'cancelled';
      outcome: string | null;
      reason: string;
    }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const updated = await trx
          .updateTable('human_tasks')
          .set({ status: input.status, outcome: input.outcome, closed_at: new Date() })
          .where('id', '=', input.taskId)
          .where('status', '=', 'open')
          .returning(['subject_type', 'subject_id', 'kind'])
          .executeTakeFirst();
        if (!updated) return;
        await appendAudit(trx, {
          actor: systemActor.principalId,
          action: `task.${input.status}`,
          subjectType: updated.subject_type,
          subjectId: updated.subject_id,
          details: { taskId: input.taskId, kind: updated.kind, outcome: input.outcome, reason: input.reason },
        });
      });
    },
  };
}

export type TaskActivities = ReturnType<typeof createTaskActivities>;
