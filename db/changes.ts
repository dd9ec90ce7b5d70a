import { sql, type Kysely } from 'kysely';
import type { Classification } from '../domain/classification';
import type { ChangeDetails, ChangeRisk, ChangeSource, ChangeStatus, RecordedControl } from '../domain/change-risk';
import { json } from './create-db';
import type { Change, ChangeUpdate, Database } from './database';
import { keysetPage, type PageRequest } from './pagination';
import { tasksOfSubject } from './tasks';

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

export async function findChange(db: Kysely<Database>, id: string): Promise<Change | undefined> {
  return db.selectFrom('changes').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Decisions, review tasks, callbacks and the audit trail of one change, for its detail view. */
export async function changeHistory(db: Kysely<Database>, id: string) {
  const [decisions, tasks, deliveries, events] = await Promise.all([
    db.selectFrom('change_decisions').selectAll().where('change_id', '=', id).orderBy('decided_at').execute(),
    tasksOfSubject(db, { type: 'change', id }),
    db.selectFrom('change_callback_deliveries').selectAll().where('change_id', '=', id).orderBy('created_at').execute(),
    db.selectFrom('audit_events').selectAll().where('subject_type', '=', 'change').where('subject_id', '=', id).orderBy('id').execute(),
  ]);
  return { decisions, tasks, deliveries, events };
}

export interface ClassifiedCi extends Classification {
  id: string;
  name: string;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
  return columns;
}
