import { sql, type Kysely } from 'kysely';
import { allActiveControls, isControlOverdue } from './controls';
import type { Database } from './database';
import { testHistories } from './test-runs';

/** The figures GET /metrics/business reports (http/business-metrics.ts), read from PostgreSQL at scrape time. */
export async function businessFigures(db: Kysely<Database>) {
  const [incidents, tasks, approvals] = await Promise.all([
    db
      .selectFrom('incidents')
      .select(['severity', (eb) => eb.fn.countAll<number>().as('n')])
      // Open as the API means it (domain/incident.ts incidentIsOpen): every closed_* status and the failed ones end an incident.
      .where('status', 'not like', 'closed%')
      .where('status', 'not in', ['failed', 'registration_failed'])
      // Drills are exercises: an open drill is no incident to handle, and they stay out of the real figures.
      .where('drill', '=', false)
      .groupBy('severity')
      .execute(),
    db
      .selectFrom('human_tasks')
      .select([
        'kind',
        (eb) => eb.fn.countAll<number>().as('open'),
        (eb) => eb.fn.count<number>(sql`case when deadline_at < now() then 1 end`).as('overdue'),
      ])
      .where('status', '=', 'open')
      .groupBy('kind')
      .execute(),
    db
      .selectFrom('human_tasks')
      .select(['outcome', (eb) => eb.fn.countAll<number>().as('n')])
      .where('status', '=', 'decided')
      .where(sql<boolean>`'approved' = any(allowed_outcomes)`)
      .groupBy('outcome')
      .execute(),
  ]);
  return { incidents, tasks, approvals, testRuns: await testRunsByResult(db) };
}

/** Finished security test runs by result (passed, failed, error, missed). */
async function testRunsByResult(db: Kysely<Database>): Promise<{ result: string; n: number }[]> {
  return db
    .selectFrom('test_runs')
    .select(['result', (eb) => eb.fn.countAll<number>().as('n')])
    .where('result', 'is not', null)
    .groupBy('result')
    .execute() as Promise<{ result: string; n: number }[]>;
}

/** Active controls whose scheduled test is overdue now (the testing schedule's `overdue`). */
export async function overdueControls(db: Kysely<Database>, now: Date): Promise<number> {
  const controls = await allActiveControls(db);
  const histories = await testHistories(
    db,
    controls.map((control) => control.id),
  );
  return controls.filter((control) => isControlOverdue(control, histories.get(control.id)?.lastTestedAt ?? null, now)).length;
}
