import { type Compilable, CompiledQuery, type Kysely, type Transaction } from 'kysely';
import { preparedText } from './create-db';
import type { Database } from './database';

/** Stands where a call's value goes in a statement compiled before any call. */
class Placeholder {
  constructor(readonly name: PropertyKey) {}
}

/** The placeholder of a named value, typed as that value so Kysely's builders take it. */
export type ValueOf<Values> = <K extends keyof Values>(name: K) => NonNullable<Values[K]>;

/**
 * A statement built with Kysely once per shape and then only sent. Kysely builds a query's nodes,
 * freezes them and compiles them to text on every call: for GET /incidents that was about 280 µs of
 * the main thread a request on a loaded machine (docs/performance.md). A list's statement differs
 * between calls only in which filters it has, its shape, so `build` runs once per shape, with
 * placeholders (`value('status')`) where the values go, and each call sends the text with its own
 * values in the placeholders' places. Kysely still runs it (its log, its pool, its errors).
 *
 * `build` may branch on `shape` only, never on a value; a shape is booleans and enums, so the
 * statements cached are few (at most one per combination).
 */
export function compiledPerShape<Shape, Values, Row>(
  build: (db: Kysely<Database>, shape: Shape, value: ValueOf<Values>) => Compilable<Row>,
) {
  const compiled = new Map<string, CompiledQuery<Row>>();
  // What build gets is a Placeholder whatever the type says: the text is compiled from it, never sent.
  const value = ((name: PropertyKey) => new Placeholder(name)) as unknown as ValueOf<Values>;
  return async (db: Kysely<Database> | Transaction<Database>, shape: Shape, values: Values): Promise<Row[]> => {
    const key = JSON.stringify(shape);
    let statement = compiled.get(key);
    if (!statement) {
      const built = build(db, shape, value).compile();
      statement = CompiledQuery.raw(preparedText(built.sql), [...built.parameters]) as CompiledQuery<Row>;
      compiled.set(key, statement);
    }
    const parameters = statement.parameters.map((parameter) => {
      if (!(parameter instanceof Placeholder)) return parameter;
      const given = values[parameter.name as keyof Values];
      // A shape that names a value the call left out would otherwise send null and match nothing.
      if (given === undefined) throw new Error(`statement of shape ${key} needs ${String(parameter.name)}`);
      return given;
    });
    const result = await db.executeQuery(CompiledQuery.raw(statement.sql, parameters));
    return result.rows as Row[];
  };
}

/**
 * Every column of a table, by name: what a statement built once per shape selects instead of `*`.
 * Those statements are prepared on each connection, and a prepared `select *` fails on every
 * connection of a running process once a migration adds a column ("cached plan must not change
 * result type"), as in a rolling upgrade; a list of names reads the same columns as before. Each
 * column is named once in `columns`, so the compiler refuses a list that misses one.
 */
export function everyColumn<Table>(columns: Record<keyof Table, true>): (keyof Table & string)[] {
  return Object.keys(columns) as (keyof Table & string)[];
}
