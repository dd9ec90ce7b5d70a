import { sql, type Kysely } from 'kysely';
import type { ChangeGateInput, GateOutcome } from '../domain/change';
import type {
  BaselineVerification,
  ChangeAssessment,
  ChangeDetails,
  ChangeEvidence,
  ChangeRisk,
  ChangeSource,
  ChangeStatus,
  ClassifiedCi,
  RecordedControl,
} from '../domain/change-risk';
import { verifiedStatus } from '../domain/change-risk';
import { systemActor } from '../domain/roles';
import { auditedWrite, canonicalJson, type AuditInput, subjectAuditTrail } from './audit';
import { json } from './create-db';
import type { Change, ChangeUpdate, Database } from './database';
import { keysetPage, type PageRequest } from './pagination';
import { tasksOfSubject } from './tasks';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ChangeFilter {
  status?: ChangeStatus;
  risk?: ChangeRisk;
  requester?: string;
  source?: ChangeSource;
  ciId?: string;
  problemId?: string;
  knownErrorId?: string;
}

export async function listChanges(db: Kysely<Database>, filter: ChangeFilter, page: PageRequest): Promise<Change[]> {
  let query = db.selectFrom('changes').selectAll();
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.risk) query = query.where('risk', '=', filter.risk);
  if (filter.requester) query = query.where('requester', '=', filter.requester);
  if (filter.source) query = query.where('source', '=', filter.source);
  if (filter.ciId) query = query.where(sql<boolean>`affected_cis @> array[${filter.ciId}]::uuid[]`);
  if (filter.problemId) query = query.where('problem_id', '=', filter.problemId);
  if (filter.knownErrorId) query = query.where('known_error_id', '=', filter.knownErrorId);
  return keysetPage(query, page).execute();
}

/** The titles of the changes among `ids`; ids that are not uuids name no change. */
export async function changeTitles(db: Kysely<Database>, ids: readonly string[]): Promise<Map<string, string>> {
  const valid = ids.filter((id) => uuidPattern.test(id));
  if (valid.length === 0) return new Map();
  const rows = await db.selectFrom('changes').select(['id', 'title']).where('id', 'in', valid).execute();
  return new Map(rows.map((row) => [row.id, row.title]));
}

