import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodedHistoryJson } from '../setup/histories';
import { wardenSearchAttributes } from '../../domain/search-attributes';
import type { TrainingCampaignResult } from '../../domain/training';
import { eventually, startStack, type Stack } from '../setup/stack';
import { linkPendingAudit } from '../../db/audit-linker';

let stack: Stack;
const tokens = {} as Record<'manager' | 'auditor' | 'tina' | 'lms', string>;

beforeAll(async () => {
  stack = await startStack();
  tokens.manager = await stack.token(['security_manager'], 'max');
  tokens.auditor = await stack.token(['auditor'], 'audrey');
  tokens.tina = await stack.token(['tester'], 'tina');
  tokens.lms = await stack.token(['reporter'], 'lms');
});
afterAll(async () => {
  await stack?.close();
});

const directoryExport = 'principal_id,display_name,status,manager\r\ndora,Dora Doe,active,mona\r\nlee,Lee Left,leaver,mona\r\n';

async function startCampaign(body: Record<string, unknown>) {
  const started = await stack.request('POST', '/training-campaigns', { token: tokens.manager, body });
  expect(started.status).toBe(202);
  return started.body as { id: string; workflowId: string };
}

async function campaign(id: string) {
  return (await stack.request('GET', `/training-campaigns/${id}`, { token: tokens.auditor })).body;
}

const assignment = (view: { assignments: { principalId: string; reminders: number }[] }, principalId: string) =>
  view.assignments.find((a) => a.principalId === principalId);

