import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCi } from '../setup/fixtures';
import { eventually, startStack, type Stack } from '../setup/stack';
import { changeBody, changeWithStatus, noImpact, reviewTask, submitChange } from './change-gate-support';

let stack: Stack;
let requester: string;
let reviewer: string;

beforeAll(async () => {
  // Every review in this file must be decided within 3 seconds: the reminder goes out after 1.5.
  stack = await startStack({ env: { WARDEN_CHANGE_REVIEW_LIMIT: '3s' } });
  requester = await stack.token(['change_manager']);
  reviewer = await stack.token(['security_reviewer']);
});
afterAll(() => stack?.close());

describe('the review deadline', () => {
  it('reminds, then expires an undecided review as rejected', async () => {
    const { ciId } = await seedCi(stack.db, { level: 'medium' });
    const accepted = await submitChange(
      stack,
      requester,
      changeBody({ affectedCis: [ciId], securityImpact: { ...noImpact, accessControls: true } }),
    );
    const task = await reviewTask(stack, reviewer, accepted.id);
    expect(Date.parse(task.deadlineAt) - Date.parse(task.createdAt)).toBeLessThanOrEqual(1600);

    const change = await changeWithStatus(stack, requester, accepted.id, 'rejected');
    expect(change.decisions).toEqual([
      expect.objectContaining({
        outcome: 'rejected',
        decidedBy: ['system:warden'],
        reason: expect.stringMatching(/review limit: expired as rejected/),
        taskId: task.id,
      }),
    ]);
    const notifications = await stack.db
      .selectFrom('notifications')
      .selectAll()
      .where('task_id', '=', task.id)
      .orderBy('created_at')
      .execute();
    expect(notifications.map((n) => n.dedup_key)).toEqual([`task:${task.id}:opened`, `task:${task.id}:escalated-1`]);
    expect(notifications[1]?.recipient_roles).toEqual(expect.arrayContaining(['security_reviewer', 'security_manager', 'change_manager']));
    // The reminder went out before the review expired.
    expect(notifications[1]!.created_at.getTime()).toBeLessThan(Date.parse(change.decisions[0].decidedAt));
    const closed = await stack.request('GET', `/tasks/${task.id}`, { token: reviewer });
    expect(closed.body).toMatchObject({ status: 'expired', outcome: 'rejected' });
    const late = await stack.request('POST', `/tasks/${task.id}/decision`, { token: reviewer, body: { outcome: 'approved' } });
    expect(late.status).toBe(409);
  });

  it('still accepts a decision made in time', async () => {
    const accepted = await submitChange(stack, requester, changeBody({ securityImpact: { ...noImpact, other: 'new SSO claim mapping' } }));
    const task = await reviewTask(stack, reviewer, accepted.id);
    expect((await stack.request('POST', `/tasks/${task.id}/decision`, { token: reviewer, body: { outcome: 'approved' } })).status).toBe(
      200,
    );
    await changeWithStatus(stack, requester, accepted.id, 'approved');
    const live = await eventually(async () => (await stack.request('GET', `/changes/${accepted.id}`, { token: requester })).body.live);
    expect(live).toMatchObject({ status: 'approved', waitingFor: 'implementation_report', reviewExpiresAt: null });
  });
});
