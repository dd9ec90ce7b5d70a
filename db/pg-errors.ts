import { Refusal } from '../domain/refusal';
import { permanentFailureTypes, type PermanentFailureType } from '../domain/failure';

/** https://www.postgresql.org/docs/current/errcodes-appendix.html */
const uniqueViolation = '23505';

function isPgError(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

/** The SQLSTATE of a PostgreSQL error, looked for on the error and along its `cause` chain. */
export function sqlState(error: unknown): string | undefined {
  for (let current = error, depth = 0; typeof current === 'object' && current !== null && depth < 8; depth++) {
    const code = (current as { code?: unknown }).code;
    // Node's own errors carry codes too (ECONNREFUSED, ETIMEDOUT); a SQLSTATE is five digits or capitals.
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Whether PostgreSQL refused the statement for what it says, so running it again gives the same
 * answer: class 22 (data exception: a NUL byte, a bad UUID, a value out of range), 23 (integrity
 * constraint) and 42 (syntax or access rule: a missing column or table). Everything else (class 08
 * connection, 57P01 admin shutdown, 57P03 cannot connect now, 53 insufficient resources, 40
 * serialization failure and deadlock, timeouts, Node's socket errors) may go away by itself and stays
 * retryable.
 */
export function permanentPgFailure(error: unknown): { type: PermanentFailureType; sqlState: string } | undefined {
  const code = sqlState(error);
  if (!code) return undefined;
  const type = code.startsWith('22')
    ? permanentFailureTypes.invalidData
    : code.startsWith('23')
      ? permanentFailureTypes.constraintViolation
      : code.startsWith('42')
        ? permanentFailureTypes.schemaMismatch
        : undefined;
  return type ? { type, sqlState: code } : undefined;
}

/**
 * For `.catch()` on a write whose only unique key a client chooses is the name. The constraint,
 * not a prior SELECT, decides, so two concurrent creates of one name cannot both succeed.
 */
export const refuseTakenName =
  (what: string, name: string) =>
  (error: unknown): never => {
    if (isPgError(error, uniqueViolation)) throw new Refusal('conflict', `${what} named ${JSON.stringify(name)} exists already`, 'name');
    throw error;
  };

// Error codes of a PostgreSQL that is going away, starting up or unreachable: admin_shutdown,
// crash_shutdown, cannot_connect_now, and the whole connection-exception class (08xxx).
const unavailableCodes = new Set(['57P01', '57P02', '57P03']);
// Socket errors node-postgres passes through when it cannot reach the server.
const unreachableSocketCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN']);
// node-postgres and pg-pool say these in words, without a code: a connection lost mid-query, a
// pool connect that timed out (`connectionTimeoutMillis`), a client used after its connection ended.
const unavailableMessages = [
  /^Connection terminated/,
  /timeout exceeded when trying to connect/,
  /Client has encountered a connection error/,
];

/** Whether `error` (or one of its causes) says PostgreSQL is unreachable or restarting: retry later, nobody's fault. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 8; current = (current as { cause?: unknown }).cause, depth++) {
    if (typeof current !== 'object') return false;
    const { code, message, errors } = current as { code?: unknown; message?: unknown; errors?: unknown };
    if (typeof code === 'string' && (unavailableCodes.has(code) || code.startsWith('08') || unreachableSocketCodes.has(code))) return true;
    if (typeof message === 'string' && unavailableMessages.some((pattern) => pattern.test(message))) return true;
    // Node reports a refused connection to every address of a host as one AggregateError.
    if (Array.isArray(errors) && errors.some(isDatabaseUnavailable)) return true;
  }
  return false;
}
