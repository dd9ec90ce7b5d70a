import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startStack, type Stack } from '../setup/stack';
import { decide, openTask, seedCi } from '../setup/fixtures';

// The incident's SLA clocks on the dev server, with targets of seconds.

let stack: Stack;
const tokens = {} as Record<'reporter' | 'analyst' | 'manager' | 'auditor', string>;
const hour = { critical: '1h', high: '1h', medium: '1h', low: '1h' };

beforeAll(async () => {
  stack = await startStack();
  tokens.reporter = await stack.token(['reporter'], 'rita');
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
}

async function report(ciIds: string[], title: string) {
  const reported = await stack.request('POST', '/incidents', {
    token: tokens.reporter,
    body: { title, description: 'logons failing', category: 'unauthorised_access', affectedCis: ciIds, source: 'siem' },
  });
  expect(reported.status).toBe(202);
  return reported.body as { id: string; severity: string };
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
    // Ana triaged, so from then on the resolve target was hers.
    expect(event.details).toMatchObject({ target: 'resolve', severity: 'critical', duration: '4s', responsible: 'ana' });
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

    const metrics = await stack.request('GET', '/metrics', { token: tokens.auditor });
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
    const accepted = await stack.request('POST', '/services', {
      token: admin,
      body: { name: 'Payroll', owner: 'sam', sla: { supportHours: business } },
    });
    expect(accepted.status).toBe(201);
    expect(accepted.body.sla).toMatchObject({ supportHours: { ...business, holidays: [] }, triageTargets: { critical: '1h' } });
  });
});
