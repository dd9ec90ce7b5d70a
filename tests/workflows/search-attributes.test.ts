import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { resolveTemporalCli } from '../../cli/temporal-cli';
import { wardenSearchAttributes } from '../../domain/search-attributes';
import { setupTemporalNamespace, TemporalSetupError } from '../../temporal/setup';
import { decide, openTask, seedCi } from '../setup/fixtures';
import { eventually, startStack, type Stack } from '../setup/stack';

const run = promisify(execFile);
let stack: Stack;
const tokens = {} as Record<'reporter' | 'analyst', string>;

beforeAll(async () => {
  stack = await startStack();
  tokens.reporter = await stack.token(['reporter']);
  tokens.analyst = await stack.token(['security_analyst']);
});
afterAll(() => stack?.close());

/** Ids of the workflows a visibility query lists, once the list holds `workflowId` (visibility is eventually consistent). */
async function listedBy(query: string, workflowId: string) {
  return eventually(
    async () => {
      const ids: string[] = [];
      for await (const execution of stack.temporal.client.workflow.list({ query })) ids.push(execution.workflowId);
      return ids.includes(workflowId) && ids;
    },
    20_000,
    `${workflowId} listed by ${query}`,
  );
}

describe('Search Attributes and memo', () => {
  it('lets operators find a critical incident by WardenSeverity, with its status moving and its title only in the encrypted memo', async () => {
    // Confidentiality `high` and a data leak (+1 on confidentiality): critical.
    const { ciId } = await seedCi(stack.db, { level: 'high' });
    const title = `Customer table copied to a paste site ${Date.now()}`;
    const reported = await stack.request('POST', '/incidents', {
      token: tokens.reporter,
      body: { title, description: 'found by a researcher', category: 'data_leak', affectedCis: [ciId], source: 'helpdesk' },
    });
    expect(reported.status).toBe(202);
    const incidentId: string = reported.body.id;
    const workflowId: string = reported.body.workflowId;

    const critical = await listedBy(`WardenSeverity="critical" AND WardenProcess="incident"`, workflowId);
    expect(critical).toContain(workflowId);
    await listedBy(`WardenSubjectId="${incidentId}" AND WardenStatus="registered" AND WardenDrill=false`, workflowId);

    // WardenSlaDueAt is the earliest open SLA clock: the acknowledge target, as the API's sla.nextDueAt.
    const clocks = await eventually(
      async () => (await stack.request('GET', `/incidents/${incidentId}`, { token: tokens.analyst })).body.sla ?? undefined,
      15_000,
      'the SLA clocks',
    );
    const dueOf = (target: string) => clocks.targets.find((t: { target: string }) => t.target === target).dueAt;
    const dueAttribute = (execution: { typedSearchAttributes: { get(key: { name: string; type: 'DATETIME' }): Date | undefined } }) =>
      execution.typedSearchAttributes.get({ name: wardenSearchAttributes.slaDueAt.name, type: 'DATETIME' })?.toISOString();
    const described = await eventually(
      async () => {
        const found = await stack.temporal.client.workflow.getHandle(workflowId).describe();
        return dueAttribute(found) === dueOf('acknowledge') && found;
      },
      15_000,
      'WardenSlaDueAt on the acknowledge target',
    );
    // Nothing the reporter typed is indexed in plain text; the title is in the memo, which the codec decoded for this client.
    const indexed = described.raw.workflowExecutionInfo?.searchAttributes?.indexedFields ?? {};
    expect(Object.keys(indexed)).toContain('WardenSeverity');
    expect(JSON.stringify(Object.values(indexed).map((p) => Buffer.from(p.data ?? []).toString()))).not.toContain('paste site');
    expect(described.memo).toEqual({ title });
    const rawMemo = described.raw.workflowExecutionInfo?.memo?.fields?.title;
    expect(Buffer.from(rawMemo?.data ?? []).toString()).not.toContain('paste site');

    // Acknowledging moves the status, and the due time on to the next open target: triage.
    await decide(stack, tokens.analyst, (await openTask(stack, tokens.analyst, incidentId, 'incident.acknowledge')).id, 'acknowledged');
    await listedBy(`WardenSubjectId="${incidentId}" AND WardenStatus="acknowledged"`, workflowId);
    // The clock is met just after the status moves: wait for the upsert that follows it.
    const afterAck = (
      await eventually(
        async () => {
          const found = await stack.temporal.client.workflow.getHandle(workflowId).describe();
          return dueAttribute(found) === dueOf('triage') && found;
        },
        15_000,
        'WardenSlaDueAt on the triage target',
      )
    ).typedSearchAttributes;
    expect(afterAck.get({ name: wardenSearchAttributes.status.name, type: 'KEYWORD' })).toBe('acknowledged');

    // What the README tells operators to type works with the Temporal CLI itself.
    const cli = await resolveTemporalCli();
    if (!cli) throw new Error('the tests need the Temporal CLI');
    const { stdout } = await run(cli.path, [
      'workflow',
      'list',
      '--address',
      inject('temporalAddress'),
      '--query',
      `WardenSeverity="critical" AND WardenSubjectId="${incidentId}"`,
      '--output',
      'json',
    ]);
    expect(stdout).toContain(workflowId);
  });
});

describe('warden temporal setup', () => {
  const address = () => inject('temporalAddress');

  it('is idempotent: a second run adds nothing and registers nothing', async () => {
    const again = await setupTemporalNamespace({ address: address(), namespace: 'default' });
    expect(again).toEqual({ namespace: 'default', namespaceRegistered: false, searchAttributesAdded: [] });
  });

  it('registers a missing namespace with every Warden attribute, then finds it ready', async () => {
    const namespace = `warden-setup-${Date.now()}`;
    const first = await setupTemporalNamespace({ address: address(), namespace });
    expect(first.namespaceRegistered).toBe(true);
    expect(first.searchAttributesAdded.sort()).toEqual(
      Object.values(wardenSearchAttributes)
        .map((a) => a.name)
        .sort(),
    );
    expect(await setupTemporalNamespace({ address: address(), namespace })).toMatchObject({ searchAttributesAdded: [] });
  });

  it('refuses a namespace where a Warden attribute exists with another type, naming it', async () => {
    const namespace = `warden-conflict-${Date.now()}`;
    const connection = await Connection.connect({ address: address() });
    try {
      await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
      await eventually(
        () =>
          connection.workflowService.describeNamespace({ namespace }).then(
            () => true,
            () => false,
          ),
        20_000,
        'namespace',
      );
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: { WardenSeverity: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT },
      });
    } finally {
      await connection.close();
    }
    const refused = setupTemporalNamespace({ address: address(), namespace });
    await expect(refused).rejects.toBeInstanceOf(TemporalSetupError);
    await expect(refused).rejects.toThrow(/WardenSeverity exists .* as INDEXED_VALUE_TYPE_INT, but Warden needs KEYWORD/);
  });
});
