/**
 * The automated check types a control's test may run, and the parameters each takes once its
 * defaults are filled in. schemas/security-checks.ts validates against these; the checks in
 * activities/checks/ run with them.
 */
export const checkTypes = ['http_security_headers', 'tls_certificate', 'tcp_port', 'http_requires_auth', 'dns_record', 'command'] as const;
export type CheckType = (typeof checkTypes)[number];

export const httpMethods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export const dnsRecordTypes = ['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'NS', 'CAA'] as const;

export interface CheckParamsByType {
  http_security_headers: {
    url: string;
    /** Lower-case header names that must be present. */
    required: string[];
    /** Headers that disclose too much (the server's framework and version). */
    forbidden: string[];
    timeoutMs: number;
  };
  tls_certificate: {
    host: string;
    port: number;
    /** The name the certificate must be valid for; defaults to `host`. */
    servername?: string | undefined;
    minDaysValid: number;
    /** Extra trusted CA certificates (PEM), for a private PKI; the system's CAs are always trusted. */
    ca?: string | undefined;
    timeoutMs: number;
  };
  tcp_port: { host: string; port: number; expect: 'open' | 'closed'; timeoutMs: number };
  http_requires_auth: {
    url: string;
    method: (typeof httpMethods)[number];
    /** Statuses that prove the endpoint refused an anonymous request. */
    acceptStatuses: number[];
    timeoutMs: number;
  };
  dns_record: {
    name: string;
    type: (typeof dnsRecordTypes)[number];
    /** `system` resolves A/AAAA the way applications do (hosts file, then DNS); `dns` asks DNS servers directly. */
    resolver: 'dns' | 'system';
    /** DNS servers to ask instead of the host's (resolver `dns` only). */
    servers?: string[] | undefined;
    /** Values that must all be among the answers; without it, any answer passes. */
    expect?: string[] | undefined;
  };
  command: {
    executable: string;
    args: string[];
    /** Exit codes that mean the control works. */
    passExitCodes: number[];
    timeoutMs: number;
    cwd?: string | undefined;
  };
}
export type CheckParams<T extends CheckType> = CheckParamsByType[T];

export function isCheckType(type: string): type is CheckType {
  return (checkTypes as readonly string[]).includes(type);
}

/**
 * Reads a check's stored parameters, filling in their defaults, or says why they are not valid. The
 * worker parses them again before every run: a control written before a parameter changed must fail
 * as not runnable, not run with what it happens to hold.
 */
export type CheckParamsParser = <T extends CheckType>(type: T, params: unknown) => { params: CheckParams<T> } | { problem: string };
