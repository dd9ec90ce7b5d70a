import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import type { ClassificationLevel } from '../../domain/classification';
import { eventually, type Stack } from '../setup/stack';

export const noImpact = { accessControls: false, networkConfiguration: false, dataHandling: false };
export const hoursFromNow = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString();

let changes = 0;
export function changeBody(overrides: Record<string, unknown> = {}) {
  changes += 1;
  return {
    title: `Change ${changes}`,
    description: 'Rotate the ingress certificates',
    affectedCis: [] as string[],
    securityImpact: noImpact,
    plannedStart: hoursFromNow(24),
    plannedEnd: hoursFromNow(26),
    rollbackPlan: 'Restore the previous certificate bundle',
    ...overrides,
  };
}

export async function createCi(stack: Stack, name: string, levels: { c?: ClassificationLevel; i?: ClassificationLevel; a?: ClassificationLevel } = {}) {
  const row = await stack.db
    .insertInto('configuration_items')
    .values({
      name,
      type: 'server',
      owner: 'ops',
      confidentiality: levels.c ?? 'low',
      integrity: levels.i ?? 'low',
      availability: levels.a ?? 'low',
      attributes: '{}',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function submitChange(stack: Stack, token: string, body: Record<string, unknown>) {
  const response = await stack.request('POST', '/changes', { token, body });
  expect(response.status, JSON.stringify(response.body)).toBe(202);
  return response.body as { id: string; workflowId: string; risk: string; reviewRequired: boolean; reasons: string[] };
}

export async function changeWithStatus(stack: Stack, token: string, id: string, status: string) {
  return eventually(
    async () => {
      const response = await stack.request('GET', `/changes/${id}`, { token });
      return response.status === 200 && response.body.status === status ? response.body : undefined;
    },
    20_000,
    `change ${id} to be ${status}`,
  );
}

export async function openReviewTask(stack: Stack, token: string, changeId: string, revision = 1) {
  return eventually(
    async () => {
      const response = await stack.request('GET', `/tasks?subjectType=change&subjectId=${changeId}&status=open`, { token });
      return response.body.items?.find((task: { details: { revision: number } }) => task.details.revision === revision);
    },
    20_000,
    `an open review task for change ${changeId}`,
  );
}

export interface ReceivedCallback {
  headers: IncomingHttpHeaders;
  raw: string;
}

/** An ITSM stand-in on loopback that records every POST it is sent. */
export async function startReceiver(): Promise<{ origin: string; received: ReceivedCallback[]; close(): Promise<void> }> {
  const received: ReceivedCallback[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, raw: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
