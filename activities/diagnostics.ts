import { recordDiagnosticPing } from '../db/diagnostics';
import type { ActivityDeps } from './deps';

export function createDiagnosticsActivities({ db, workerIdentity }: ActivityDeps) {
  return {
    /** Safe to retry: the ping id is the primary key and a second insert does nothing. */
    async recordDiagnosticPing(input: { pingId: string; requestedBy: string; workflowId: string }) {
      await recordDiagnosticPing(db, { ...input, workerIdentity });
      return { workerIdentity };
    },
  };
}

export type DiagnosticsActivities = ReturnType<typeof createDiagnosticsActivities>;
