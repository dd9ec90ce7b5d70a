import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attackTechniquesCovered } from '../../db/measures/attack-techniques-covered';
import { computeMeasures, measurePeriod } from '../../db/measures/index';
import { decide, openTask, seedCi, incidentWhen } from '../setup/fixtures';
import { recordHistory } from '../setup/histories';
import { signedIn } from '../setup/web';
import { elasticFailedLogons, sentinelIncidentSample, splunkKerberosFailures, wazuhSshBruteForce } from '../setup/siem-samples';
import { startStack, type Stack } from '../setup/stack';

let stack: Stack;
const tokens = {} as Record<'siem' | 'analyst' | 'manager' | 'auditor' | 'reporter', string>;
// Mon–Fri office hours on the batch hosts: the format docs/cmdb.md documents.
const officeHours = {
  windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '07:00', end: '19:00' }],
  systems: ['batch-01', 'batch-02'],
};
const unique = (name: string) => `${name}-${crypto.randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  // A burst threshold of 2 keeps the burst test short; correlation keeps its defaults (24h, hosts left out).
  stack = await startStack({ env: { WARDEN_ALERT_BURST_THRESHOLD: '2' } });
  tokens.siem = await stack.token(['reporter'], 'siem-connector');
  tokens.reporter = await stack.token(['reporter'], 'rita');
  tokens.analyst = await stack.token(['security_analyst'], 'ana');
  tokens.manager = await stack.token(['security_manager'], 'max');
  tokens.auditor = await stack.token(['auditor'], 'audrey');
});
afterAll(() => stack?.close());

const incident = (id: string, until: (incident: any) => boolean, what: string) => incidentWhen(stack, tokens.auditor, id, until, what);

const post = (body: unknown) => stack.request('POST', '/alerts', { token: tokens.siem, body });

describe('the seed scenario', () => {
  it('turns two SIEM rules about one service account at 02:00 on a Saturday into one escalated incident with both alerts, the account and both hosts', async () => {
    const account = unique('svc-payroll');
    const [hrDb, dc] = [unique('hr-db'), unique('dc')];
    // Low classification everywhere: the CMDB alone would make this a medium incident.
    const accountCi = await seedCi(stack.db, {
      name: account,
      type: 'service_account',
      level: 'low',
      attributes: { expectedActivity: officeHours },
    });
    const hrDbCi = await seedCi(stack.db, { name: hrDb, level: 'low' });
    const dcCi = await seedCi(stack.db, { name: dc, level: 'low' });

    const kerberos = await post(splunkKerberosFailures(account, dc, '10.9.0.1'));
    expect(kerberos.status).toBe(202);
    expect(kerberos.body.verdict).toBe('incident');
    expect(kerberos.body.reason).toMatch(/escalated to at least high: activity at sat 02:00 UTC is outside the documented windows/);
    const logons = await post(elasticFailedLogons(account, hrDb, '10.9.0.2'));
    expect(logons.body).toMatchObject({ verdict: 'attached', incidentId: kerberos.body.incidentId });
    expect(logons.body.reason).toBe(`shares account ${account} with the open incident`);

    const found = await incident(
      kerberos.body.incidentId,
      (i) => i.alerts.length === 2 && i.affectedCis.length === 3,
      'one incident with both alerts and CIs',
    );
    expect(found.alerts.map((a: { source: string }) => a.source).sort()).toEqual(['elastic', 'splunk']);
    expect(found.affectedCis.sort()).toEqual([accountCi.ciId, hrDbCi.ciId, dcCi.ciId].sort());
    expect(found.observables.map((o: { type: string; value: string }) => `${o.type}:${o.value}`)).toEqual(
      expect.arrayContaining([`account:${account}`, `host:${hrDb}`, `host:${dc}`]),
    );
    expect(found).toMatchObject({ category: 'unauthorised_access', severity: 'high', severityFloor: 'high' });
    expect(found.attackTechniques).toEqual(['T1110.003']);
    expect(found.description).toMatch(/outside the documented windows/);
    expect(found.timeline.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['alert.incident', 'alert.attached']));

    // The inbox shows the same: the observables with where they came from.
    const page = await (await signedIn(stack, tokens.analyst)).get(`/ui/incidents/${kerberos.body.incidentId}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<h2>Observables</h2>');
    expect(page.body).toContain(dc.toLowerCase());
    expect(page.body).toContain('T1110.003');

    const seen = await stack.request('GET', `/observables?type=account&value=${account.toUpperCase()}`, { token: tokens.analyst });
    expect(seen.status).toBe(200);
    expect(seen.body.alerts).toHaveLength(2);
    expect(seen.body.incidents.map((i: { id: string }) => i.id)).toEqual([kerberos.body.incidentId]);
  });

  it('records an in-window burst above the threshold as an incident, not benign', async () => {
    const account = unique('svc-backup');
    await seedCi(stack.db, { name: account, type: 'service_account', attributes: { expectedActivity: officeHours } });
    const at = (minute: number) => `2026-11-18T10:0${minute}:00Z`; // a Wednesday, in the window
    const verdicts = [];
    for (const minute of [0, 1, 2]) {
      verdicts.push(
        (await post({ source: 'elastic', rule: `Login ${minute}`, severity: 'low', host: 'batch-01', account, time: at(minute) })).body,
      );
    }
    expect(verdicts.map((v) => v.verdict)).toEqual(['benign', 'benign', 'incident']);
    expect(verdicts[2].reason).toMatch(/3 alert\(s\) about the account within 15m, above the burst threshold of 2/);
  });
});

