/**
 * Where Warden may connect: the address rules every outbound connection follows (security checks,
 * notification webhooks and Slack, responders, provisioning webhooks, change callbacks). Pure:
 * activities/outbound.ts applies these rules to the addresses DNS gives at connect time, and the API
 * applies them to a control's check target when the control is written.
 */

/** An IP address as bytes: 4 for IPv4, 16 for IPv6. IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is read as IPv4. */
export interface IpAddress {
  family: 4 | 6;
  bytes: number[];
}

export interface Cidr extends IpAddress {
  prefix: number;
}

/** WARDEN_OUTBOUND_ALLOW, parsed: networks, and host names (`host.example` exactly, `*.example` any name below). */
export interface OutboundAllowlist {
  cidrs: Cidr[];
  hosts: string[];
}

export const emptyAllowlist: OutboundAllowlist = { cidrs: [], hosts: [] };

/**
 * `public`: may be reached. The rest are refused unless allowed: `metadata` (cloud instance metadata,
 * which hands out credentials) only by a network in the allowlist; the others also by an allowed
 * host name. `private` (RFC 1918, ULA, carrier-grade NAT) is open to security checks whose target
 * is recorded on their control's CIs (an internal server is what many controls test), never to
 * other outbound calls.
 */
export type AddressClass = 'public' | 'private' | 'loopback' | 'link-local' | 'metadata' | 'unspecified' | 'reserved';

function parseIpv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = parts.map((part) => (/^(0|[1-9]\d{0,2})$/.test(part) ? Number(part) : Number.NaN));
  return bytes.every((byte) => byte >= 0 && byte <= 255) ? bytes : undefined;
}

function parseIpv6(text: string): number[] | undefined {
  let rest = text;
  let tail: number[] = [];
  const lastColon = rest.lastIndexOf(':');
  if (rest.includes('.', lastColon)) {
    const v4 = parseIpv4(rest.slice(lastColon + 1));
    if (!v4) return undefined;
    tail = v4;
    rest = `${rest.slice(0, lastColon + 1)}0:0`;
  }
  const halves = rest.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string) => (half === '' ? [] : half.split(':'));
  const head = groups(halves[0] as string);
  const back = halves.length === 2 ? groups(halves[1] as string) : [];
  const missing = 8 - head.length - back.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...back];
  if (!all.every((group) => /^[0-9a-f]{1,4}$/i.test(group))) return undefined;
  const bytes = all.flatMap((group) => {
    const value = Number.parseInt(group, 16);
    return [value >> 8, value & 0xff];
  });
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}

const isMappedIpv4 = (bytes: number[]) => bytes.slice(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff;

/** An IPv4 or IPv6 literal (brackets and a zone id allowed), or undefined for anything else, host names included. */
export function parseIp(text: string): IpAddress | undefined {
  const bare = text
    .trim()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/%.*$/, '');
  const v4 = parseIpv4(bare);
  if (v4) return { family: 4, bytes: v4 };
  if (!bare.includes(':')) return undefined;
  const v6 = parseIpv6(bare);
  if (!v6) return undefined;
  return isMappedIpv4(v6) ? { family: 4, bytes: v6.slice(12) } : { family: 6, bytes: v6 };
}

/** `10.0.0.0/8`, `fd00::/8`, or a single address (a /32 or /128). */
export function parseCidr(text: string): Cidr | undefined {
  const [address, prefixText, ...extra] = text.trim().split('/');
  if (extra.length || address === undefined) return undefined;
  const ip = parseIp(address);
  if (!ip) return undefined;
  const max = ip.family === 4 ? 32 : 128;
  if (prefixText === undefined) return { ...ip, prefix: max };
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  // `::ffff:10.0.0.0/104` reads as IPv4, so its prefix counts from the IPv4 part.
  const mappedPrefix = ip.family === 4 && address.includes(':') ? prefix - 96 : prefix;
  return mappedPrefix >= 0 && mappedPrefix <= max ? { ...ip, prefix: mappedPrefix } : undefined;
}