export async function findChange(db: Kysely<Database>, id: string): Promise<Change | undefined> {
  return db.selectFrom('changes').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Decisions, review tasks, callbacks and the audit trail of one change, for its detail view. */
export async function changeHistory(db: Kysely<Database>, id: string) {
  const [decisions, tasks, deliveries, events] = await Promise.all([
    db.selectFrom('change_decisions').selectAll().where('change_id', '=', id).orderBy('decided_at').execute(),
    tasksOfSubject(db, { type: 'change', id }),
    db.selectFrom('change_callback_deliveries').selectAll().where('change_id', '=', id).orderBy('created_at').execute(),
    subjectAuditTrail(db, 'change', id),
  ]);
  return { decisions, tasks, deliveries, events };
}

/** The active CIs named by `refs` (Warden ids or CI names, as ITSM tools know them), with their classification. */
export async function classifiedCis(db: Kysely<Database>, refs: readonly string[]): Promise<ClassifiedCi[]> {
  if (refs.length === 0) return [];
  const ids = refs.filter((ref) => uuidPattern.test(ref));
  const names = refs.filter((ref) => !uuidPattern.test(ref));
  return db
    .selectFrom('configuration_items')
    .select(['id', 'name', 'confidentiality', 'integrity', 'availability'])
    .where((eb) => eb.or([...(ids.length ? [eb('id', 'in', ids)] : []), ...(names.length ? [eb('name', 'in', names)] : [])]))
    .where('status', '=', 'active')
    .execute();
}

/**
 * The active controls protecting any of `ciIds`, with their latest test result; undefined while
 * the security-testing tables are not installed. Raw SQL until their types are in `Database`.
 */
export async function controlResultsFor(db: Kysely<Database>, ciIds: readonly string[]): Promise<RecordedControl[] | undefined> {
  const installed = await sql<{ present: boolean }>`
    select to_regclass('controls') is not null and to_regclass('test_runs') is not null as present`.execute(db);
  if (!installed.rows[0]?.present || ciIds.length === 0) return installed.rows[0]?.present ? [] : undefined;
  const { rows } = await sql<RecordedControl>`
    select c.id as "controlId", c.name, c.ci_ids as "ciIds", c.baseline_measures as "baselineMeasures",
      (select r.result from test_runs r
        where r.control_id = c.id and r.status = 'finished'
        order by r.finished_at desc limit 1) as "lastResult"
    from controls c
    where c.status = 'active' and c.ci_ids && ${sql.val([...ciIds])}::uuid[]
    order by c.name`.execute(db);
  return rows;
}

/** A change row as the fields a requester wrote (what the gate's workflow and amendments speak). */
export function changeDetailsOf(row: Change): ChangeDetails {
  return {
    title: row.title,
    description: row.description,
    affectedCis: row.affected_cis,
    securityImpact: row.security_impact,
    plannedStart: row.planned_start.toISOString(),
    plannedEnd: row.planned_end.toISOString(),
    rollbackPlan: row.rollback_plan,
    problemId: row.problem_id,
    knownErrorId: row.known_error_id,
    category: row.category,
    sourceFields: row.source_fields,
  };
}

export function changeDetailColumns(details: Partial<ChangeDetails>): ChangeUpdate {
  const columns: ChangeUpdate = {};
  if (details.title !== undefined) columns.title = details.title;
  if (details.description !== undefined) columns.description = details.description;
  if (details.affectedCis !== undefined) columns.affected_cis = details.affectedCis;
  if (details.securityImpact !== undefined) columns.security_impact = json(details.securityImpact);
  if (details.plannedStart !== undefined) columns.planned_start = details.plannedStart;
  if (details.plannedEnd !== undefined) columns.planned_end = details.plannedEnd;
  if (details.rollbackPlan !== undefined) columns.rollback_plan = details.rollbackPlan;
  if (details.problemId !== undefined) columns.problem_id = details.problemId;
  if (details.knownErrorId !== undefined) columns.known_error_id = details.knownErrorId;
  if (details.category !== undefined) columns.category = details.category;
  if (details.sourceFields !== undefined) columns.source_fields = json(details.sourceFields);
  return columns;
}

// The gate's writes. Each is a conditional write through auditedWrite: a retried activity whose
// write finds nothing to do records nothing twice.

const system = systemActor.principalId;

const changeEvent = (actor: string, action: string, changeId: string, details: Record<string, unknown>): AuditInput => ({
  actor,
  action,
  subjectType: 'change',
  subjectId: changeId,
  details,
});

/** Safe to retry: the change id is the primary key and a second insert does nothing. */
export async function recordChangeRequest(
  db: Kysely<Database>,
  input: { workflowId: string; gate: ChangeGateInput; status: ChangeStatus },
) {
  const { gate } = input;
  await auditedWrite(db, async (trx) => {
    const inserted = await trx
      .insertInto('changes')
      .values({
        id: gate.changeId,
        workflow_id: input.workflowId,
        title: gate.change.title,
        description: gate.change.description,
        affected_cis: gate.change.affectedCis,
        security_impact: json(gate.change.securityImpact),
        planned_start: gate.change.plannedStart,
        planned_end: gate.change.plannedEnd,
        rollback_plan: gate.change.rollbackPlan,
        evidence: json(gate.evidence),
        problem_id: gate.change.problemId,
        known_error_id: gate.change.knownErrorId,
        category: gate.change.category ?? null,
        source_fields: json(gate.change.sourceFields ?? {}),
        requester: gate.requester,
        source: gate.source,
        external_ref: gate.externalRef ? json(gate.externalRef) : null,
        callback_url: gate.callbackUrl,
        status: input.status,
        risk: gate.assessment.risk,
        assessment: json(gate.assessment),
        // Millisecond precision, like the keyset cursor: now()'s microseconds would repeat a row across pages.
        created_at: new Date(),
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    return inserted
      ? changeEvent(gate.requester, 'change.requested', gate.changeId, {
          title: gate.change.title,
          source: gate.source,
          externalRef: gate.externalRef,
          risk: gate.assessment.risk,
          reasons: gate.assessment.reasons,
          ...(gate.assessment.impact ? { impact: gate.assessment.impact } : {}),
        })
      : undefined;
  });
}

export interface ChangeDecisionInput {
  changeId: string;
  /** The workflow's key for the decision (`review:<taskId>`, `auto:<revision>`): recorded once. */
  decisionKey: string;
  revision: number;
  outcome: GateOutcome;
  decidedBy: string[];
  reason: string;
  taskId: string | null;
}

/** Safe to retry: the decision key is unique per change; the status moves only with the first insert. */
export async function recordChangeDecision(db: Kysely<Database>, input: ChangeDecisionInput) {
  await auditedWrite(db, async (trx) => {
    const inserted = await trx
      .insertInto('change_decisions')
      .values({
        change_id: input.changeId,
        decision_key: input.decisionKey,
        revision: input.revision,
        outcome: input.outcome,
        decided_by: input.decidedBy,
        reason: input.reason,
        task_id: input.taskId,
        decided_at: new Date(),
      })
      .onConflict((oc) => oc.columns(['change_id', 'decision_key']).doNothing())
      .returning('change_id')
      .executeTakeFirst();
    if (!inserted) return undefined;
    await trx.updateTable('changes').set({ status: input.outcome, updated_at: new Date() }).where('id', '=', input.changeId).execute();
    const actor = input.decidedBy.length === 1 ? (input.decidedBy[0] as string) : system;
    return changeEvent(actor, `change.${input.outcome}`, input.changeId, {
      revision: input.revision,
      decidedBy: input.decidedBy,
      reason: input.reason,
      taskId: input.taskId,
    });
  });
}

export interface AmendmentInput {
  changeId: string;
  actor: string;
  /** The revision the amendment creates. */
  revision: number;
  changes: Partial<ChangeDetails>;
  evidence: ChangeEvidence[];
  assessment: ChangeAssessment;
}

/** Safe to retry: the amendment applies only to the revision before it. */
export async function recordAmendment(db: Kysely<Database>, input: AmendmentInput) {
  await auditedWrite(db, async (trx) => {
    const before = await trx.selectFrom('changes').selectAll().where('id', '=', input.changeId).forUpdate().executeTakeFirstOrThrow();
    if (before.revision !== input.revision - 1) return undefined;
    const previous = changeDetailsOf(before);
    const fields = Object.fromEntries(
      (Object.keys(input.changes) as (keyof ChangeDetails)[])
        .filter((field) => canonicalJson(input.changes[field]) !== canonicalJson(previous[field]))
        .map((field) => [field, { from: previous[field], to: input.changes[field] }]),
    );
    await trx
      .updateTable('changes')
      .set({
        ...changeDetailColumns(input.changes),
        evidence: json(input.evidence),
        assessment: json(input.assessment),
        risk: input.assessment.risk,
        revision: input.revision,
        status: 'in_review',
        updated_at: new Date(),
      })
      .where('id', '=', input.changeId)
      .execute();
    return changeEvent(input.actor, 'change.amended', input.changeId, {
      revision: input.revision,
      fields,
      risk: { from: before.risk, to: input.assessment.risk },
      reasons: input.assessment.reasons,
      ...(input.assessment.impact ? { impact: input.assessment.impact } : {}),
    });
  });
}

/** Safe to retry: the whole list is written, and only when it differs from what is stored. */
export async function recordEvidence(
  db: Kysely<Database>,
  input: { changeId: string; actor: string; evidence: ChangeEvidence[]; added: ChangeEvidence[] },
) {
  await auditedWrite(db, async (trx) => {
    const updated = await trx
      .updateTable('changes')
      .set({ evidence: json(input.evidence), updated_at: new Date() })
      .where('id', '=', input.changeId)
      .where(sql<boolean>`evidence <> ${json(input.evidence)}::jsonb`)
      .returning('id')
      .executeTakeFirst();
    return updated ? changeEvent(input.actor, 'change.evidence_added', input.changeId, { added: input.added }) : undefined;
  });
}

/** Safe to retry: only an approved change moves to verifying. */
export async function recordImplementation(
  db: Kysely<Database>,
  input: { changeId: string; actor: string; implementedAt: string; notes: string | null },
) {
  await auditedWrite(db, async (trx) => {
    const updated = await trx
      .updateTable('changes')
      .set({ status: 'verifying', updated_at: new Date() })
      .where('id', '=', input.changeId)
      .where('status', '=', 'approved')
      .returning('id')
      .executeTakeFirst();
    return updated
      ? changeEvent(input.actor, 'change.implemented', input.changeId, { implementedAt: input.implementedAt, notes: input.notes })
      : undefined;
  });
}

const baselineActions: Record<BaselineVerification['outcome'], string> = {
  holds: 'change.baseline_verified',
  fails: 'change.baseline_failed',
  no_controls: 'change.baseline_unverified',
};

/** Safe to retry: only a change being verified takes the result. */
export async function recordVerification(db: Kysely<Database>, input: { changeId: string; verification: BaselineVerification }) {
  const status = verifiedStatus(input.verification);
  await auditedWrite(db, async (trx) => {
    const updated = await trx
      .updateTable('changes')
      .set({ status, verification: json(input.verification), updated_at: new Date() })
      .where('id', '=', input.changeId)
      .where('status', '=', 'verifying')
      .returning('id')
      .executeTakeFirst();
    if (!updated) return undefined;
    const { outcome, summary, checks } = input.verification;
    return changeEvent(system, baselineActions[outcome], input.changeId, {
      outcome,
      summary,
      failing: checks.filter((check) => check.status === 'fails'),
    });
  });
}

/** Safe to retry: the incident is linked only while none is. */
export async function linkChangeIncident(db: Kysely<Database>, input: { changeId: string; incidentId: string }) {
  await auditedWrite(db, async (trx) => {
    const updated = await trx
      .updateTable('changes')
      .set({ incident_id: input.incidentId, updated_at: new Date() })
      .where('id', '=', input.changeId)
      .where('incident_id', 'is', null)
      .returning('id')
      .executeTakeFirst();
    return updated ? changeEvent(system, 'change.incident_opened', input.changeId, { incidentId: input.incidentId }) : undefined;
  });
}

// Callback deliveries: one row per change and event, so retries of a delivery update one row.

export interface CallbackDeliveryKey {
  changeId: string;
  eventKey: string;
}

/**
 * The delivery row of one gate event, created pending on first use. Safe to retry: the row is
 * keyed by change and event, and a second insert does nothing.
 */
export async function claimCallbackDelivery(
  db: Kysely<Database>,
  input: CallbackDeliveryKey & { url: string; payload: Record<string, unknown> },
) {
  await db
    .insertInto('change_callback_deliveries')
    .values({
      change_id: input.changeId,
      event_key: input.eventKey,
      url: input.url,
      payload: json(input.payload),
      status: 'pending',
    })
    .onConflict((oc) => oc.columns(['change_id', 'event_key']).doNothing())
    .execute();
  return db
    .selectFrom('change_callback_deliveries')
    .select(['status', 'last_status_code'])
    .where('change_id', '=', input.changeId)
    .where('event_key', '=', input.eventKey)
    .executeTakeFirstOrThrow();
}

/** Counts one attempt at a delivery, with its answer; `delivered` stamps when it arrived. */
export async function recordCallbackAttempt(
  db: Kysely<Database>,
  key: CallbackDeliveryKey,
  attempt: { status?: 'delivered'; last_status_code?: number; last_error: string | null },
) {
  await db
    .updateTable('change_callback_deliveries')
    .set((eb) => ({ ...attempt, attempts: eb('attempts', '+', 1), ...(attempt.status ? { delivered_at: new Date() } : {}) }))
    .where('change_id', '=', key.changeId)
    .where('event_key', '=', key.eventKey)
    .execute();
}

/** Safe to retry: only a pending delivery is given up. */
export async function markCallbackUndelivered(db: Kysely<Database>, input: CallbackDeliveryKey & { reason: string }) {
  await db
    .updateTable('change_callback_deliveries')
    .set({ status: 'failed', last_error: input.reason })
    .where('change_id', '=', input.changeId)
    .where('event_key', '=', input.eventKey)
    .where('status', '=', 'pending')
    .execute();
}
