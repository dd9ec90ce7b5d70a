export interface FieldError {
  path: string;
  message: string;
}

/** An RFC 9457 problem the error handler sends as application/problem+json. */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly errors?: FieldError[],
    /** Response headers the problem needs (`Retry-After` on a 503). */
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
    this.name = 'Problem';
  }
}

export const notFound = (what: string, id: string) => new Problem(404, 'Not Found', `${what} ${id} does not exist`);
export const conflict = (detail: string) => new Problem(409, 'Conflict', detail);
export const forbidden = (detail: string) => new Problem(403, 'Forbidden', detail);
export const invalid = (errors: FieldError[]) =>
  new Problem(400, 'Bad Request', errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
/** Try again shortly: nothing was done, and the same request is expected to succeed later. */
export const unavailable = (detail: string, retryAfterSeconds: number) =>
  new Problem(503, 'Service Unavailable', detail, undefined, { 'retry-after': String(retryAfterSeconds) });
