import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startStack, type Stack } from '../setup/stack';
import { decide, openTask, seedCi, incidentWhen } from '../setup/fixtures';

let stack: Stack;
const tokens = {} as Record<'siem' | 'analyst' | 'manager' | 'auditor', string>;
// Mon–Fri office hours on the batch hosts.
const expectedActivity = {
  windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '07:00', end: '19:00' }],
  systems: ['batch-01', 'batch-02'],
};

beforeAll(async () => {
  stack = await startStack();
  tokens.siem = await stack.token(['reporter'], 'siem-connector');
  tokens.analyst = await stack.token(['security_analyst'], 'ana');
  tokens.manager = await stack.token(['security_manager'], 'max');
  tokens.auditor = await stack.token(['auditor'], 'audrey');
});
afterAll(() => stack?.close());

const incident = (id: string, until: (incident: any) => boolean, what: string) => incidentWhen(stack, tokens.auditor, id, until, what);

describe('SIEM intake', () => {
  it('correlates a service account failing authentication at 02:00 on a Saturday into one incident, isolates it after approval, and opens a forensic review', async () => {
    const account = `svc-payroll-${Date.now()}`;
    await seedCi(stack.db, { name: account, type: 'service_account', level: 'high', attributes: { expectedActivity } });
    const alerts = ['batch-01', 'hr-db', 'fileserver'].map((host) => ({
      source: 'elastic',
      rule: 'Authentication failure',
      severity: 'high',
      host,
      account,
      time: '2026-11-21T02:00:00Z', // a Saturday
    }));
    const verdicts = [];
    for (const alert of alerts) verdicts.push((await stack.request('POST', '/alerts', { token: tokens.siem, body: alert })).body);
    expect(verdicts.map((v) => v.verdict)).toEqual(['incident', 'attached', 'attached']);
    expect(new Set(verdicts.map((v) => v.incidentId)).size).toBe(1);
    expect(verdicts[0].reason).toMatch(/outside the documented windows/);
    const id = verdicts[0].incidentId;

    await incident(id, (i) => i.category === 'unauthorised_access' && i.alerts.length === 3, 'the incident with three alerts');
    await decide(stack, tokens.analyst, (await openTask(stack, tokens.analyst, id, 'incident.acknowledge')).id, 'acknowledged');
    await decide(stack, tokens.analyst, (await openTask(stack, tokens.analyst, id, 'incident.triage')).id, 'triaged', {
      data: { scope: 'payroll batch account' },
    });
    const approval = await openTask(stack, tokens.manager, id, 'incident.approval');
    expect(approval.title).toMatch(/isolating the account/);
    await decide(stack, tokens.manager, approval.id, 'approved');
    // No responder is configured in this stack: the Security Manager carries the isolation out and confirms it.
    const confirmation = await openTask(stack, tokens.manager, id, 'incident.containment-confirmation');
    await decide(stack, tokens.manager, confirmation.id, 'confirmed', { data: { evidence: 'account disabled in the directory' } });

    const forensic = await eventually(
      async () => {
        const open = (await stack.request('GET', `/tasks?status=open&subjectId=${id}`, { token: tokens.analyst })).body.items;
        return open.find((t: { title: string }) => t.title.startsWith('Forensic review'));
      },
      20_000,
      'the forensic review task',
    );
    expect(forensic.allowedRoles).toEqual(['security_analyst']);
    const contained = await incident(id, (i) => i.actions.length === 1, 'the isolation');
    expect(contained.actions[0]).toMatchObject({ name: 'isolate-account', status: 'confirmed', approvedBy: ['max'], confirmedBy: 'max' });
  });

  it('records activity inside the documented window as benign, with the reason, and opens nothing', async () => {
    const account = `svc-backup-${Date.now()}`;
    await seedCi(stack.db, { name: account, type: 'service_account', attributes: { expectedActivity } });
    const verdict = await stack.request('POST', '/alerts', {
      token: tokens.siem,
      body: { source: 'elastic', rule: 'Login', severity: 'low', host: 'batch-02', account, time: '2026-11-18T10:30:00Z' },
    });
    expect(verdict.status).toBe(202);
    expect(verdict.body).toMatchObject({ verdict: 'benign', incidentId: null });
    expect(verdict.body.reason).toMatch(/inside window/);
    const stored = await stack.db
      .selectFrom('security_alerts_received')
      .selectAll()
      .where('id', '=', verdict.body.alertId)
      .executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ verdict: 'benign', account });
  });

  it('accepts Wazuh alert JSON', async () => {
    const host = `web-${Date.now()}`;
    await seedCi(stack.db, { name: host, level: 'medium' });
    const verdict = await stack.request('POST', '/alerts', {
      token: tokens.siem,
      body: {
        timestamp: '2026-11-22T09:00:00.000+0000',
        rule: { id: '5712', level: 10, description: 'SSHD brute force', groups: ['sshd'] },
        agent: { id: '007', name: host },
        data: { srcip: '203.0.113.9' },
        full_log: '…',
      },
    });
    expect(verdict.status).toBe(202);
    expect(verdict.body.verdict).toBe('incident');
    const found = await incident(verdict.body.incidentId, (i) => i.severity !== undefined, 'the Wazuh incident');
    expect(found).toMatchObject({ source: 'siem:wazuh', title: `5712: SSHD brute force on ${host}`, securityIncident: true });
  });
});

describe('bad input on the workflow-driven routes', () => {
  it('names the offending field and changes nothing', async () => {
    const before = await stack.db
      .selectFrom('security_alerts_received')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const badAlert = await stack.request('POST', '/alerts', {
      token: tokens.siem,
      body: { source: 'x', rule: 'r', severity: 'apocalyptic', time: 'yesterday' },
    });
    expect(badAlert.status).toBe(400);
    expect(badAlert.headers.get('content-type')).toContain('application/problem+json');
    expect(badAlert.body.errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['body.severity', 'body.time']));
    const { ciId } = await seedCi(stack.db);
    const reported = await stack.request('POST', '/incidents', {
      token: tokens.analyst,
      body: { title: 'bad input', description: '', category: 'malware', affectedCis: [ciId], source: 'probe' },
    });
    const task = await openTask(stack, tokens.analyst, reported.body.id, 'incident.acknowledge');
    const unknownField = await stack.request('POST', `/tasks/${task.id}/decision`, {
      token: tokens.analyst,
      body: { outcome: 'acknowledged', decidedBy: 'someone-else' },
    });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.errors).toEqual([{ path: 'body.decidedBy', message: 'unknown field' }]);
    const badOutcome = await decide(stack, tokens.analyst, task.id, 'ignored');
    expect(badOutcome.status).toBe(400);
    expect(badOutcome.body.errors[0].path).toBe('body.outcome');
    const noMessage = await stack.request('POST', `/incidents/${reported.body.id}/communications`, {
      token: tokens.analyst,
      body: { audience: 'press' },
    });
    expect(noMessage.status).toBe(400);
    expect(noMessage.body.errors.map((e: { path: string }) => e.path)).toContain('body.message');
    const after = await stack.db
      .selectFrom('security_alerts_received')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
    expect(
      await stack.db.selectFrom('incident_communications').select('id').where('incident_id', '=', reported.body.id).execute(),
    ).toHaveLength(0);
    const stillOpen = (await stack.request('GET', `/tasks/${task.id}`, { token: tokens.analyst })).body;
    expect(stillOpen).toMatchObject({ status: 'open', decisions: [] });
  });
});

describe('external communication and drills', () => {
  it('sends a communication only after the Security Manager approves it, and drills notify nobody outside', async () => {
    const { ciId } = await seedCi(stack.db);
    const reported = await stack.request('POST', '/incidents', {
      token: tokens.analyst,
      body: {
        title: 'Tabletop: ransomware on file server',
        description: 'exercise',
        category: 'malware',
        affectedCis: [ciId],
        source: 'exercise',
        drill: true,
      },
    });
    const id = reported.body.id;
    await incident(id, (i) => i.live?.currentStep === 'acknowledge', 'the drill to wait for acknowledgement');
    const proposed = await stack.request('POST', `/incidents/${id}/communications`, {
      token: tokens.analyst,
      body: { audience: 'customers@example.com', message: 'We are investigating.' },
    });
    expect(proposed.status).toBe(202);
    const approval = await openTask(stack, tokens.manager, id, 'incident.communication');
    const pending = await stack.db
      .selectFrom('incident_communications')
      .selectAll()
      .where('id', '=', proposed.body.communicationId)
      .executeTakeFirstOrThrow();
    expect(pending).toMatchObject({ status: 'pending_approval', sent_at: null });
    expect((await decide(stack, tokens.analyst, approval.id, 'approved')).status).toBe(403);
    await decide(stack, tokens.manager, approval.id, 'approved');
    const sent = await eventually(
      async () => {
        const row = await stack.db
          .selectFrom('incident_communications')
          .selectAll()
          .where('id', '=', proposed.body.communicationId)
          .executeTakeFirstOrThrow();
        return row.status === 'sent' && row;
      },
      15_000,
      'the communication to be sent',
    );
    expect(sent.decided_by).toBe('max');
    const notifications = await stack.db.selectFrom('notifications').selectAll().where('subject_id', '=', id).execute();
    expect(notifications.length).toBeGreaterThan(0);
    expect(notifications.every((n) => n.suppressed_reason?.startsWith('drill'))).toBe(true);
    const timeline = (await stack.request('GET', `/incidents/${id}`, { token: tokens.auditor })).body.timeline.map(
      (e: { action: string }) => e.action,
    );
    expect(timeline).toEqual(expect.arrayContaining(['incident.communication_requested', 'incident.communication_sent']));
  });
});

describe('playbooks', () => {
  it('publishes a new version for new incidents while running ones keep theirs', async () => {
    const { ciId } = await seedCi(stack.db);
    const before = await stack.request('POST', '/incidents', {
      token: tokens.analyst,
      body: { title: 'DoS before', description: '', category: 'denial_of_service', affectedCis: [ciId], source: 'noc' },
    });
    await incident(before.body.id, (i) => i.playbook?.version === 1, 'the first incident on v1');

    const published = await stack.request('PUT', '/playbooks/denial_of_service', {
      token: tokens.manager,
      body: {
        title: 'Denial of service v2',
        steps: [
          { id: 'call-provider', type: 'task', phase: 'containment', title: 'Call the scrubbing provider', roles: ['security_analyst'] },
        ],
      },
    });
    expect(published.status).toBe(201);
    expect(published.body).toMatchObject({ version: 2, publishedBy: 'max' });
    const invalidStep = await stack.request('PUT', '/playbooks/denial_of_service', {
      token: tokens.manager,
      body: { title: 'x', steps: [{ id: 'a', type: 'timer', phase: 'recovery', title: 't', duration: 'soon' }] },
    });
    expect(invalidStep.status).toBe(400);
    expect(invalidStep.body.errors[0].path).toMatch(/^body\.steps\.0/);
    expect(
      (await stack.request('PUT', '/playbooks/denial_of_service', { token: tokens.analyst, body: { title: 'x', steps: [] } })).status,
    ).toBe(403);

    const after = await stack.request('POST', '/incidents', {
      token: tokens.analyst,
      body: { title: 'DoS after', description: '', category: 'denial_of_service', affectedCis: [ciId], source: 'noc' },
    });
    await incident(after.body.id, (i) => i.playbook?.version === 2, 'the second incident on v2');
    expect((await stack.request('GET', `/incidents/${before.body.id}`, { token: tokens.auditor })).body.playbook.version).toBe(1);
    const listed = await stack.request('GET', '/playbooks', { token: tokens.analyst });
    expect(listed.body.items).toHaveLength(7);

    // A version published before durations were bounded is read, and followed, with ten years at most.
    const longAgo = {
      category: 'denial_of_service',
      version: 3,
      title: 'Denial of service v3',
      steps: [{ id: 'wait', type: 'timer', phase: 'containment', title: 'Wait for the provider', duration: '99999999w' }],
    };
    await stack.db
      .insertInto('playbooks')
      .values({ category: 'denial_of_service', version: 3, definition: JSON.stringify(longAgo), published_by: 'max' })
      .execute();
    const read = await stack.request('GET', '/playbooks/denial_of_service?version=3', { token: tokens.analyst });
    expect(read.body.steps).toEqual([expect.objectContaining({ id: 'wait', duration: '3653d' })]);
    const latest = (await stack.request('GET', '/playbooks', { token: tokens.analyst })).body.items;
    expect(latest.find((p: { category: string }) => p.category === 'denial_of_service').steps).toEqual([
      expect.objectContaining({ id: 'wait', duration: '3653d' }),
    ]);
  });
});

describe('the incident list', () => {
  it('pages newest first with a cursor, each incident once', async () => {
    const { ciId } = await seedCi(stack.db);
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const reported = await stack.request('POST', '/incidents', {
        token: tokens.analyst,
        body: { title: `Paging ${n}`, description: '', category: 'malware', affectedCis: [ciId], source: 'paging', drill: true },
      });
      ids.push(reported.body.id);
      // Each registration is written by its workflow: wait for it, so creation order is report order.
      await incident(reported.body.id, () => true, `incident ${n} registered`);
    }
    const seen: string[] = [];
    let path = '/incidents?drill=true&limit=2';
    for (let page = 0; page < 10; page += 1) {
      const response = await stack.request('GET', path, { token: tokens.auditor });
      expect(response.status).toBe(200);
      seen.push(...response.body.items.filter((i: { title: string }) => i.title.startsWith('Paging')).map((i: { id: string }) => i.id));
      if (!response.body.nextCursor) break;
      path = `/incidents?drill=true&limit=2&cursor=${encodeURIComponent(response.body.nextCursor)}`;
    }
    expect(seen).toEqual([...ids].reverse());
  });

  it('shows those outside the process roles what they reported and what their CIs serve, each their own, with the same filters', async () => {
    const stamp = Date.now();
    const owner = `owner-${stamp}`;
    const { ciId: ownedCi } = await seedCi(stack.db, { owner });
    const { ciId: otherCi } = await seedCi(stack.db);
    const reporters = { rita: await stack.token(['reporter'], `rita-${stamp}`), rolf: await stack.token(['reporter'], `rolf-${stamp}`) };
    const ownerToken = await stack.token(['service_owner'], owner);
    const reported: Record<string, string> = {};
    for (const [name, ci] of [
      ['rita', ownedCi],
      ['rolf', otherCi],
    ] as const) {
      const response = await stack.request('POST', '/incidents', {
        token: reporters[name],
        body: {
          title: `Seen by ${name} ${stamp}`,
          description: '',
          category: 'malware',
          affectedCis: [ci],
          source: 'visibility',
          drill: true,
        },
      });
      reported[name] = response.body.id;
      await incident(response.body.id, () => true, `${name}'s incident registered`);
    }
    const listed = async (token: string, query = '') => {
      const response = await stack.request('GET', `/incidents?drill=true&category=malware${query}`, { token });
      expect(response.status).toBe(200);
      return response.body.items.map((i: { id: string }) => i.id).filter((id: string) => Object.values(reported).includes(id));
    };
    // The same shape of request, one after another: each answer is the asker's own.
    expect(await listed(reporters.rita)).toEqual([reported.rita]);
    expect(await listed(reporters.rolf)).toEqual([reported.rolf]);
    expect(await listed(ownerToken)).toEqual([reported.rita]);
    expect(await listed(tokens.auditor)).toEqual([reported.rolf, reported.rita]);
    expect(await listed(reporters.rolf, '&status=closed')).toEqual([]);
  });
});
