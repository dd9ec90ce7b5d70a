import { AsyncLocalStorage } from 'node:async_hooks';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import { defaultPayloadConverter, type Headers } from '@temporalio/common';
import { requestIdHeader } from '../domain/request-id';

/**
 * The request id of the work this process is doing: an HTTP request in the API, an activity that one
 * started in the worker. Held in async context rather than passed along, so every workflow start and
 * every log line made on the request's behalf carries it without each caller threading it through.
 */
const requestScope = new AsyncLocalStorage<string>();

export function runWithRequestId<T>(requestId: string, fn: () => T): T {
  return requestScope.run(requestId, fn);
}

export function currentRequestId(): string | undefined {
  return requestScope.getStore();
}

/** The request id a Temporal call's headers carry, when they carry a readable one. */
export function requestIdFromHeaders(headers: Headers): string | undefined {
  const payload = headers[requestIdHeader];
  if (!payload) return undefined;
  try {
    const value = defaultPayloadConverter.fromPayload(payload);
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

function withRequestId(headers: Headers): Headers {
  const requestId = currentRequestId();
  return requestId ? { ...headers, [requestIdHeader]: defaultPayloadConverter.toPayload(requestId) } : headers;
}

/**
 * Puts the current request id into the headers of the workflow starts and signals the API makes, so
 * the workflow can hand it to its activities. Headers bypass the payload codec: a request id is
 * not confidential, and the Temporal UI shows it in plain text, which helps whoever follows it there.
 */
export const requestIdClientInterceptor: WorkflowClientInterceptor = {
  start: (input, next) => next({ ...input, headers: withRequestId(input.headers) }),
  startWithDetails: (input, next) => next({ ...input, headers: withRequestId(input.headers) }),
  signal: (input, next) => next({ ...input, headers: withRequestId(input.headers) }),
  signalWithStart: (input, next) => next({ ...input, headers: withRequestId(input.headers) }),
};
