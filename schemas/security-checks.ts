import { z } from 'zod';
import { type CheckParams, type CheckParamsParser, type CheckType, dnsRecordTypes, httpMethods } from '../domain/security-checks';

/**
 * The parameters of every automated check type. The API validates a control's procedure against
 * these when the control is written; the worker validates again before it runs the check.
 */
const httpUrl = z.url({ protocol: /^https?$/ });
const host = z.string().trim().min(1).max(253);
const tcpPort = z.number().int().min(1).max(65535);
const timeoutMs = z.number().int().min(100).max(60_000);
const headerName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be an HTTP header name')
  .transform((name) => name.toLowerCase());

export const checkParamsSchemas = {
  http_security_headers: z.strictObject({
    url: httpUrl,
    required: z
      .array(headerName)
      .min(1)
      .default(['strict-transport-security', 'content-security-policy', 'x-content-type-options', 'x-frame-options', 'referrer-policy']),
    /** Headers that disclose too much (the server's framework and version). */
    forbidden: z.array(headerName).default(['x-powered-by']),
    timeoutMs: timeoutMs.default(10_000),
  }),
  tls_certificate: z.strictObject({
    host,
    port: tcpPort.default(443),
    /** The name the certificate must be valid for; defaults to `host`. */
    servername: host.optional(),
    minDaysValid: z.number().min(0).max(3650).default(14),
    /** Extra trusted CA certificates (PEM), for a private PKI; the system's CAs are always trusted. */
    ca: z.string().includes('-----BEGIN CERTIFICATE-----').optional(),
    timeoutMs: timeoutMs.default(10_000),
  }),
  tcp_port: z.strictObject({
    host,
    port: tcpPort,
    expect: z.enum(['open', 'closed']),
    timeoutMs: timeoutMs.default(3_000),
  }),
  http_requires_auth: z.strictObject({
    url: httpUrl,
    method: z.enum(httpMethods).default('GET'),
    /** Statuses that prove the endpoint refused an anonymous request. */
    acceptStatuses: z.array(z.number().int().min(100).max(599)).min(1).default([401, 403]),
    timeoutMs: timeoutMs.default(10_000),
  }),
  dns_record: z.strictObject({
    name: host,
    type: z.enum(dnsRecordTypes).default('A'),
    /** `system` resolves A/AAAA the way applications do (hosts file, then DNS); `dns` asks DNS servers directly. */
    resolver: z.enum(['dns', 'system']).default('dns'),
    /** DNS servers to ask instead of the host's (resolver `dns` only). */
    servers: z.array(z.string().min(1)).min(1).optional(),
    /** Values that must all be among the answers; without it, any answer passes. */
    expect: z.array(z.string().min(1)).optional(),
  }),
  command: z.strictObject({
    executable: z.string().min(1),
    args: z.array(z.string()).default([]),
    /** Exit codes that mean the control works. */
    passExitCodes: z.array(z.number().int()).min(1).default([0]),
    timeoutMs: timeoutMs.default(30_000),
    cwd: z.string().min(1).optional(),
  }),
} as const satisfies { [T in CheckType]: z.ZodType<CheckParams<T>> };

/** The check parameters' parser the worker's activities are given (see wiring.ts). */
export const parseCheckParams: CheckParamsParser = (type, params) => {
  const parsed = checkParamsSchemas[type].safeParse(params);
  return parsed.success ? { params: parsed.data as CheckParams<typeof type> } : { problem: z.prettifyError(parsed.error) };
};
