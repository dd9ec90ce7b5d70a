import { decodeCursor, type PageRequest } from '../db/pagination';
import { invalid } from './problem';

/** The page a list route was asked for; a cursor this API did not issue is the client's mistake. */
export function pageRequest(query: { limit: number; cursor?: string | undefined }): PageRequest {
  try {
    return { limit: query.limit, after: decodeCursor(query.cursor) };
  } catch (error) {
    if (error instanceof RangeError) throw invalid([{ path: 'query.cursor', message: error.message }]);
    throw error;
  }
}
