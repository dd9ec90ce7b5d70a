import { severities, type Severity } from './classification';

/**
 * Observables: the indicators an alert or incident saw (an account, a host, an address, a file
 * hash, a domain, a URL, an e-mail address). The same indicator in two cases is how Warden
 * recognises they are one; a value marked as an IOC raises any later alert carrying it.
 */
export const observableTypes = ['account', 'host', 'ip', 'hash', 'domain', 'url', 'email'] as const;
export type ObservableType = (typeof observableTypes)[number];

export interface Observable {
  type: ObservableType;
  value: string;
}

const ipv4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const ipv6 = /^(?=.*:)[0-9a-f:.]{2,45}$/;
const hash = /^([0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{128})$/;
const domain = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$/;
const url = /^[a-z][a-z0-9+.-]*:\/\/[^\s]{1,2000}$/i;
const email = /^[^\s@]{1,64}@[^\s@]{1,255}$/;
const name = /^[^\s\p{Cc}]{1,300}$/u;

/** What each type accepts, after the canonical form is taken. */
const shapes: Record<ObservableType, RegExp> = { account: name, host: name, ip: ipv4, hash, domain, url, email };

/**
 * The canonical form of an indicator, or null when the value is not one of its type. Names,
 * domains, hashes and addresses compare case-insensitively (Windows accounts and DNS do); a URL
 * keeps its case because its path may be case-sensitive.
 */
export function canonicalObservable(type: ObservableType, raw: string): Observable | null {
  let value = raw.trim();
  if (type !== 'url') value = value.toLowerCase();
  if (type === 'host' || type === 'domain') value = value.replace(/\.$/, '');
  if (type === 'ip') return ipv4.test(value) || ipv6.test(value) ? { type, value } : null;
  return shapes[type].test(value) ? { type, value } : null;
}

/** Each indicator once, in the order first seen; values that are not indicators are dropped. */
export function observablesOf(candidates: readonly { type: ObservableType; value: string | null | undefined }[]): Observable[] {
  const seen = new Map<string, Observable>();
  for (const candidate of candidates) {
    if (typeof candidate.value !== 'string') continue;
    const observable = canonicalObservable(candidate.type, candidate.value);
    if (observable) seen.set(`${observable.type}\u0000${observable.value}`, observable);
  }
  return [...seen.values()];
}

export function higherSeverity(a: Severity, b: Severity): Severity {
  return severities.indexOf(a) >= severities.indexOf(b) ? a : b;
}

/** An alert carrying a known IOC is at least this severe. */
export const iocSeverityFloor: Severity = 'high';

/** Which observable types correlate alerts into one incident, and for how long after last seen. */
export interface CorrelationRules {
  types: ObservableType[];
  windowMs: number;
}

const accountCiTypes = new Set(['service_account', 'user_account']);
const hostCiTypes = new Set(['server', 'database', 'network_device', 'endpoint']);

/**
 * What the CMDB knows a CI by: an account CI's name is an account; a host's name is a host, and
 * the `hosts` and `addresses` its attributes document (what security checks may reach) are too.
 */
export function cmdbObservables(ci: { type: string; name: string; attributes: unknown }): Observable[] {
  const attributes = (typeof ci.attributes === 'object' && ci.attributes !== null ? ci.attributes : {}) as Record<string, unknown>;
  const strings = (value: unknown) => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
  if (accountCiTypes.has(ci.type)) return observablesOf([{ type: 'account', value: ci.name }]);
  if (!hostCiTypes.has(ci.type)) return [];
  return observablesOf([
    { type: 'host', value: ci.name },
    ...strings(attributes.hosts).map((value) => ({ type: 'host' as const, value })),
    ...strings(attributes.addresses).map((value) => ({ type: 'ip' as const, value })),
  ]);
}
