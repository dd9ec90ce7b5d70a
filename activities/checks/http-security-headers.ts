import { isOutboundRefused, type OutboundResponse } from '../outbound';
import { CheckNotRunnable, errorCode, errorMessage, type SecurityCheck } from './check';

/** The response carries the security headers a browser needs and none that disclose the stack. */
export const httpSecurityHeaders: SecurityCheck<'http_security_headers'> = {
  type: 'http_security_headers',
  async run(params, context) {
    let response: OutboundResponse;
    try {
      // Redirects are not followed: the headers judged are those of the URL the control names.
      response = await context.outbound.request(params.url, { method: 'GET', timeoutMs: params.timeoutMs, purpose: 'check' });
    } catch (error) {
      if (isOutboundRefused(error)) throw new CheckNotRunnable(`url: ${errorMessage(error)}`);
      return {
        passed: false,
        summary: `${params.url} did not answer: ${errorMessage(error)}`,
        evidence: { url: params.url, error: errorCode(error) },
      };
    }
    const present = Object.fromEntries(
      params.required.flatMap((name) => (response.headers.has(name) ? [[name, response.headers.get(name)]] : [])),
    );
    const missing = params.required.filter((name) => !response.headers.has(name));
    const disclosed = Object.fromEntries(
      params.forbidden.flatMap((name) => (response.headers.has(name) ? [[name, response.headers.get(name)]] : [])),
    );
    const problems = [
      ...(missing.length ? [`missing ${missing.join(', ')}`] : []),
      ...(Object.keys(disclosed).length ? [`discloses ${Object.keys(disclosed).join(', ')}`] : []),
    ];
    return {
      passed: problems.length === 0,
      summary: problems.length ? `${params.url}: ${problems.join('; ')}` : `${params.url} sends every required security header`,
      evidence: { url: params.url, status: response.status, present, missing, disclosed },
    };
  },
};
