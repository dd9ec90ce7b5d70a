import { createHmac } from 'node:crypto';
import { isOutboundRefused, type OutboundGuard } from './outbound';

/** `x-warden-signature` value: receivers recompute HMAC-SHA256 over the raw body with the shared secret. */
export function signatureHeader(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * POSTs a JSON action to an external system: signed with HMAC-SHA256 over the body when a secret is
 * set (`x-warden-signature: sha256=<hex>`), with the action id as Idempotency-Key so the receiver can
 * drop a retried call. A 5xx or network error throws, so the calling activity retries; a 4xx is the
 * receiver's final word and comes back as `ok: false`. So is a URL the outbound guard refuses
 * (loopback, link-local, private or metadata address not in WARDEN_OUTBOUND_ALLOW): retrying would
 * be refused the same way. Redirects are not followed.
 */
export async function postSignedAction(
  url: string,
  input: { actionId: string; payload: unknown; secret?: string; receiver: string; outbound: OutboundGuard },
): Promise<{ ok: boolean; accepted: boolean; detail: string }> {
  const body = JSON.stringify(input.payload);
  let status: number;
  try {
    ({ status } = await input.outbound.request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': input.actionId,
        ...(input.secret ? { 'x-warden-signature': signatureHeader(input.secret, body) } : {}),
      },
      body,
      // A receiver that has not answered in 10 s is treated as down: the activity retries.
      timeoutMs: 10_000,
    }));
  } catch (error) {
    if (isOutboundRefused(error))
      return { ok: false, accepted: false, detail: `${input.receiver} not called: ${(error as Error).message}` };
    throw error;
  }
  if (status >= 500) throw new Error(`${input.receiver} answered ${status}`);
  // 202: the receiver took the work on and reports its end later (a responder's signed callback).
  return { ok: status >= 200 && status < 300, accepted: status === 202, detail: `${input.receiver} answered ${status}` };
}
