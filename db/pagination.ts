import { AliasNode, type SelectQueryBuilder, sql, TableNode } from 'kysely';

/**
 * Keyset pagination over (created_at, id): stable while rows are added, no OFFSET scans.
 * The cursor is opaque to clients.
 */
export interface Cursor {
  createdAt: string;
  id: string;
}

export interface PageRequest {
  limit: number;
  after?: Cursor;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeCursor(row: { created_at: Date; id: string }): string {
  return Buffer.from(JSON.stringify({ createdAt: row.created_at.toISOString(), id: row.id })).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): Cursor | undefined {
  if (!cursor) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<Cursor>;
    // Checked here, because PostgreSQL would answer a malformed value with a cast error (a 500).
    if (
      typeof parsed.createdAt === 'string' &&
      !Number.isNaN(Date.parse(parsed.createdAt)) &&
      typeof parsed.id === 'string' &&
      uuidPattern.test(parsed.id)
    ) {
      return { createdAt: parsed.createdAt, id: parsed.id };
    }
  } catch {
    // fall through: a cursor we did not issue
  }
  throw new RangeError('cursor is not one this API issued');
}

// biome-ignore lint/suspicious/noExplicitAny: a keyset page orders any table's query; the table types do not matter here
type AnySelect = SelectQueryBuilder<any, any, any>;

/** The table a keyset query pages through (its one FROM item, aliased or not): the cursor's row is looked up in it. */
function pagedTable(query: AnySelect): string {
  const froms = query.toOperationNode().from?.froms ?? [];
  const [from] = froms;
  const table = from && AliasNode.is(from) ? from.node : from;
  if (froms.length !== 1 || !table || !TableNode.is(table)) throw new Error('a keyset page reads from one table');
  return table.table.identifier.name;
}

/**
 * Orders a single-table query by the keyset and fetches `rows` rows from `after` on: oldest first for
 * registers, newest first for work lists (incidents, requests). Separate from the page, so that a
 * statement compiled once (`compiledPerShape`) can take both as placeholders.
 *
 * The page goes on from the cursor's row as PostgreSQL holds it: its `created_at` has microseconds
 * and the cursor's, written from a JavaScript Date, only milliseconds. Compared with the cursor's
 * value, rows created in the same millisecond as the last row of a page were skipped (newest first)
 * or shown twice (oldest first), and a SIEM storm writes many alerts a millisecond. The cursor's
 * time stands in only for a row that is gone.
 */
export function keysetRows<QB extends AnySelect>(query: QB, order: 'asc' | 'desc', rows: number, after: Cursor | undefined): QB {
  const ordered = query.orderBy(sql.ref('created_at'), order).orderBy(sql.ref('id'), order).limit(rows);
  if (!after) return ordered as QB;
  const beyond = order === 'asc' ? sql.raw('>') : sql.raw('<');
  const position = sql`coalesce((select cursor_row.created_at from ${sql.table(pagedTable(query))} as cursor_row where cursor_row.id = ${after.id}::uuid), ${after.createdAt}::timestamptz)`;
  return ordered.where(sql<boolean>`(created_at, id) ${beyond} (${position}, ${after.id}::uuid)`) as QB;
}

/** A page's rows and one beyond it, to know whether another follows. */
const keyset = <QB extends AnySelect>(query: QB, page: PageRequest, order: 'asc' | 'desc'): QB =>
  keysetRows(query, order, page.limit + 1, page.after);

export const keysetPage = <QB extends AnySelect>(query: QB, page: PageRequest): QB => keyset(query, page, 'asc');
export const newestFirstPage = <QB extends AnySelect>(query: QB, page: PageRequest): QB => keyset(query, page, 'desc');

/** `position` gives the keyset of a list ordered by something other than creation (incidents by SLA due time). */
export function pageOf<T extends { created_at: Date; id: string }>(
  rows: T[],
  limit: number,
  position: (row: T) => { created_at: Date; id: string } = (row) => row,
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(position(last)) : null };
}
