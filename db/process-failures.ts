import type { Kysely, Transaction } from 'kysely';
import type { ProcessFailure } from '../domain/failure';
import { systemActor } from '../domain/roles';
import { appendAudit, type AuditedTransaction, auditedWrite } from './audit';
import type { Database } from './database';
import { stopSlaClocks } from './incident-sla';

/** The processes that record a permanent failure here, and the record each one owns. */
export type FailedProcess =
  | { process: 'incident'; incidentId: string }
  | { process: 'change'; changeId: string }
  | { process: 'access_request'; requestId: string }
  | { process: 'advisory'; advisoryId: string }
  | { process: 'security_alert'; alertId: string }
  | { process: 'policy'; policyId: string; version: number }
  | { process: 'security_review'; reviewId: string }
  | { process: 'training_campaign'; campaignId: string }
  | { process: 'baseline'; version: number }
  | { process: 'problem_check'; problemId: string; proposalId: string };

/** The audit subject of each process's record (the API's and the inbox's timelines read these). */
function subjectOf(record: FailedProcess): { type: string; id: string } {
  switch (record.process) {
    case 'incident':
      return { type: 'incident', id: record.incidentId };
    case 'change':
      return { type: 'change', id: record.changeId };
    case 'access_request':
      return { type: 'access_request', id: record.requestId };
    case 'advisory':
      return { type: 'advisory', id: record.advisoryId };
    case 'security_alert':
      return { type: 'security-alert', id: record.alertId };
    case 'policy':
      return { type: 'policy', id: record.policyId };
    case 'security_review':
      return { type: 'security_review', id: record.reviewId };
    case 'training_campaign':
      return { type: 'training_campaign', id: record.campaignId };
    case 'baseline':
      return { type: 'baseline', id: String(record.version) };
    case 'problem_check':
      return { type: 'problem', id: record.problemId };
  }
}

/** Moves the record to `failed` where it has a status and exists; the others keep only the failure row. */
async function markFailed(trx: Transaction<Database>, record: FailedProcess): Promise<void> {
  switch (record.process) {
    case 'incident':
      await trx.updateTable('incidents').set({ status: 'failed' }).where('id', '=', record.incidentId).execute();
      // Its alert fingerprint is free again: a later alert opens a new incident instead of attaching here.
      await trx.deleteFrom('open_alert_fingerprints').where('incident_id', '=', record.incidentId).execute();
      // Nobody works a failed incident through its procedure any more: its targets stop instead of breaching later.
      await stopSlaClocks(trx, record.incidentId, 'failed');
      return;
    case 'change':
      await trx.updateTable('changes').set({ status: 'failed', updated_at: new Date() }).where('id', '=', record.changeId).execute();
      return;
    case 'access_request':
      await trx.updateTable('access_requests').set({ status: 'failed' }).where('id', '=', record.requestId).execute();
      return;
    case 'advisory':
      await trx.updateTable('advisories').set({ status: 'failed' }).where('id', '=', record.advisoryId).execute();
      return;
    case 'policy':
      await trx
        .updateTable('policy_versions')
        .set({ status: 'failed' })
        .where('policy_id', '=', record.policyId)
        .where('version', '=', record.version)
        .where('status', '=', 'pending_approval')
        .execute();
      return;
    case 'security_review':
      await trx.updateTable('security_reviews').set({ status: 'failed' }).where('id', '=', record.reviewId).execute();
      return;
    case 'baseline':
      await trx
        .updateTable('baseline_versions')
        .set({ status: 'failed' })
        .where('version', '=', record.version)
        .where('status', '=', 'pending_approval')
        .execute();
      return;
    case 'problem_check':
      await trx.updateTable('problem_proposals').set({ status: 'failed' }).where('id', '=', record.proposalId).execute();
      return;
    case 'security_alert':
    case 'training_campaign':
      // An alert has no status, and a campaign's says whether it still reminds: the failure row and audit event are what shows.
      return;
  }
}

/**
 * Cancels the tasks the ended workflow left open, so nobody is asked to decide for a process that
 * no longer listens; each is audited as `task.cancelled` like any task closed undecided.
 */
async function cancelOpenTasks(trx: AuditedTransaction, workflowId: string, failure: ProcessFailure): Promise<void> {
  const cancelled = await trx
    .updateTable('human_tasks')
    .set({ status: 'cancelled', closed_at: new Date() })
    .where('workflow_id', '=', workflowId)
    .where('status', '=', 'open')
    .returning(['id', 'subject_type', 'subject_id', 'kind'])
    .execute();
  for (const task of cancelled) {
    await appendAudit(trx, {
      actor: systemActor.principalId,
      action: 'task.cancelled',
      subjectType: task.subject_type,
      subjectId: task.subject_id,
      details: { taskId: task.id, kind: task.kind, outcome: null, reason: `the process failed: ${failure.type} in ${failure.step}` },
    });
  }
}

/**
 * Records the permanent failure that ended a process: one `process_failures` row per workflow, the
 * record's status `failed` where it has one, its open tasks cancelled, and a `<subject>.failed`
 * audit event with the failure.
 * Every value is the workflow's own (ids it was started with, a sanitised message), so this write
 * cannot meet the refusal that caused it. Safe to retry: the workflow id is the primary key, and
 * only the first insert audits.
 */
export async function recordProcessFailure(
  db: Kysely<Database>,
  input: { workflowId: string; record: FailedProcess; failure: ProcessFailure },
): Promise<void> {
  const subject = subjectOf(input.record);
  await auditedWrite(db, async (trx) => {
    const inserted = await trx
      .insertInto('process_failures')
      .values({
        workflow_id: input.workflowId,
        subject_type: subject.type,
        subject_id: subject.id,
        step: input.failure.step,
        type: input.failure.type,
        message: input.failure.message,
      })
      .onConflict((oc) => oc.column('workflow_id').doNothing())
      .returning('workflow_id')
      .executeTakeFirst();
    if (!inserted) return undefined;
    await markFailed(trx, input.record);
    await cancelOpenTasks(trx, input.workflowId, input.failure);
    return {
      actor: systemActor.principalId,
      action: `${subject.type}.failed`,
      subjectType: subject.type,
      subjectId: subject.id,
      details: { failure: input.failure, workflowId: input.workflowId },
    };
  });
}

/** The failures recorded for a record, newest first, for the views that show why it failed. */
export function failuresOf(db: Kysely<Database>, subject: { type: string; id: string }) {
  return db
    .selectFrom('process_failures')
    .select(['step', 'type', 'message', 'created_at'])
    .where('subject_type', '=', subject.type)
    .where('subject_id', '=', subject.id)
    .orderBy('created_at', 'desc')
    .execute();
}
