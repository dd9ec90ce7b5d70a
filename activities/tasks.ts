import { appendTaskDecision, closeTask, escalateTask, openTask, type TaskDecisionRecord } from '../db/tasks';
import type { OpenTaskRecord } from '../domain/human-task';
import type { Role } from '../domain/roles';
import type { ActivityDeps } from './deps';

/** The human-task bookkeeping every workflow's tasks go through; each write's idempotency is documented in db/tasks.ts. */
export function createTaskActivities({ db }: ActivityDeps) {
  return {
    /** Safe to retry: the task id comes from the workflow, and a second insert does nothing. */
    async openHumanTask(task: OpenTaskRecord): Promise<void> {
      await openTask(db, task);
    },
    /** Safe to retry: a decision is appended only if this principal's decision is not there yet, and the task closes only while open. */
    async recordTaskDecision(input: TaskDecisionRecord): Promise<void> {
      await appendTaskDecision(db, input);
    },
    /** Safe to retry: the level only moves from `level - 1` to `level`. */
    async escalateHumanTask(input: {
      taskId: string;
      level: number;
      allowedRoles: Role[];
      assignees: string[];
      deadlineAt: string | null;
    }): Promise<void> {
      await escalateTask(db, input);
    },
    /** Safe to retry: only an open task closes. */
    async closeHumanTask(input: {
      taskId: string;
      status: 'expired' | 'cancelled';
      outcome: string | null;
      reason: string;
    }): Promise<void> {
      await closeTask(db, input);
    },
  };
}

export type TaskActivities = ReturnType<typeof createTaskActivities>;
