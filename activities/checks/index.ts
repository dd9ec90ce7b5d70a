import { addressRefusal, checkTargetRefusal, checkTargets, parseIp } from '../../domain/outbound';
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
  const refusal = targetRefusal(type, parsed.params as Record<string, unknown>, context);
  if (refusal) throw new CheckNotRunnable(refusal);
  return (checks[type] as SecurityCheck<CheckType>).run(parsed.params, context);
}

/**
 * The write-time rule, again at run time: the control's CIs or the allowlist may have changed since
 * the control was written. The address actually connected to is checked once more by the guard.
 */
function targetRefusal(type: CheckType, params: Record<string, unknown>, context: CheckContext): string | undefined {
  for (const target of checkTargets(type, params)) {
    const address = parseIp(target.host);
    const refusal = target.recorded
      ? checkTargetRefusal(target.host, context.recorded, context.outbound.allowlist)
      : address && addressRefusal(address, target.host, context.outbound.allowlist, 'check');
    if (refusal) return `${target.field}: ${refusal}`;
  }
  return undefined;
}

export { CheckNotRunnable, type CheckContext, type CheckOutcome } from './check';
