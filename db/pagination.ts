/**
 * Keyset pagination over (created_at, id): stable while rows are added, no OFFSET scans.
 * The cursor is opaque to clients.
 */
export interface Cursor {
  createdAt: string;
  id: string;
}

export function encodeCursor(row: { created_at: Date; id: string }): string {
  return Buffer.from(JSON.stringify({ createdAt: row.created_at.toISOString(), id: row.id })).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): Cursor | undefined {
  if (!cursor) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (typeof parsed.createdAt === 'string' && typeof parsed.id === 'string') return { createdAt: parsed.createdAt, id: parsed.id };
  } catch {
    // fall through: a cursor we did not issue
  }
  throw new RangeError('cursor is not one this API issued');
}

export function pageOf<T extends { created_at: Date; id: string }>(rows: T[], limit: number): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}
