import { sql, type Kysely } from 'kysely';
import type { Database } from './database';

/** The process figures /metrics reports, read from PostgreSQL at scrape time. */
export async function processFigures(db: Kysely<Database>) {
  const [incidents, tasks, approvals] = await Promise.all([
    db
      .selectFrom('incidents')
      .select(['severity', (eb) => eb.fn.countAll<number>().as('n')])
      .where('status', 'not in', ['closed', 'closed_not_security', 'closed_false_positive'])
      .groupBy('severity')
      .execute(),
    db
      .selectFrom('human_tasks')
      .select([
        (eb) => eb.fn.countAll<number>().as('open'),
        (eb) => eb.fn.count<number>(sql`case when deadline_at < now() then 1 end`).as('overdue'),
      ])
      .where('status', '=', 'open')
      .executeTakeFirstOrThrow(),
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