describe('SIEM formats and severity', () => {
  it('files a Wazuh sshd brute force tagged T1110 as unauthorised access, not other', async () => {
    const host = unique('web');
    await seedCi(stack.db, { name: host, level: 'medium' });
    const verdict = await post(wazuhSshBruteForce(host, unique('root'), '203.0.113.61'));
    expect(verdict.body.verdict).toBe('incident');
    const found = await incident(verdict.body.incidentId, () => true, 'the Wazuh incident');
    expect(found).toMatchObject({ category: 'unauthorised_access', attackTechniques: ['T1110'], source: 'siem:wazuh' });
  });

  it('takes the higher of the SIEM’s severity and the CMDB’s (a Sentinel High on a low host is high)', async () => {
    const host = unique('app');
    await seedCi(stack.db, { name: host, level: 'low' });
    const verdict = await post(sentinelIncidentSample(unique('svc-app'), host, '198.51.100.61', unique('sentinel')));
    expect(verdict.body.verdict).toBe('incident');
    const found = await incident(verdict.body.incidentId, () => true, 'the Sentinel incident');
    expect(found).toMatchObject({ severity: 'high', severityFloor: 'high', source: 'siem:sentinel' });
    expect(found.observables).toContainEqual(
      expect.objectContaining({ type: 'url', value: 'https://login.example.org/adfs/ls', origin: 'alert' }),
    );
  });

  it('answers an unknown shape with 400 naming what is missing, and records nothing', async () => {
    const before = await stack.db
      .selectFrom('security_alerts_received')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    const unknown = await post({ alert: 'something happened' });
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get('content-type')).toContain('application/problem+json');
    expect(unknown.body.errors[0].message).toMatch(/unknown alert shape.*\(search_name, result\)/);
    const splunkWithoutRow = await post({ search_name: 'x' });
    expect(splunkWithoutRow.body.errors.map((e: { path: string }) => e.path)).toEqual(['body.result']);
    const after = await stack.db
      .selectFrom('security_alerts_received')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
  });
});

describe('IOCs', () => {
  it('raises a later alert carrying a known IOC to at least high, and finds every case that saw it', async () => {
    const ip = '192.0.2.77';
    expect(
      (await stack.request('POST', '/observables/iocs', { token: tokens.auditor, body: { type: 'ip', value: ip, reason: 'x' } })).status,
    ).toBe(403);
    const marked = await stack.request('POST', '/observables/iocs', {
      token: tokens.analyst,
      body: { type: 'ip', value: ip, reason: 'C2 address from the CERT advisory' },
    });
    expect(marked.status).toBe(201);
    expect(
      (await stack.request('POST', '/observables/iocs', { token: tokens.analyst, body: { type: 'ip', value: ip, reason: 'again' } })).body
        .marked,
    ).toBe(false);
    const badValue = await stack.request('POST', '/observables/iocs', {
      token: tokens.analyst,
      body: { type: 'ip', value: 'not-an-ip', reason: 'x' },
    });
    expect(badValue.body.errors).toEqual([{ path: 'body.value', message: 'not a valid ip' }]);

    const host = unique('kiosk');
    await seedCi(stack.db, { name: host, level: 'low' });
    const verdict = await post({
      source: 'suricata',
      rule: 'Outbound connection',
      severity: 'low',
      host,
      time: '2026-11-25T12:00:00Z',
      observables: [{ type: 'ip', value: ip }],
    });
    expect(verdict.body.reason).toMatch(/carries known IOC ip 192\.0\.2\.77: at least high/);
    const found = await incident(verdict.body.incidentId, () => true, 'the IOC incident');
    expect(found.severity).toBe('high');
    expect(found.observables).toContainEqual(expect.objectContaining({ type: 'ip', value: ip, ioc: true }));

    const seen = await stack.request('GET', `/observables?type=ip&value=${ip}`, { token: tokens.auditor });
    expect(seen.body).toMatchObject({ type: 'ip', value: ip, ioc: { reason: 'C2 address from the CERT advisory', markedBy: 'ana' } });
    expect(seen.body.incidents.map((i: { id: string }) => i.id)).toEqual([verdict.body.incidentId]);
    expect((await stack.request('GET', `/observables?type=ip&value=${ip}`, { token: tokens.reporter })).status).toBe(403);
  });
});

