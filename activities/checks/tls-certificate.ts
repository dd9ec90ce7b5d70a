import { connect, rootCertificates, type PeerCertificate, type TLSSocket } from 'node:tls';
import { isIP } from 'node:net';
import { isOutboundRefused, type OutboundGuard } from '../outbound';
import { CheckNotRunnable, errorCode, errorMessage, type SecurityCheck } from './check';

const dayMs = 86_400_000;

function handshake(
  options: { host: string; port: number; servername: string; ca?: string; timeoutMs: number },
  outbound: OutboundGuard,
): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    outbound.assertHost(options.host, 'check');
    const socket = connect({
      host: options.host,
      port: options.port,
      lookup: outbound.lookup('check'),
      // SNI takes names only; the identity check below still uses `servername`.
      servername: isIP(options.servername) ? undefined : options.servername,
      ca: options.ca ? [...rootCertificates, options.ca] : undefined,
      // The check reports an untrusted or mismatched certificate instead of refusing to look at it.
      rejectUnauthorized: false,
      timeout: options.timeoutMs,
    });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('timeout', () =>
      socket.destroy(Object.assign(new Error(`no TLS handshake within ${options.timeoutMs} ms`), { code: 'ETIMEDOUT' })),
    );
    socket.once('error', reject);
  });
}

function describe(certificate: PeerCertificate) {
  return {
    subject: certificate.subject?.CN ?? null,
    issuer: certificate.issuer?.CN ?? null,
    subjectAltName: certificate.subjectaltname ?? null,
    validFrom: new Date(certificate.valid_from).toISOString(),
    validTo: new Date(certificate.valid_to).toISOString(),
    serialNumber: certificate.serialNumber,
    fingerprint256: certificate.fingerprint256,
  };
}

/** The certificate is trusted, names the host, and stays valid for at least `minDaysValid` days. */
export const tlsCertificate: SecurityCheck<'tls_certificate'> = {
  type: 'tls_certificate',
  async run(params, context) {
    const servername = params.servername ?? params.host;
    const target = { host: params.host, port: params.port, servername };
    let socket: TLSSocket;
    try {
      socket = await handshake({ ...target, ca: params.ca, timeoutMs: params.timeoutMs }, context.outbound);
    } catch (error) {
      if (isOutboundRefused(error)) throw new CheckNotRunnable(`host: ${errorMessage(error)}`);
      return {
        passed: false,
        summary: `no TLS handshake with ${params.host}:${params.port}: ${errorMessage(error)}`,
        evidence: { ...target, error: errorCode(error) },
      };
    }
    try {
      const certificate = socket.getPeerCertificate();
      const facts = describe(certificate);
      const daysRemaining = Math.floor((new Date(certificate.valid_to).getTime() - Date.now()) / dayMs);
      const problems = [
        ...(socket.authorized ? [] : [`not trusted for ${servername} (${String(socket.authorizationError)})`]),
        ...(daysRemaining < params.minDaysValid ? [`expires in ${daysRemaining} days, less than ${params.minDaysValid}`] : []),
      ];
      return {
        passed: problems.length === 0,
        summary: problems.length
          ? `${servername}:${params.port} certificate ${problems.join('; ')}`
          : `${servername}:${params.port} certificate is trusted and valid for ${daysRemaining} more days`,
        evidence: {
          ...target,
          ...facts,
          daysRemaining,
          minDaysValid: params.minDaysValid,
          trusted: socket.authorized,
          authorizationError: socket.authorizationError ? String(socket.authorizationError) : null,
          protocol: socket.getProtocol(),
        },
      };
    } finally {
      socket.destroy();
    }
  },
};
