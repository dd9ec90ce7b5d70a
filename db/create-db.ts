import { Kysely, type KyselyConfig, PostgresDialect, type RawBuilder, sql } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Database } from './database';

// BIGINT (audit ids, counts) would otherwise come back as strings; Warden's never exceed 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface DbHandle {
  db: Kysely<Database>;
  close(): Promise<void>;
}

/**
 * How long a request waits for a pool connection (a new one, or a busy pool's next free one) before
 * it fails. pg waits for ever by default, so a PostgreSQL that hung or a pool exhausted by stuck
 * queries held requests until the client gave up; failing within 3 s lets the API answer 503 with
 * Retry-After, and an activity fail its attempt and retry on its own schedule.
 */
export const connectionTimeoutMs = 3_000;
/** How long close() waits for checked-out clients (a query stuck on a lock) before it lets go of them. */
const closeTimeoutMs = 2_000;

/** What `prepared` puts before a statement's text: a comment, so PostgreSQL reads the same statement. */
const preparedMarker = '/* prepared */ ';

/**
 * Marks a hot statement to be prepared once per connection, under a name given to its text: the
 * connection then sends only its parameters, PostgreSQL parses and analyses it once rather than on
 * every call, and may settle on a generic plan instead of planning each call. Only for statements
 * whose text takes few forms (a SQL template with its lists as array parameters, never a built IN
 * list): each form stays prepared on its connection for as long as the connection lives.
 */
export function prepared<T>(statement: RawBuilder<T>): RawBuilder<T> {
  return sql<T>`${sql.raw(preparedMarker)}${statement}`;
}

/** `prepared` for a statement's compiled text (`compiledPerShape`). */
export function preparedText(text: string): string {
  return preparedMarker + text;
}

/**
 * The name each marked text is prepared under, the same on every connection: pg refuses one name for
 * two texts. A map rather than a hash of the text: hashing each call cost more than the lookup.
 */
const preparedNames = new Map<string, string>();

/**
 * What `lastInTransaction` puts before a statement's text: a comment too, before `prepared`'s marker
 * when a statement has both.
 */
const lastMarker = '/* last in its transaction */ ';

/**
 * Marks the statement a transaction ends with: it is sent with the transaction's `commit`, in one
 * write, and answered once both are; the `commit` Kysely sends after it is answered without a round
 * trip. Only for a statement nothing follows in its transaction: what the work does after it cannot
 * undo it. A failed statement takes the transaction with it as before (PostgreSQL answers the commit
 * of a failed transaction by rolling it back). Outside a transaction it is an ordinary statement.
 */
export function lastInTransaction<T>(statement: RawBuilder<T>): RawBuilder<T> {
  return sql<T>`${sql.raw(lastMarker)}${statement}`;
}

/** What Kysely is answered for a `begin` held back and a `commit` already sent: it reads only these fields. */
const answered = (command: 'BEGIN' | 'COMMIT') => Promise.resolve({ command, rowCount: null, rows: [] });

/**
 * pg's client, running the statements `prepared` marked as named prepared statements, and saving a
 * transaction the round trips of its `begin` and `commit`. Kysely's driver hands the client text and
 * values only, so the client is where a name can be given; and Kysely awaits `begin` before it sends
 * anything else, and the last statement before `commit`. The client is pipelined (`pipeline: true`):
 * it holds `begin` back and sends it in one write with the transaction's first statement, and sends
 * `commit` with a statement marked `lastInTransaction`; PostgreSQL answers them in order, and a
 * failed `begin` or `commit` fails the statement it went with.
 */
class PreparingClient extends pg.Client {
  #transaction: 'none' | 'begin held' | 'open' | 'commit sent' = 'none';

