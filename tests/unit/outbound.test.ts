import { describe, expect, it } from 'vitest';
import { shortestGapMs, statedIntervalMs } from '../../domain/controls';
import {
  addressClass,
  addressRefusal,
  checkTargetRefusal,
  checkTargets,
  formatIp,
  parseAllowlist,
  parseCidr,
  parseIp,
  recordedTargets,
  type OutboundAllowlist,
} from '../../domain/outbound';

const allow = (text: string) => {
  const parsed = parseAllowlist(text);
  if ('problem' in parsed) throw new Error(parsed.problem);
  return parsed.allowlist;
};
const none: OutboundAllowlist = allow('');
const ip = (text: string) => {
  const parsed = parseIp(text);
  if (!parsed) throw new Error(`not an address: ${text}`);
  return parsed;
};

describe('addresses', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['169.254.169.254', 'metadata'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['169.254.10.1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['224.0.0.1', 'reserved'],
    ['64:ff9b::7f00:1', 'reserved'],
    ['172.32.0.1', 'public'],
    ['8.8.8.8', 'public'],
    ['2606:4700:4700::1111', 'public'],
  ])('%s is %s', (text, kind) => {
    expect(addressClass(ip(text))).toBe(kind);
  });

  it('reads only well-formed literals as addresses', () => {
    for (const text of ['127.1', '0x7f.0.0.1', '0177.0.0.1', '2130706433', '1.2.3.4.5', '256.0.0.1', 'localhost', '::1::', ''])
      expect(parseIp(text)).toBeUndefined();
    expect(formatIp(ip('2001:db8:0:0:0:0:0:1'))).toBe('2001:db8::1');
  });

  it('matches CIDRs of either family, IPv4-mapped IPv6 included', () => {
    const net = parseCidr('10.20.0.0/16');
    expect(net).toBeDefined();
    expect(parseCidr('10.20.0.0/33')).toBeUndefined();
    expect(parseCidr('::/129')).toBeUndefined();
    expect(addressRefusal(ip('10.20.9.9'), '10.20.9.9', allow('10.20.0.0/16'), 'call')).toBeUndefined();
    expect(addressRefusal(ip('::ffff:10.20.9.9'), '::ffff:10.20.9.9', allow('10.20.0.0/16'), 'call')).toBeUndefined();
    expect(addressRefusal(ip('10.21.0.1'), '10.21.0.1', allow('10.20.0.0/16'), 'call')).toMatch(/private/);
  });
});

describe('WARDEN_OUTBOUND_ALLOW', () => {
  it('takes CIDRs, addresses and host names, and names a bad entry', () => {
    expect(allow(' 127.0.0.0/8 , ::1,*.corp.example,Intranet.Example. ')).toEqual({
      cidrs: [parseCidr('127.0.0.0/8'), parseCidr('::1')],
      hosts: ['*.corp.example', 'intranet.example'],
    });
    expect(parseAllowlist('10.0.0.0/8,http://x')).toEqual({ problem: '"http://x" is neither a CIDR, an address nor a host name' });
    expect(parseAllowlist('10.0.0.0/40')).toHaveProperty('problem');
  });
});

describe('what outbound calls may reach', () => {
  it.each(['127.0.0.1', '::1', '169.254.169.254', '169.254.1.1', '10.0.0.1', '192.168.0.10', 'fd00::1', '0.0.0.0'])(
    'refuses %s unless allowed',
    (text) => {
      expect(addressRefusal(ip(text), text, none, 'call')).toMatch(/WARDEN_OUTBOUND_ALLOW/);
    },
  );

  it('lets an allowed host name reach a private address, but never the metadata service', () => {
    const hosts = allow('hooks.corp.example');
    expect(addressRefusal(ip('10.0.0.7'), 'hooks.corp.example', hosts, 'call')).toBeUndefined();
    expect(addressRefusal(ip('10.0.0.7'), 'other.corp.example', hosts, 'call')).toMatch(/private/);
    expect(addressRefusal(ip('169.254.169.254'), 'hooks.corp.example', hosts, 'call')).toMatch(/metadata/);
    expect(addressRefusal(ip('169.254.169.254'), '169.254.169.254', allow('169.254.169.254'), 'call')).toBeUndefined();
  });

  it('lets checks, not calls, reach private addresses', () => {
    expect(addressRefusal(ip('10.0.0.7'), 'db.internal', none, 'check')).toBeUndefined();
    expect(addressRefusal(ip('127.0.0.1'), 'db.internal', none, 'check')).toMatch(/loopback/);
  });
});