describe('merging and linking', () => {
  it('merges a duplicate: it closes, its alerts and observables move, its open tasks are cancelled, both record it', async () => {
    const account = unique('svc-mail');
    await seedCi(stack.db, { name: account, type: 'service_account' });
    // Hosts do not correlate by default: two alerts about one host open two incidents.
    const host = unique('mx');
    await seedCi(stack.db, { name: host });
    const first = await post({ source: 'edr', rule: 'Suspicious login', severity: 'medium', host, account, time: '2026-11-26T08:00:00Z' });
    const second = await post({ source: 'edr', rule: 'Mailbox rule created', severity: 'medium', host, time: '2026-11-26T08:05:00Z' });
    expect([first.body.verdict, second.body.verdict]).toEqual(['incident', 'incident']);
    const [survivor, duplicate] = [first.body.incidentId, second.body.incidentId];
    await incident(duplicate, (i) => i.live?.currentStep === 'acknowledge', 'the duplicate waiting for acknowledgement');
    await incident(survivor, (i) => i.status === 'registered', 'the survivor registered');

    const linked = await stack.request('POST', `/incidents/${survivor}/related`, {
      token: tokens.analyst,
      body: { incidentId: duplicate, note: 'same mailbox' },
    });
    expect(linked.status).toBe(201);
    expect(
      (await stack.request('POST', `/incidents/${duplicate}/related`, { token: tokens.analyst, body: { incidentId: survivor } })).status,
    ).toBe(200);
    expect(
      (await stack.request('POST', `/incidents/${survivor}/merge`, { token: tokens.analyst, body: { into: survivor, reason: 'x' } }))
        .status,
    ).toBe(400);
    expect(
      (await stack.request('POST', `/incidents/${duplicate}/merge`, { token: tokens.auditor, body: { into: survivor, reason: 'x' } }))
        .status,
    ).toBe(403);

    const merged = await stack.request('POST', `/incidents/${duplicate}/merge`, {
      token: tokens.analyst,
      body: { into: survivor, reason: 'the same intrusion, reported twice' },
    });
    expect(merged.status).toBe(202);
    const closed = await incident(duplicate, (i) => i.status === 'closed_duplicate', 'the duplicate closed');
    expect(closed).toMatchObject({ mergedInto: survivor, alerts: [], observables: [] });
    expect(closed.tasks.find((t: { kind: string }) => t.kind === 'incident.acknowledge').status).toBe('cancelled');
    expect(closed.timeline.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['incident.linked', 'incident.merged_into', 'task.cancelled']),
    );

    const kept = await incident(survivor, (i) => i.alerts.length === 2, 'the survivor with both alerts');
    expect(kept.related.map((r: { kind: string; id: string }) => `${r.kind}:${r.id}`).sort()).toEqual([
      `merged_from:${duplicate}`,
      `related:${duplicate}`,
    ]);
    expect(kept.timeline.map((e: { action: string }) => e.action)).toContain('incident.merged_from');
    expect(kept.observables.map((o: { type: string; value: string }) => `${o.type}:${o.value}`)).toEqual(
      expect.arrayContaining([`account:${account}`, `host:${host}`]),
    );
    // The survivor carries on: its acknowledge task still takes a decision.
    await decide(stack, tokens.analyst, (await openTask(stack, tokens.analyst, survivor, 'incident.acknowledge')).id, 'acknowledged');
    await incident(survivor, (i) => i.status === 'acknowledged', 'the survivor acknowledged');
    // Triage sets ATT&CK techniques; ids the catalogue does not know are refused and audited.
    await decide(stack, tokens.analyst, (await openTask(stack, tokens.analyst, survivor, 'incident.triage')).id, 'triaged', {
      data: { techniques: ['T1566', 'T9999'] },
    });
    const triaged = await incident(survivor, (i) => i.status !== 'acknowledged' && i.attackTechniques.length > 0, 'the survivor triaged');
    expect(triaged.attackTechniques).toEqual(['T1566']);
    expect(triaged.timeline.find((e: { action: string }) => e.action === 'incident.triaged').details).toMatchObject({
      attackTechniques: ['T1566'],
      unknownAttackTechniques: ['T9999'],
    });
    const again = await stack.request('POST', `/incidents/${duplicate}/merge`, {
      token: tokens.analyst,
      body: { into: survivor, reason: 'x' },
    });
    expect(again.status).toBe(409);
    await recordHistory(stack, `incident/${duplicate}`, 'incident-merged-as-duplicate.json');
  });
});

