import { sql, type Kysely, type Transaction } from 'kysely';
import { defaultIncidentCategory, defaultManualTestDeadline, isOverdue, type TestProcedure } from '../domain/controls';
import { durationMs } from '../domain/duration';
import type { ControlKind, ControlProcess, ControlScheduleSpec, SlaRequirementRef } from '../domain/controls';
import type { IncidentCategory } from '../domain/classification';
import { appendAudit, type AuditedTransaction, auditedTransaction, auditedWrite } from './audit';
import { definedBaselineMeasureIds } from './baseline';
import { json } from './create-db';
import type { Control, Database } from './database';
import { keysetPage, type PageRequest } from './pagination';

/** A control as written by people: the API body, or one row of an import file. */
export interface ControlFields {
  name: string;
  description?: string;
  owner: string;
  kind: ControlKind;
  process: ControlProcess;
  ciIds?: string[];
  references?: { iso27001: string[]; mitreAttack: string[] };
  baselineMeasures?: string[];
  slaRequirements?: SlaRequirementRef[];
  incidentCategory?: IncidentCategory;
  procedure: TestProcedure | (Omit<Extract<TestProcedure, { type: 'manual' }>, 'deadline'> & { deadline?: string });
}

export interface FieldProblem {
  path: string;
  message: string;
}

function withDefaultDeadline(procedure: ControlFields['procedure']): TestProcedure {
  return procedure.type === 'manual' ? { ...procedure, deadline: procedure.deadline ?? defaultManualTestDeadline } : procedure;
}

/** The columns a full control writes, defaults applied. */
function columnsOf(fields: ControlFields) {
  return {
    name: fields.name,
    description: fields.description ?? '',
    owner: fields.owner,
    kind: fields.kind,
    process: fields.process,
    ci_ids: fields.ciIds ?? [],
    iso27001: fields.references?.iso27001 ?? [],
    mitre_attack: fields.references?.mitreAttack ?? [],
    baseline_measures: fields.baselineMeasures ?? [],
    sla_requirements: json(fields.slaRequirements ?? []),
    incident_category: fields.incidentCategory ?? defaultIncidentCategory,
    procedure: json(withDefaultDeadline(fields.procedure)),
  };
}

/** The columns a partial change writes: only the fields it names. */
function changedColumnsOf(patch: Partial<ControlFields>) {
  return {
    ...(patch.name !== undefined && { name: patch.name }),
    ...(patch.description !== undefined && { description: patch.description }),
    ...(patch.owner !== undefined && { owner: patch.owner }),
    ...(patch.kind !== undefined && { kind: patch.kind }),
    ...(patch.process !== undefined && { process: patch.process }),
    ...(patch.ciIds !== undefined && { ci_ids: patch.ciIds }),
    ...(patch.references !== undefined && { iso27001: patch.references.iso27001, mitre_attack: patch.references.mitreAttack }),
    ...(patch.baselineMeasures !== undefined && { baseline_measures: patch.baselineMeasures }),
    ...(patch.slaRequirements !== undefined && { sla_requirements: json(patch.slaRequirements) }),
    ...(patch.incidentCategory !== undefined && { incident_category: patch.incidentCategory }),
    ...(patch.procedure !== undefined && { procedure: json(withDefaultDeadline(patch.procedure)) }),
  };
}

/**
 * What the database must confirm about a control's links: its CIs exist, and each SLA requirement
 * is one of the service's `sla.additionalRequirements`. Paths are prefixed by `prefix`.
 */
export async function referenceProblems(db: Kysely<Database>, fields: Partial<ControlFields>, prefix: string): Promise<FieldProblem[]> {
  const problems: FieldProblem[] = [];
  if (fields.ciIds?.length) {
    const found = await db.selectFrom('configuration_items').select('id').where('id', 'in', fields.ciIds).execute();
    const known = new Set(found.map((row) => row.id));
    fields.ciIds.forEach((id, index) => {
      if (!known.has(id)) problems.push({ path: `${prefix}ciIds.${index}`, message: `no configuration item ${id}` });
    });
  }
  if (fields.slaRequirements?.length) {
    const serviceIds = [...new Set(fields.slaRequirements.map((ref) => ref.serviceId))];
    const services = await db.selectFrom('services').select(['id', 'sla']).where('id', 'in', serviceIds).execute();
    const requirements = new Map(services.map((service) => [service.id, new Set(service.sla.additionalRequirements.map((r) => r.id))]));
    fields.slaRequirements.forEach((ref, index) => {
      const ids = requirements.get(ref.serviceId);
      if (!ids) problems.push({ path: `${prefix}slaRequirements.${index}.serviceId`, message: `no service ${ref.serviceId}` });
      else if (!ids.has(ref.requirementId)) {
        problems.push({
          path: `${prefix}slaRequirements.${index}.requirementId`,
          message: `service ${ref.serviceId} has no SLA requirement ${ref.requirementId}`,
        });
      }
    });
  }
  if (fields.baselineMeasures?.length) {
    const known = await definedBaselineMeasureIds(db);
    fields.baselineMeasures.forEach((id, index) => {
      if (!known.has(id))
        problems.push({ path: `${prefix}baselineMeasures.${index}`, message: `no approved baseline version defines measure ${id}` });
    });
  }
  return problems;
}

