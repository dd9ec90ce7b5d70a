import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { startStack, type Stack } from '../setup/stack';
import { linkPendingAudit } from '../../db/audit-linker';

type Payload = temporal.api.common.v1.IPayload;

let stack: Stack;
let connection: Connection;
/** A client as anyone with access to the Temporal server has: no codec, so it sees what is stored. */
let rawClient: Client;
let auditor: string;

const marker = `codec-marker-${randomBytes(6).toString('hex')}`;
let history: temporal.api.history.v1.IHistory;

beforeAll(async () => {
  stack = await startStack();
  connection = await Connection.connect({ address: inject('temporalAddress') });
  rawClient = new Client({ connection, namespace: stack.config.TEMPORAL_NAMESPACE });
  auditor = await stack.token(['auditor'], 'auditor-ann');

  const requester = await stack.token(['admin'], marker);
  const ping = await stack.request('POST', '/diagnostics/pings', { token: requester });
  expect(ping.status).toBe(201);
  expect(ping.body.requestedBy).toBe(marker);
  history = await rawClient.workflow.getHandle(ping.body.workflowId).fetchHistory();
});
afterAll(async () => {
  await connection?.close();
  await stack?.close();
});

const asCodecJson = (payload: Payload) => ({
  metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
  data: Buffer.from(payload.data ?? []).toString('base64'),
});

const startInput = () => {
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) throw new Error('the history has no workflow input');
  return payload;
};

describe('payloads in the Temporal history', () => {
  it('hold the requester only as ciphertext', () => {
    // JSON shows payload bytes as base64, which would hide plaintext too; the protobuf wire form
    // (what the server stores) shows it as itself, as the unencrypted activity type proves.
    const wire = Buffer.from(temporal.api.history.v1.History.encode(history).finish()).toString('latin1');
    expect(wire).toContain('recordDiagnosticPing');
    expect(wire).not.toContain(marker);
    expect(JSON.stringify(history)).not.toContain(marker);
    expect(Buffer.from(startInput().metadata?.encoding ?? []).toString()).toBe('binary/encrypted');
  });

  it('decode through /codec/decode for a permitted reader, and the reading is audited', async () => {
    const decoded = await stack.request('POST', '/codec/decode', { token: auditor, body: { payloads: [asCodecJson(startInput())] } });
    expect(decoded.status).toBe(200);
    const [payload] = decoded.body.payloads;
    expect(Buffer.from(payload.metadata.encoding, 'base64').toString()).toBe('json/plain');
    expect(JSON.parse(Buffer.from(payload.data, 'base64').toString())).toMatchObject({ requestedBy: marker });
    await linkPendingAudit(stack.db);
    const audited = await stack.db.selectFrom('audit_events').select('actor').where('action', '=', 'codec.decoded').execute();
    expect(audited.map((event) => event.actor)).toEqual(['auditor-ann']);
  });
});

describe('/codec/decode with a payload it cannot decrypt', () => {
  const refusalOf = async (payload: ReturnType<typeof asCodecJson>) => {
    const response = await stack.request('POST', '/codec/decode', { token: auditor, body: { payloads: [payload] } });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.body.detail).not.toMatch(/\bat \S+:\d+|Error:|WARDEN_|node_modules/);
    return response.body.detail as string;
  };

  it('names an unknown key id', async () => {
    const payload = asCodecJson(startInput());
    payload.metadata['encryption-key-id'] = Buffer.from('retired-2019').toString('base64');
    expect(await refusalOf(payload)).toBe('cannot decode: codec key "retired-2019" is not one this server holds');
  });

  it('refuses altered ciphertext', async () => {
    const payload = asCodecJson(startInput());
    const data = Buffer.from(payload.data, 'base64');
    data[20] = (data[20] ?? 0) ^ 0xff;
    payload.data = data.toString('base64');
    expect(await refusalOf(payload)).toContain('fails authentication');
  });
});
