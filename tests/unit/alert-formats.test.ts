import { describe, expect, it } from 'vitest';
import { categoryFromTechniques, builtInAttackCatalogue } from '../../domain/attack';
import { judgeAlert } from '../../domain/alert-intake';
import { burstVerdict } from '../../domain/expected-activity';
import { canonicalObservable, cmdbObservables } from '../../domain/observable';
import { alertBody, parseAlert } from '../../schemas/alerts';
import { techniquesOfBundle } from '../../schemas/attack';
import { elasticFailedLogons, sentinelIncidentSample, splunkKerberosFailures, wazuhSshBruteForce } from '../setup/siem-samples';

/** An alert as POST /alerts reads it. */
const readAlert = (body: Record<string, unknown>) => alertBody.parse(body).alert;

const catalogue = (...ids: string[]) => builtInAttackCatalogue.filter((t) => ids.includes(t.id));

describe('SIEM formats', () => {
  it('reads a Splunk webhook: search, first result row, epoch time, indicators and ATT&CK annotations', () => {
    const alert = readAlert(splunkKerberosFailures('svc-payroll', 'DC-01'));
    expect(alert).toMatchObject({
      format: 'splunk',
      source: 'splunk',
      rule: 'Kerberos pre-authentication failures by service account',
      severity: 'medium',
      account: 'svc-payroll',
      host: 'DC-01',
      time: new Date('2026-11-21T02:00:00Z'),
      techniques: ['T1110.003'],
    });
    expect(alert.observables).toEqual([
      { type: 'account', value: 'svc-payroll' },
      { type: 'host', value: 'dc-01' },
      { type: 'ip', value: '10.20.30.40' },
    ]);
  });

  it('reads an Elastic Security alert with dotted Kibana fields and nested ECS, techniques and sub-techniques', () => {
    const alert = readAlert(elasticFailedLogons('svc-payroll', 'hr-db'));
    expect(alert).toMatchObject({ format: 'elastic', severity: 'high', account: 'svc-payroll', host: 'hr-db' });
    expect(alert.techniques).toEqual(['T1110', 'T1110.001']);
    expect(alert.fingerprint).toBe('elastic:48b6edfc-079d-11ed-a108-f661ea17fbcd:svc-payroll');
    expect(alert.observables.map((o) => `${o.type}:${o.value}`)).toEqual(['account:svc-payroll', 'host:hr-db', 'ip:10.20.30.41']);
    // Kibana may nest what it usually dots: the same alert reads the same.
    const nested = {
      ...elasticFailedLogons('svc-payroll', 'hr-db'),
      kibana: { alert: { rule: { name: 'Nested rule' }, severity: 'critical' } },
    };
    for (const key of ['kibana.alert.rule.name', 'kibana.alert.severity']) delete (nested as Record<string, unknown>)[key];
    expect(readAlert(nested)).toMatchObject({ rule: 'Nested rule', severity: 'critical' });
  });

  it('reads a Sentinel incident: its entities become observables, its severity and techniques count', () => {
    const alert = readAlert(sentinelIncidentSample('svc-payroll', 'APP-07'));
    expect(alert).toMatchObject({
      format: 'sentinel',
      severity: 'high',
      account: 'svc-payroll',
      host: 'app-07',
      fingerprint: 'sentinel:73e01a99-5cd7-4139-a149-9f2736ff2ab5',
      time: new Date('2026-11-21T02:00:00Z'),
      techniques: ['T1110'],
    });
    expect(alert.observables).toContainEqual({ type: 'url', value: 'https://login.example.org/adfs/ls' });
    expect(alert.observables).toContainEqual({ type: 'ip', value: '198.51.100.23' });
  });

  it('reads Wazuh rule.mitre and the addresses it saw', () => {
    const alert = readAlert(wazuhSshBruteForce('web-01'));
    expect(alert.techniques).toEqual(['T1110']);
    expect(alert.observables).toEqual(
      expect.arrayContaining([
        { type: 'account', value: 'root' },
        { type: 'host', value: 'web-01' },
        { type: 'ip', value: '203.0.113.9' },
      ]),
    );
  });

  it.each([
    [{ hello: 'world' }, '', /unknown alert shape.*Splunk webhook \(search_name, result\)/],
    [{ search_name: 'x' }, 'result', /expected record/i],
    [{ search_name: 'x', result: { _time: 'yesterday' } }, 'result._time', /epoch seconds/],
    [{ '@timestamp': '2026-11-21T02:00:00Z', host: { name: 'h' } }, 'kibana.alert.rule.name', /required/],
    [{ properties: { title: 't', severity: 'Severe' } }, 'properties.severity', /Informational/],
    [{ properties: { title: 't', severity: 'Low' } }, 'properties.firstActivityTimeUtc', /required/],
    [{ source: 's', rule: 'r', severity: 'high', time: '2026-11-21T02:00:00Z', extra: 1 }, 'extra', /unknown field/],
  ])('refuses %j naming %s', (body, path, message) => {
    const parsed = parseAlert(body);
    expect('issues' in parsed && parsed.issues.map((i) => i.path.join('.'))).toContain(path);
    expect('issues' in parsed && parsed.issues.map((i) => i.message).join(' ')).toMatch(message);
    // POST /alerts's body schema refuses it with the same fields and messages.
    const validated = alertBody.safeParse(body);
    expect(validated.error?.issues.map((i) => ({ path: i.path, message: i.message }))).toEqual('issues' in parsed ? parsed.issues : []);
  });

  it('hands POST /alerts the alert read once, with the document as received', () => {
    const body = wazuhSshBruteForce('web-01');
    const validated = alertBody.parse(body);
    expect(validated.raw).toEqual(body);
    expect(parseAlert(body)).toEqual({ alert: validated.alert });
  });
});

