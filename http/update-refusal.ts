import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { refusalTypes } from '../domain/human-task';
import { changeRefusalTypes } from '../domain/change';
import { conflict, invalid, Problem } from './problem';

/**
 * The status of each refusal type an Update validator or handler throws. A workflow refuses with an
 * `ApplicationFailure` of a named type; types not listed here are conflicts with the workflow's state.
 */
const refusalStatus: Record<string, 400 | 403 | 404 | 409> = {
  [refusalTypes.notFound]: 404,
  [refusalTypes.closed]: 409,
  [refusalTypes.notPermitted]: 403,
  [refusalTypes.ownRequest]: 403,
  [refusalTypes.sameApprover]: 403,
  [refusalTypes.outcomeNotAllowed]: 400,
  [refusalTypes.invalidInput]: 400,
  [refusalTypes.refused]: 409,
  [changeRefusalTypes.notRequester]: 403,
  [changeRefusalTypes.wrongStatus]: 409,
  [changeRefusalTypes.staleRevision]: 409,
};

const titles = { 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict' } as const;

export interface UpdateRefusal {
  problem: Problem;
  /** The refusal's type (what measures count), or `WorkflowFinished`. */
  type: string;
}

/**
 * The one way an Update's failure becomes an HTTP answer, for every route and page: a workflow's
 * refusal is a 4xx with the workflow's own words; a finished workflow is a 409 saying `finished`.
 * Anything else is not a refusal (undefined) and stays an error.
 */
export function updateRefusal(error: unknown, finished: string): UpdateRefusal | undefined {
  if (error instanceof WorkflowNotFoundError) return { problem: conflict(finished), type: 'WorkflowFinished' };
  if (!(error instanceof WorkflowUpdateFailedError) || !(error.cause instanceof ApplicationFailure)) return undefined;
  const type = error.cause.type ?? 'ApplicationFailure';
  const status = refusalStatus[type] ?? 409;
  // An input refusal names its field in details[0] (`comment`, `data.x`); the others are about the outcome.
  const field = type === refusalTypes.invalidInput ? String(error.cause.details?.[0] ?? '') : 'outcome';
  const problem =
    status === 400
      ? invalid([{ path: field ? `body.${field}` : 'body', message: error.cause.message }])
      : new Problem(status, titles[status], error.cause.message);
  return { problem, type };
}
