import { lookup, Resolver } from 'node:dns/promises';
import type { CheckParams } from '../../domain/security-checks';
import { CheckNotRunnable, errorCode, type SecurityCheck } from './check';

async function answers(params: CheckParams<'dns_record'>): Promise<string[]> {
  if (params.resolver === 'system') {
    if (params.type !== 'A' && params.type !== 'AAAA')
      throw new CheckNotRunnable(`resolver "system" answers A and AAAA only, not ${params.type}`);
    const found = await lookup(params.name, { all: true, family: params.type === 'A' ? 4 : 6 });
    return found.map((entry) => entry.address);
  }
  const resolver = new Resolver({ timeout: 5_000, tries: 2 });
  if (params.servers) resolver.setServers(params.servers);
  switch (params.type) {
    case 'A':
      return resolver.resolve4(params.name);
    case 'AAAA':
      return resolver.resolve6(params.name);
    case 'CNAME':
      return resolver.resolveCname(params.name);
    case 'NS':
      return resolver.resolveNs(params.name);
    case 'MX':
      return (await resolver.resolveMx(params.name)).map((mx) => `${mx.priority} ${mx.exchange}`);
    case 'TXT':
      return (await resolver.resolveTxt(params.name)).map((chunks) => chunks.join(''));
    case 'CAA':
      return (await resolver.resolveCaa(params.name)).map((caa) =>
        Object.entries(caa)
          .filter(([key]) => key !== 'critical')
          .map(([key, value]) => `${key} ${String(value)}`)
          .join(' '),
      );
  }
}

/** Names that are absent: the name or the record type does not exist. Other errors mean DNS could not be asked. */
const absentCodes = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN']);

/** The record exists and, when the control names values, holds every one of them. */
export const dnsRecord: SecurityCheck<'dns_record'> = {
  type: 'dns_record',
  async run(params) {
    const query = { name: params.name, type: params.type, resolver: params.resolver };
    let found: string[];
    try {
      found = await answers(params);
    } catch (error) {
      if (error instanceof CheckNotRunnable) throw error;
      const code = errorCode(error);
      if (!absentCodes.has(code)) throw error;
      return {
        passed: false,
        summary: `${params.type} ${params.name}: no such record (${code})`,
        evidence: { ...query, answers: [], error: code },
      };
    }
    const missing = (params.expect ?? []).filter((value) => !found.includes(value));
    const passed = found.length > 0 && missing.length === 0;
    return {
      passed,
      summary: passed
        ? `${params.type} ${params.name} resolves to ${found.join(', ')}`
        : found.length === 0
          ? `${params.type} ${params.name} has no answers`
          : `${params.type} ${params.name} lacks ${missing.join(', ')} (answers: ${found.join(', ')})`,
      evidence: { ...query, answers: found, expected: params.expect ?? null, missing },
    };
  },
};
