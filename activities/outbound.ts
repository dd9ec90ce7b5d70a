import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { addressRefusal, emptyAllowlist, normalizeHost, parseIp, type OutboundAllowlist, type OutboundPurpose } from '../domain/outbound';

/**
 * The one gate every outbound connection passes (security checks, notification webhooks and Slack,
 * responders, provisioning webhooks, change callbacks). Each connection resolves its host through
 * `lookup`, which refuses a forbidden address *at connect time*: the address checked is the address
 * connected to, so a name that answers differently the second time (DNS rebinding) gains nothing.
 * Literal addresses skip `lookup` in Node, so `assertHost` checks them before connecting.
 * Redirects are never followed: a redirect is answered as it is, and the caller decides.
 */
export class OutboundRefused extends Error {
  override name = 'OutboundRefused';
  readonly code = 'EOUTBOUNDREFUSED';
}

export const isOutboundRefused = (error: unknown): error is OutboundRefused => {
  for (let current = error; current; current = (current as { cause?: unknown }).cause) {
    if (current instanceof OutboundRefused || (current as { code?: unknown }).code === 'EOUTBOUNDREFUSED') return true;
    if (typeof current !== 'object') return false;
  }
  return false;
};

export interface OutboundResponse {
  status: number;
  headers: Headers;
}

export interface OutboundRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  purpose?: OutboundPurpose;
}

export interface OutboundGuard {
  readonly allowlist: OutboundAllowlist;
  /** Throws OutboundRefused when `host` is a literal address of a refused class. Names are checked by `lookup`. */
  assertHost(host: string, purpose: OutboundPurpose): void;
  /** A `lookup` for `net.connect`, `tls.connect`, `http.request`: resolves, then refuses if any address is forbidden. */
  lookup(purpose: OutboundPurpose): LookupFunction;
  /** One HTTP(S) request through the guard; the body is discarded, redirects are returned, not followed. */
  request(url: string, options: OutboundRequest): Promise<OutboundResponse>;
}

function toHeaders(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  return headers;
}

/** `dns.lookup`'s shape; tests pass one that answers differently each time, as a rebinding name does. */
export type Resolve = (
  hostname: string,
  options: { all: true },
  callback: (error: NodeJS.ErrnoException | null, found: LookupAddress[]) => void,
) => void;

export function createOutboundGuard(allowlist: OutboundAllowlist = emptyAllowlist, resolve: Resolve = dnsLookup): OutboundGuard {
  const assertHost = (host: string, purpose: OutboundPurpose) => {
    const address = parseIp(host);
    if (!address) return;
    const refusal = addressRefusal(address, host, allowlist, purpose);
    if (refusal) throw new OutboundRefused(refusal);
  };

  const lookup =
    (purpose: OutboundPurpose): LookupFunction =>
    (hostname, options, callback) => {
      resolve(hostname, { ...options, all: true }, (error, found) => {
        if (error) return callback(error, '', 0);
        for (const entry of found) {
          const refusal = addressRefusal(parseIp(entry.address) ?? { family: 4, bytes: [0, 0, 0, 0] }, hostname, allowlist, purpose);
          // Every answer must pass: a name answering one public and one internal address could otherwise reach either.
          if (refusal) return callback(new OutboundRefused(refusal), '', 0);
        }
        if (found.length === 0) return callback(Object.assign(new Error(`${hostname} has no addresses`), { code: 'ENOTFOUND' }), '', 0);
        if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, found);
        const first = found[0] as LookupAddress;
        callback(null, first.address, first.family);
      });
    };

  const request = (url: string, options: OutboundRequest) =>
    new Promise<OutboundResponse>((resolve, reject) => {
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        return reject(new TypeError(`not a URL: ${url}`));
      }
      if (target.protocol !== 'http:' && target.protocol !== 'https:') {
        return reject(new OutboundRefused(`only http and https URLs are called, not ${target.protocol}`));
      }
      const purpose = options.purpose ?? 'call';
      try {
        assertHost(normalizeHost(target.hostname), purpose);
      } catch (error) {
        return reject(error);
      }
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const outgoing = send(
        target,
        {
          method: options.method ?? 'GET',
          headers: {
            ...(options.body !== undefined ? { 'content-length': String(Buffer.byteLength(options.body)) } : {}),
            ...options.headers,
          },
          lookup: lookup(purpose),
          // No shared keep-alive socket: every request resolves and is checked afresh.
          agent: false,
          signal: AbortSignal.timeout(options.timeoutMs),
        },
        (response) => {
          resolve({ status: response.statusCode ?? 0, headers: toHeaders(response.headers) });
          // What receivers say in the body is never read: status and headers are the whole answer.
          response.on('error', () => {});
          response.destroy();
        },
      );
      outgoing.on('error', (error) =>
        reject(
          error.name === 'AbortError'
            ? Object.assign(new Error(`no answer within ${options.timeoutMs} ms`, { cause: error }), { code: 'ETIMEDOUT' })
            : error,
        ),
      );
      outgoing.end(options.body);
    });

  return { allowlist, assertHost, lookup, request };
}
