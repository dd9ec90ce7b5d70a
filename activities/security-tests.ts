import { heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { TestProcedure } from '../domain/controls';
import type { IncidentCategory } from '../domain/classification';
import type { Kysely } from 'kysely';
import { findConfigurationItem } from '../db/cis';
import { findControl } from '../db/controls';
import type { Database } from '../db/database';
import { attachRepeatedFailure, findOpenControlIncident } from '../db/incidents';
import { beginTestRun, findTestRun, finishTestRun, type FinishTestRun } from '../db/test-runs';
import { recordedTargets, type RecordedTargets } from '../domain/outbound';
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

/** What the run's control's active CIs record as reachable, read when the check runs (not when it was written). */
async function recordedTargetsOfRun(db: Kysely<Database>, runId: string): Promise<RecordedTargets> {
  const run = await findTestRun(db, runId);
  const control = run && (await findControl(db, run.control_id));
  const cis = await Promise.all((control?.ci_ids ?? []).map((id) => findConfigurationItem(db, id)));
  return recordedTargets(
    cis.filter((ci) => ci !== undefined && ci.status === 'active') as { name: string; attributes: Record<string, unknown> }[],
  );
}

export function createSecurityTestActivities({ db, commandChecksEnabled, parseCheckParams, outbound }: ActivityDeps) {
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
     * check that cannot run throws (a target outside the control's CIs and the allowlist is one that
     * cannot: `CheckNotRunnable`, reported as an error). Safe to retry because checks only read.
     */
    async runSecurityCheck(input: { runId: string; check: string; params: Record<string, unknown> }): Promise<CheckOutcome> {
      try {
        const recorded = await recordedTargetsOfRun(db, input.runId);
        return await whileHeartbeating(() =>
          runCheck(input.check, input.params, { commandChecksEnabled, parseParams: parseCheckParams, outbound, recorded }),
        );
      } catch (error) {
        if (error instanceof CheckNotRunnable) throw ApplicationFailure.nonRetryable(error.message, 'CheckNotRunnable');
        throw error;
      }
    },

    /** Reads only: safe to retry. */
    findOpenControlIncident(input: { controlId: string }): Promise<string | null> {
      return findOpenControlIncident(db, input.controlId);
    },

    /** Safe to retry: a run already linked to the incident is not linked or audited again. */
    async attachRepeatedFailure(input: { incidentId: string; runId: string; summary: string }): Promise<void> {
      await attachRepeatedFailure(db, input);
    },

    /** Writes the report. Safe to retry because only a running run is finished. */
    async finishTestRun(input: FinishedTest): Promise<void> {
      await finishTestRun(db, input);
    },
  };
}

export type SecurityTestActivities = ReturnType<typeof createSecurityTestActivities>;

/** How often a running check tells Temporal its worker is alive; the workflow's heartbeat timeout is several of these. */
const checkHeartbeatMs = 2_000;

/**
 * Runs `work` while heartbeating. A check may take a minute; without heartbeats, one whose worker
 * died was retried only after the whole start-to-close timeout, and the control's schedule, which
 * skips a slot while the previous run is open, ran nothing until then (seen in the cluster test,
 * a worker killed mid-check under load). With them, its heartbeat timeout ends the attempt.
 */
async function whileHeartbeating<T>(work: () => Promise<T>): Promise<T> {
  heartbeat();
  const beating = setInterval(() => heartbeat(), checkHeartbeatMs);
  try {
    return await work();
  } finally {
    clearInterval(beating);
  }
}