describe("a check's target", () => {
  const cis = recordedTargets([
    { name: 'portal.example', attributes: {} },
    { name: 'db-01', attributes: { hosts: ['DB-01.corp.example.'], addresses: ['10.9.0.5', '10.8.0.0/24', 169] } },
    { name: '127.0.0.1', attributes: { addresses: ['169.254.169.254'] } },
  ]);

  it('must be recorded on the control CIs: their name, attributes.hosts or attributes.addresses', () => {
    expect(checkTargetRefusal('portal.example', cis, none)).toBeUndefined();
    expect(checkTargetRefusal('db-01.corp.example', cis, none)).toBeUndefined();
    expect(checkTargetRefusal('10.9.0.5', cis, none)).toBeUndefined();
    expect(checkTargetRefusal('10.8.0.77', cis, none)).toBeUndefined();
    expect(checkTargetRefusal('10.9.0.6', cis, none)).toMatch(/not an address recorded on the control's CIs/);
    expect(checkTargetRefusal('elsewhere.example', cis, none)).toMatch(/not a host recorded on the control's CIs/);
  });

  it('refuses loopback, link-local, metadata and local names even when a CI records them', () => {
    expect(checkTargetRefusal('127.0.0.1', cis, none)).toMatch(/loopback/);
    expect(checkTargetRefusal('169.254.169.254', cis, none)).toMatch(/metadata/);
    expect(checkTargetRefusal('localhost', recordedTargets([{ name: 'localhost', attributes: {} }]), none)).toMatch(/this machine/);
    expect(checkTargetRefusal('metadata.google.internal', cis, none)).toMatch(/metadata/);
  });

  it('may be anything the allowlist admits', () => {
    expect(checkTargetRefusal('127.0.0.1', cis, allow('127.0.0.0/8'))).toBeUndefined();
    expect(checkTargetRefusal('scanme.corp.example', cis, allow('*.corp.example'))).toBeUndefined();
  });

  it('is found in each check type, named by its field', () => {
    expect(checkTargets('http_requires_auth', { url: 'https://[::1]:8443/admin' })).toEqual([
      { field: 'url', host: '::1', recorded: true },
    ]);
    expect(checkTargets('tcp_port', { host: 'DB-01.', port: 5432 })).toEqual([{ field: 'host', host: 'db-01', recorded: true }]);
    expect(checkTargets('dns_record', { name: 'x', servers: ['127.0.0.53:53', '[::1]:53', '9.9.9.9'] })).toEqual([
      { field: 'servers.0', host: '127.0.0.53', recorded: false },
      { field: 'servers.1', host: '::1', recorded: false },
      { field: 'servers.2', host: '9.9.9.9', recorded: false },
    ]);
    expect(checkTargets('command', { executable: 'true' })).toEqual([]);
  });
});

describe('the test interval floor', () => {
  it('reads the interval a schedule states, and how fast a cron really runs', () => {
    expect(statedIntervalMs({ every: '5s' })).toBe(5000);
    expect(statedIntervalMs({ cron: '@every 1h30m' })).toBe(5_400_000);
    expect(statedIntervalMs({ cron: '*/5 * * * *' })).toBeUndefined();
    const at = (seconds: number) => new Date(seconds * 1000);
    expect(shortestGapMs([at(0), at(60), at(65), at(200)])).toBe(5000);
    expect(shortestGapMs([at(0)])).toBeNull();
  });
});