  // pg.Client's query has a dozen overloads: only `never` as the declared result satisfies them all.
  // It returns what pg's query returns; Kysely calls it with text and values.
  override query(...args: unknown[]): never {
    const [text, values] = args;
    const run = super.query as (...args: unknown[]) => Promise<unknown>;
    if (args.length !== 2 || typeof text !== 'string' || !Array.isArray(values)) return run.apply(this, args) as never;
    const state = this.#transaction;
    if (text === 'begin' && values.length === 0) {
      this.#transaction = 'begin held';
      return answered('BEGIN') as never;
    }
    if (state === 'commit sent') {
      this.#transaction = 'none';
      if (text === 'commit') return answered('COMMIT') as never;
      // Kysely's rollback of work that failed after its last statement: PostgreSQL warns, nothing more.
      if (text !== 'rollback') return Promise.reject(new Error('a statement after its transaction’s last')) as never;
    }
    const commits = state !== 'none' && text.startsWith(lastMarker);
    if (commits) this.#transaction = 'commit sent';
    else if (text === 'commit' || text === 'rollback') this.#transaction = 'none';
    else if (state === 'begin held') this.#transaction = 'open';
    if (state !== 'begin held' && !commits) return this.#send(run, text, values) as never;
    // Corked, the statements' messages leave in one write rather than one each.
    const stream = this.connection.stream;
    stream.cork();
    const sent: Promise<unknown>[] = [];
    try {
      if (state === 'begin held') sent.push(run.call(this, 'begin'));
      const statement = this.#send(run, text, values);
      sent.push(statement);
      if (commits) sent.push(run.call(this, 'commit'));
      return Promise.all(sent).then(() => statement) as never;
    } finally {
      stream.uncork();
    }
  }

  /** Sends a statement, under its prepared name when `prepared` marked it. */
  #send(run: (...args: unknown[]) => Promise<unknown>, text: string, values: unknown[]): Promise<unknown> {
    const unmarked = text.startsWith(lastMarker) ? text.slice(lastMarker.length) : text;
    if (!unmarked.startsWith(preparedMarker)) return run.call(this, text, values);
    let name = preparedNames.get(text);
    if (name === undefined) {
      name = `warden_${preparedNames.size + 1}`;
      preparedNames.set(text, name);
    }
    return run.call(this, { name, text, values });
  }
}

/** `log` sees every query Kysely runs (the read benchmark records what a request sent). */
export function createDb(
  connectionString: string,
  logger?: Pick<Logger, 'warn'>,
  maxConnections = 10,
  log?: KyselyConfig['log'],
): DbHandle {
  const pool = new pg.Pool({
    connectionString,
    max: maxConnections,
    connectionTimeoutMillis: connectionTimeoutMs,
    Client: PreparingClient,
    pipeline: true,
  });
  // Without a listener, a client's 'error' event (PostgreSQL restarting: 57P01) is thrown as an
  // uncaught exception and takes the process down. The pool listens on its idle clients only; a
  // client checked out by a query or a transaction when the server goes away emits on itself, so
  // every client gets its own listener as it connects. The query it was running fails with the same
  // error, and the pool discards the client when it is released.
  pool.on('error', (error) => logger?.warn({ err: error }, 'idle PostgreSQL client failed; the pool will reconnect'));
  pool.on('connect', (client) => {
    client.on('error', (error) => logger?.warn({ err: error }, 'PostgreSQL connection failed; the pool will reconnect'));
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), ...(log ? { log } : {}) });
  return {
    db,
    // pool.end() waits for every checked-out client; one stuck in a query must not keep a process
    // that is shutting down alive, and exiting closes its socket anyway.
    close: () =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          logger?.warn('PostgreSQL connections still busy at shutdown; leaving them');
          resolve();
        }, closeTimeoutMs);
        db.destroy().then(
          () => {
            clearTimeout(timer);
            resolve();
          },
          (error: unknown) => {
            clearTimeout(timer);
            reject(error);
          },
        );
      }),
  };
}

/** jsonb values go in as text: pg would turn a top-level JS array into a PostgreSQL array. */
export function json(value: unknown): string {
  return JSON.stringify(value);
}

/** Resolves when PostgreSQL answers a query through the pool: what readiness means for the database. */
export async function pingDatabase(db: Kysely<Database>): Promise<void> {
  await sql`select 1`.execute(db);
}
