import { refusalTypes } from '../../domain/human-task';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reviewScheduleId } from '../../domain/security-review';
import { decide, openTask, seedCi } from '../setup/fixtures';
import { appendAudit, auditedTransaction } from '../../db/audit';
import {
  seedAccessReviewCampaign,
  seedApprovedPolicy,
  seedChange,
  seedControl,
  seedImprovementAction,
  seedIncident,
  seedRemediation,
  seedRisk,
} from '../setup/review-seeds';
import { htmlTables, markdownTables } from '../setup/report-tables';
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
  await stack?.temporal.client.schedule
    .getHandle(reviewScheduleId)
    .delete()
    .catch(() => undefined);
  await stack?.close();
});

const at = (day: string, time: string) => `2026-${day}T${time}:00Z`;

describe('the periodic security review', () => {
  it('measures planted KPIs exactly, asks owners, plans in risk order, and is signed off', async () => {
    // Service A (sam) is classified high, service B (sue) medium; B's SLA adds requirement SR-1.
    const a = await seedCi(stack.db, { level: 'high', owner: 'sam' });
    const b = await seedCi(stack.db, {
      level: 'medium',
      owner: 'sue',
      sla: { additionalRequirements: [{ id: 'SR-1', title: 'Yearly penetration test' }] },
    });
    // 2026-Q3. I1 high: detect 30 min, acknowledge 20 min (target 1h met), resolve 120 min (1d met).
    const i1 = await seedIncident(stack.db, {
      severity: 'high',
      category: 'malware',
      affectedCis: [a.ciId],
      occurredAt: at('07-10', '10:00'),
      detectedAt: at('07-10', '10:30'),
      reportedAt: at('07-10', '11:00'),
      acknowledgedAt: at('07-10', '11:20'),
      resolvedAt: at('07-10', '13:00'),
      acknowledgeTarget: '1h',
      resolveTarget: '1d',
    });
    // I2 critical: detect 90 min, acknowledge 60 min (target 15m missed), resolve 360 min (4h missed).
    const i2 = await seedIncident(stack.db, {
      severity: 'critical',
      category: 'unauthorised_access',
      affectedCis: [a.ciId],
      occurredAt: at('08-01', '00:00'),
      detectedAt: at('08-01', '01:30'),
      reportedAt: at('08-01', '02:00'),
      acknowledgedAt: at('08-01', '03:00'),
      resolvedAt: at('08-01', '08:00'),
      acknowledgeTarget: '15m',
      resolveTarget: '4h',
    });
    // I3 medium: acknowledge 30 min (4h met), never resolved (3d missed by the end of the quarter).
    const i3 = await seedIncident(stack.db, {
      severity: 'medium',
      category: 'data_leak',
      affectedCis: [b.ciId],
      reportedAt: at('09-01', '09:00'),
      acknowledgedAt: at('09-01', '09:30'),
      acknowledgeTarget: '4h',
      resolveTarget: '3d',
    });
    // A drill and an incident of the quarter before: neither counts for 2026-Q3.
    await seedIncident(stack.db, {
      severity: 'critical',
      category: 'malware',
      affectedCis: [a.ciId],
      reportedAt: at('08-02', '00:00'),
      acknowledgedAt: at('08-02', '09:00'),
      acknowledgeTarget: '15m',
      resolveTarget: '4h',
      drill: true,
    });
    await seedIncident(stack.db, {
      severity: 'high',
      category: 'malware',
      affectedCis: [a.ciId],
      reportedAt: at('05-05', '10:00'),
      acknowledgedAt: at('05-05', '10:10'),
      acknowledgeTarget: '1h',
      resolveTarget: '1d',
    });

    const r1 = await seedRisk(stack.db, {
      title: 'Ransomware on file servers',
      likelihood: 4,
      impact: 5,
      owner: 'sam',
      treatment: 'mitigate',
      reviewAt: at('08-01', '00:00'),
      affectedServices: [a.serviceId],
    });
    const r2 = await seedRisk(stack.db, {
      title: 'Legacy TLS on partner link',
      likelihood: 3,
      impact: 3,
      owner: 'sue',
      treatment: 'accept',
      acceptedUntil: at('09-01', '00:00'),
      reviewAt: '2027-06-01T00:00:00Z',
      affectedServices: [b.serviceId],
    });
    await seedRisk(stack.db, {
      title: 'Reviewed and current',
      likelihood: 5,
      impact: 5,
      owner: 'sam',
      treatment: 'mitigate',
      reviewAt: '2027-06-01T00:00:00Z',
      affectedServices: [a.serviceId],
    });
    const p1 = await seedApprovedPolicy(stack.db, { title: 'Acceptable use', owner: 'max', nextReviewAt: at('09-15', '00:00') });
    await seedApprovedPolicy(stack.db, { title: 'Cryptography', owner: 'max', nextReviewAt: '2027-09-15T00:00:00Z' });
    await seedImprovementAction(stack.db, {
      title: 'Overdue hardening',
      owner: 'ana',
      status: 'open',
      dueAt: at('09-01', '00:00'),
      createdAt: at('08-01', '00:00'),
    });
    await seedImprovementAction(stack.db, {
      title: 'Not yet due',
      owner: 'ana',
      status: 'in_progress',
      dueAt: '2027-01-01T00:00:00Z',
      createdAt: at('08-01', '00:00'),
    });
    await seedImprovementAction(stack.db, {
      title: 'Finished',
      owner: 'ana',
      status: 'done',
      dueAt: at('08-15', '00:00'),
      createdAt: at('08-01', '00:00'),
    });
    // One access review campaign finished by its deadline, one still open past it.
    await seedAccessReviewCampaign(stack.db, { deadlineAt: at('08-15', '00:00'), completedAt: at('08-10', '00:00') });
    await seedAccessReviewCampaign(stack.db, { deadlineAt: at('09-15', '00:00'), completedAt: null });
    // Controls, judged as of 2026-10-01. A (high) requires BL-C1…C4, I1…I3, A1…A3 (10); B (medium)
    // BL-C1, C2, I1, I2, A1, A2 plus SR-1 (7). Scheduled: Baseline A (30d, passed 09-20: on time),
    // Restore A (30d, last tested 08-01: late), Pentest B (90d, failed 09-25: on time), and Watch A
    // (30d since 09-15, never run: not due yet) → 3 of 4; Later A, scheduled after the quarter, is not counted.
    // Runs finished in Q3: 08-20 failed, 09-20 passed, 08-01 passed, 09-10 passed, 09-25 failed → 3 of 5;
    // the run of 06-15 is the quarter before.
    const baselineA = await seedControl(stack.db, {
      name: 'Baseline A',
      owner: 'olga',
      ciIds: [a.ciId],
      baselineMeasures: ['BL-C1', 'BL-C2', 'BL-C3', 'BL-C4', 'BL-I1', 'BL-I2', 'BL-I3', 'BL-A1', 'BL-A2'],
      cadenceDays: 30,
      runs: [
        ['2026-06-15T00:00:00Z', 'passed'],
        [at('08-20', '00:00'), 'failed'],
        [at('09-20', '00:00'), 'passed'],
      ],
    });
    const restoreA = await seedControl(stack.db, {
      name: 'Restore A',
      owner: 'olga',
      ciIds: [a.ciId],
      baselineMeasures: ['BL-A3'],
      cadenceDays: 30,
      runs: [[at('08-01', '00:00'), 'passed']],
    });
    await seedControl(stack.db, {
      name: 'Watch A',
      owner: 'olga',
      ciIds: [a.ciId],
      cadenceDays: 30,
      scheduledSince: at('09-15', '00:00'),
      runs: [],
    });
    await seedControl(stack.db, {
      name: 'Later A',
      owner: 'olga',
      ciIds: [a.ciId],
      cadenceDays: 1,
      scheduledSince: at('10-15', '00:00'),
      runs: [],
    });
    // Unscheduled: judged against B's SLA testCadence (30d); passed 09-10, so it works. It lacks BL-I2.
    await seedControl(stack.db, {
      name: 'Baseline B',
      owner: 'oscar',
      ciIds: [b.ciId],
      baselineMeasures: ['BL-C1', 'BL-C2', 'BL-I1', 'BL-A1', 'BL-A2'],
      runs: [[at('09-10', '00:00'), 'passed']],
    });
    const pentestB = await seedControl(stack.db, {
      name: 'Pentest B',
      owner: 'oscar',
      slaRequirements: [{ serviceId: b.serviceId, requirementId: 'SR-1' }],
      cadenceDays: 90,
      runs: [[at('09-25', '00:00'), 'failed']],
    });
    // Changes with security impact decided in Q3: reviewed (counts), auto-approved and expired (misses);
    // one without impact and one still in review are not judged → 1 of 3.
    await seedChange(stack.db, {
      title: 'Reviewed',
      ciIds: [a.ciId],
      securityImpact: true,
      createdAt: at('07-05', '00:00'),
      decisions: [
        ['review:t1', 'changes_requested', 'rev', at('07-06', '00:00')],
        ['review:t2', 'approved', 'rev', at('07-08', '00:00')],
      ],
    });
    const autoApproved = await seedChange(stack.db, {
      title: 'Auto-approved',
      ciIds: [a.ciId],
      securityImpact: true,
      createdAt: at('07-10', '00:00'),
      decisions: [['auto:1', 'approved', 'system:warden', at('07-10', '00:01')]],
    });
    const expired = await seedChange(stack.db, {
      title: 'Expired',
      ciIds: [a.ciId],
      securityImpact: true,
      createdAt: at('08-10', '00:00'),
      decisions: [
        ['review:t3', 'changes_requested', 'rev', at('08-11', '00:00')],
        ['review:t4', 'rejected', 'system:warden', at('08-15', '00:00')],
      ],
    });
    await seedChange(stack.db, {
      title: 'No impact',
      ciIds: [a.ciId],
      securityImpact: false,
      createdAt: at('08-12', '00:00'),
      decisions: [['auto:1', 'approved', 'system:warden', at('08-12', '00:01')]],
    });
    await seedChange(stack.db, { title: 'Waiting', ciIds: [a.ciId], securityImpact: true, createdAt: at('09-29', '00:00'), decisions: [] });
    // Declared no impact, but a content rule raised it and a reviewer decided it: judged, reviewed, declared lower.
    await seedChange(stack.db, {
      title: 'Derived',
      ciIds: [a.ciId],
      securityImpact: false,
      derivedImpact: true,
      createdAt: at('09-01', '00:00'),
      decisions: [['review:t5', 'approved', 'rev', at('09-02', '00:00')]],
    });
    // Remediations due in Q3 on A: one patched in time, one still open → 1 of 2.
    await seedRemediation(stack.db, {
      ciId: a.ciId,
      serviceId: a.serviceId,
      dueAt: at('08-10', '00:00'),
      resolvedAt: at('08-09', '00:00'),
    });
    await seedRemediation(stack.db, { ciId: a.ciId, serviceId: a.serviceId, dueAt: at('09-10', '00:00'), resolvedAt: null });

    const start = () =>
      stack.request('POST', '/reviews', {
        token: tokens.manager,
        body: { period: '2026-Q3', deadlines: { ownerReview: '2s', escalation: '2s' } },
      });
    const [first, second] = await Promise.all([start(), start()]);
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(first.body.workflowId).toBe('review/2026-Q3');
    expect([first.body.started, second.body.started].sort()).toEqual([false, true]);
    expect((await stack.request('POST', '/reviews', { token: tokens.analyst, body: { period: '2026-Q3' } })).status).toBe(403);

    // Sam reports a changed risk perception; Sue never answers, so her task escalates and expires.
    const samTask = await openTask(stack, tokens.sam, '2026-Q3', 'review.owner-confirmation');
    expect(samTask.assignees).toEqual(['sam']);
    expect((await decide(stack, tokens.sue, samTask.id, 'confirmed')).status).toBe(403);
    expect(
      (
        await decide(stack, tokens.sam, samTask.id, 'changed', {
          comment: 'new partner API',
          data: { riskChanges: [{ title: 'New partner API exposed', likelihood: 5, impact: 5 }] },
        })
      ).status,
    ).toBe(200);

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
    // Read from the incidents' SLA clocks, per target (the seeds kept no triage clock).
    expect(kpi('incident-sla').note).toBe('Per target: acknowledge 2 of 3 met, triage 0 of 0 met, resolve 1 of 3 met.');
    expect(
      kpi('incident-sla')
        .breakdown.map((b: { value: number; count: number }) => [b.value, b.count])
        .sort(),
    ).toEqual([
      [50, 2],
      [50, 4],
    ]);
    expect(kpi('risks-past-review').value).toBe(1);
    expect(kpi('expired-exceptions').value).toBe(1);
    expect(kpi('policies-past-review').value).toBe(1);
    expect(kpi('improvement-actions').breakdown).toEqual([
      { label: 'open', value: 2 },
      { label: 'overdue', value: 1 },
    ]);
    expect(kpi('access-reviews-on-schedule')).toMatchObject({
      value: 50,
      breakdown: [
        { label: 'due', value: 2 },
        { label: 'completed on time', value: 1 },
      ],
    });
    expect(kpi('controls-tested-on-schedule')).toMatchObject({
      value: 75,
      breakdown: [
        { label: 'scheduled', value: 4 },
        { label: 'tested on schedule', value: 3 },
      ],
    });
    expect(kpi('controls-passed')).toMatchObject({
      value: 60,
      breakdown: [
        { label: 'finished runs', value: 5 },
        { label: 'passed', value: 3 },
      ],
    });
    // A: BL-A3 (Restore A late); B: BL-I2 (no control), SR-1 (Pentest B failed).
    expect(kpi('measures-without-control')).toMatchObject({
      status: 'measured',
      value: 3,
      breakdown: [
        { label: 'required', value: 17 },
        { label: 'without a working control', value: 3 },
      ],
    });
    expect(kpi('changes-through-gate')).toMatchObject({
      value: 50,
      breakdown: [
        { label: 'with security impact, decided', value: 4 },
        { label: 'decided by review', value: 2 },
        { label: 'impact declared', value: 3 },
        { label: 'impact derived by the gate', value: 1 },
        { label: 'declared lower than derived', value: 1 },
      ],
    });
    // Auto-approved: "Auto-approved" (impact declared, a deviation above) and "No impact"; one is sampled.
    expect(kpi('auto-approved-changes')).toMatchObject({
      value: 2,
      breakdown: [
        { label: 'auto-approved', value: 2 },
        { label: 'sampled for checking', value: 1 },
      ],
    });
    expect(
      kpi('auto-approved-changes')
        .records.map((r: { title: string }) => r.title)
        .join(' '),
    ).toMatch(/Auto-approved.*No impact|No impact.*Auto-approved/);
    expect(kpi('auto-approved-changes').records.filter((r: { sampled: boolean }) => r.sampled)).toHaveLength(1);
    expect(kpi('patch-compliance')).toMatchObject({ value: 50, breakdown: [{ value: 50, count: 2 }] });
    expect(report.trend.map((t: { period: string }) => t.period)).toEqual(['2025-Q4', '2026-Q1', '2026-Q2', '2026-Q3']);
    expect(report.trend[2].values.mtta).toBe(10);

    expect(report.deviations).toHaveLength(17);
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
        `controls-tested-on-schedule:${restoreA}`,
        `controls-passed:${baselineA}:2026-07-01`,
        `controls-passed:${pentestB}:2026-07-01`,
        `measures-without-control:${a.serviceId}:BL-A3`,
        `measures-without-control:${b.serviceId}:BL-I2`,
        `measures-without-control:${b.serviceId}:SR-1`,
        `changes-through-gate:${autoApproved}`,
        `changes-through-gate:${expired}`,
        `patch-compliance:${a.serviceId}:2026-07-01`,
      ]),
    );
    expect(report.deviations.some((d: { key: string }) => d.key.includes(i1))).toBe(false);
    expect(report.ownerReviews.find((r: { owner: string }) => r.owner === 'sue')).toMatchObject({ outcome: 'no_response', expired: true });
    // Highest risk first: the owner's new risk (5×5×high 3), then the 60s, patch compliance on A (4×4×3),
    // Baseline A failing and BL-A3 on A (4×3×3, 3×4×3), Restore A late and the two ungated changes (3×3×3),
    // I3's resolve miss, Pentest B failing, BL-I2 and SR-1 on B (3×4×medium 2) at 24, …, the unanswered review (2×2×2).
    const scores = [75, 60, 60, 60, 48, 36, 36, 27, 27, 27, 24, 24, 24, 24];
    expect(report.improvementActions.map((x: { riskScore: number }) => x.riskScore)).toEqual([...scores, 18, 18, 18, 18, 8]);
    expect(report.improvementActions[0]).toMatchObject({ title: 'New partner API exposed', owner: 'sam' });

    // Sent back with an addition: planning reopens and the new action joins in risk order.
    expect(
      (
        await decide(stack, tokens.manager, firstSignOff.id, 'sent_back', {
          comment: 'add a tabletop exercise',
          data: { additions: [{ title: 'Tabletop exercise for data leaks', likelihood: 2, impact: 5 }] },
        })
      ).status,
    ).toBe(200);
    const secondSignOff = await eventually(
      async () => {
        const task = await openTask(stack, tokens.manager, '2026-Q3', 'review.sign-off');
        return task.id !== firstSignOff.id && task;
      },
      20_000,
      'the second sign-off',
    );
    expect((await decide(stack, tokens.manager, secondSignOff.id, 'approved', { comment: 'agreed' })).status).toBe(200);

    const signed = await eventually(
      async () => {
        const found = (await stack.request('GET', '/reviews/2026-Q3/report', { token: tokens.sam })).body;
        return found.status === 'signed_off' && found;
      },
      20_000,
      'the sign-off',
    );
    expect(signed.improvementActions.map((x: { riskScore: number }) => x.riskScore)).toEqual([...scores, 20, 18, 18, 18, 18, 8]);
    expect(signed.revisions).toMatchObject([{ outcome: 'sent_back', by: 'max', comment: 'add a tabletop exercise' }]);
    expect(signed.signOff).toMatchObject({ outcome: 'approved', by: 'max', comment: 'agreed' });
    const backlog = (await stack.request('GET', '/improvement-actions?sourceId=2026-Q3&limit=100', { token: tokens.auditor })).body.items;
    expect(backlog).toHaveLength(20);

    const markdown = await stack.request('GET', '/reviews/2026-Q3/report', { token: tokens.auditor, headers: { accept: 'text/markdown' } });
    expect(markdown.headers.get('content-type')).toContain('text/markdown');
    expect(markdown.body).toContain('# IT Security Report 2026-Q3');
    expect(markdown.body).toContain('| Mean time to acknowledge (MTTA) | 36.67 minutes |');
    expect(markdown.body).toContain('Exception report: 17 deviation(s)');
    expect(markdown.body).toContain('## Listed for checking: Changes the gate approved without review');
    const html = await stack.request('GET', '/reviews/2026-Q3/report', { token: tokens.auditor, headers: { accept: 'text/html' } });
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(html.headers.get('content-security-policy')).toContain("style-src 'unsafe-inline'");
    expect(html.body).toMatch(/^<!doctype html>/);
    expect((html.body.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(5);
    expect(html.body).not.toContain('<script');
    // The three formats agree cell by cell: every table of the Markdown is the HTML's, and each figure is the JSON's.
    const tables = markdownTables(markdown.body);
    expect(htmlTables(html.body)).toEqual(tables);
    const [kpiHead, ...kpiRows] = tables.get('Key performance indicators') ?? [];
    expect(kpiHead).toEqual(['KPI', 'Value', 'Breakdown']);
    expect(kpiRows.map((row) => row.slice(0, 2))).toEqual(
      signed.measures.map((m: { title: string; result: { value: number | null; unit: string } }) => [
        m.title,
        m.result.value === null ? 'no data' : `${m.result.value} ${m.result.unit}`,
      ]),
    );
    const [trendHead, ...trendRows] = tables.get('Trend over the last quarters') ?? [];
    const trendIds = (trendHead ?? []).slice(1).map((title) => signed.measures.find((m: { title: string }) => m.title === title).id);
    expect(trendIds.slice(0, 4)).toEqual(['mttd', 'mtta', 'mttr', 'incidents-per-category']);
    expect(trendRows).toEqual(
      signed.trend.map((t: { period: string; values: Record<string, number | null> }) => [
        t.period,
        ...trendIds.map((id: string) => String(t.values[id] ?? '–')),
      ]),
    );
    expect(trendRows[3]?.slice(1, 3)).toEqual(['60', '36.67']);

    const reviews = (await stack.request('GET', '/reviews', { token: tokens.sam })).body.items;
    expect(reviews).toMatchObject([{ id: '2026-Q3', status: 'signed_off', deviations: 17 }]);
    const live = await stack.request('GET', '/kpis?from=2026-07-01&to=2026-09-30', { token: tokens.auditor });
    expect(live.body.measures.find((m: { id: string }) => m.id === 'mttr').result.value).toBe(240);

    // Refusals are audited as they happen: two own-request refusals on a change count; a refusal for
    // another reason, and an own-request refusal on something else, do not.
    // Shaped as api/task-decisions.ts records them: the refusal's type is what the measure counts.
    const refusal = (subjectType: string, subjectId: string, type: string) =>
      auditedTransaction(stack.db, (trx) =>
        appendAudit(trx, {
          actor: 'rita',
          action: 'task.decision_refused',
          subjectType,
          subjectId,
          details: { status: 403, refusal: type },
        }),
      );
    await refusal('change', autoApproved, refusalTypes.ownRequest);
    await refusal('change', expired, refusalTypes.ownRequest);
    await refusal('change', expired, refusalTypes.notPermitted);
    await refusal('policy', p1.id, refusalTypes.ownRequest);
    const today = new Date().toISOString().slice(0, 10);
    const now = await stack.request('GET', `/kpis?from=${today}&to=${today}`, { token: tokens.auditor });
    expect(now.body.measures.find((m: { id: string }) => m.id === 'self-approvals-refused').result.value).toBe(2);
    expect(kpi('self-approvals-refused').value).toBe(0);
  });

  it('lets the Security Manager change the quarterly schedule', async () => {
    const put = await stack.request('PUT', '/reviews/schedule', { token: tokens.manager, body: { paused: false } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ scheduleId: 'security-review/quarterly', cronExpressions: ['0 6 1 1,4,7,10 *'], paused: false });
    expect(put.body.nextRunTimes[0]).toBe('2027-01-01T06:00:00.000Z');
    const changed = await stack.request('PUT', '/reviews/schedule', {
      token: tokens.manager,
      body: { cronExpressions: ['0 6 1 1,7 *'], paused: true },
    });
    expect(changed.body).toMatchObject({ cronExpressions: ['0 6 1 1,7 *'], paused: true });
    expect((await stack.request('GET', '/reviews/schedule', { token: tokens.manager })).body.paused).toBe(true);
  });

  it('takes a policy version into force only after another Security Manager approves it', async () => {
    const proposed = await stack.request('POST', '/policies', {
      token: tokens.manager,
      body: { title: 'Passwords', owner: 'max', body: '# Passwords', nextReviewAt: '2027-11-01T00:00:00Z' },
    });
    expect(proposed.status).toBe(202);
    expect(proposed.body.workflowId).toBe(`policy/${proposed.body.policyId}/v1`);
    const task = await openTask(stack, tokens.manager, proposed.body.policyId, 'policy.approval');
    expect((await decide(stack, tokens.manager, task.id, 'approved')).status).toBe(403);
    const mia = await stack.token(['security_manager'], 'mia');
    expect((await decide(stack, mia, task.id, 'approved')).status).toBe(200);
    const policy = await eventually(
      async () => {
        const found = (await stack.request('GET', `/policies/${proposed.body.policyId}`, { token: tokens.sam })).body;
        return found.version === 1 && found;
      },
      15_000,
      'the approved policy',
    );
    expect(policy).toMatchObject({ approvedBy: 'mia', body: '# Passwords' });
  });
});