export function inCidr(address: IpAddress, cidr: Cidr): boolean {
  if (address.family !== cidr.family) return false;
  for (let bit = 0; bit < cidr.prefix; bit += 8) {
    const width = Math.min(8, cidr.prefix - bit);
    const mask = (0xff << (8 - width)) & 0xff;
    if (((address.bytes[bit / 8] as number) & mask) !== ((cidr.bytes[bit / 8] as number) & mask)) return false;
  }
  return true;
}

const cidrs = (...texts: string[]) => texts.map((text) => parseCidr(text) as Cidr);

/** Instance metadata endpoints of AWS (IPv4, IPv6, ECS, DNS), GCP, Azure, OpenStack, Oracle (all 169.254.169.254), Alibaba. */
const metadataNetworks = cidrs(
  '169.254.169.254',
  '169.254.169.253',
  '169.254.170.2',
  '169.254.170.23',
  'fd00:ec2::254',
  'fd00:ec2::23',
  '100.100.100.200',
);
const addressClasses: [AddressClass, Cidr[]][] = [
  ['metadata', metadataNetworks],
  ['unspecified', cidrs('0.0.0.0/8', '::/128')],
  ['loopback', cidrs('127.0.0.0/8', '::1/128')],
  ['link-local', cidrs('169.254.0.0/16', 'fe80::/10')],
  ['private', cidrs('10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7')],
  [
    'reserved',
    cidrs(
      '192.0.0.0/24',
      '198.18.0.0/15',
      '224.0.0.0/4',
      '240.0.0.0/4',
      'ff00::/8',
      // NAT64 and 6to4 carry an IPv4 address inside: refused rather than decoded.
      '64:ff9b::/96',
      '64:ff9b:1::/48',
      '2002::/16',
      '100::/64',
      'fec0::/10',
    ),
  ],
];

export function addressClass(address: IpAddress): AddressClass {
  for (const [name, networks] of addressClasses) if (networks.some((network) => inCidr(address, network))) return name;
  return 'public';
}

export function formatIp(address: IpAddress): string {
  if (address.family === 4) return address.bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((address.bytes[i] as number) << 8) | (address.bytes[i + 1] as number)).toString(16));
  return groups
    .join(':')
    .replace(/(^|:)0(:0)+(:|$)/, '::')
    .replace(/:::+/, '::');
}

/** Lower-case, no trailing dot, no brackets: how host names and literals are compared. */
export const normalizeHost = (host: string) =>
  host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');

const hostNamePattern = /^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** Parses WARDEN_OUTBOUND_ALLOW: comma-separated CIDRs, addresses and host names (`*.corp.example` for every name below). */
export function parseAllowlist(text: string | undefined): { allowlist: OutboundAllowlist } | { problem: string } {
  const allowlist: OutboundAllowlist = { cidrs: [], hosts: [] };
  for (const raw of (text ?? '').split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    const cidr = parseCidr(entry);
    if (cidr) allowlist.cidrs.push(cidr);
    else if (!entry.includes('/') && hostNamePattern.test(normalizeHost(entry))) allowlist.hosts.push(normalizeHost(entry));
    else return { problem: `${JSON.stringify(entry)} is neither a CIDR, an address nor a host name` };
  }
  return { allowlist };
}

export function hostAllowed(host: string, allowlist: OutboundAllowlist): boolean {
  const name = normalizeHost(host);
  return allowlist.hosts.some((entry) => (entry.startsWith('*.') ? name.endsWith(entry.slice(1)) : name === entry));
}

export function addressAllowed(address: IpAddress, allowlist: OutboundAllowlist): boolean {
  return allowlist.cidrs.some((cidr) => inCidr(address, cidr));
}

/** Names that always mean this machine or the metadata service, whatever DNS says. */
const localNames = [/^localhost$/, /\.localhost$/, /^metadata$/, /^metadata\.google\.internal$/, /^instance-data(\.ec2\.internal)?$/];
export const isLocalName = (host: string) => localNames.some((pattern) => pattern.test(normalizeHost(host)));

export type OutboundPurpose = 'call' | 'check';

/**
 * Why a connection to `address` (what `host` resolved to, or the literal itself) is refused, or
 * undefined when it may go ahead. An allowlisted network admits any address in it; an allowlisted
 * host name admits whatever it resolves to except a metadata endpoint.
 */