describe('observables', () => {
  it.each([
    ['ip', ' 10.0.0.1 ', '10.0.0.1'],
    ['ip', '2001:DB8::1', '2001:db8::1'],
    ['ip', 'not-an-ip', null],
    ['ip', '999.1.1.1', null],
    ['hash', 'D41D8CD98F00B204E9800998ECF8427E', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['hash', 'abc', null],
    ['domain', 'Evil.Example.COM.', 'evil.example.com'],
    ['url', 'https://x.example/Path?A=1', 'https://x.example/Path?A=1'],
    ['email', 'Ann@Example.org', 'ann@example.org'],
    ['account', 'CORP\\SVC-Payroll', 'corp\\svc-payroll'],
    ['host', 'two words', null],
  ] as const)('%s %j → %j', (type, raw, value) => {
    expect(canonicalObservable(type, raw)?.value ?? null).toBe(value);
  });

  it('takes the CMDB account and host names and the addresses a host documents', () => {
    expect(cmdbObservables({ type: 'service_account', name: 'svc-payroll', attributes: {} })).toEqual([
      { type: 'account', value: 'svc-payroll' },
    ]);
    expect(
      cmdbObservables({
        type: 'server',
        name: 'hr-db',
        attributes: { hosts: ['hr-db.corp.example'], addresses: ['10.1.0.12', '10.1.0.0/24'] },
      }),
    ).toEqual([
      { type: 'host', value: 'hr-db' },
      { type: 'host', value: 'hr-db.corp.example' },
      { type: 'ip', value: '10.1.0.12' },
    ]);
    expect(cmdbObservables({ type: 'application', name: 'payroll', attributes: {} })).toEqual([]);
  });
});

describe('ATT&CK', () => {
  it.each([
    [['T1110'], 'unauthorised_access'],
    [['T1110.003'], 'unauthorised_access'],
    [['T1486'], 'malware'],
    [['T1498'], 'denial_of_service'],
    [['T1190', 'T1110'], 'vulnerability_exploitation'],
    [['T1110', 'T1567'], 'data_leak'],
    [[], undefined],
  ] as const)('%j → %s', (ids, category) => {
    expect(categoryFromTechniques(catalogue(...ids))).toBe(category);
  });

  it('imports current attack-patterns of a STIX bundle and leaves revoked and deprecated ones out', () => {
    const pattern = (id: string, extra: Record<string, unknown> = {}) => ({
      type: 'attack-pattern',
      name: `Technique ${id}`,
      external_references: [{ source_name: 'mitre-attack', external_id: id }],
      kill_chain_phases: [{ kill_chain_name: 'mitre-attack', phase_name: 'credential-access' }],
      ...extra,
    });
    const read = techniquesOfBundle({
      type: 'bundle',
      id: 'bundle--0f2b3c4d-1111-4222-8333-944455566677',
      objects: [
        pattern('T1110'),
        pattern('T1111', { revoked: true }),
        pattern('T1112', { x_mitre_deprecated: true }),
        { type: 'x-mitre-tactic' },
      ],
    });
    expect(read).toEqual({ techniques: [{ id: 'T1110', name: 'Technique T1110', tactics: ['credential-access'] }] });
    expect(
      techniquesOfBundle({ type: 'bundle', id: 'bundle--0f2b3c4d-1111-4222-8333-944455566677', objects: [{ type: 'attack-pattern' }] }),
    ).toMatchObject({
      errors: [{ path: 'body.objects.0.name' }, { path: 'body.objects.0.external_references' }],
    });
  });
});

describe('bursts inside expected activity', () => {
  const rule = { threshold: 5, windowMs: 900_000, window: '15m' };
  it.each([
    [5, false],
    [6, true],
  ])('%i alerts in the window: burst %s', (count, burst) => {
    expect(burstVerdict(count, rule).burst).toBe(burst);
  });
});

describe('judging an alert before correlation', () => {
  const alert = { source: 'splunk', rule: 'Kerberos failures', severity: 'medium' as const };
  const inWindow = { expected: true, reason: 'inside window' };
  const calm = { burst: false, reason: '1 alert(s)' };
  it.each([
    ['no documented activity', {}, false, 'medium', /^splunk alert: Kerberos failures$/],
    ['expected and calm', { expectedActivity: { check: inWindow, burst: calm } }, true, 'medium', /inside window/],
    [
      'outside the window',
      { expectedActivity: { check: { expected: false, reason: 'outside' }, burst: calm } },
      false,
      'high',
      /escalated to at least high: outside/,
    ],
    [
      'a burst in the window',
      { expectedActivity: { check: inWindow, burst: { burst: true, reason: '6 alerts' } } },
      false,
      'high',
      /escalated to at least high: 6 alerts/,
    ],
    [
      'a known IOC in the window',
      { iocs: [{ type: 'ip', value: '192.0.2.1' }], expectedActivity: { check: inWindow, burst: calm } },
      false,
      'high',
      /known IOC ip 192\.0\.2\.1/,
    ],
  ] as const)('%s', (_case, extra, benign, floor, reason) => {
    const judged = judgeAlert({ alert, iocs: [], unknownTechniques: [], ...extra });
    expect(judged).toMatchObject({ benign, severityFloor: floor });
    expect(judged.reason).toMatch(reason);
  });
});
