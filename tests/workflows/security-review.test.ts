import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reviewScheduleId } from '../../workflows/review/definitions';
import { decide, openTask, seedCi } from '../setup/fixtures';
import { seedAccessReviewCampaign, seedApprovedPolicy, seedImprovementAction, seedIncident, seedRisk } from '../setup/review-seeds';
import { eventually, startStack, type Stack } from '../setup/stack';

let stack: Stack;
const tokens = {} as Record<'manager' | 'sam' | 'sue' | 'auditor' | 'analyst', string>;

beforeAll(async () => {
  stack = await startStack();
  tokens.manager = await stack.token(['security_manager'], 'max');
  tokens.sam = await stack.token(['service_owner'], 'sam');
  tokens.sue = await stack.token(['service_owner'], 'sue');
  tokens.auditor = await stack.token(['auditor'], 'audrey');
  tokens.analyst = await stack.token(['security_analyst'], 'ana');
});
afterAll(async () => {
  await stack?.temporal.client.schedule.getHandle(reviewScheduleId).delete().catch(() => undefined);
  await stack?.close();
});

const at = (day: string, time: string) => `2026-${day}T${time}:00Z`;

describe('the periodic security review', () => {
  it('measures planted KPIs exactly, asks owners, plans in risk order, and is signed off', async () => {
    // Service A (sam) is classified high, service B (sue) medium.
    const a = await seedCi(stack.db, { level: 'high', owner: 'sam' });
    const b = await seedCi(stack.db, { level: 'medium', owner: 'sue' });
    // 2026-Q3. I1 high: detect 30 min, acknowledge 20 min (target 1h met), resolve 120 min (1d met).
    const i1 = await seedIncident(stack.db, { severity: 'high', category: 'malware', affectedCis: [a.ciId], occurredAt: at('07-10', '10:00'), detectedAt: at('07-10', '10:30'), reportedAt: at('07-10', '11:00'), acknowledgedAt: at('07-10', '11:20'), resolvedAt: at('07-10', '13:00'), acknowledgeTarget: '1h', resolveTarget: '1d' });
    // I2 critical: detect 90 min, acknowledge 60 min (target 15m missed), resolve 360 min (4h missed).
    const i2 = await seedIncident(stack.db, { severity: 'critical', category: 'unauthorised_access', affectedCis: [a.ciId], occurredAt: at('08-01', '00:00'), detectedAt: at('08-01', '01:30'), reportedAt: at('08-01', '02:00'), acknowledgedAt: at('08-01', '03:00'), resolvedAt: at('08-01', '08:00'), acknowledgeTarget: '15m', resolveTarget: '4h' });
    // I3 medium: acknowledge 30 min (4h met), never resolved (3d missed by the end of the quarter).
    const i3 = await seedIncident(stack.db, { severity: 'medium', category: 'data_leak', affectedCis: [b.ciId], reportedAt: at('09-01', '09:00'), acknowledgedAt: at('09-01', '09:30'), acknowledgeTarget: '4h', resolveTarget: '3d' });
    // A drill and an incident of the quarter before: neither counts for 2026-Q3.
    await seedIncident(stack.db, { severity: 'critical', category: 'malware', affectedCis: [a.ciId], reportedAt: at('08-02', '00:00'), acknowledgedAt: at('08-02', '09:00'), acknowledgeTarget: '15m', resolveTarget: '4h', drill: true });
    await seedIncident(stack.db, { severity: 'high', category: 'malware', affectedCis: [a.ciId], reportedAt: at('05-05', '10:00'), acknowledgedAt: at('05-05', '10:10'), acknowledgeTarget: '1h', resolveTarget: '1d' });

    const r1 = await seedRisk(stack.db, { title: 'Ransomware on file servers', likelihood: 4, impact: 5, owner: 'sam', treatment: 'mitigate', reviewAt: at('08-01', '00:00'), affectedServices: [a.serviceId] });
    const r2 = await seedRisk(stack.db, { title: 'Legacy TLS on partner link', likelihood: 3, impact: 3, owner: 'sue', treatment: 'accept', acceptedUntil: at('09-01', '00:00'), reviewAt: '2027-06-01T00:00:00Z', affectedServices: [b.serviceId] });
    await seedRisk(stack.db, { title: 'Reviewed and current', likelihood: 5, impact: 5, owner: 'sam', treatment: 'mitigate', reviewAt: '2027-06-01T00:00:00Z', affectedServices: [a.serviceId] });
    const p1 = await seedApprovedPolicy(stack.db, { title: 'Acceptable use', owner: 'max', nextReviewAt: at('09-15', '00:00') });
    await seedApprovedPolicy(stack.db, { title: 'Cryptography', owner: 'max', nextReviewAt: '2027-09-15T00:00:00Z' });
    await seedImprovementAction(stack.db, { title: 'Overdue hardening', owner: 'ana', status: 'open', dueAt: at('09-01', '00:00'), createdAt: at('08-01', '00:00') });
    await seedImprovementAction(stack.db, { title: 'Not yet due', owner: 'ana', status: 'in_progress', dueAt: '2027-01-01T00:00:00Z', createdAt: at('08-01', '00:00') });
    await seedImprovementAction(stack.db, { title: 'Finished', owner: 'ana', status: 'done', dueAt: at('08-15', '00:00'), createdAt: at('08-01', '00:00') });
    // One access review campaign finished by its deadline, one still open past it.
    await seedAccessReviewCampaign(stack.db, { deadlineAt: at('08-15', '00:00'), completedAt: at('08-10', '00:00') });
    await seedAccessReviewCampaign(stack.db, { deadlineAt: at('09-15', '00:00'), completedAt: null });

    const start = () => stack.request('POST', '/reviews', { token: tokens.manager, body: { period: '2026-Q3', deadlines: { ownerReview: '2s', escalation: '2s' } } });
    const [first, second] = await Promise.all([start(), start()]);
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(first.body.workflowId).toBe('review/2026-Q3');
    expect([first.body.started, second.body.started].sort()).toEqual([false, true]);
    expect((await stack.request('POST', '/reviews', { token: tokens.analyst, body: { period: '2026-Q3' } })).status).toBe(403);

    // Sam reports a changed risk perception; Sue never answers, so her task escalates and expires.
    const samTask = await openTask(stack, tokens.sam, '2026-Q3', 'review.owner-confirmation');
    expect(samTask.assignees).toEqual(['sam']);
    expect((await decide(stack, tokens.sue, samTask.id, 'confirmed')).status).toBe(403);
    expect((await decide(stack, tokens.sam, samTask.id, 'changed', { comment: 'new partner API', data: { riskChanges: [{ title: 'New partner API exposed', likelihood: 5, impact: 5 }] } })).status).toBe(200);

    const firstSignOff = await openTask(stack, tokens.manager, '2026-Q3', 'review.sign-off');
    const report = (await stack.request('GET', '/reviews/2026-Q3/report', { token: tokens.auditor })).body;
    const kpi = (id: string) => report.measures.find((m: { id: string }) => m.id === id).result;
    // Computed by hand from the rows above.
    expect(kpi('mttd').value).toBe(60); // (30 + 90) / 2
    expect(kpi('mtta').value).toBe(36.67); // (20 + 60 + 30) / 3
    expect(kpi('mttr').value).toBe(240); // (120 + 360) / 2
    expect(kpi('mtta').breakdown).toEqual([
      { label: 'critical', value: 60, count: 1 },
      { label: 'high', value: 20, count: 1 },
      { label: 'medium', value: 30, count: 1 },
      { label: 'low', value: null, count: 0 },
    ]);
    expect(kpi('incidents-per-category').value).toBe(3);
    expect(kpi('incident-sla').value).toBe(50); // 3 of 6 targets met
    expect(kpi('incident-sla').breakdown.map((b: { value: number; count: number }) => [b.value, b.count]).sort()).toEqual([[50, 2], [50, 4]]);
    expect(kpi('risks-past-review').value).toBe(1);
    expect(kpi('expired-exceptions').value).toBe(1);
    expect(kpi('policies-past-review').value).toBe(1);
    expect(kpi('improvement-actions').breakdown).toEqual([{ label: 'open', value: 2 }, { label: 'overdue', value: 1 }]);
    expect(kpi('access-reviews-on-schedule')).toMatchObject({ value: 50, breakdown: [{ label: 'due', value: 2 }, { label: 'completed on time', value: 1 }] });
    expect(kpi('measures-without-control')).toMatchObject({ status: 'not_measured', note: 'not measured: controls catalog not yet wired into this measure' });
    expect(report.trend.map((t: { period: string }) => t.period)).toEqual(['2025-Q4', '2026-Q1', '2026-Q2', '2026-Q3']);
    expect(report.trend[2].values.mtta).toBe(10);

    expect(report.deviations).toHaveLength(8);
    expect(report.deviations.map((d: { key: string }) => d.key)).toEqual(
      expect.arrayContaining([
        `incident-sla:${i2}:acknowledge`,
        `incident-sla:${i2}:resolve`,
        `incident-sla:${i3}:resolve`,
        `risks-past-review:${r1.id}`,
        `expired-exceptions:risk:${r2.id}`,
        `policies-past-review:${p1.id}`,
        expect.stringMatching(/^improvement-actions:/),
        'access-reviews-on-schedule:2026-07-01',
      ]),
    );
    expect(report.deviations.some((d: { key: string }) => d.key.includes(i1))).toBe(false);
    expect(report.ownerReviews.find((r: { owner: string }) => r.owner === 'sue')).toMatchObject({ outcome: 'no_response', expired: true });
    // Highest risk first: the owner's new risk (5×5×high 3), then the 60s, …, the unanswered review (2×2×medium 2).
    expect(report.improvementActions.map((x: { riskScore: number }) => x.riskScore)).toEqual([75, 60, 60, 60, 24, 18, 18, 18, 18, 8]);
    expect(report.improvementActions[0]).toMatchObject({ title: 'New partner API exposed', owner: 'sam' });

    // Sent back with an addition: planning reopens and the new action joins in risk order.
    expect((await decide(stack, tokens.manager, firstSignOff.id, 'sent_back', { comment: 'add a tabletop exercise', data: { additions: [{ title: 'Tabletop exercise for data leaks', likelihood: 2, impact: 5 }] } })).status).toBe(200);
    const secondSignOff = await eventually(async () => {
      const task = await openTask(stack, tokens.manager, '2026-Q3', 'review.sign-off');
      return task.id !== firstSignOff.id && task;
    }, 20_000, 'the second sign-off');
    expect((await decide(stack, tokens.manager, secondSignOff.id, 'approved', { comment: 'agreed' })).status).toBe(200);

    const signed = await eventually(async () => {
      const found = (await stack.request('GET', '/reviews/2026-Q3/report', { token: tokens.sam })).body;
      return found.status === 'signed_off' && found;
    }, 20_000, 'the sign-off');
    expect(signed.improvementActions.map((x: { riskScore: number }) => x.riskScore)).toEqual([75, 60, 60, 60, 24, 20, 18, 18, 18, 18, 8]);
    expect(signed.revisions).toMatchObject([{ outcome: 'sent_back', by: 'max', comment: 'add a tabletop exercise' }]);
    expect(signed.signOff).toMatchObject({ outcome: 'approved', by: 'max', comment: 'agreed' });
    const backlog = (await stack.request('GET', '/improvement-actions?sourceId=2026-Q3&limit=100', { token: tokens.auditor })).body.items;
    expect(backlog).toHaveLength(11);

    const markdown = await stack.request('GET', '/reviews/2026-Q3/report', { token: tokens.auditor, headers: { accept: 'text/markdown' } });
    expect(markdown.headers.get('content-type')).toContain('text/markdown');
    expect(markdown.body).toContain('# IT Security Report 2026-Q3');
    expect(markdown.body).toContain('| Mean time to acknowledge (MTTA) | 36.67 minutes |');
    expect(markdown.body).toContain('Exception report: 8 deviation(s)');
    const html = await stack.request('GET', '/reviews/2026-Q3/report', { token: tokens.auditor, headers: { accept: 'text/html' } });
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(html.headers.get('content-security-policy')).toContain("style-src 'unsafe-inline'");
    expect(html.body).toMatch(/^<!doctype html>/);
    expect((html.body.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(5);
    expect(html.body).not.toContain('<script');

    const reviews = (await stack.request('GET', '/reviews', { token: tokens.sam })).body.items;
    expect(reviews).toMatchObject([{ id: '2026-Q3', status: 'signed_off', deviations: 8 }]);
    const live = await stack.request('GET', '/kpis?from=2026-07-01&to=2026-09-30', { token: tokens.auditor });
    expect(live.body.measures.find((m: { id: string }) => m.id === 'mttr').result.value).toBe(240);
  });

  it('lets the Security Manager change the quarterly schedule', async () => {
    const put = await stack.request('PUT', '/reviews/schedule', { token: tokens.manager, body: { paused: false } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ scheduleId: 'security-review/quarterly', cronExpressions: ['0 6 1 1,4,7,10 *'], paused: false });
    expect(put.body.nextRunTimes[0]).toBe('2027-01-01T06:00:00.000Z');
    const changed = await stack.request('PUT', '/reviews/schedule', { token: tokens.manager, body: { cronExpressions: ['0 6 1 1,7 *'], paused: true } });
    expect(changed.body).toMatchObject({ cronExpressions: ['0 6 1 1,7 *'], paused: true });
    expect((await stack.request('GET', '/reviews/schedule', { token: tokens.manager })).body.paused).toBe(true);
  });

  it('takes a policy version into force only after another Security Manager approves it', async () => {
    const proposed = await stack.request('POST', '/policies', { token: tokens.manager, body: { title: 'Passwords', owner: 'max', body: '# Passwords', nextReviewAt: '2027-11-01T00:00:00Z' } });
    expect(proposed.status).toBe(202);
    expect(proposed.body.workflowId).toBe(`policy/${proposed.body.policyId}/v1`);
    const task = await openTask(stack, tokens.manager, proposed.body.policyId, 'policy.approval');
    expect((await decide(stack, tokens.manager, task.id, 'approved')).status).toBe(403);
    const mia = await stack.token(['security_manager'], 'mia');
    expect((await decide(stack, mia, task.id, 'approved')).status).toBe(200);
    const policy = await eventually(async () => {
      const found = (await stack.request('GET', `/policies/${proposed.body.policyId}`, { token: tokens.sam })).body;
      return found.version === 1 && found;
    }, 15_000, 'the approved policy');
    expect(policy).toMatchObject({ approvedBy: 'mia', body: '# Passwords' });
  });
});
