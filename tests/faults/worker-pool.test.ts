import { sql } from 'kysely';
import { afterAll, expect, it } from 'vitest';
import { workerConcurrency } from '../../wiring';
import { eventually, startStack } from '../setup/stack';

// A worker's activities may never outnumber its pool's connections: a burst beyond them waits in
// Temporal's task queue, where another worker may take it, not in the pool, where it failed on the
// connect timeout ("timeout exceeded when trying to connect") and retried.
const stack = await startStack({ env: { WARDEN_WORKER_DB_POOL_SIZE: '2' } });
afterAll(() => stack.close());

// Every write of an incident row holds its connection half a second, as a loaded database would:
// a burst of 20 on 2 connections then queues for 5 s, past the pool's 3 s connect timeout, wherever
// more activities run at once than the pool has connections.
await sql`create function slow_incident_write() returns trigger language plpgsql as $$
  begin perform pg_sleep(0.5); return new; end $$`.execute(stack.db);
await sql`create trigger slow_incident_write before insert or update on incidents
  for each row execute function slow_incident_write()`.execute(stack.db);

it('runs a burst of slow activities ten times the worker pool without one failed attempt', async () => {
  expect(workerConcurrency(stack.config)).toEqual({
    poolSize: 2,
    maxConcurrentActivityTaskExecutions: 1,
    maxConcurrentLocalActivityExecutions: 1,
  });
  const reporter = await stack.token(['reporter']);
  const burst = 20;
  const tag = `pool-burst-${Date.now()}`;
  const reported = await Promise.all(
    Array.from({ length: burst }, (_, i) =>
      stack.request('POST', '/incidents', {
        token: reporter,
        body: { title: `${tag} ${i}`, description: 'x', category: 'other', affectedCis: [], source: 'helpdesk' },
      }),
    ),
  );
  expect(reported.map((response) => response.status)).toEqual(Array(burst).fill(202));
  const ids = reported.map((response) => response.body.id as string);
  await eventually(
    async () =>
      (await stack.db.selectFrom('incidents').select('id').where('id', 'in', ids).where('status', '=', 'closed_not_security').execute())
        .length === burst,
    120_000,
    'every incident of the burst to close as not security',
  );
  // A failed attempt leaves its trace in the attempt number of the activity's started event.
  for (const response of reported) {
    const { events } = await stack.temporal.client.workflow.getHandle(response.body.workflowId).fetchHistory();
    const attempts = (events ?? []).flatMap((event) =>
      event.activityTaskStartedEventAttributes ? [event.activityTaskStartedEventAttributes.attempt] : [],
    );
    expect(attempts.length).toBeGreaterThan(0);
    expect(attempts.filter((attempt) => attempt !== 1)).toEqual([]);
  }
});
