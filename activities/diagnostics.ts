import type { ActivityDeps } from './deps';

export function createDiagnosticsActivities({ db, workerIdentity }: ActivityDeps) {
  return {
    /** Safe to retry: the ping id is the primary key and a second insert does nothing. */
    async recordDiagnosticPing(input: { pingId: string; requestedBy: string; workflowId: string }) {
      await db
        .insertInto('diagnostic_pings')
        .values({
          id: input.pingId,
          requested_by: input.requestedBy,
          workflow_id: input.workflowId,
          worker_identity: workerIdentity,
          completed_at: new Date(),
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      return { workerIdentity };
    },
  };
}

export type DiagnosticsActivities = ReturnType<typeof createDiagnosticsActivities>;
