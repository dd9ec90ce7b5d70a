import { createHmac } from 'node:crypto';

/** `x-warden-signature` value: receivers recompute HMAC-SHA256 over the raw body with the shared secret. */
export function signatureHeader(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
