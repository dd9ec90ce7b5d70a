import type { PayloadCodec } from '@temporalio/common';
import { historyToJSON, JSONToPayload, payloadToJSON } from '@temporalio/common/lib/proto-utils.js';
import { writeFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import type { Stack } from './stack';

type JsonPayload = Parameters<typeof JSONToPayload>[0];

function isJsonPayload(value: unknown): value is JsonPayload {
  return (
    typeof value === 'object' && value !== null && 'metadata' in value && typeof (value as { metadata: unknown }).metadata === 'object'
  );
}

async function decodeInPlace(node: unknown, codec: PayloadCodec): Promise<void> {
  if (typeof node !== 'object' || node === null) return;
  for (const [key, value] of Object.entries(node)) {
    if (isJsonPayload(value) && 'data' in value) {
      const [decoded] = await codec.decode([JSONToPayload(value)]);
      (node as Record<string, unknown>)[key] = payloadToJSON(decoded as Parameters<typeof payloadToJSON>[0]);
    } else {
      await decodeInPlace(value, codec);
    }
  }
}

/**
 * A finished workflow's history with its payloads decrypted, as JSON: replay tests keep these so a
 * code change that breaks determinism fails CI without needing the run's encryption key. `runId`
 * picks one run of a workflow that continued as new (the current one without it).
 */
export async function decodedHistoryJson(client: Client, workflowId: string, codec: PayloadCodec, runId?: string): Promise<string> {
  const history = JSON.parse(historyToJSON(await client.workflow.getHandle(workflowId, runId).fetchHistory()));
  await decodeInPlace(history, codec);
  return JSON.stringify(history, null, 1);
}

/** Keeps a finished workflow's history for tests/replay (WARDEN_RECORD_HISTORIES=1, for a deliberate change only). */
export async function recordHistory(stack: Stack, workflowId: string, file: string): Promise<void> {
  if (process.env.WARDEN_RECORD_HISTORIES !== '1') return;
  await stack.temporal.client.workflow.getHandle(workflowId).result();
  writeFileSync(
    new URL(`../replay/histories/${file}`, import.meta.url),
    await decodedHistoryJson(stack.temporal.client, workflowId, stack.app.codec),
  );
}
