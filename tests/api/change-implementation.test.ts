import { writeFileSync } from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide, seedCi } from '../setup/fixtures';
import { decodedHistoryJson } from '../setup/histories';
import { closedPort, startHttpServer, type LoopbackServer } from '../setup/loopback';
import { eventually, startStack, type Stack } from '../setup/stack';
import { changeBody, changeWithStatus, noImpact, reviewTask, submitChange } from './change-gate-support';

let stack: Stack;
let requester: string;
let security: string;
/** Listens on 127.0.0.1: a control expecting its port closed fails. */
let exposed: LoopbackServer;

beforeAll(async () => {
  exposed = await startHttpServer((_request, response) => response.end('ok'));
  stack = await startStack();
  requester = await stack.token(['service_owner']);
  security = await stack.token(['security_manager']);
});
afterAll(async () => {
  await stack?.close();
  await exposed?.close();
});

let controls = 0;
/** A control on the CI whose check is a `tcp_port` probe of 127.0.0.1: it passes while the port is closed. */
async function portClosedControl(ciId: string, measure: string, port: number) {
  controls += 1;
  const response = await stack.request('POST', '/controls', {
    token: security,
    body: {
      name: `port ${port} closed ${controls} ${Date.now()}`,
      owner: 'ops',
      kind: 'technical',
      process: 'security',
      ciIds: [ciId],
      baselineMeasures: [measure],
      procedure: { type: 'automated', check: 'tcp_port', params: { host: '127.0.0.1', port, expect: 'closed' } },
    },
  });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body.id as string;
}

/** The test runs the change's gate started for the control (none exist before: the control is new). */
const gateRuns = (controlId: string, workflowId: string) =>
  stack.db.selectFrom('test_runs').selectAll().where('control_id', '=', controlId).where('requested_by', '=', workflowId).execute();

async function approvedChange(ciId: string) {
  const accepted = await submitChange(stack, requester, changeBody({ affectedCis: [ciId] }));
  await changeWithStatus(stack, requester, accepted.id, 'approved');
  return accepted;
}

