import { type Cursor, decodeCursor, type PageRequest } from '../db/pagination';
import { invalid } from './problem';

/** Where a list starts; a cursor this API did not issue is the client's mistake, named like any bad query field. */
export function cursorFrom(cursor: string | undefined): Cursor | undefined {
  try {
    return decodeCursor(cursor);
  } catch (error) {
    if (error instanceof RangeError) throw invalid([{ path: 'querystring.cursor', message: error.message }]);
    throw error;
  }
}

/** The page a list route was asked for. */
export function pageRequest(query: { limit: number; cursor?: string | undefined }): PageRequest {
  return { limit: query.limit, after: cursorFrom(query.cursor) };
}
