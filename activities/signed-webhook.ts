import { createHmac } from 'node:crypto';

/** `x-warden-signature` value: receivers recompute HMAC-SHA256 over the raw body with the shared secret. */
export function signatureHeader(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * POSTs a JSON action to an external system: signed with HMAC-SHA256 over the body when a secret is
 * set (`x-warden-signature: sha256=<hex>`), with the action id as Idempotency-Key so the receiver can
 * drop a retried call. A 5xx or network error throws, so the calling activity retries; a 4xx is the
 * receiver's final word and comes back as `ok: false`.
 */
export async function postSignedAction(
  url: string,
  input: { actionId: string; payload: unknown; secret?: string; receiver: string },
): Promise<{ ok: boolean; detail: string }> {
  const body = JSON.stringify(input.payload);
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'idempotency-key': input.actionId,
      ...(input.secret ? { 'x-warden-signature': signatureHeader(input.secret, body) } : {}),
    },
    body,
    // A receiver that has not answered in 10 s is treated as down: the activity retries.
    signal: AbortSignal.timeout(10_000),
  });
  if (response.status >= 500) throw new Error(`${input.receiver} answered ${response.status}`);
  return { ok: response.ok, detail: `${input.receiver} answered ${response.status}` };
}
