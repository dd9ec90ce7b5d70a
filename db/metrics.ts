import { sql, type Kysely } from 'kysely';
import type { Database } from './database';

/** The process figures /metrics reports, read from PostgreSQL at scrape time. */
export async function processFigures(db: Kysely<Database>) {
  const [incidents, tasks, approvals] = await Promise.all([
    db
      .selectFrom('incidents')
      .select(['severity', (eb) => eb.fn.countAll<number>().as('n')])
      .where('status', 'not in', ['closed', 'closed_not_security'])
      .groupBy('severity')
      .execute(),
    db
      .selectFrom('human_tasks')
      .select([(eb) => eb.fn.countAll<number>().as('open'), (eb) => eb.fn.count<number>(sql`case when deadline_at < now() then 1 end`).as('overdue')])
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

/**
 * Security test runs by result, or undefined when this installation has no `test_runs` table with a
 * `result` column (the security testing process lands separately).
 */
async function testRunsByResult(db: Kysely<Database>): Promise<{ result: string; n: number }[] | undefined> {
  const column = await sql<{ present: boolean }>`select exists (
      select 1 from information_schema.columns
      where table_schema = current_schema() and table_name = 'test_runs' and column_name = 'result') as present`.execute(db);
  if (!column.rows[0]?.present) return undefined;
  const rows = await sql<{ result: string; n: number }>`select result::text as result, count(*)::int as n from test_runs group by result`.execute(db);
  return rows.rows;
}
