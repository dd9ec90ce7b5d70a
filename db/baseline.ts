import { sql, type Kysely } from 'kysely';
import type { ApplicabilityStatement, BaselineVersion, ImplementingControl } from '../domain/baseline';
import type { BaselineMeasure } from '../domain/classification';
import { Refusal } from '../domain/refusal';
import type { Actor } from '../domain/roles';
import { appendAudit, auditedTransaction, auditedWrite } from './audit';
import { json } from './create-db';
import type { Database } from './database';

const subjectType = 'baseline';

/** The approved version with the highest number: the baseline in force. Version 1 always exists. */
export async function currentBaseline(db: Kysely<Database>): Promise<BaselineVersion> {
  const row = await db
    .selectFrom('baseline_versions')
    .select(['version', 'measures', 'statements'])
    .where('status', '=', 'approved')
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirstOrThrow();
  return row;
}

/**
 * The measures in force at `at` (now by default), for what checks a CI or a service against the
 * baseline: the newest version approved by then. Version 1, the built-in set, stands from the start.
 */
export async function baselineInForce(db: Kysely<Database>, at = new Date()): Promise<BaselineMeasure[]> {
  const row = await db
    .selectFrom('baseline_versions')
    .select('measures')
    .where('status', '=', 'approved')
    .where((eb) => eb.or([eb('version', '=', 1), eb('decided_at', '<=', at)]))
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirstOrThrow();
  return row.measures;
}

/** Every measure id an approved version defines: what a control may link to. */
export async function definedBaselineMeasureIds(db: Kysely<Database>): Promise<Set<string>> {
  const rows = await db.selectFrom('baseline_versions').select('measures').where('status', '=', 'approved').execute();
  return new Set(rows.flatMap((row) => row.measures.map((m) => m.id)));
}

export function listBaselineVersions(db: Kysely<Database>) {
  return db.selectFrom('baseline_versions').selectAll().orderBy('version', 'desc').execute();
}

export function findBaselineVersion(db: Kysely<Database>, version: number) {
  return db.selectFrom('baseline_versions').selectAll().where('version', '=', version).executeTakeFirst();
}

/** Records a proposed version, audited; refused while another awaits approval. */
export async function proposeBaselineVersion(
  db: Kysely<Database>,
  proposal: { measures: BaselineMeasure[]; statements: ApplicabilityStatement[]; reason: string },
  actor: Actor,
) {
  return auditedTransaction(db, async (trx) => {
    // Serialises proposals: two at once would both see no pending version and take the same number.
    await sql`lock table baseline_versions in share row exclusive mode`.execute(trx);
    const pending = await trx.selectFrom('baseline_versions').select('version').where('status', '=', 'pending_approval').executeTakeFirst();
    if (pending) throw new Refusal('conflict', `baseline version ${pending.version} still awaits approval`);
    const last = await trx
      .selectFrom('baseline_versions')
      .select((eb) => eb.fn.max('version').as('version'))
      .executeTakeFirstOrThrow();
    const version = Number(last.version ?? 0) + 1;
    await trx
      .insertInto('baseline_versions')
      .values({
        version,
        measures: json(proposal.measures),
        statements: json(proposal.statements),
        reason: proposal.reason,
        status: 'pending_approval',
        proposed_by: actor.principalId,
      })
      .execute();
    await appendAudit(trx, {
      actor: actor.principalId,
      action: 'baseline.version_proposed',
      subjectType,
      subjectId: String(version),
      details: { reason: proposal.reason, measures: proposal.measures.map((m) => m.id), statements: proposal.statements.length },
    });
    return version;
  });
}

/** Safe to retry: keyed by version, written once. */
export async function linkBaselineApproval(db: Kysely<Database>, version: number, workflowId: string) {
  await db
    .updateTable('baseline_versions')
    .set({ workflow_id: workflowId })
    .where('version', '=', version)
    .where('workflow_id', 'is', null)
    .execute();
}

/** Safe to retry: only a pending version is settled. */
export async function settleBaselineVersion(
  db: Kysely<Database>,
  input: { version: number; approved: boolean; decidedBy: string; comment: string | null },
) {
  await auditedWrite(db, async (trx) => {
    const settled = await trx
      .updateTable('baseline_versions')
      .set({
        status: input.approved ? 'approved' : 'rejected',
        decided_by: input.decidedBy,
        decided_at: new Date(),
        comment: input.comment,
      })
      .where('version', '=', input.version)
      .where('status', '=', 'pending_approval')
      .returning('version')
      .executeTakeFirst();
    return (
      settled && {
        actor: input.decidedBy,
        action: input.approved ? 'baseline.version_approved' : 'baseline.version_rejected',
        subjectType,
        subjectId: String(input.version),
        details: { comment: input.comment },
      }
    );
  });
}

/** Active controls with their Annex A references, measures and latest finished test, for the SoA. */
export async function controlsForApplicability(db: Kysely<Database>): Promise<ImplementingControl[]> {
  const rows = await db
    .selectFrom('controls')
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('test_runs')
          .select(['result', 'finished_at'])
          .whereRef('test_runs.control_id', '=', 'controls.id')
          .where('status', '=', 'finished')
          .orderBy('finished_at', 'desc')
          .limit(1)
          .as('last'),
      (join) => join.onTrue(),
    )
    .select(['controls.id', 'controls.name', 'controls.iso27001', 'controls.baseline_measures', 'last.result', 'last.finished_at'])
    .where('controls.status', '=', 'active')
    .orderBy('controls.name')
    .execute();
  return rows.map((r) => ({
    controlId: r.id,
    name: r.name,
    iso27001: r.iso27001,
    baselineMeasures: r.baseline_measures,
    lastResult: r.result ?? null,
    lastTestedAt: r.finished_at?.toISOString() ?? null,
  }));
}
