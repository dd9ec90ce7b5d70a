import { Refusal } from '../domain/refusal';

/** https://www.postgresql.org/docs/current/errcodes-appendix.html */
const uniqueViolation = '23505';

function isPgError(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
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