describe('the awareness programme', () => {
  it('assigns an audience of three, records completions by API and CSV, escalates the overdue one, and the review shows 2/3', async () => {
    const refused = await stack.request('POST', '/training-campaigns', {
      token: tokens.manager,
      body: { title: 'x', courseId: 'c', dueAt: '2026-12-31T00:00:00Z', audience: {} },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0].path).toBe('body.audience');
    const badDirectory = await stack.request('POST', '/training-campaigns', {
      token: tokens.manager,
      body: {
        title: 'x',
        courseId: 'c',
        dueAt: '2026-12-31T00:00:00Z',
        audience: { directoryExport: 'principal_id,status\r\nzed,retired\r\n' },
      },
    });
    expect(badDirectory.status).toBe(400);
    expect(badDirectory.body.errors[0].path).toBe('body.audience.directoryExport.row.1.status');
    expect((await stack.request('POST', '/training-campaigns', { token: tokens.tina, body: {} })).status).toBe(403);

    // Tina by role, Pat by name, Dora (manager Mona) from the directory export; Lee left and is not assigned.
    const dueAt = new Date(Date.now() + 10_000).toISOString();
    const { id, workflowId } = await startCampaign({
      title: 'Phishing awareness',
      courseId: 'course-phishing',
      dueAt,
      audience: { roles: ['tester'], principals: ['pat'], directoryExport },
      reminderEvery: '3s',
    });
    expect(workflowId).toBe(`training-campaign/${id}`);
    const opened = await eventually(async () => {
      const view = await campaign(id);
      return view.assignments?.length > 0 && view;
    });
    expect(opened.assignments.map((a: { principalId: string; manager: string | null }) => [a.principalId, a.manager])).toEqual([
      ['dora', 'mona'],
      ['pat', null],
      ['tina', null],
    ]);

    // Tina by the API; Pat by a CSV import. An unassigned principal refuses the whole import, naming its row.
    const byApi = await stack.request('POST', `/training-campaigns/${id}/completions`, {
      token: tokens.manager,
      body: { completions: [{ principalId: 'tina' }] },
    });
    expect(byApi.body).toEqual({ recorded: ['tina'], alreadyCompleted: [] });
    const csv = (rows: string) => ({
      token: tokens.manager,
      rawBody: `principal_id,completed_at\r\n${rows}`,
      headers: { 'content-type': 'text/csv' },
    });
    const unassigned = await stack.request('POST', `/training-campaigns/${id}/completions`, csv(`pat,\r\nzed,\r\n`));
    expect(unassigned.status).toBe(400);
    expect(unassigned.body.errors).toEqual([{ path: 'body.csv.row.2.principalId', message: 'zed is not assigned this training' }]);
    const future = await stack.request('POST', `/training-campaigns/${id}/completions`, csv('pat,2099-01-01T00:00:00Z\r\n'));
    expect(future.body.errors).toEqual([{ path: 'body.csv.row.1.completedAt', message: 'lies in the future' }]);
    expect(assignment(await campaign(id), 'pat')).toMatchObject({ completedAt: null });
    const byCsv = await stack.request('POST', `/training-campaigns/${id}/completions`, csv(`pat,${new Date().toISOString()}\r\ntina,\r\n`));
    expect(byCsv.body).toEqual({ recorded: ['pat'], alreadyCompleted: ['tina'] });
    expect(
      (await stack.request('POST', `/training-campaigns/${id}/completions`, { token: tokens.auditor, body: { completions: [] } })).status,
    ).toBe(403);

    // Dora never completes: at the due date the campaign escalates her to Mona and closes.
    const result: TrainingCampaignResult = await stack.temporal.client.workflow.getHandle(workflowId).result();
    expect(result).toEqual({ assigned: 3, completedByDue: 2, escalated: 1 });
    const described = await stack.temporal.client.workflow.getHandle(workflowId).describe();
    expect(described.typedSearchAttributes.get({ name: wardenSearchAttributes.process.name, type: 'KEYWORD' })).toBe('training-campaign');
    expect(described.typedSearchAttributes.get({ name: wardenSearchAttributes.status.name, type: 'KEYWORD' })).toBe('closed');
    expect(described.memo).toEqual({ title: 'Phishing awareness' });
    if (process.env.WARDEN_RECORD_HISTORIES === '1') {
      const history = await decodedHistoryJson(stack.temporal.client, workflowId, stack.app.codec);
      writeFileSync(new URL('../replay/histories/training-campaign-escalated.json', import.meta.url), history);
    }
    const closed = await campaign(id);
    expect(closed).toMatchObject({ status: 'closed', completion: { assigned: 3, completed: 2, rate: 2 / 3 } });
    expect(assignment(closed, 'tina')).toMatchObject({ completionSource: 'api', recordedBy: 'max', overdue: false, escalatedTo: null });
    expect(assignment(closed, 'pat')).toMatchObject({ completionSource: 'csv', overdue: false });
    const dora = assignment(closed, 'dora');
    expect(dora).toMatchObject({ completedAt: null, overdue: true, escalatedTo: 'mona' });
    expect(dora?.reminders).toBeGreaterThanOrEqual(2);

    const notices = await stack.db
      .selectFrom('notifications')
      .select(['dedup_key', 'recipients'])
      .where('subject_id', '=', id)
      .orderBy('dedup_key')
      .execute();
    expect(notices.find((n) => n.dedup_key === `training/${id}/escalation/dora`)?.recipients).toEqual(['mona', 'dora']);
    expect(notices.filter((n) => n.dedup_key.includes('/escalation/'))).toHaveLength(1);
    // Whoever completed before the first round was never reminded; dora was, round after round.
    expect(notices.map((n) => n.dedup_key)).toEqual(
      expect.arrayContaining([`training/${id}/reminder/1/dora`, `training/${id}/reminder/2/dora`]),
    );
    await linkPendingAudit(stack.db);
    const audit = await stack.db
      .selectFrom('audit_events')
      .select(['action', 'actor'])
      .where('subject_id', '=', id)
      .orderBy('id')
      .execute();
    expect(audit).toEqual([
      { action: 'training.campaign_opened', actor: 'max' },
      { action: 'training.completions_recorded', actor: 'max' },
      { action: 'training.completions_recorded', actor: 'max' },
      { action: 'training.overdue_escalated', actor: 'system:warden' },
      { action: 'training.campaign_closed', actor: 'system:warden' },
    ]);

    // The review of today shows 2 of 3 with its definition, and Dora on the overdue list.
    const today = new Date().toISOString().slice(0, 10);
    const review = await stack.request('POST', '/reviews', { token: tokens.manager, body: { from: today, to: today } });
    expect(review.status).toBe(202);
    const report = await eventually(async () => {
      const found = (await stack.request('GET', `/reviews/${review.body.id}/report`, { token: tokens.auditor })).body;
      return found.measures?.length > 0 && found;
    });
    const kpi = report.measures.find((m: { id: string }) => m.id === 'training-completion');
    expect(kpi.result).toMatchObject({
      value: 66.67,
      unit: '%',
      breakdown: [
        { label: 'assigned', value: 3 },
        { label: 'completed', value: 2 },
        { label: 'overdue', value: 1 },
      ],
    });
    expect(kpi.definition).toContain('the share who completed it');
    expect(report.deviations.find((d: { key: string }) => d.key === `training-completion:${id}`)).toMatchObject({
      detail: 'overdue: dora (escalated to mona)',
    });
    const markdown = (
      await stack.request('GET', `/reviews/${review.body.id}/report`, { token: tokens.auditor, headers: { accept: 'text/markdown' } })
    ).body;
    expect(markdown).toContain('| Security training completion rate | 66.67 % | assigned: 3; completed: 2; overdue: 1 |');
    const metrics = (await stack.request('GET', '/metrics/business', { token: tokens.auditor })).body as string;
    expect(metrics).toMatch(/^warden_training_assignments_due 3$/m);
    expect(metrics).toMatch(/^warden_training_completion_ratio 0\.666/m);
  });

  it("records completions from the learning platform's xAPI statements, authenticated by its token", async () => {
    const { id, workflowId } = await startCampaign({
      title: 'Secure coding',
      courseId: 'https://lms.example/courses/secure-coding',
      dueAt: new Date(Date.now() + 3_600_000).toISOString(),
      audience: { principals: ['pat', 'quinn'] },
    });
    await eventually(async () => (await campaign(id)).assignments?.length === 2);
    const statement = (learner: string, verb: string) => ({
      actor: { name: learner, account: { homePage: 'https://lms.example', name: learner } },
      verb: { id: `http://adlnet.gov/expapi/verbs/${verb}` },
      object: { id: 'https://lms.example/courses/secure-coding', objectType: 'Activity' },
      timestamp: new Date().toISOString(),
    });
    const send = (token: string | undefined, body: unknown) => stack.request('POST', '/training/lms-statements', { token, body });
    expect((await send(undefined, statement('pat', 'completed'))).status).toBe(401);
    expect((await send(tokens.auditor, statement('pat', 'completed'))).status).toBe(403);
    const received = await send(tokens.lms, statement('pat', 'completed'));
    expect(received.status).toBe(200);
    expect(received.body).toEqual({ recorded: [{ principalId: 'pat', campaignId: id }], ignored: null });
    expect((await send(tokens.lms, statement('quinn', 'attempted'))).body).toEqual({
      recorded: [],
      ignored: 'verb http://adlnet.gov/expapi/verbs/attempted does not complete a course',
    });
    expect((await send(tokens.lms, statement('zed', 'passed'))).body.ignored).toBe(
      'zed owes no open training of course https://lms.example/courses/secure-coding',
    );
    expect(assignment(await campaign(id), 'pat')).toMatchObject({ completionSource: 'lms', recordedBy: 'lms' });
    // Sent again, nothing changes; quinn's completion ends the campaign before its due date.
    expect((await send(tokens.lms, statement('pat', 'completed'))).body.recorded).toEqual([]);
    expect((await send(tokens.lms, statement('quinn', 'passed'))).body.recorded).toHaveLength(1);
    // Told of the completions, the campaign ends before its due date with no one to escalate.
    const result: TrainingCampaignResult = await stack.temporal.client.workflow.getHandle(workflowId).result();
    expect(result).toEqual({ assigned: 2, completedByDue: 2, escalated: 0 });
    expect(await campaign(id)).toMatchObject({ status: 'closed', completion: { assigned: 2, completed: 2, rate: 1 } });
  });
});
