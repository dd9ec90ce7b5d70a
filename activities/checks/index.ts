import { type CheckType, isCheckType } from '../../domain/security-checks';
import { CheckNotRunnable, type CheckContext, type CheckOutcome, type SecurityCheck } from './check';
import { command } from './command';
import { dnsRecord } from './dns-record';
import { httpRequiresAuth } from './http-requires-auth';
import { httpSecurityHeaders } from './http-security-headers';
import { tcpPort } from './tcp-port';
import { tlsCertificate } from './tls-certificate';

const checks: { [T in CheckType]: SecurityCheck<T> } = {
  http_security_headers: httpSecurityHeaders,
  http_requires_auth: httpRequiresAuth,
  tls_certificate: tlsCertificate,
  tcp_port: tcpPort,
  dns_record: dnsRecord,
  command,
};

/** Validates the parameters with the check type's parser, then runs the check. */
export async function runCheck(type: string, params: unknown, context: CheckContext): Promise<CheckOutcome> {
  if (!isCheckType(type)) throw new CheckNotRunnable(`unknown check type ${JSON.stringify(type)}`);
  const parsed = context.parseParams(type, params);
  if ('problem' in parsed) throw new CheckNotRunnable(`invalid ${type} parameters: ${parsed.problem}`);
  return (checks[type] as SecurityCheck<CheckType>).run(parsed.params, context);
}

export { CheckNotRunnable, type CheckContext, type CheckOutcome } from './check';
