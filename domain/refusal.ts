export type RefusalReason = 'not_found' | 'forbidden' | 'conflict' | 'invalid';

/**
 * A write declined for a reason the caller can act on. Repositories throw it inside their
 * transaction, so nothing of the attempt is committed; the API turns it into a problem.
 */
export class Refusal extends Error {
  constructor(
    readonly reason: RefusalReason,
    detail: string,
    /** The request field at fault, for `invalid`. */
    readonly field?: string,
  ) {
    super(detail);
    this.name = 'Refusal';
  }
}
