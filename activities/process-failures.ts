import { type FailedProcess, recordProcessFailure } from '../db/process-failures';
import type { ProcessFailure } from '../domain/failure';
import type { ActivityDeps } from './deps';

export type { FailedProcess };

/** What a process records when a permanent failure ends it (see db/process-failures.ts). */
export function createProcessFailureActivities({ db }: ActivityDeps) {
  return {
    /** Safe to retry: one row per workflow id; only the first insert changes the record and audits. */
    async recordProcessFailure(input: { workflowId: string; record: FailedProcess; failure: ProcessFailure }): Promise<void> {
      await recordProcessFailure(db, input);
    },
  };
}

export type ProcessFailureActivities = ReturnType<typeof createProcessFailureActivities>;
