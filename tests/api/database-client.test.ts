import { Socket } from 'node:net';
import { type Kysely, sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { compiledPerShape, everyColumn } from '../../db/compiled-statements';
import { createDb, type DbHandle, lastInTransaction, prepared } from '../../db/create-db';
import type { Database } from '../../db/database';

// Issue 21: Warden's pg client sends a transaction's `begin` with its first statement, and its
// `commit` with a statement marked `lastInTransaction`, on a pipelined connection. What must stay
// true: a transaction is still one transaction (all or nothing), a failed statement or callback
// leaves the connection outside any transaction for the next user, and named prepared statements
// still run.

// One connection, so every test's statements meet whatever the one before left on it.
let handle: DbHandle;
let db: Kysely<Database>;

beforeAll(async () => {
  handle = createDb(inject('postgresAdminUrl'), pino({ level: 'silent' }), 1);
  db = handle.db;
  // Temporary: it lives on the pool's one connection and leaves nothing in the database.
  await sql`create temporary table held_begin (n int primary key)`.execute(db);
});
afterAll(() => handle.close());

/** Whether the connection's next statement runs inside a transaction someone left open. */
async function inOpenTransaction(): Promise<boolean> {
  const { rows } = await sql<{ open: boolean }>`select xact_start < statement_timestamp() as open
                                                  from pg_stat_activity where pid = pg_backend_pid()`.execute(db);
  return rows[0]?.open ?? false;
}

/**
 * The writes PostgreSQL connections make while `work` runs: flushes of a socket's buffered messages,
 * so a statement's parse, bind, execute and sync written corked count once. Nothing else in this
 * process writes to a socket meanwhile.
 */
async function socketWritesDuring(work: () => Promise<unknown>): Promise<number> {
  const socket = Socket.prototype as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>;
  const { _write: write, _writev: writev } = socket;
  let writes = 0;
  socket._write = function (this: Socket, ...args: unknown[]) {
    writes += 1;
    return write.apply(this, args);
  };
  socket._writev = function (this: Socket, ...args: unknown[]) {
    writes += 1;
    return writev.apply(this, args);
  };
  try {
    await work();
  } finally {
    socket._write = write;
    socket._writev = writev;
  }
  return writes;
}

describe("the database client's transactions", () => {
  it('commits a transaction begun with its first statement, both rows or neither', async () => {
    await db.transaction().execute(async (trx) => {
      await sql`insert into held_begin values (1)`.execute(trx);
      await sql`insert into held_begin values (2)`.execute(trx);
    });
    await expect(
      db.transaction().execute(async (trx) => {
        await sql`insert into held_begin values (3)`.execute(trx);
        await sql`insert into held_begin values (1)`.execute(trx); // a duplicate: the whole transaction goes
      }),
    ).rejects.toThrow(/duplicate key/);
    const { rows } = await sql<{ n: number }>`select n from held_begin order by n`.execute(db);
    expect(rows.map((r) => r.n)).toEqual([1, 2]);
    expect(await inOpenTransaction()).toBe(false);
  });

  it('rolls back when the first statement fails, and leaves no transaction open', async () => {
    await expect(db.transaction().execute((trx) => sql`insert into held_begin values (1 / 0)`.execute(trx))).rejects.toThrow(
      /division by zero/,
    );
    expect(await inOpenTransaction()).toBe(false);
  });

  it('leaves no transaction open when the work fails before any statement', async () => {
    await expect(
      db.transaction().execute(async () => {
        throw new Error('refused before writing');
      }),
    ).rejects.toThrow('refused before writing');
    expect(await inOpenTransaction()).toBe(false);
    // A transaction with no statement commits nothing and leaves nothing either.
    await db.transaction().execute(async () => {});
    expect(await inOpenTransaction()).toBe(false);
  });

  it('sends begin in one write with the first statement: a one-statement transaction takes two writes, not three', async () => {
    await db.transaction().execute((trx) => sql`select 1`.execute(trx)); // the connection exists before counting
    const writes = await socketWritesDuring(() =>
      db.transaction().execute(async (trx) => {
        await prepared(sql`insert into held_begin values (${10})`).execute(trx);
      }),
    );
    expect(writes).toBe(2);
    // And the statement ran inside the transaction its begin opened.
    const { rows } = await sql<{ n: number }>`select n from held_begin where n = 10`.execute(db);
    expect(rows).toHaveLength(1);
  });

  it("runs a transaction's later statements inside it, each in a write of its own", async () => {
    let opened: boolean[] = [];
    const writes = await socketWritesDuring(async () => {
      opened = await db.transaction().execute(async (trx) => {
        const results = [];
        for (let i = 0; i < 3; i += 1) {
          await sql`select pg_sleep(0.005)`.execute(trx);
          const { rows } = await sql<{ open: boolean }>`select xact_start < statement_timestamp() as open
                                                          from pg_stat_activity where pid = pg_backend_pid()`.execute(trx);
          results.push(rows[0]?.open ?? false);
        }
        return results;
      });
    });
    expect(opened).toEqual([true, true, true]);
    expect(writes).toBe(6 + 1);
  });
});

describe("a statement marked as its transaction's last", () => {
  const rowsOf = async (from: number, to: number) =>
    (await sql<{ n: number }>`select n from held_begin where n between ${from} and ${to} order by n`.execute(db)).rows.map((r) => r.n);

  it('goes with begin and commit in one write when it is the only one, and commits', async () => {
    const writes = await socketWritesDuring(() =>
      db.transaction().execute((trx) => lastInTransaction(prepared(sql`insert into held_begin values (${20})`)).execute(trx)),
    );
    expect(writes).toBe(1);
    expect(await rowsOf(20, 20)).toEqual([20]);
    expect(await inOpenTransaction()).toBe(false);
  });

  it('commits what came before it, in two writes for two statements', async () => {
    const writes = await socketWritesDuring(() =>
      db.transaction().execute(async (trx) => {
        await sql`insert into held_begin values (21)`.execute(trx);
        await lastInTransaction(sql`insert into held_begin values (22)`).execute(trx);
      }),
    );
    expect(writes).toBe(2);
    expect(await rowsOf(21, 22)).toEqual([21, 22]);
  });

  it('takes the whole transaction with it when it fails', async () => {
    await expect(
      db.transaction().execute(async (trx) => {
        await sql`insert into held_begin values (30)`.execute(trx);
        await lastInTransaction(sql`insert into held_begin values (30)`).execute(trx);
      }),
    ).rejects.toThrow(/duplicate key/);
    expect(await rowsOf(30, 30)).toEqual([]);
    expect(await inOpenTransaction()).toBe(false);
  });

  it('is committed although the work fails after it, and leaves no transaction open', async () => {
    await expect(
      db.transaction().execute(async (trx) => {
        await lastInTransaction(sql`insert into held_begin values (40)`).execute(trx);
        throw new Error('failed after the last statement');
      }),
    ).rejects.toThrow('failed after the last statement');
    expect(await rowsOf(40, 40)).toEqual([40]);
    expect(await inOpenTransaction()).toBe(false);
  });

  it('refuses a statement after it', async () => {
    await expect(
      db.transaction().execute(async (trx) => {
        await lastInTransaction(sql`insert into held_begin values (50)`).execute(trx);
        await sql`insert into held_begin values (51)`.execute(trx);
      }),
    ).rejects.toThrow('a statement after its transaction’s last');
    expect(await rowsOf(50, 51)).toEqual([50]);
    expect(await inOpenTransaction()).toBe(false);
  });

  it('is an ordinary statement outside a transaction', async () => {
    const writes = await socketWritesDuring(() => lastInTransaction(sql`insert into held_begin values (60)`).execute(db));
    expect(writes).toBe(1);
    expect(await rowsOf(60, 60)).toEqual([60]);
    expect(await inOpenTransaction()).toBe(false);
  });
});

describe('a statement built once per shape', () => {
  it('is prepared on its connection, where PostgreSQL settles on one plan instead of planning every call', async () => {
    // The task lookup of a person without an oversight role took 2–4 ms to plan, on every decision.
    const numbered = compiledPerShape<null, { n: number }, { n: number }>((built, _shape, value) =>
      (built as unknown as Kysely<{ held_begin: { n: number } }>).selectFrom('held_begin').select('n').where('n', '=', value('n')),
    );
    await sql`insert into held_begin values (70), (71)`.execute(db);
    for (const n of [70, 71, 70, 71, 70, 71, 70]) expect(await numbered(db, null, { n })).toEqual([{ n }]);
    const { rows } = await sql<{ statement: string; generic_plans: number }>`select statement, generic_plans::int
                                                                       from pg_prepared_statements`.execute(db);
    const statement = rows.find((row) => row.statement.includes('select "n" from "held_begin" where "n" = $1'));
    expect(statement?.generic_plans).toBeGreaterThan(0);
  });

  it('names its columns, so a column a migration adds does not fail it on the connections that prepared it', async () => {
    type Held = { held_begin: { n: number } };
    const named = compiledPerShape<null, { n: number }, { n: number }>((built, _shape, value) =>
      (built as unknown as Kysely<Held>)
        .selectFrom('held_begin')
        .select(everyColumn<Held['held_begin']>({ n: true }))
        .where('n', '>=', value('n')),
    );
    const starred = compiledPerShape<null, { n: number }, { n: number }>((built, _shape, value) =>
      (built as unknown as Kysely<Held>).selectFrom('held_begin').selectAll().where('n', '>=', value('n')),
    );
    await sql`insert into held_begin values (80)`.execute(db);
    expect(await named(db, null, { n: 80 })).toEqual([{ n: 80 }]);
    expect(await starred(db, null, { n: 80 })).toEqual([{ n: 80 }]);
    await sql`alter table held_begin add column added_later text`.execute(db);
    try {
      expect(await named(db, null, { n: 80 })).toEqual([{ n: 80 }]);
      // Why: the same statement as `select *` is refused from now on, on this connection.
      await expect(starred(db, null, { n: 80 })).rejects.toThrow(/cached plan must not change result type/);
    } finally {
      await sql`alter table held_begin drop column added_later`.execute(db);
    }
  });
});