/** The owners of each CI (its own and its service's), for the rule that a service owner links only their own. */
export async function ciOwners(db: Kysely<Database>, ciIds: string[]): Promise<Map<string, (string | null)[]>> {
  if (!ciIds.length) return new Map();
  const rows = await db
    .selectFrom('configuration_items as ci')
    .leftJoin('services as s', 's.id', 'ci.service_id')
    .select(['ci.id', 'ci.owner', 's.owner as serviceOwner'])
    .where('ci.id', 'in', ciIds)
    .execute();
  return new Map(rows.map((row) => [row.id, [row.owner, row.serviceOwner]]));
}

export async function findControl(db: Kysely<Database> | Transaction<Database>, id: string): Promise<Control | undefined> {
  return db.selectFrom('controls').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Control names by id, for links that show a control by its name. */
export async function controlNames(db: Kysely<Database>, ids: string[]): Promise<Map<string, string>> {
  if (!ids.length) return new Map();
  const rows = await db.selectFrom('controls').select(['id', 'name']).where('id', 'in', ids).execute();
  return new Map(rows.map((row) => [row.id, row.name]));
}

export async function findActiveControlByName(db: Kysely<Database> | Transaction<Database>, name: string): Promise<Control | undefined> {
  return db
    .selectFrom('controls')
    .selectAll()
    .where(sql<boolean>`lower(name) = lower(${name})`)
    .where('status', '=', 'active')
    .executeTakeFirst();
}

/**
 * Creation and changes take the caller's transaction and append their own event: an import writes
 * many controls, each audited, all or nothing, which one `auditedWrite` (one event) cannot express.
 */
export async function insertControl(
  trx: AuditedTransaction,
  fields: ControlFields,
  actor: string,
  action = 'control.created',
): Promise<Control> {
  const control = await trx.insertInto('controls').values(columnsOf(fields)).returningAll().executeTakeFirstOrThrow();
  await appendAudit(trx, { actor, action, subjectType: 'control', subjectId: control.id, details: { name: control.name, fields } });
  return control;
}

type ControlColumns = ReturnType<typeof changedColumnsOf>;

async function writeControl(
  trx: AuditedTransaction,
  id: string,
  columns: ControlColumns,
  audit: { actor: string; action: string; details: Record<string, unknown> },
) {
  const control = await trx
    .updateTable('controls')
    .set({ ...columns, updated_at: new Date() })
    .where('id', '=', id)
    .where('status', '=', 'active')
    .returningAll()
    .executeTakeFirst();
  if (control) await appendAudit(trx, { ...audit, subjectType: 'control', subjectId: id });
  return control;
}

/** Changes the fields a patch names on an active control; undefined if there is none with this id. */
export async function updateControl(
  trx: AuditedTransaction,
  id: string,
  patch: Partial<ControlFields>,
  actor: string,
): Promise<Control | undefined> {
  return writeControl(trx, id, changedColumnsOf(patch), { actor, action: 'control.updated', details: { changes: patch } });
}

/** Retires a control: it is no longer tested, and its reports keep pointing at it. False if it was not active. */
export async function retireControl(db: Kysely<Database>, id: string, actor: string): Promise<boolean> {
  return auditedWrite(db, async (trx) => {
    const control = await trx
      .updateTable('controls')
      .set({ status: 'retired', schedule: null, cadence_ms: null, scheduled_since: null, schedule_paused: false, updated_at: new Date() })
      .where('id', '=', id)
      .where('status', '=', 'active')
      .returning('name')
      .executeTakeFirst();
    return control && { actor, action: 'control.retired', subjectType: 'control', subjectId: id, details: { name: control.name } };
  });
}

export interface ControlFilter {
  process?: ControlProcess;
  kind?: ControlKind;
  owner?: string;
  ciId?: string;
  status: 'active' | 'retired';
}

export async function listControls(db: Kysely<Database>, filter: ControlFilter, page: PageRequest): Promise<Control[]> {
  let query = db.selectFrom('controls').selectAll().where('status', '=', filter.status);
  if (filter.process) query = query.where('process', '=', filter.process);
  if (filter.kind) query = query.where('kind', '=', filter.kind);
  if (filter.owner) query = query.where('owner', '=', filter.owner);
  if (filter.ciId) query = query.where(sql<boolean>`${filter.ciId}::uuid = any(ci_ids)`);
  return keysetPage(query, page).execute();
}

export async function allActiveControls(db: Kysely<Database>): Promise<Control[]> {
  return db.selectFrom('controls').selectAll().where('status', '=', 'active').orderBy('name').execute();
}

/** Whether the control's scheduled test is overdue: no test within its cadence, plus the schedule's jitter. */
export function isControlOverdue(control: Control, lastTestedAt: Date | null, now: Date): boolean {
  return isOverdue({
    cadenceMs: control.cadence_ms,
    graceMs: control.schedule?.jitter ? durationMs(control.schedule.jitter) : 0,
    lastTestedAt,
    scheduledSince: control.scheduled_since,
    now,
  });
}

export interface ImportedControl {
  id: string;
  name: string;
  created: boolean;
}

/**
 * Writes a whole catalog file in one transaction: a row whose name matches an active control
 * updates it, any other row creates one. The caller has validated every row first.
 */
export async function importControls(db: Kysely<Database>, rows: ControlFields[], actor: string): Promise<ImportedControl[]> {
  return auditedTransaction(db, async (trx) => {
    const imported: ImportedControl[] = [];
    for (const fields of rows) {
      const existing = await findActiveControlByName(trx, fields.name);
      // An imported row is the whole control: fields it leaves out go back to their defaults.
      const control = existing
        ? await writeControl(trx, existing.id, columnsOf(fields), {
            actor,
            action: 'control.imported',
            details: { name: fields.name, fields },
          })
        : await insertControl(trx, fields, actor, 'control.imported');
      if (control) imported.push({ id: control.id, name: control.name, created: !existing });
    }
    return imported;
  });
}

export interface ScheduleMirror {
  spec: ControlScheduleSpec;
  cadenceMs: number | null;
  paused: boolean;
}

/**
 * Mirrors the Temporal Schedule's spec on the control. The Schedule was written first, so each call
 * is audited: it records what Temporal now holds.
 */
export async function recordSchedule(db: Kysely<Database>, id: string, mirror: ScheduleMirror, actor: string): Promise<void> {
  await auditedWrite(db, async (trx) => {
    const before = await trx.selectFrom('controls').select('schedule').where('id', '=', id).executeTakeFirst();
    await trx
      .updateTable('controls')
      .set({
        schedule: json(mirror.spec),
        cadence_ms: mirror.cadenceMs,
        schedule_paused: mirror.paused,
        // The cadence is counted from when the control was first scheduled, not from each edit.
        scheduled_since: sql`coalesce(scheduled_since, now())`,
        updated_at: new Date(),
      })
      .where('id', '=', id)
      .execute();
    return {
      actor,
      action: before?.schedule ? 'control.schedule_updated' : 'control.schedule_created',
      subjectType: 'control',
      subjectId: id,
      details: { schedule: mirror.spec, cadenceMs: mirror.cadenceMs, paused: mirror.paused },
    };
  });
}

export async function recordScheduleRemoved(db: Kysely<Database>, id: string, actor: string): Promise<void> {
  await auditedWrite(db, async (trx) => {
    await trx
      .updateTable('controls')
      .set({ schedule: null, cadence_ms: null, scheduled_since: null, schedule_paused: false, updated_at: new Date() })
      .where('id', '=', id)
      .execute();
    return { actor, action: 'control.schedule_deleted', subjectType: 'control', subjectId: id };
  });
}

export async function recordSchedulePaused(
  db: Kysely<Database>,
  id: string,
  paused: boolean,
  reason: string,
  actor: string,
): Promise<void> {
  await auditedWrite(db, async (trx) => {
    await trx.updateTable('controls').set({ schedule_paused: paused, updated_at: new Date() }).where('id', '=', id).execute();
    return {
      actor,
      action: paused ? 'control.schedule_paused' : 'control.schedule_unpaused',
      subjectType: 'control',
      subjectId: id,
      details: { reason },
    };
  });
}
