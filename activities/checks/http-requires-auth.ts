import { isOutboundRefused, type OutboundResponse } from '../outbound';
import { CheckNotRunnable, errorCode, errorMessage, type SecurityCheck } from './check';

/** An anonymous request is refused: the endpoint is not open to the world. */
export const httpRequiresAuth: SecurityCheck<'http_requires_auth'> = {
  type: 'http_requires_auth',
  async run(params, context) {
    let response: OutboundResponse;
    try {
      // No credentials of any kind, and no redirects followed: a login page that answers 200 is not a refusal.
      response = await context.outbound.request(params.url, { method: params.method, timeoutMs: params.timeoutMs, purpose: 'check' });
    } catch (error) {
      if (isOutboundRefused(error)) throw new CheckNotRunnable(`url: ${errorMessage(error)}`);
      return {
        passed: false,
        summary: `${params.url} did not answer: ${errorMessage(error)}`,
        evidence: { url: params.url, error: errorCode(error) },
      };
    }
    const refused = params.acceptStatuses.includes(response.status);
    return {
      passed: refused,
      summary: refused
        ? `${params.method} ${params.url} without credentials is refused (${response.status})`
        : `${params.method} ${params.url} without credentials answered ${response.status}, expected one of ${params.acceptStatuses.join(', ')}`,
      evidence: {
        url: params.url,
        method: params.method,
        status: response.status,
        wwwAuthenticate: response.headers.get('www-authenticate'),
        location: response.headers.get('location'),
      },
    };
  },
};
