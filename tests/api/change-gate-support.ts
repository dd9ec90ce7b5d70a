import { expect } from 'vitest';
import { openTask } from '../setup/fixtures';
import { eventually, type Stack } from '../setup/stack';

export const noImpact = { accessControls: false, networkConfiguration: false, dataHandling: false };
export const hoursFromNow = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString();

let changes = 0;
export function changeBody(overrides: Record<string, unknown> = {}) {
  changes += 1;
  return {
    title: `Change ${process.pid}-${changes}`,
    description: 'Move the wiki navigation to the left column',
    affectedCis: [] as string[],
    securityImpact: noImpact,
    plannedStart: hoursFromNow(24),
    plannedEnd: hoursFromNow(26),
    rollbackPlan: 'Restore the previous certificate bundle',
    ...overrides,
  };
}

export async function submitChange(stack: Stack, token: string, body: Record<string, unknown>) {
  const response = await stack.request('POST', '/changes', { token, body });
  expect(response.status, JSON.stringify(response.body)).toBe(202);
  return response.body as { id: string; workflowId: string; risk: string; reviewRequired: boolean; reasons: string[] };
}

export function changeWithStatus(stack: Stack, token: string, id: string, status: string) {
  return eventually(
    async () => {
      const response = await stack.request('GET', `/changes/${id}`, { token });
      return response.status === 200 && response.body.status === status ? response.body : undefined;
    },
    20_000,
    `change ${id} to be ${status}`,
  );
}

export const reviewTask = (stack: Stack, token: string, changeId: string) => openTask(stack, token, changeId, 'change_security_review');
