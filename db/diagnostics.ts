import type { Kysely, Selectable } from 'kysely';
import type { Database, DiagnosticPingsTable } from './database';

/** Safe to retry: the ping id is the primary key and a second insert does nothing. */
export async function recordDiagnosticPing(
  db: Kysely<Database>,
  input: { pingId: string; requestedBy: string; workflowId: string; workerIdentity: string },
): Promise<void> {
  await db
    .insertInto('diagnostic_pings')
    .values({
      id: input.pingId,
      requested_by: input.requestedBy,
      workflow_id: input.workflowId,
      worker_identity: input.workerIdentity,
      completed_at: new Date(),
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

export function findDiagnosticPing(db: Kysely<Database>, id: string): Promise<Selectable<DiagnosticPingsTable> | undefined> {
  return db.selectFrom('diagnostic_pings').selectAll().where('id', '=', id).executeTakeFirst();
}