describe('ATT&CK catalogue', () => {
  it('validates techniques against an imported STIX bundle, stores the known ones and filters incidents by technique', async () => {
    expect((await stack.request('GET', '/attack/catalogue', { token: tokens.analyst })).body).toMatchObject({ source: 'built-in' });
    const pattern = (id: string, name: string) => ({
      type: 'attack-pattern',
      id: `attack-pattern--${crypto.randomUUID()}`,
      name,
      external_references: [{ source_name: 'mitre-attack', external_id: id, url: `https://attack.mitre.org/techniques/${id}` }],
      kill_chain_phases: [{ kill_chain_name: 'mitre-attack', phase_name: 'credential-access' }],
    });
    const bundle = {
      type: 'bundle',
      id: `bundle--${crypto.randomUUID()}`,
      objects: [pattern('T1110', 'Brute Force'), pattern('T1110.003', 'Password Spraying')],
    };
    expect((await stack.request('PUT', '/attack/catalogue', { token: tokens.analyst, body: bundle })).status).toBe(403);
    const imported = await stack.request('PUT', '/attack/catalogue', { token: tokens.manager, body: bundle });
    expect(imported.body).toMatchObject({ source: 'imported', count: 2, bundleId: bundle.id });

    const host = unique('vpn');
    await seedCi(stack.db, { name: host });
    const verdict = await post({
      source: 'siem',
      rule: 'Spray',
      severity: 'medium',
      host,
      time: '2026-11-27T03:00:00Z',
      techniques: ['T1110.003', 'T1566'],
    });
    expect(verdict.body.reason).toMatch(/ATT&CK ids not in the catalogue, ignored: T1566/);
    const found = await incident(verdict.body.incidentId, () => true, 'the sprayed incident');
    expect(found).toMatchObject({ attackTechniques: ['T1110.003'], category: 'unauthorised_access' });
    const filtered = await stack.request('GET', '/incidents?technique=T1110', { token: tokens.auditor });
    expect(filtered.body.items.map((i: { id: string }) => i.id)).toContain(verdict.body.incidentId);
    expect(filtered.body.items.every((i: { attackTechniques: string[] }) => i.attackTechniques.some((t) => t.startsWith('T1110')))).toBe(
      true,
    );
    expect((await stack.request('GET', '/incidents?technique=brute', { token: tokens.auditor })).status).toBe(400);

    // The review sets the techniques seen against the controls that cover them (a control on T1110 covers T1110.003).
    const now = Date.now();
    const period = measurePeriod(new Date(now - 3_600_000), new Date(now + 3_600_000));
    const [before] = await computeMeasures(stack.db, period, null, [attackTechniquesCovered]);
    expect(before?.result.breakdown).toContainEqual(expect.objectContaining({ label: 'T1110.003: no covering control' }));
    const control = await stack.request('POST', '/controls', {
      token: tokens.manager,
      body: {
        name: unique('Account lockout policy'),
        owner: 'otto',
        kind: 'technical',
        process: 'security',
        procedure: { type: 'manual', instructions: 'Check the lockout threshold' },
        references: { mitreAttack: ['T1110'] },
      },
    });
    expect(control.status).toBe(201);
    const [after] = await computeMeasures(stack.db, period, null, [attackTechniquesCovered]);
    expect(after?.result.breakdown).toContainEqual(
      expect.objectContaining({ label: `T1110.003: covered by ${control.body.name}`, value: expect.any(Number) }),
    );
    const uncovered = after?.result.breakdown?.filter((entry) => entry.label.endsWith('no covering control')) ?? [];
    expect(uncovered.map((entry) => entry.label)).toEqual(['T1566: no covering control']);
    expect(after?.result.value).toBe(uncovered.length);
  });
});
