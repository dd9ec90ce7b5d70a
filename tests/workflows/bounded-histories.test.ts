import type { temporal } from '@temporalio/proto';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advisoryStateQuery, rematchSignal } from '../../workflows/advisory/definitions';
import { rematchesPerRun } from '../../workflows/advisory/workflow';
import { escalationsPerRun } from '../../workflows/human-task';
import { decide, openTask, seedCi } from '../setup/fixtures';
import { decodedHistoryJson } from '../setup/histories';
import { eventually, startStack, type Stack } from '../setup/stack';

// Finding 7 of issue #14: nothing called continueAsNew, so an unacknowledged incident (and an
// advisory re-matched over and over) grew its history until Temporal's 50K-event limit killed it.

let stack: Stack;
const tokens = {} as Record<'admin' | 'reporter' | 'manager' | 'analyst' | 'olga', string>;

beforeAll(async () => {
  // The SLA floor is lowered explicitly so a 1 s acknowledge target escalates every second.
  stack = await startStack({ env: { WARDEN_SLA_MIN_TARGET: '1s' } });
  tokens.admin = await stack.token(['admin'], 'adam');
  tokens.reporter = await stack.token(['reporter'], 'rita');
  tokens.manager = await stack.token(['security_manager'], 'max');
  tokens.analyst = await stack.token(['security_analyst'], 'ana');
  tokens.olga = await stack.token(['service_owner'], 'olga');
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

/** Every run of a workflow id, oldest first, with its event count (followed back through continuedExecutionRunId). */
async function runsOf(workflowId: string): Promise<{ runId: string; events: number; continuedAsNew: boolean }[]> {
  const runs: { runId: string; events: number; continuedAsNew: boolean }[] = [];
  let runId: string | undefined = (await stack.temporal.client.workflow.getHandle(workflowId).describe()).runId;
  while (runId) {
    const history: temporal.api.history.v1.IHistory = await stack.temporal.client.workflow.getHandle(workflowId, runId).fetchHistory();
    const list = history.events ?? [];
    runs.unshift({
      runId,
      events: list.length,
      continuedAsNew: list.some((event) => event.workflowExecutionContinuedAsNewEventAttributes),
    });
    runId = list[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  }
  return runs;
}

describe('an incident nobody acknowledges', () => {
  it('continues as new before its history grows, and its acknowledge task stays decidable under its id', async () => {
    const targets = { critical: '1s', high: '1s', medium: '1s', low: '1s' };
    const service = await stack.request('POST', '/services', {
      token: tokens.admin,
      body: { name: 'Payroll', owner: 'sam', sla: { acknowledgeTargets: targets } },
    });
    expect(service.status).toBe(201);
    const ci = await stack.request('POST', '/cis', {
      token: tokens.admin,
      body: {
        name: 'payroll-db',
        type: 'server',
        serviceId: service.body.id,
        owner: 'sam',
        classification: { confidentiality: 'very_high', integrity: 'very_high', availability: 'very_high' },
      },
    });
    expect(ci.status).toBe(201);
    const reported = await stack.request('POST', '/incidents', {
      token: tokens.reporter,
      body: {
        title: 'Payroll export reached from an unknown host',
        description: 'nobody is watching',
        category: 'unauthorised_access',
        affectedCis: [ci.body.id],
        source: 'helpdesk',
      },
    });
    expect(reported.status).toBe(202);
    const { id, workflowId } = reported.body as { id: string; workflowId: string };

    const acknowledge = await openTask(stack, tokens.manager, id, 'incident.acknowledge');
    // An external communication awaits approval while nobody acknowledges: it must cross runs too.
    const proposed = await stack.request('POST', `/incidents/${id}/communications`, {
      token: tokens.analyst,
      body: { audience: 'payroll customers', message: 'We are investigating unusual access.' },
    });
    expect(proposed.status).toBe(202);
    const communication = await openTask(stack, tokens.manager, id, 'incident.communication');
    // More escalations than one run keeps: the incident must have continued as new at least once.
    const level = escalationsPerRun + 3;
    await eventually(
      async () => {
        const task = (await stack.request('GET', `/tasks/${acknowledge.id}`, { token: tokens.manager })).body;
        return task.escalationLevel >= level;
      },
      90_000,
      `the acknowledge task to escalate ${level} times`,
    );

    const runs = await runsOf(workflowId);
    expect(runs.length).toBeGreaterThanOrEqual(2);
    for (const run of runs.slice(0, -1)) expect(run.continuedAsNew).toBe(true);
    // A run holds at most escalationsPerRun escalations (about a dozen events each) plus registration.
    for (const run of runs) expect(run.events).toBeLessThan(250);

    // The same task row, never reopened; one notification per event, none repeated or skipped.
    const taskRows = await stack.db
      .selectFrom('human_tasks')
      .select(['id', 'status'])
      .where('subject_id', '=', id)
      .where('kind', '=', 'incident.acknowledge')
      .execute();
    expect(taskRows).toEqual([{ id: acknowledge.id, status: 'open' }]);
    const notices = await stack.db.selectFrom('notifications').select('dedup_key').where('subject_id', '=', id).execute();
    const keys = notices.map((n) => n.dedup_key);
    expect(keys.filter((key) => key === `incident:${id}:registered`)).toHaveLength(1);
    expect(keys.filter((key) => key === `task:${acknowledge.id}:opened`)).toHaveLength(1);
    const escalations = keys
      .filter((key) => key.startsWith(`task:${acknowledge.id}:escalated-`))
      .map((key) => Number(key.split('-').at(-1)))
      .sort((a, b) => a - b);
    expect(escalations).toEqual(Array.from({ length: escalations.length }, (_, i) => i + 1));

    // The communication's approval task crossed the runs too, still open under its id, and settles.
    const communicationRows = await stack.db
      .selectFrom('human_tasks')
      .select(['id', 'status'])
      .where('subject_id', '=', id)
      .where('kind', '=', 'incident.communication')
      .execute();
    expect(communicationRows).toEqual([{ id: communication.id, status: 'open' }]);
    expect((await decide(stack, tokens.analyst, communication.id, 'approved')).status).toBe(403);
    expect((await decide(stack, tokens.manager, communication.id, 'approved')).status).toBe(200);
    const settled = await eventually(
      async () => {
        const body = (await stack.request('GET', `/incidents/${id}`, { token: tokens.manager })).body;
        return body.communications?.[0]?.decidedBy === 'max' && body;
      },
      20_000,
      'the communication to settle',
    );
    expect(settled.communications).toHaveLength(1);
    expect(settled.live.pendingCommunications).toBe(0);

    // The escalation added the admin role, and the continued run still knows it; a reporter is still refused.
    expect((await decide(stack, tokens.reporter, acknowledge.id, 'acknowledged')).status).toBe(403);
    const state = await stack.request('GET', `/tasks/${acknowledge.id}`, { token: tokens.admin });
    expect(state.body.allowedRoles).toContain('admin');
    const decided = await decide(stack, tokens.analyst, acknowledge.id, 'acknowledged');
    expect(decided.status).toBe(200);
    expect(decided.body.status).toBe('decided');

    // The continued run goes on with the procedure: triage opens, and the incident is acknowledged.
    await openTask(stack, tokens.analyst, id, 'incident.triage');
    const incident = (await stack.request('GET', `/incidents/${id}`, { token: tokens.manager })).body;
    expect(incident.status).toBe('acknowledged');
    // Sent again, the same decision is answered as it was; any other conflicts with the closed task.
    const repeated = await decide(stack, tokens.analyst, acknowledge.id, 'acknowledged');
    expect(repeated.status).toBe(200);
    expect(repeated.body.status).toBe('decided');
    expect((await decide(stack, tokens.admin, acknowledge.id, 'acknowledged')).status).toBe(409);

    // The run that continued as new and the run that resumed and was acknowledged, for the replay tests.
    if (process.env.WARDEN_RECORD_HISTORIES === '1') {
      const all = await runsOf(workflowId);
      const record = async (runId: string, file: string) =>
        writeFileSync(
          new URL(`../replay/histories/${file}`, import.meta.url),
          await decodedHistoryJson(stack.temporal.client, workflowId, stack.app.codec, runId),
        );
      await record((all[0] as { runId: string }).runId, 'incident-acknowledge-continued-as-new.json');
      await record((all.at(-1) as { runId: string }).runId, 'incident-acknowledge-resumed.json');
    }
  }, 150_000);
});

describe('an advisory re-matched over and over', () => {
  it('continues as new before its history grows, and its remediation task stays decidable under its id', async () => {
    const slow = { very_high: '1h', high: '1h', medium: '1h', low: '1h' };
    const { ciId } = await seedCi(stack.db, { owner: 'olga', level: 'high', sla: { patchDeadlines: slow } });
    const components = await stack.request('PUT', `/cis/${ciId}/components`, {
      token: tokens.olga,
      body: { components: [{ product: 'openssl', version: '3.0.2' }] },
    });
    expect(components.status).toBe(200);
    const posted = await stack.request('POST', '/advisories', {
      token: tokens.analyst,
      body: {
        id: 'ADV-BOUNDED-1',
        title: 'OpenSSL overread',
        affected: [{ product: 'OpenSSL', versions: ['>=3.0.0 <3.0.7'], fixed: ['3.0.7'] }],
        cvss: { score: 7.5 },
      },
    });
    expect(posted.status).toBe(202);
    const advisoryId: string = posted.body.id;
    const workflowId: string = posted.body.workflowId;
    const remediation = await openTask(stack, tokens.olga, advisoryId, 'advisory.remediation');

    // The same signal the API sends when a CI's components change or the advisory is revised.
    const times = rematchesPerRun + 3;
    for (let i = 1; i <= times; i++) {
      await stack.temporal.client.workflow.getHandle(workflowId).signal(rematchSignal, { reason: `components changed (${i})` });
      await eventually(
        async () => (await stack.temporal.client.workflow.getHandle(workflowId).query(advisoryStateQuery)).rematches >= i,
        20_000,
        `re-match ${i}`,
      );
    }

    // The run that saw the last re-match may still be continuing as new when the query answers.
    const runs = await eventually(
      async () => {
        const all = await runsOf(workflowId);
        return all.length >= 2 && all;
      },
      20_000,
      'the advisory to continue as new',
    );
    for (const run of runs.slice(0, -1)) expect(run.continuedAsNew).toBe(true);
    // Each run holds at most rematchesPerRun re-matches (about ten events each) and the first match.
    for (const run of runs) expect(run.events).toBeLessThan(300);
    const state = await stack.temporal.client.workflow.getHandle(workflowId).query(advisoryStateQuery);
    expect(state).toMatchObject({ status: 'open', rematches: times, activeRemediations: [ciId] });

    // One task for the CI, never reopened or announced again, decided by its original id.
    const taskRows = await stack.db
      .selectFrom('human_tasks')
      .select(['id', 'status'])
      .where('subject_id', '=', advisoryId)
      .where('kind', '=', 'advisory.remediation')
      .execute();
    expect(taskRows).toEqual([{ id: remediation.id, status: 'open' }]);
    const opened = await stack.db
      .selectFrom('notifications')
      .select('id')
      .where('dedup_key', '=', `task:${remediation.id}:opened`)
      .execute();
    expect(opened).toHaveLength(1);
    expect((await decide(stack, tokens.olga, remediation.id, 'mitigated')).status).toBe(409);
    const decided = await decide(stack, tokens.olga, remediation.id, 'mitigated', { data: { measure: 'TLS endpoint behind the VPN' } });
    expect(decided.status).toBe(200);
    await eventually(
      async () => (await stack.request('GET', `/advisories/${advisoryId}`, { token: tokens.manager })).body.remediations?.mitigated === 1,
      20_000,
      'the remediation to be recorded',
    );
    // The row is written before the workflow hears the activity finished: close once the workflow
    // itself no longer counts the remediation as running (what the close Update's validator checks).
    await eventually(
      async () => (await stack.temporal.client.workflow.getHandle(workflowId).query(advisoryStateQuery)).activeRemediations.length === 0,
      20_000,
      'the workflow to see the remediation done',
    );
    const closed = await stack.request('POST', `/advisories/${advisoryId}/close`, { token: tokens.manager, body: { reason: 'mitigated' } });
    expect(closed.status).toBe(200);
    await eventually(
      async () => (await stack.request('GET', `/advisories/${advisoryId}`, { token: tokens.manager })).body.status === 'closed',
      20_000,
      'the advisory to close',
    );
  }, 150_000);
});

describe('an advisory whose remediation keeps escalating', () => {
  it('parks at the bound, continues as new, and carries an exception task and an exception lapse across runs', async () => {
    // Seeded straight into the CMDB: a 1 s patch deadline escalates every second.
    const fast = { very_high: '1s', high: '1s', medium: '1s', low: '1s' };
    const { ciId } = await seedCi(stack.db, { owner: 'olga', level: 'high', sla: { patchDeadlines: fast } });
    await stack.request('PUT', `/cis/${ciId}/components`, {
      token: tokens.olga,
      body: { components: [{ product: 'nginx', version: '1.25.0' }] },
    });
    const posted = await stack.request('POST', '/advisories', {
      token: tokens.analyst,
      body: { id: 'ADV-BOUNDED-2', title: 'nginx resolver', affected: [{ product: 'nginx', versions: ['<1.25.3'], fixed: ['1.25.3'] }] },
    });
    expect(posted.status).toBe(202);
    const { id: advisoryId, workflowId } = posted.body as { id: string; workflowId: string };
    const handle = () => stack.temporal.client.workflow.getHandle(workflowId);
    const remediation = await openTask(stack, tokens.olga, advisoryId, 'advisory.remediation');
    await eventually(
      async () =>
        (await stack.request('GET', `/tasks/${remediation.id}`, { token: tokens.olga })).body.escalationLevel >= escalationsPerRun + 2,
      90_000,
      'the remediation to escalate past one run',
    );
    const continued = async (atLeast: number) =>
      eventually(
        async () => {
          const all = await runsOf(workflowId);
          return all.length >= atLeast && all;
        },
        20_000,
        `run ${atLeast}`,
      );
    expect((await continued(2)).every((run) => run.events < 300)).toBe(true);

    const rematchMany = async () => {
      const from = (await handle().query(advisoryStateQuery)).rematches;
      for (let i = 1; i <= rematchesPerRun + 1; i++) {
        await handle().signal(rematchSignal, { reason: `components changed (${i})` });
        await eventually(async () => (await handle().query(advisoryStateQuery)).rematches >= from + i, 20_000, `re-match ${i}`);
      }
    };

    // Olga asks for an exception; the advisory continues as new while the Security Manager has not answered.
    const requested = await decide(stack, tokens.olga, remediation.id, 'exception_requested', {
      comment: 'appliance, vendor patch next month',
      data: { expiresIn: '15s' },
    });
    expect(requested.status).toBe(200);
    const exception = await openTask(stack, tokens.manager, advisoryId, 'advisory.exception');
    const before = (await runsOf(workflowId)).length;
    await rematchMany();
    await continued(before + 1);
    expect((await decide(stack, tokens.manager, exception.id, 'approved')).status).toBe(200);

    // And again while the exception runs: the next run sleeps out the rest of it, then the CI is back.
    const during = (await runsOf(workflowId)).length;
    await rematchMany();
    await continued(during + 1);
    // Continued before the exception lapsed: the CI has no new task yet.
    const open = (await stack.request('GET', `/tasks?status=open&subjectId=${advisoryId}`, { token: tokens.olga })).body.items;
    expect(open.filter((t: { kind: string }) => t.kind === 'advisory.remediation')).toEqual([]);
    const back = await eventually(
      async () => {
        const items = (await stack.request('GET', `/tasks?status=open&subjectId=${advisoryId}`, { token: tokens.olga })).body.items ?? [];
        return items.find((t: { id: string; kind: string }) => t.kind === 'advisory.remediation' && t.id !== remediation.id);
      },
      30_000,
      'the remediation to return after the exception lapses',
    );
    expect(back.details.note).toMatch(/exception granted for 15s has expired/);
    const rows = await stack.db
      .selectFrom('human_tasks')
      .select(['kind', 'status'])
      .where('subject_id', '=', advisoryId)
      .orderBy('created_at')
      .execute();
    expect(rows).toEqual([
      { kind: 'advisory.remediation', status: 'decided' },
      { kind: 'advisory.exception', status: 'decided' },
      { kind: 'advisory.remediation', status: 'open' },
    ]);
    expect((await decide(stack, tokens.olga, back.id, 'patched', { data: { version: '1.25.3' } })).status).toBe(200);
    await eventually(
      async () => (await handle().query(advisoryStateQuery)).activeRemediations.length === 0,
      20_000,
      'the remediation to finish',
    );
  }, 240_000);
});

describe('the SLA floor', () => {
  it('refuses SLA targets below WARDEN_SLA_MIN_TARGET with 400 naming the field', async () => {
    const tooShort = await stack.request('POST', '/services', {
      token: tokens.admin,
      body: { name: 'Fast', owner: 'sam', sla: { acknowledgeTargets: { critical: '500ms' } } },
    });
    expect(tooShort.status).toBe(400);
    expect(tooShort.headers.get('content-type')).toContain('application/problem+json');
    expect(tooShort.body.errors).toEqual([{ path: 'body.sla.acknowledgeTargets.critical', message: expect.stringContaining('1s') }]);
    expect(await stack.db.selectFrom('services').select('id').where('name', '=', 'Fast').execute()).toHaveLength(0);
  });

  it('holds at 5 minutes by default, on create and on change', async () => {
    const defaults = await startStack({ worker: false });
    try {
      expect(defaults.config.WARDEN_SLA_MIN_TARGET).toBe('5m');
      const admin = await defaults.token(['admin'], 'adam');
      const created = await defaults.request('POST', '/services', {
        token: admin,
        body: { name: 'Quick', owner: 'sam', sla: { acknowledgeTargets: { critical: '1s' }, patchDeadlines: { low: '4m' } } },
      });
      expect(created.status).toBe(400);
      expect(created.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
        'body.sla.acknowledgeTargets.critical',
        'body.sla.patchDeadlines.low',
      ]);
      const fine = await defaults.request('POST', '/services', {
        token: admin,
        body: { name: 'Sane', owner: 'sam', sla: { acknowledgeTargets: { critical: '5m' } } },
      });
      expect(fine.status).toBe(201);
      const changed = await defaults.request('PATCH', `/services/${fine.body.id}`, {
        token: admin,
        body: { sla: { resolveTargets: { high: '30s' }, testCadence: '1m' } },
      });
      expect(changed.status).toBe(400);
      expect(changed.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
        'body.sla.resolveTargets.high',
        'body.sla.testCadence',
      ]);
      const kept = await defaults.request('GET', `/services/${fine.body.id}`, { token: admin });
      expect(kept.body.sla.acknowledgeTargets.critical).toBe('5m');
      expect(kept.body.sla.resolveTargets.high).not.toBe('30s');
    } finally {
      await defaults.close();
    }
  }, 60_000);
});
