import { systemActor } from '../domain/roles';
import { sql, type Kysely } from 'kysely';
import { auditedWrite } from './audit';
import { json } from './create-db';
import type { Control, Database, TestRun } from './database';
import type { PageRequest } from './pagination';
import { performedResults, type TestResult } from '../domain/controls';

export interface BeginTestRun {
  runId: string;
  controlId: string;
  workflowId: string;
  scheduledAt: string;
  requestedBy: string;
}

/** Records a running test of an active control; returns the control, or undefined if it is retired or gone. */
export async function beginTestRun(db: Kysely<Database>, input: BeginTestRun): Promise<Control | undefined> {
  let control: Control | undefined;
  await auditedWrite(db, async (trx) => {
    control = await trx
      .selectFrom('controls')
      .selectAll()
      .where('id', '=', input.controlId)
      .where('status', '=', 'active')
      .executeTakeFirst();
    if (!control) return undefined;
    const inserted = await trx
      .insertInto('test_runs')
      .values({
        id: input.runId,
        control_id: control.id,
        workflow_id: input.workflowId,
        method: control.procedure.type,
        requested_by: input.requestedBy,
        scheduled_at: input.scheduledAt,
        started_at: new Date(),
        status: 'running',
      })
      .onConflict((oc) => oc.column('workflow_id').doNothing())
      .returning('id')
      .executeTakeFirst();
    return (
      inserted && {
        actor: systemActor.principalId,
        action: 'test-run.started',
        subjectType: 'control',
        subjectId: control.id,
        details: {
          runId: input.runId,
          workflowId: input.workflowId,
          method: control.procedure.type,
          requestedBy: input.requestedBy,
          scheduledAt: input.scheduledAt,
        },
      }
    );
  });
  return control;
}

export interface FinishTestRun {
  runId: string;
  result: TestResult;
  summary: string;
  evidence: Record<string, unknown>;
  testedBy: string | null;
  notes: string | null;
  taskId: string | null;
  incidentId: string | null;
}

/** Writes the report of a running test; a finished one is left as it is. */
export async function finishTestRun(db: Kysely<Database>, input: FinishTestRun): Promise<void> {
  await auditedWrite(db, async (trx) => {
    const finished = await trx
      .updateTable('test_runs')
      .set({
        status: 'finished',
        finished_at: new Date(),
        result: input.result,
        summary: input.summary,
        evidence: json(input.evidence),
        tested_by: input.testedBy,
        notes: input.notes,
        task_id: input.taskId,
        incident_id: input.incidentId,
      })
      .where('id', '=', input.runId)
      .where('status', '=', 'running')
      .returning(['control_id'])
      .executeTakeFirst();
    return (
      finished && {
        actor: input.testedBy ?? systemActor.principalId,
        action: 'test-run.finished',
        subjectType: 'control',
        subjectId: finished.control_id,
        details: { runId: input.runId, result: input.result, summary: input.summary, taskId: input.taskId, incidentId: input.incidentId },
      }
    );
  });
}

export type TestRunWithControl = TestRun & { control_name: string };

export interface TestRunFilter extends PageRequest {
  controlId?: string;
  result?: TestResult;
  status?: TestRun['status'];
}

function runsWithControl(db: Kysely<Database>) {
  return db
    .selectFrom('test_runs')
    .innerJoin('controls', 'controls.id', 'test_runs.control_id')
    .selectAll('test_runs')
    .select('controls.name as control_name');
}

/** Newest first: a report reader wants the latest test. */
export async function listTestRuns(db: Kysely<Database>, filter: TestRunFilter): Promise<TestRunWithControl[]> {
  let query = runsWithControl(db);
  if (filter.controlId) query = query.where('test_runs.control_id', '=', filter.controlId);
  if (filter.result) query = query.where('test_runs.result', '=', filter.result);
  if (filter.status) query = query.where('test_runs.status', '=', filter.status);
  if (filter.after) {
    query = query.where(
      sql<boolean>`(test_runs.created_at, test_runs.id) < (${filter.after.createdAt}::timestamptz, ${filter.after.id}::uuid)`,
    );
  }
  return query
    .orderBy('test_runs.created_at', 'desc')
    .orderBy('test_runs.id', 'desc')
    .limit(filter.limit + 1)
    .execute();
}

export async function findTestRun(db: Kysely<Database>, id: string): Promise<TestRunWithControl | undefined> {
  return runsWithControl(db).where('test_runs.id', '=', id).executeTakeFirst();
}

/** Several runs with their control's name; none when `ids` is empty. */
export async function findTestRuns(db: Kysely<Database>, ids: string[]): Promise<TestRunWithControl[]> {
  if (!ids.length) return [];
  return runsWithControl(db).where('test_runs.id', 'in', ids).execute();
}

export async function openTestRun(db: Kysely<Database>, controlId: string): Promise<TestRun | undefined> {
  return db.selectFrom('test_runs').selectAll().where('control_id', '=', controlId).where('status', '=', 'running').executeTakeFirst();
}

export interface ControlTestHistory {
  lastRun: TestRun | undefined;
  lastTestedAt: Date | null;
}

/** For each control: its latest run and when it was last tested (passed or failed). */
export async function testHistories(db: Kysely<Database>, controlIds: string[]): Promise<Map<string, ControlTestHistory>> {
  const histories = new Map<string, ControlTestHistory>(controlIds.map((id) => [id, { lastRun: undefined, lastTestedAt: null }]));
  if (controlIds.length === 0) return histories;
  const latest = await db
    .selectFrom('test_runs')
    .selectAll()
    .distinctOn('control_id')
    .where('control_id', 'in', controlIds)
    .orderBy('control_id')
    .orderBy('started_at', 'desc')
    .execute();
  const tested = await db
    .selectFrom('test_runs')
    .select(['control_id', (eb) => eb.fn.max('finished_at').as('last_tested_at')])
    .where('control_id', 'in', controlIds)
    .where('result', 'in', performedResults)
    .groupBy('control_id')
    .execute();
  for (const run of latest) (histories.get(run.control_id) as ControlTestHistory).lastRun = run;
  for (const row of tested) (histories.get(row.control_id) as ControlTestHistory).lastTestedAt = row.last_tested_at;
  return histories;
}
