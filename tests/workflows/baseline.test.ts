import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodedHistoryJson } from '../setup/histories';
import { baselineMeasures } from '../../domain/classification';
import { decide, openTask, seedCi } from '../setup/fixtures';
import { seedControl } from '../setup/review-seeds';
import { eventually, startStack, type Stack } from '../setup/stack';
import { linkPendingAudit } from '../../db/audit-linker';

let stack: Stack;
const tokens = {} as Record<'max' | 'mia' | 'auditor' | 'owner', string>;

beforeAll(async () => {
  stack = await startStack();
  tokens.max = await stack.token(['security_manager'], 'max');
  tokens.mia = await stack.token(['security_manager'], 'mia');
  tokens.auditor = await stack.token(['auditor'], 'audrey');
  tokens.owner = await stack.token(['service_owner'], 'sam');
});
afterAll(() => stack?.close());

type Entry = {
  control: string;
  applicable: boolean;
  justification: string;
  measures: string[];
  controls: { name: string; lastResult: string | null }[];
};
const entry = (soa: { entries: Entry[] }, control: string) => soa.entries.find((e) => e.control === control) as Entry;

describe('the tailorable baseline', () => {
  it('versions the measure set, refuses self-approval, takes a version approved by a second manager, and the SoA follows it', async () => {
    // Version 1 is the built-in set.
    const v1 = await stack.request('GET', '/baseline', { token: tokens.owner });
    expect(v1.body).toMatchObject({ version: 1, status: 'approved', proposedBy: 'system:warden' });
    expect(v1.body.measures).toEqual(baselineMeasures);

    const { serviceId, ciId } = await seedCi(stack.db, {
      level: 'high',
      owner: 'sam',
      sla: { additionalRequirements: [{ id: 'SR-1', title: 'Yearly penetration test' }] },
    });
    const encryption = await seedControl(stack.db, {
      name: 'Disk encryption check',
      owner: 'olga',
      ciIds: [ciId],
      baselineMeasures: ['BL-C3'],
      runs: [['2026-11-20T00:00:00Z', 'passed']],
    });
    const soa1 = (await stack.request('GET', '/statement-of-applicability', { token: tokens.auditor })).body;
    expect(soa1.baselineVersion).toBe(1);
    expect(soa1.entries).toHaveLength(93);
    expect(entry(soa1, 'A.8.24')).toMatchObject({
      applicable: true,
      justification: 'required by baseline version 1: BL-C3',
      measures: ['BL-C3'],
      controls: [{ controlId: encryption, name: 'Disk encryption check', lastResult: 'passed', lastTestedAt: '2026-11-20T00:00:00.000Z' }],
    });
    expect(entry(soa1, 'A.6.3')).toMatchObject({ applicable: false, measures: [], controls: [] });

    // Bad proposals name the field; the service owner may not propose.
    const measure = {
      id: 'BL-C6',
      title: 'Security awareness training for administrators',
      aspect: 'confidentiality',
      from: 'high',
      annexA: ['A.6.3'],
    };
    const proposal = {
      reason: 'administrators of high-confidentiality systems are trained every year',
      measures: [...baselineMeasures, measure],
      statements: [{ control: 'A.7.4', applicable: false, justification: 'no premises of our own: hosted in a certified data centre' }],
    };
    const twice = await stack.request('POST', '/baseline/versions', {
      token: tokens.max,
      body: { ...proposal, measures: [measure, measure] },
    });
    expect(twice.status).toBe(400);
    expect(twice.body.errors).toEqual([{ path: 'body.measures.1', message: 'BL-C6 is listed twice' }]);
    const badAnnex = await stack.request('POST', '/baseline/versions', {
      token: tokens.max,
      body: { ...proposal, measures: [{ ...measure, annexA: ['A.9.1'] }] },
    });
    expect(badAnnex.body.errors[0].path).toBe('body.measures.0.annexA.0');
    expect((await stack.request('POST', '/baseline/versions', { token: tokens.owner, body: proposal })).status).toBe(403);

    // A control may link only measures an approved version defines.
    const trainingControl = {
      name: 'Administrator training records',
      owner: 'olga',
      kind: 'organisational',
      process: 'security',
      ciIds: [ciId],
      baselineMeasures: ['BL-C6'],
      procedure: { type: 'manual', instructions: 'check the training records of the administrators' },
    };
    const early = await stack.request('POST', '/controls', { token: tokens.max, body: trainingControl });
    expect(early.status).toBe(400);
    expect(early.body.errors).toEqual([{ path: 'body.baselineMeasures.0', message: 'no approved baseline version defines measure BL-C6' }]);

    const proposed = await stack.request('POST', '/baseline/versions', { token: tokens.max, body: proposal });
    expect(proposed.status).toBe(202);
    expect(proposed.body).toEqual({ version: 2, workflowId: 'baseline/v2', status: 'pending_approval' });
    const second = await stack.request('POST', '/baseline/versions', { token: tokens.mia, body: proposal });
    expect(second.status).toBe(409);
    expect(second.body.detail).toBe('baseline version 2 still awaits approval');

    // Max may not approve his own proposal; the refusal is audited. Mia approves.
    const task = await openTask(stack, tokens.mia, '2', 'baseline.approval');
    const own = await decide(stack, tokens.max, task.id, 'approved');
    expect(own.status).toBe(403);
    expect((await stack.request('GET', '/baseline', { token: tokens.owner })).body.version).toBe(1);
    expect((await decide(stack, tokens.mia, task.id, 'approved', { comment: 'agreed' })).status).toBe(200);
    const v2 = await eventually(async () => {
      const current = (await stack.request('GET', '/baseline', { token: tokens.owner })).body;
      return current.version === 2 && current;
    });
    if (process.env.WARDEN_RECORD_HISTORIES === '1') {
      await stack.temporal.client.workflow.getHandle('baseline/v2').result();
      const history = await decodedHistoryJson(stack.temporal.client, 'baseline/v2', stack.app.codec);
      writeFileSync(new URL('../replay/histories/baseline-approval-self-approval-refused.json', import.meta.url), history);
    }
    expect(v2).toMatchObject({ status: 'approved', proposedBy: 'max', decidedBy: 'mia', comment: 'agreed', workflowId: 'baseline/v2' });
    const versions = (await stack.request('GET', '/baseline/versions', { token: tokens.auditor })).body.items;
    expect(versions.map((v: { version: number; status: string }) => [v.version, v.status])).toEqual([
      [2, 'approved'],
      [1, 'approved'],
    ]);
    await linkPendingAudit(stack.db);
    const audit = await stack.db
      .selectFrom('audit_events')
      .select(['action', 'actor', 'details'])
      .where((eb) => eb.or([eb('subject_type', '=', 'baseline'), eb('action', '=', 'task.decision_refused')]))
      .orderBy('id')
      .execute();
    expect(audit.map((e) => [e.action, e.actor])).toEqual([
      ['baseline.version_proposed', 'max'],
      ['task.opened', 'system:warden'],
      ['task.decision_refused', 'max'],
      ['task.decided', 'mia'],
      ['baseline.version_approved', 'mia'],
    ]);

    // The new measure applies to high CIs; the service's SLA requirement stays on top.
    const ci = (await stack.request('GET', `/cis/${ciId}`, { token: tokens.owner })).body;
    expect(ci.baseline.map((m: { id: string }) => m.id)).toContain('BL-C6');
    const service = (await stack.request('GET', `/services/${serviceId}`, { token: tokens.owner })).body;
    expect(service.requiredMeasures.map((m: { id: string }) => m.id).slice(-2)).toEqual(['BL-C6', 'SR-1']);

    expect((await stack.request('POST', '/controls', { token: tokens.max, body: trainingControl })).status).toBe(201);

    // The SoA reflects version 2, in JSON, CSV and HTML.
    const soa2 = (await stack.request('GET', '/statement-of-applicability', { token: tokens.auditor })).body;
    expect(soa2.baselineVersion).toBe(2);
    expect(entry(soa2, 'A.6.3')).toMatchObject({
      applicable: true,
      justification: 'required by baseline version 2: BL-C6',
      measures: ['BL-C6'],
    });
    expect(entry(soa2, 'A.7.4')).toMatchObject({
      applicable: false,
      justification: 'no premises of our own: hosted in a certified data centre',
    });
    const csv = await stack.request('GET', '/statement-of-applicability?format=csv', { token: tokens.auditor });
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = csv.body.trimEnd().split('\r\n');
    expect(lines).toHaveLength(94);
    expect(lines[0]).toBe('Control,Title,Applicable,Justification,Baseline measures,Warden controls (last test)');
    expect(lines).toContain(
      'A.6.3,"Information security awareness, education and training",yes,required by baseline version 2: BL-C6,BL-C6,Administrator training records (never tested)',
    );
    const html = await stack.request('GET', '/statement-of-applicability', { token: tokens.auditor, headers: { accept: 'text/html' } });
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(html.body).toContain('baseline version 2');
    expect((html.body.match(/<tr class=/g) ?? []).length).toBe(93);
    expect(html.body).not.toContain('<script');
    expect((await stack.request('GET', '/statement-of-applicability', { token: tokens.owner })).status).toBe(403);
  });
});
