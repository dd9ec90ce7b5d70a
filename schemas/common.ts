import { z } from 'zod';
import { durationMs, durationPattern, longestDuration, longestDurationMs } from '../domain/duration';
import { jsonTextLength, maxFreeFormJsonBytes } from '../domain/input';

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

/**
 * A success response in another media type than JSON (Prometheus text, CSV, Markdown): the document
 * then names the real type instead of application/json.
 */
export interface MediaTypedResponse {
  description: string;
  content: Record<string, { schema: z.ZodType }>;
}

/** Every response a route can produce: the success schemas given plus the problems any route can return. */
export function responses<T extends Record<number, z.ZodType | MediaTypedResponse>>(success: T) {
  return {
    ...success,
    400: problemSchema,
    401: problemSchema,
    403: problemSchema,
    404: problemSchema,
    409: problemSchema,
    413: problemSchema,
    429: problemSchema,
  };
}

/**
 * A free-form JSON object in a request (CI attributes, decision data, check parameters): at most
 * 64 KiB as JSON text. Strings, keys and depth are checked for every input at the boundary
 * (http/plugins/input-boundary.ts), which runs before this schema.
 */
export const freeFormObject = () =>
  z.record(z.string(), z.unknown()).superRefine((value, context) => {
    const length = jsonTextLength(value);
    if (length > maxFreeFormJsonBytes) {
      context.addIssue({ code: 'custom', message: `is ${length} characters of JSON; at most ${maxFreeFormJsonBytes} are accepted` });
    }
  });

export const uuidParam = z.strictObject({ id: z.uuid() });
export const principalId = z.string().regex(/^[a-z0-9][a-z0-9._@-]{0,99}$/, 'lowercase letters, digits and . _ @ - (max 100)');
export const duration = z
  .string()
  .regex(durationPattern, 'must be a duration such as 30s, 15m, 4h, 7d')
  .refine((text) => !durationPattern.test(text) || durationMs(text) <= longestDurationMs, `must be at most ten years (${longestDuration})`);
export const timestamp = z.iso.datetime({ offset: true });
export const isoDate = (value: Date) => value.toISOString();
export const isoTimestamps = <T extends { createdAt: Date; updatedAt: Date }>(record: T) => ({
  ...record,
  createdAt: isoDate(record.createdAt),
  updatedAt: isoDate(record.updatedAt),
});

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
};
export const page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });
