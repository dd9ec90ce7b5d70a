import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodedHistoryJson, recordHistory } from '../setup/histories';
import { eventually, startStack, type Stack } from '../setup/stack';
import { completeIncidentSteps, decide, openTask, seedCi } from '../setup/fixtures';
import { computeMeasures, measurePeriod } from '../../db/measures';
import { falsePositiveRate } from '../../db/measures/false-positive-rate';
import { taskForm } from '../../domain/task-forms';

// The incident's SLA clocks on the dev server, with targets of seconds.

let stack: Stack;
const tokens = {} as Record<'reporter' | 'siem' | 'analyst' | 'manager' | 'auditor', string>;
const hour = { critical: '1h', high: '1h', medium: '1h', low: '1h' };

beforeAll(async () => {
  stack = await startStack();
  tokens.reporter = await stack.token(['reporter'], 'rita');
  tokens.siem = await stack.token(['reporter'], 'siem-connector');
  tokens.analyst = await stack.token(['security_analyst'], 'ana');
  tokens.manager = await stack.token(['security_manager'], 'max');
  tokens.auditor = await stack.token(['auditor'], 'audrey');
});
afterAll(async () => {
  await stack?.close();
});

interface TargetView {
  target: string;
  dueAt: string;
  metAt: string | null;
  breachedAt: string | null;
  breached: boolean;
  remainingSeconds: number | null;
  stoppedAt?: string | null;
  stopReason?: string | null;
}

// Targets that differ per severity, so a re-timing shows in the due times.
const bySeverity = { critical: '2h', high: '3h', medium: '5h', low: '7h' };
const hoursAfter = (view: { timestamps: { reportedAt: string } }, due: string) =>
  (Date.parse(due) - Date.parse(view.timestamps.reportedAt)) / 3_600_000;

async function report(ciIds: string[], title: string) {
  const reported = await stack.request('POST', '/incidents', {
    token: tokens.reporter,
    body: { title, description: 'logons failing', category: 'unauthorised_access', affectedCis: ciIds, source: 'siem' },
  });
  expect(reported.status).toBe(202);
  return reported.body as { id: string; severity: string };
}

/** The dates of `weeks` Sundays from the one before last on: holidays leaving Sunday-only hours no supported day for 400 days. */
function sundaysAround(weeks: number): string[] {
  const lastSunday = Date.now() - new Date().getUTCDay() * 86_400_000;
  return Array.from({ length: weeks }, (_, week) => new Date(lastSunday + (week - 1) * 7 * 86_400_000).toISOString().slice(0, 10));
}

const incident = async (id: string) => (await stack.request('GET', `/incidents/${id}`, { token: tokens.auditor })).body;
const target = (view: { sla: { targets: TargetView[] } }, name: string) => view.sla.targets.find((t) => t.target === name) as TargetView;

async function acknowledgeAndTriage(id: string, data: Record<string, unknown> = { scope: 'one account' }) {
  const acknowledge = await openTask(stack, tokens.analyst, id, 'incident.acknowledge');
  expect((await decide(stack, tokens.analyst, acknowledge.id, 'acknowledged')).status).toBe(200);
  const triage = await openTask(stack, tokens.analyst, id, 'incident.triage');
  expect((await decide(stack, tokens.analyst, triage.id, 'triaged', { data })).status).toBe(200);
}

describe('incident SLA clocks', () => {
  it('meets the targets answered in time and records, escalates, lists and counts the one that is not', async () => {
    const { ciId } = await seedCi(stack.db, {
      level: 'very_high',
      sla: { acknowledgeTargets: hour, triageTargets: hour, resolveTargets: { ...hour, critical: '4s' } },
    });
    const { id, severity } = await report([ciId], 'Service account failing logons at 02:00');
    expect(severity).toBe('critical');

    const registered = await eventually(async () => (await incident(id)).sla ?? undefined, 15_000, 'the SLA clocks');
    expect(registered.targets.map((t: TargetView) => t.target)).toEqual(['resolve', 'acknowledge', 'triage']);
    const reportedAt = Date.parse((await incident(id)).timestamps.reportedAt);
    expect(Date.parse(target({ sla: registered }, 'resolve').dueAt) - reportedAt).toBe(4_000);
    expect(Date.parse(target({ sla: registered }, 'acknowledge').dueAt) - reportedAt).toBe(3_600_000);

    await acknowledgeAndTriage(id);
    // Nobody approves containment: the resolve target passes unmet.
    const breached = await eventually(
      async () => {
        const view = await incident(id);
        return target(view, 'resolve').breachedAt !== null && view;
      },
      20_000,
      'the resolve breach',
    );
    expect(breached.sla.breached).toBe(true);
    expect(target(breached, 'resolve')).toMatchObject({ breached: true, metAt: null });
    expect(target(breached, 'resolve').remainingSeconds).toBeLessThanOrEqual(0);
    for (const name of ['acknowledge', 'triage']) expect(target(breached, name)).toMatchObject({ breached: false, breachedAt: null });
    expect(target(breached, 'acknowledge').metAt).not.toBeNull();
    const event = breached.timeline.find((e: { action: string }) => e.action === 'incident.sla_breached');
    // Ana took the incident on when she acknowledged it: a breach recorded after her acknowledgement
    // is hers; one racing it may still be the responders'.
    const actions: string[] = breached.timeline.map((e: { action: string }) => e.action);
    const hers = actions.indexOf('incident.acknowledged') < actions.indexOf('incident.sla_breached');
    expect(event.details).toMatchObject({ target: 'resolve', severity: 'critical', duration: '4s' });
    expect(event.details.responsible).toMatch(hers ? /^ana$/ : /^(ana|roles: security_manager, security_analyst)$/);
    expect(breached.live.sla.find((t: TargetView) => t.target === 'resolve').breachedAt).not.toBeNull();

    const escalation = await eventually(
      () =>
        stack.db.selectFrom('notifications').selectAll().where('dedup_key', '=', `incident:${id}:sla-breach:resolve`).executeTakeFirst(),
      10_000,
      'the breach escalation',
    );
    expect(escalation.recipient_roles).toEqual(['security_manager']);

    const breachedList = (await stack.request('GET', '/incidents?slaBreached=true', { token: tokens.auditor })).body.items;
    expect(breachedList.map((i: { id: string }) => i.id)).toContain(id);
    const keptList = (await stack.request('GET', '/incidents?slaBreached=false', { token: tokens.auditor })).body.items;
    expect(keptList.map((i: { id: string }) => i.id)).not.toContain(id);

    const metrics = await stack.request('GET', '/metrics/business', { token: tokens.auditor });
    expect(metrics.body).toMatch(/^warden_incident_sla_breaches_total\{target="resolve",severity="critical"\} 1$/m);
  });

  it('re-times the open targets when triage changes the severity, and sorts the list by due time', async () => {
    const low = await seedCi(stack.db, { level: 'low', sla: { acknowledgeTargets: hour, triageTargets: hour, resolveTargets: hour } });
    const crown = await seedCi(stack.db, {
      level: 'very_high',
      sla: { acknowledgeTargets: hour, triageTargets: hour, resolveTargets: { ...hour, critical: '3s' } },
    });
    const { id, severity } = await report([low.ciId], 'Odd logons on a test box');
    expect(severity).toBe('medium');
    const before = await eventually(async () => (await incident(id)).sla ?? undefined, 15_000, 'the SLA clocks');
    const resolveBefore = target({ sla: before }, 'resolve').dueAt;

    // Triage finds the crown jewel affected too: critical, and the crown's 3 s resolve target.
    await acknowledgeAndTriage(id, { scope: 'spread', affectedCis: [low.ciId, crown.ciId] });
    const retimed = await eventually(
      async () => {
        const view = await incident(id);
        return target(view, 'resolve').breachedAt !== null && view;
      },
      20_000,
      'the re-timed resolve target to be breached',
    );
    expect(retimed.severity).toBe('critical');
    expect(target(retimed, 'resolve').dueAt).not.toBe(resolveBefore);
    expect(Date.parse(target(retimed, 'resolve').dueAt) - Date.parse(retimed.timestamps.reportedAt)).toBe(3_000);
    expect(retimed.timeline.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['incident.sla_retimed', 'incident.sla_breached']),
    );

    const sorted = (await stack.request('GET', '/incidents?sort=slaDue&limit=1', { token: tokens.auditor })).body;
    const next = (await stack.request('GET', `/incidents?sort=slaDue&limit=50&cursor=${sorted.nextCursor}`, { token: tokens.auditor }))
      .body;
    const dues = [...sorted.items, ...next.items].map((i: { sla: { nextDueAt: string | null } | null }) => i.sla?.nextDueAt ?? null);
    const known = dues.filter((due): due is string => due !== null);
    expect(known).toEqual([...known].sort());
    expect(dues.slice(0, known.length)).toEqual(known);
  });

  it('re-times the open targets when an attached alert raises the severity', async () => {
    const account = `svc-batch-${crypto.randomUUID().slice(0, 8)}`;
    await seedCi(stack.db, {
      name: account,
      type: 'service_account',
      level: 'low',
      sla: { acknowledgeTargets: bySeverity, triageTargets: bySeverity, resolveTargets: bySeverity },
    });
    const alert = (severity: string, rule: string) =>
      stack.request('POST', '/alerts', {
        token: tokens.siem,
        body: { source: 'edr', rule, severity, account, time: new Date().toISOString() },
      });
    const opened = await alert('low', 'Odd logon');
    expect(opened.body.verdict).toBe('incident');
    const id = opened.body.incidentId as string;
    const before = await eventually(async () => ((await incident(id)).sla ? incident(id) : undefined), 15_000, 'the SLA clocks');
    const severityBefore = before.severity as string;
    expect(severityBefore).not.toBe('critical');

    const raising = await alert('critical', 'Credential dumping');
    expect(raising.body).toMatchObject({ verdict: 'attached', incidentId: id });
    const retimed = await eventually(
      async () => {
        const view = await incident(id);
        return hoursAfter(view, target(view, 'acknowledge').dueAt) === 2 && view;
      },
      20_000,
      'the targets re-timed for critical',
    );
    expect(retimed.severity).toBe('critical');
    for (const name of ['triage', 'resolve']) expect(hoursAfter(retimed, target(retimed, name).dueAt)).toBe(2);
    const event = retimed.timeline.find((e: { action: string }) => e.action === 'incident.sla_retimed');
    expect(event.details).toMatchObject({ severity: 'critical', cause: `alert:${raising.body.alertId}` });
    expect(retimed.live.severity).toBe('critical');
  });

  it('moves a merged duplicate’s open work tasks to the survivor, cancels its own procedure and stops its clocks', async () => {
    const sla = { acknowledgeTargets: bySeverity, triageTargets: bySeverity, resolveTargets: bySeverity };
    const low = await seedCi(stack.db, { level: 'low', sla });
    const crown = await seedCi(stack.db, { level: 'very_high', sla });
    const survivor = await report([low.ciId], 'Odd logons on a file server');
    const duplicate = await report([crown.ciId], 'Odd logons on the payroll database');
    expect([survivor.severity, duplicate.severity]).toEqual(['medium', 'critical']);
    await eventually(async () => (await incident(survivor.id)).live?.currentStep === 'acknowledge', 15_000, 'the survivor waiting');
    await eventually(async () => (await incident(duplicate.id)).live?.currentStep === 'acknowledge', 15_000, 'the duplicate waiting');

    const requested = await stack.request('POST', `/incidents/${duplicate.id}/communications`, {
      token: tokens.analyst,
      body: { audience: 'dpo@example.org', message: 'Payroll data may be affected.' },
    });
    expect(requested.status).toBe(202);
    const communication = await openTask(stack, tokens.analyst, duplicate.id, 'incident.communication');

    const merged = await stack.request('POST', `/incidents/${duplicate.id}/merge`, {
      token: tokens.analyst,
      body: { into: survivor.id, reason: 'one intrusion, reported twice' },
    });
    expect(merged.status).toBe(202);

    // The duplicate: closed, its own acknowledge cancelled as superseded, its clocks stopped.
    const closed = await eventually(
      async () => {
        const view = await incident(duplicate.id);
        return view.status === 'closed_duplicate' && view.sla.targets.every((t: TargetView) => t.stoppedAt) && view;
      },
      20_000,
      'the duplicate closed with its clocks stopped',
    );
    expect(closed.sla.nextDueAt).toBeNull();
    for (const clock of closed.sla.targets as TargetView[]) expect(clock).toMatchObject({ stopReason: 'merged', remainingSeconds: null });
    expect(closed.tasks.find((t: { kind: string }) => t.kind === 'incident.acknowledge').status).toBe('cancelled');
    expect(closed.tasks.map((t: { id: string }) => t.id)).not.toContain(communication.id);
    expect(closed.timeline.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['task.moved', 'task.cancelled']));

    // The survivor: the same task, now its own and waiting in its workflow; its targets re-timed for the severity the merge raised.
    const moved = await openTask(stack, tokens.manager, survivor.id, 'incident.communication');
    expect(moved.id).toBe(communication.id);
    const kept = await eventually(
      async () => {
        const view = await incident(survivor.id);
        return view.live?.openTaskIds.includes(communication.id) && hoursAfter(view, target(view, 'acknowledge').dueAt) === 2 && view;
      },
      20_000,
      'the survivor waiting on the moved task, re-timed for critical',
    );
    expect(kept.severity).toBe('critical');
    expect(kept.timeline.find((e: { action: string }) => e.action === 'task.moved').details).toMatchObject({
      taskId: communication.id,
      from: duplicate.id,
    });
    expect(kept.timeline.find((e: { action: string }) => e.action === 'incident.sla_retimed').details).toMatchObject({
      cause: `merge:${duplicate.id}`,
    });

    // Deciding it in the survivor sends the communication as the survivor's.
    expect((await decide(stack, tokens.manager, communication.id, 'approved')).status).toBe(200);
    const sent = await eventually(
      async () => {
        const row = await stack.db
          .selectFrom('incident_communications')
          .selectAll()
          .where('id', '=', requested.body.communicationId)
          .executeTakeFirst();
        return row?.status === 'sent' && row;
      },
      15_000,
      'the moved communication sent',
    );
    expect(sent.incident_id).toBe(survivor.id);
    await recordHistory(stack, `incident/${duplicate.id}`, 'incident-merge-moves-tasks.json');
  });

  it('refuses support hours it cannot count in, naming the field', async () => {
    const admin = await stack.token(['admin']);
    const business = { kind: 'business', timeZone: 'Europe/Berlin', days: [1, 2, 3, 4, 5], start: '08:00', end: '18:00' };
    for (const [hours, path] of [
      [{ ...business, timeZone: 'Mars/Olympus' }, 'body.sla.supportHours.timeZone'],
      [{ ...business, start: '18:00', end: '08:00' }, 'body.sla.supportHours.end'],
      [{ ...business, days: [0] }, 'body.sla.supportHours.days.0'],
    ] as const) {
      const refused = await stack.request('POST', '/services', {
        token: admin,
        body: { name: 'Payroll', owner: 'sam', sla: { supportHours: hours } },
      });
      expect(refused.status, path).toBe(400);
      expect(refused.body.errors.map((e: { path: string }) => e.path)).toEqual([path]);
    }
    // Hours that are valid but cannot time a target: the target the request set, or else the hours, is named.
    for (const [sla, path] of [
      [{ supportHours: { ...business, days: [7], holidays: sundaysAround(60) } }, 'body.sla.supportHours'],
      [{ supportHours: business, resolveTargets: { low: '3653d' } }, 'body.sla.resolveTargets.low'],
    ] as const) {
      const refused = await stack.request('POST', '/services', { token: admin, body: { name: 'Payroll', owner: 'sam', sla } });
      expect(refused.status, path).toBe(400);
      expect(refused.body.errors).toEqual([
        { path, message: expect.stringMatching(/cannot time \w+Targets\.\w+ \(\w+\): it would not fall due within ten years/) },
      ]);
    }
    const accepted = await stack.request('POST', '/services', {
      token: admin,
      body: { name: 'Payroll', owner: 'sam', sla: { supportHours: business, resolveTargets: { low: '1000d' } } },
    });
    expect(accepted.status).toBe(201);
    expect(accepted.body.sla).toMatchObject({ supportHours: { ...business, holidays: [] }, triageTargets: { critical: '1h' } });
    // A change is checked as it merges: office hours for a service resolving within 3653d round the clock.
    const service = await stack.request('POST', '/services', {
      token: admin,
      body: { name: 'Ledger', owner: 'sam', sla: { resolveTargets: { low: '3653d' } } },
    });
    expect(service.status).toBe(201);
    const changed = await stack.request('PATCH', `/services/${service.body.id}`, {
      token: admin,
      body: { sla: { supportHours: business } },
    });
    expect(changed.status).toBe(400);
    expect(changed.body.errors.map((e: { path: string }) => e.path)).toEqual(['body.sla.supportHours']);
    // Refused before anything was written: the service is as it was, and nothing but its creation is audited.
    expect((await stack.request('GET', `/services/${service.body.id}`, { token: admin })).body.sla.supportHours).toEqual({ kind: '24x7' });
    const events = await stack.db.selectFrom('audit_events').select('action').where('subject_id', '=', service.body.id).execute();
    expect(events.map((e) => e.action)).toEqual(['service.created']);
  });

  it('times an incident whose stored SLA its hours cannot time, round the clock, ten years at most, and asks for its acknowledgement', async () => {
    // Stored before SLAs were checked: targets of centuries in office hours.
    const { ciId } = await seedCi(stack.db, {
      level: 'very_high',
      sla: {
        acknowledgeTargets: { critical: '99999999w', high: '1h', medium: '4h', low: '1d' },
        resolveTargets: { critical: '99999999w', high: '1d', medium: '3d', low: '10d' },
        supportHours: { kind: 'business', timeZone: 'Europe/Berlin', days: [1, 2, 3, 4, 5], start: '08:00', end: '18:00', holidays: [] },
      },
    });
    const { id } = await report([ciId], 'Ledger host beaconing');
    const sla = await eventually(async () => (await incident(id)).sla ?? undefined, 15_000, 'the SLA clocks');
    const resolve = target({ sla }, 'resolve');
    expect(Date.parse(resolve.dueAt) - Date.parse((await incident(id)).timestamps.reportedAt)).toBe(3653 * 86_400_000);
    expect(resolve.remainingSeconds).toBeGreaterThan(3652 * 86_400);
    // The acknowledge task opens with its deadline ten years out, rather than failing its workflow task for ever.
    const acknowledge = await openTask(stack, tokens.analyst, id, 'incident.acknowledge');
    expect(acknowledge).toMatchObject({ status: 'open', details: { target: '3653d' } });
    expect(Date.parse(acknowledge.deadlineAt) - Date.parse((await incident(id)).timestamps.reportedAt)).toBeGreaterThan(3652 * 86_400_000);
  });

  it('takes the seed scenario from alert to closure: containment approved by another, confirmed with evidence, resolve SLA judged by the clock', async () => {
    const account = `svc-payroll-${Date.now()}`;
    await seedCi(stack.db, {
      name: account,
      type: 'service_account',
      level: 'high',
      sla: { acknowledgeTargets: hour, triageTargets: hour, resolveTargets: { critical: '6s', high: '6s', medium: '6s', low: '6s' } },
      attributes: {
        expectedActivity: { windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '07:00', end: '19:00' }], systems: ['batch-01'] },
      },
    });
    // 02:00 on a Saturday, outside the account's documented windows.
    const alert = {
      source: 'wazuh',
      rule: 'Authentication failure',
      severity: 'high',
      host: 'hr-db',
      account,
      time: '2026-11-21T02:00:00Z',
    };
    const verdict = (await stack.request('POST', '/alerts', { token: tokens.siem, body: alert })).body;
    expect(verdict).toMatchObject({ verdict: 'incident' });
    const id: string = verdict.incidentId;

    await acknowledgeAndTriage(id, { scope: 'payroll batch account' });
    const approval = await openTask(stack, tokens.manager, id, 'incident.approval');
    expect(approval.requester).toBe('ana');
    expect((await decide(stack, tokens.manager, approval.id, 'approved')).status).toBe(200);

    // No responder is configured: the approval does not contain anything by itself.
    const confirmation = await openTask(stack, tokens.manager, id, 'incident.containment-confirmation');
    // Its form (domain/task-forms.ts) asks for the evidence and its links.
    expect(taskForm(confirmation.kind)?.fields.map((field) => field.name)).toEqual(['evidence', 'links']);
    expect((await incident(id)).timestamps.containedAt).toBeNull();
    const withoutEvidence = await decide(stack, tokens.manager, confirmation.id, 'confirmed', { data: { links: [] } });
    expect(withoutEvidence.status).toBe(409);
    expect(withoutEvidence.body.detail).toMatch(/data\.evidence/);
    // A link that is not http(s) is refused at the boundary, by the form, before the workflow sees it.
    const badLink = await decide(stack, tokens.manager, confirmation.id, 'confirmed', {
      data: { evidence: 'disabled in AD', links: ['ftp://x'] },
    });
    expect(badLink.status).toBe(400);
    expect(badLink.body.errors).toEqual([{ path: 'body.data.links.0', message: 'must be an http(s) link' }]);
    const confirmedAt = Date.now();
    const evidence = {
      evidence: 'Account disabled in AD, sessions revoked; sign-in log shows no activity since',
      links: ['https://tickets.example/SEC-42'],
    };
    expect((await decide(stack, tokens.manager, confirmation.id, 'confirmed', { data: evidence })).status).toBe(200);

    await completeIncidentSteps(stack, tokens.analyst, id, ['Forensic review', 'Rotate', 'Restore']);
    const review = await openTask(stack, tokens.analyst, id, 'incident.post-incident-review');
    expect((await decide(stack, tokens.analyst, review.id, 'completed', { data: { rootCause: 'known' } })).status).toBe(200);

    const closed = await eventually(
      async () => {
        const view = await incident(id);
        return view.status === 'closed' && view;
      },
      20_000,
      'the incident to close',
    );
    expect(Date.parse(closed.timestamps.containedAt)).toBeGreaterThanOrEqual(confirmedAt);
    expect(closed.actions).toMatchObject([
      { name: 'isolate-account', status: 'confirmed', approvedBy: ['max'], confirmedBy: 'max', evidence },
    ]);
    const resolve = target(closed, 'resolve');
    expect(resolve.metAt).not.toBeNull();
    // Met or breached as the clock says: breached exactly when it was resolved after its due time.
    const late = Date.parse(closed.timestamps.resolvedAt) > Date.parse(resolve.dueAt);
    expect(resolve.breached).toBe(late);
    expect(resolve.breachedAt !== null).toBe(late);
    expect(closed.timeline.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining([
        'incident.action_run',
        'incident.action_confirmed',
        'incident.contained',
        'incident.reviewed',
        'incident.closed',
      ]),
    );

    if (process.env.WARDEN_RECORD_HISTORIES === '1') {
      const history = await decodedHistoryJson(stack.temporal.client, `incident/${id}`, stack.app.codec);
      writeFileSync(new URL('../replay/histories/incident-sla-confirmed-containment.json', import.meta.url), history);
    }
  });

  it('closes a false positive at triage with its reason, and the review reports the rate per rule and source', async () => {
    const { ciId } = await seedCi(stack.db, {
      level: 'medium',
      sla: { acknowledgeTargets: hour, triageTargets: hour, resolveTargets: hour },
    });
    const from = new Date();
    const { id } = await report([ciId], 'Scanner flagged a backup job');
    const acknowledge = await openTask(stack, tokens.analyst, id, 'incident.acknowledge');
    expect((await decide(stack, tokens.analyst, acknowledge.id, 'acknowledged')).status).toBe(200);
    const triage = await openTask(stack, tokens.analyst, id, 'incident.triage');
    expect(triage.allowedOutcomes).toEqual(['triaged', 'false_positive']);
    const noReason = await decide(stack, tokens.analyst, triage.id, 'false_positive', { data: { reason: '  ' } });
    expect(noReason.status).toBe(409);
    expect(noReason.body.detail).toMatch(/data\.reason/);
    expect(
      (await decide(stack, tokens.analyst, triage.id, 'false_positive', { data: { reason: 'the nightly backup, documented' } })).status,
    ).toBe(200);

    const closed = await eventually(
      async () => {
        const view = await incident(id);
        return view.status === 'closed_false_positive' && view;
      },
      15_000,
      'the false positive to close',
    );
    expect(closed.falsePositiveReason).toBe('the nightly backup, documented');
    expect(closed.timestamps.closedAt).not.toBeNull();
    expect(closed.sla.nextDueAt).toBeNull();
    expect(closed.sla.targets.every((t: TargetView) => t.metAt !== null && !t.breached)).toBe(true);
    expect(closed.tasks.filter((t: { status: string }) => t.status === 'open')).toEqual([]);
    expect(closed.timeline.find((e: { action: string }) => e.action === 'incident.closed_false_positive').details.reason).toBe(
      'the nightly backup, documented',
    );

    if (process.env.WARDEN_RECORD_HISTORIES === '1') {
      const history = await decodedHistoryJson(stack.temporal.client, `incident/${id}`, stack.app.codec);
      writeFileSync(new URL('../replay/histories/incident-false-positive.json', import.meta.url), history);
    }

    // Only incidents reported from `from` on: this one (a false positive) and none other yet.
    const [measured] = await computeMeasures(stack.db, measurePeriod(from, new Date(Date.now() + 1000)), null, [falsePositiveRate]);
    expect(measured?.result).toMatchObject({
      value: 100,
      unit: '%',
      breakdown: [
        { label: 'rule reported', value: 100, count: 1 },
        { label: 'source siem', value: 100, count: 1 },
      ],
    });
  });
});
