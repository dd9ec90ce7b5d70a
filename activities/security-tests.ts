import { ApplicationFailure } from '@temporalio/common';
import type { TestProcedure } from '../domain/controls';
import type { IncidentCategory } from '../domain/classification';
import { beginTestRun, finishTestRun, type FinishTestRun } from '../db/test-runs';
import { CheckNotRunnable, runCheck, type CheckOutcome } from './checks/index';
import type { ActivityDeps } from './deps';

/** What a run needs to know about its control, read once when the run begins. */
export interface TestSubject {
  controlId: string;
  name: string;
  owner: string;
  procedure: TestProcedure;
  incidentCategory: IncidentCategory;
  ciIds: string[];
}

/** The report a run leaves, as the workflow hands it over. */
export type FinishedTest = FinishTestRun;

export function createSecurityTestActivities({ db, commandChecksEnabled, parseCheckParams }: ActivityDeps) {
  return {
    /**
     * Records the run and reads its control; null when the control is retired or gone. Safe to
     * retry because the workflow id is unique and a second insert does nothing.
     */
    async beginTestRun(input: {
      runId: string;
      controlId: string;
      workflowId: string;
      scheduledAt: string;
      requestedBy: string;
    }): Promise<TestSubject | null> {
      const control = await beginTestRun(db, input);
      if (!control) return null;
      return {
        controlId: control.id,
        name: control.name,
        owner: control.owner,
        procedure: control.procedure,
        incidentCategory: control.incident_category,
        ciIds: control.ci_ids,
      };
    },

    /**
     * Runs one automated check. A control that does not hold is a result, not an error; only a
     * check that cannot run throws. Safe to retry because checks only read.
     */
    async runSecurityCheck(input: { runId: string; check: string; params: Record<string, unknown> }): Promise<CheckOutcome> {
      try {
        return await runCheck(input.check, input.params, { commandChecksEnabled, parseParams: parseCheckParams });
      } catch (error) {
        if (error instanceof CheckNotRunnable) throw ApplicationFailure.nonRetryable(error.message, 'CheckNotRunnable');
        throw error;
      }
    },

    /** Writes the report. Safe to retry because only a running run is finished. */
    async finishTestRun(input: FinishedTest): Promise<void> {
      await finishTestRun(db, input);
    },
  };
}

export type SecurityTestActivities = ReturnType<typeof createSecurityTestActivities>;