export function addressRefusal(
  address: IpAddress,
  host: string,
  allowlist: OutboundAllowlist,
  purpose: OutboundPurpose,
): string | undefined {
  if (addressAllowed(address, allowlist)) return undefined;
  const kind = addressClass(address);
  if (kind === 'public') return undefined;
  if (kind === 'private' && purpose === 'check') return undefined;
  if (kind !== 'metadata' && parseIp(host) === undefined && hostAllowed(host, allowlist)) return undefined;
  const shown = formatIp(address);
  const via = normalizeHost(host) === shown || parseIp(host) ? shown : `${host} (${shown})`;
  return `${via} is a ${kind} address; add it to WARDEN_OUTBOUND_ALLOW to allow it`;
}

/** What a control's CIs record as the hosts and addresses its checks may reach. */
export interface RecordedTargets {
  names: string[];
  networks: Cidr[];
}

const stringList = (value: unknown): string[] =>
  typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];

/**
 * The CMDB records no network identity of its own, so a CI's checkable targets are its name and the
 * free-form attributes `hosts` (names) and `addresses` (addresses or CIDRs); a name that parses as
 * an address counts as one.
 */
export function recordedTargets(cis: readonly { name: string; attributes: Record<string, unknown> }[]): RecordedTargets {
  const names: string[] = [];
  const networks: Cidr[] = [];
  for (const ci of cis) {
    for (const entry of [ci.name, ...stringList(ci.attributes.hosts), ...stringList(ci.attributes.addresses)]) {
      const cidr = parseCidr(entry);
      if (cidr) networks.push(cidr);
      else names.push(normalizeHost(entry));
    }
  }
  return { names, networks };
}

/**
 * Why a security check may not aim at `host`, before any connection: it must be recorded on the
 * control's CIs or inside WARDEN_OUTBOUND_ALLOW, and a literal address must not be of a refused
 * class. The resolved address is checked again at connect time (activities/outbound.ts).
 */
export function checkTargetRefusal(host: string, recorded: RecordedTargets, allowlist: OutboundAllowlist): string | undefined {
  const address = parseIp(host);
  if (address) {
    const refusal = addressRefusal(address, host, allowlist, 'check');
    if (refusal) return refusal;
    if (addressAllowed(address, allowlist) || recorded.networks.some((network) => inCidr(address, network))) return undefined;
    return `${formatIp(address)} is not an address recorded on the control's CIs (attributes.addresses) nor in WARDEN_OUTBOUND_ALLOW`;
  }
  if (hostAllowed(host, allowlist)) return undefined;
  if (isLocalName(host)) return `${host} names this machine or a metadata service; add it to WARDEN_OUTBOUND_ALLOW to allow it`;
  if (recorded.names.includes(normalizeHost(host))) return undefined;
  return `${host} is not a host recorded on the control's CIs (their name or attributes.hosts) nor in WARDEN_OUTBOUND_ALLOW`;
}

/**
 * The hosts a check connects to, with the parameter that names each (for refusals that name the
 * field). `recorded`: the host must be on the control's CIs or allowlisted; DNS servers a
 * `dns_record` check asks are not what it tests, so only the address rules apply to them.
 */
export function checkTargets(check: string, params: Record<string, unknown>): { field: string; host: string; recorded: boolean }[] {
  const hostOfUrl = (value: unknown) => {
    if (typeof value !== 'string') return [];
    try {
      return [normalizeHost(new URL(value).hostname)];
    } catch {
      return [];
    }
  };
  switch (check) {
    case 'http_security_headers':
    case 'http_requires_auth':
      return hostOfUrl(params.url).map((host) => ({ field: 'url', host, recorded: true }));
    case 'tls_certificate':
    case 'tcp_port':
      return typeof params.host === 'string' ? [{ field: 'host', host: normalizeHost(params.host), recorded: true }] : [];
    case 'dns_record':
      // `1.1.1.1`, `1.1.1.1:53`, `[2001:db8::1]:53`: the address without its port.
      return stringList(params.servers).map((server, index) => ({
        field: `servers.${index}`,
        host: normalizeHost(server.replace(/^\[(.*)\](:\d+)?$/, '$1').replace(/^([\d.]+):\d+$/, '$1')),
        recorded: false,
      }));
    default:
      return [];
  }
}
