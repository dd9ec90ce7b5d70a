import { z } from 'zod';

/** The header of every POST that starts work; headers are not strict, other headers pass. */
export const idempotencyHeaders = z.object({
  'idempotency-key': z.string().min(1).max(200).optional().describe('the same key from the same caller never starts the work twice'),
});
