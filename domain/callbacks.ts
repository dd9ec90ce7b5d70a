/** Where change-gate callbacks may go and the secret they are signed with (WARDEN_CALLBACK_*). */
export interface CallbackSettings {
  allowedOrigins: string[];
  secret: string | undefined;
}

/**
 * Callbacks go only to origins an operator allowed, so a change request cannot make Warden call an
 * arbitrary (internal) address. Credentials in the URL are refused: the origin check would not see them.
 */
export function callbackAllowed(url: string, allowedOrigins: readonly string[]): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return false;
  if (parsed.username || parsed.password) return false;
  return allowedOrigins.includes(parsed.origin);
}