describe('after implementation', () => {
  it('records "no controls to run" while no control protects the CIs', async () => {
    const { ciId } = await seedCi(stack.db, { level: 'medium' });
    const accepted = await approvedChange(ciId);
    const reported = await stack.request('POST', `/changes/${accepted.id}/implemented`, {
      token: requester,
      body: { notes: 'rolled out at 22:00' },
    });
    expect(reported.status, JSON.stringify(reported.body)).toBe(202);
    const change = await changeWithStatus(stack, requester, accepted.id, 'implemented');
    expect(change.verification.outcome).toBe('no_controls');
    expect(change.verification.summary).toMatch(/^no controls to run/);
    expect(change.verification.checks.map((c: { measureId: string }) => c.measureId)).toEqual([
      'BL-C1',
      'BL-C2',
      'BL-I1',
      'BL-I2',
      'BL-A1',
      'BL-A2',
    ]);
    expect(change.incidentId).toBeNull();
  });

  it('only the requester reports it, and only once approved', async () => {
    const { ciId } = await seedCi(stack.db, { level: 'low' });
    const accepted = await approvedChange(ciId);
    const other = await stack.request('POST', `/changes/${accepted.id}/implemented`, {
      token: await stack.token(['change_manager']),
      body: {},
    });
    expect(other.status).toBe(403);
    const audit = await stack.request('GET', `/audit?subjectType=change&subjectId=${accepted.id}&action=change.update_refused`, {
      token: security,
    });
    expect(audit.body.items).toHaveLength(1);
    expect((await stack.request('POST', `/changes/${accepted.id}/implemented`, { token: requester, body: {} })).status).toBe(202);
    await changeWithStatus(stack, requester, accepted.id, 'implemented');
    expect((await stack.request('POST', `/changes/${accepted.id}/implemented`, { token: requester, body: {} })).status).toBe(409);
  });

  it('runs the tests of the controls protecting the CIs and verifies the baseline with their results', async () => {
    const { ciId } = await seedCi(stack.db, { level: 'low' });
    const controlId = await portClosedControl(ciId, 'BL-C1', await closedPort());
    const accepted = await approvedChange(ciId);
    const reportedAt = new Date();
    expect((await stack.request('POST', `/changes/${accepted.id}/implemented`, { token: requester, body: {} })).status).toBe(202);
    const change = await changeWithStatus(stack, requester, accepted.id, 'verified');
    const runs = await gateRuns(controlId, accepted.workflowId);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: 'finished', result: 'passed', incident_id: null });
    expect(runs[0]!.workflow_id).toMatch(new RegExp(`^security-test/${controlId}-`));
    expect(runs[0]!.created_at.getTime()).toBeGreaterThanOrEqual(reportedAt.getTime() - 1000);
    expect(change.verification.checks.find((c: { measureId: string }) => c.measureId === 'BL-C1')).toMatchObject({
      status: 'holds',
      controlId,
    });
    expect(change.incidentId).toBeNull();
  });

  it('links the one incident a failed test opens to the change, and opens no second one', async () => {
    const { ciId } = await seedCi(stack.db, { level: 'high' });
    const controlId = await portClosedControl(ciId, 'BL-C3', exposed.port);
    const accepted = await submitChange(
      stack,
      requester,
      changeBody({ affectedCis: [ciId], securityImpact: { ...noImpact, dataHandling: true } }),
    );
    const reviewer = await stack.token(['security_reviewer']);
    const review = await reviewTask(stack, reviewer, accepted.id);
    expect((await decide(stack, reviewer, review.id, 'approved')).status).toBe(200);
    await changeWithStatus(stack, requester, accepted.id, 'approved');
    expect((await stack.request('POST', `/changes/${accepted.id}/implemented`, { token: requester, body: {} })).status).toBe(202);
    const result = await stack.temporal.client.workflow.getHandle(accepted.workflowId).result();
    expect(result).toMatchObject({ changeId: accepted.id, status: 'baseline_failed', revision: 1 });

    const [run, ...others] = await gateRuns(controlId, accepted.workflowId);
    expect(others).toHaveLength(0);
    expect(run).toMatchObject({ status: 'finished', result: 'failed', incident_id: expect.any(String) });
    expect(result.incidentId).toBe(run!.incident_id);

    const change = (await stack.request('GET', `/changes/${accepted.id}`, { token: requester })).body;
    expect(change).toMatchObject({ status: 'baseline_failed', incidentId: run!.incident_id });
    expect(change.verification).toMatchObject({ outcome: 'fails', summary: expect.stringMatching(/BL-C3/) });
    expect(change.timeline.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['change.implemented', 'change.baseline_failed', 'change.incident_opened']),
    );

    const incident = await eventually(async () => {
      const response = await stack.request('GET', `/incidents/${run!.incident_id}`, { token: security });
      return response.status === 200 ? response.body : undefined;
    });
    expect(incident.links).toEqual([
      { type: 'test-run', id: run!.id },
      { type: 'control', id: controlId },
      { type: 'change', id: accepted.id },
    ]);
    expect(incident.affectedCis).toEqual([ciId]);
    const aboutTheChange = await sql<{ id: string }>`
      select id from incidents where links @> ${JSON.stringify([{ type: 'change', id: accepted.id }])}::jsonb`.execute(stack.db);
    expect(aboutTheChange.rows).toEqual([{ id: run!.incident_id }]);
    const { events } = await stack.temporal.client.workflow.getHandle(accepted.workflowId).fetchHistory();
    const children = (events ?? []).flatMap((event) => event.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name ?? []);
    expect(children).toEqual(['securityTest']);

    if (process.env.WARDEN_RECORD_HISTORIES === '1') {
      const history = await decodedHistoryJson(stack.temporal.client, accepted.workflowId, stack.app.codec);
      writeFileSync(new URL('../replay/histories/change-security-gate-test-failed.json', import.meta.url), history);
    }
  });
});
