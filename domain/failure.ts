// Permanent failures: what an activity throws when running it again would give the same answer,
// and what a process records when it meets one. Shared by the activities that classify, the
// workflows that end visibly, and the servers that show the failed record.

/** The `ApplicationFailure` types of permanent failures; each is non-retryable. */
export const permanentFailureTypes = {
  /** PostgreSQL refused a value (SQLSTATE class 22: a NUL byte, a malformed UUID, out of range). */
  invalidData: 'InvalidData',
  /** PostgreSQL refused a write by a constraint (class 23: not null, foreign key, check, unique). */
  constraintViolation: 'ConstraintViolation',
  /** The statement does not fit the schema (class 42: a missing table or column, a type mismatch). */
  schemaMismatch: 'SchemaMismatch',
} as const;
export type PermanentFailureType = (typeof permanentFailureTypes)[keyof typeof permanentFailureTypes];

const types: readonly string[] = Object.values(permanentFailureTypes);
export const isPermanentFailureType = (type: string | undefined | null): type is PermanentFailureType =>
  typeof type === 'string' && types.includes(type);

/** What a process records about the permanent failure that ended it. */
export interface ProcessFailure {
  type: PermanentFailureType;
  /** The step (activity) that failed. */
  step: string;
  /** The reason, sanitised and cut to a readable length. */
  message: string;
}

const maxMessage = 500;

/**
 * `text` as PostgreSQL and JSON can hold it: NUL and lone surrogates become U+FFFD, other control
 * characters but tab and newline are dropped, and the result is cut to `max` characters. For
 * writing back what was refused (a failed record's title, a failure message), never for accepted
 * input, which the API's boundary refuses instead.
 */
export function sanitiseText(text: unknown, max = maxMessage): string {
  const value = typeof text === 'string' ? text : text === undefined || text === null ? '' : String(text);
  let out = '';
  for (let i = 0; i < value.length && out.length < max; i++) {
    const code = value.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += value.slice(i, i + 2);
        i++;
      } else out += '\ufffd';
    } else if (code >= 0xdc00 && code <= 0xdfff) out += '\ufffd';
    else if (code === 0) out += '\ufffd';
    else if (code < 0x20 && code !== 0x09 && code !== 0x0a) continue;
    else if (code === 0x7f) continue;
    else out += value.charAt(i);
  }
  return out.length > max ? out.slice(0, max) : out;
}
