import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { eventually, startStack, type HttpResponse, type Stack } from '../setup/stack';
import { openTask, seedCi } from '../setup/fixtures';
import { signedIn } from '../setup/web';
import { maxJsonDepth } from '../../domain/input';
import { refusalTypes } from '../../domain/human-task';
import { decideUpdate } from '../../workflows/human-task.definitions';
import { deleteTestSchedule } from '../../temporal/security-test-schedule';

// Issue #14, findings 1 (poison strings), 8 (deep nesting) and 9 (`every: "x"`, `__proto__`).
let stack: Stack;
const tokens = {} as Record<'admin' | 'analyst' | 'auditor', string>;
let ciId: string;
let controlId: string | undefined;

beforeAll(async () => {
  stack = await startStack();
  tokens.admin = await stack.token(['admin'], 'admin-input');
  tokens.analyst = await stack.token(['security_analyst'], 'ana-input');
  tokens.auditor = await stack.token(['auditor'], 'audrey-input');
  ({ ciId } = await seedCi(stack.db));
});
afterAll(async () => {
  if (controlId) await deleteTestSchedule(stack.temporal.client, controlId).catch(() => undefined);
  await stack?.close();
});

const nul = 'a\u0000b';
const lone = 'a\ud800b';

/** The answer is a 400 problem naming exactly `path` (among its errors). */
function expectRefused(response: HttpResponse, path: string, message?: RegExp) {
  expect(response.status, JSON.stringify(response.body)).toBe(400);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  const errors = response.body.errors as { path: string; message: string }[];
  expect(errors.map((e) => e.path)).toContain(path);
  if (message) expect(errors.find((e) => e.path === path)?.message).toMatch(message);
}

/** Row counts of every table, or of `only` (once an incident's workflow is running and writing its own rows). */
async function tableCounts(only?: string[]): Promise<Record<string, number>> {
  const { rows: tables } = await sql<{ table_name: string }>`
    select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`.execute(stack.db);
  const counts: Record<string, number> = {};
  for (const { table_name: table } of tables) {
    if (only && !only.includes(table)) continue;
    const { rows } = await sql<{ count: number }>`select count(*)::int as count from ${sql.table(table)}`.execute(stack.db);
    counts[table] = rows[0]?.count ?? -1;
  }
  return counts;
}

const incidentBody = (title: string) => ({
  title,
  description: 'input boundary',
  category: 'malware',
  affectedCis: [ciId],
  detectedAt: '2026-11-20T02:00:00Z',
  source: 'input-boundary test',
  drill: true,
});

describe('poison strings (finding 1)', () => {
  it('refuses an incident titled with NUL or a lone surrogate, names the field, and starts nothing', async () => {
    const before = await tableCounts();
    expectRefused(await stack.request('POST', '/incidents', { token: tokens.admin, body: incidentBody(nul) }), 'body.title', /NUL/);
    expectRefused(await stack.request('POST', '/incidents', { token: tokens.admin, body: incidentBody(lone) }), 'body.title', /surrogate/);
    // Escaped in the JSON text, as a client would send it, not only as raw characters.
    expectRefused(
      await stack.request('POST', '/incidents', {
        token: tokens.admin,
        rawBody: JSON.stringify(incidentBody('x')).replace('"title":"x"', '"title":"a\\u0000b"'),
      }),
      'body.title',
    );
    expect(await tableCounts()).toEqual(before);
    const started = await stack.temporal.client.workflow.count(`TaskQueue = '${stack.config.TEMPORAL_TASK_QUEUE}'`);
    expect(started.count).toBe(0);
  });

  it.each([
    ['POST', '/services', (text: string) => ({ name: text, owner: 'owner-x' }), 'body.name'],
    [
      'POST',
      '/cis',
      (text: string) => ({
        name: 'poison ci',
        type: 'server',
        owner: 'owner-x',
        classification: { confidentiality: 'low', integrity: 'low', availability: 'low' },
        attributes: { zone: { rack: text } },
      }),
      'body.attributes.zone.rack',
    ],
    [
      'POST',
      '/policies',
      (text: string) => ({ title: 'poison policy', owner: 'owner-x', body: text, nextReviewAt: '2027-01-01T00:00:00Z' }),
      'body.body',
    ],
  ])('%s %s refuses NUL and lone surrogates with 400 naming the field', async (method, path, body, field) => {
    const before = await tableCounts();
    for (const text of [nul, lone, '\udc00', 'ok\ud83d']) {
      expectRefused(await stack.request(method, path, { token: tokens.admin, body: body(text) }), field);
    }
    // A field *name* that cannot be stored is refused too.
    expectRefused(
      await stack.request(method, path, { token: tokens.admin, body: { ...body('x'), [nul]: 1 } }),
      `body.${nul}`,
      /field name/,
    );
    expect(await tableCounts()).toEqual(before);
    // Surrogate pairs (emoji) are fine.
    const fine = await stack.request(method, path, { token: tokens.admin, body: body('ok \ud83d\udd12') });
    expect(fine.status, JSON.stringify(fine.body)).toBeLessThan(300);
  });

  it('refuses NUL in a query string and in a path parameter', async () => {
    expectRefused(await stack.request('GET', '/incidents?status=open%00', { token: tokens.auditor }), 'querystring.status', /NUL/);
    expectRefused(await stack.request('GET', '/incidents/a%00b', { token: tokens.auditor }), 'params.id', /NUL/);
    // A path that is not UTF-8 at all (an encoded lone surrogate) is refused by the router, as a problem too.
    expectRefused(await stack.request('GET', '/incidents/%ED%A0%80', { token: tokens.auditor }), 'params');
    const charset = await stack.request('POST', '/services', {
      token: tokens.admin,
      rawBody: JSON.stringify({ name: 'x\u0000', owner: 'owner-x' }),
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expectRefused(charset, 'body.name', /NUL/);
  });

  describe('decisions', () => {
    let incidentId: string;
    let task: { id: string; workflowId?: string };
    beforeAll(async () => {
      const reported = await stack.request('POST', '/incidents', { token: tokens.admin, body: incidentBody('decidable incident') });
      expect(reported.status, JSON.stringify(reported.body)).toBe(202);
      incidentId = reported.body.id;
      task = await openTask(stack, tokens.analyst, incidentId, 'incident.acknowledge');
    });

    it('refuses a comment with NUL or data with a lone surrogate, too deep or too large: the task stays open', async () => {
      const decide = (body: unknown) => stack.request('POST', `/tasks/${task.id}/decision`, { token: tokens.analyst, body });
      expectRefused(await decide({ outcome: 'acknowledged', comment: nul }), 'body.comment', /NUL/);
      expectRefused(await decide({ outcome: 'acknowledged', data: { x: '\ud800' } }), 'body.data.x', /surrogate/);
      expectRefused(await decide({ outcome: 'acknowledged', data: { x: { [lone]: true } } }), `body.data.x.${lone}`);
      expectRefused(await decide({ outcome: 'acknowledged', data: { big: 'x'.repeat(70_000) } }), 'body.data', /at most 65536/);
      const deep = `{"outcome":"acknowledged","data":${'{"a":'.repeat(100)}1${'}'.repeat(100)}}`;
      const refused = await stack.request('POST', `/tasks/${task.id}/decision`, { token: tokens.analyst, rawBody: deep });
      expectRefused(refused, `body.data${'.a'.repeat(maxJsonDepth - 1)}`, /deeper than 32/);

      const row = await stack.db
        .selectFrom('human_tasks')
        .select(['status', 'decisions'])
        .where('id', '=', task.id)
        .executeTakeFirstOrThrow();
      expect(row.status).toBe('open');
    });

    it('the decide validator refuses the same when the decision comes from another Temporal client', async () => {
      const row = await stack.db.selectFrom('human_tasks').select('workflow_id').where('id', '=', task.id).executeTakeFirstOrThrow();
      const handle = stack.temporal.client.workflow.getHandle(row.workflow_id);
      const actor = { principalId: 'ana-input', roles: ['security_analyst' as const] };
      for (const [request, field] of [
        [{ comment: nul }, 'comment'],
        [{ data: { x: '\ud800' } }, 'data.x'],
        [{ data: { huge: 'y'.repeat(70_000) } }, 'data'],
      ] as const) {
        const failure = await handle
          .executeUpdate(decideUpdate, { args: [{ taskId: task.id, actor, outcome: 'acknowledged', ...request }] })
          .then(
            () => undefined,
            (error: unknown) => error,
          );
        expect(failure).toBeInstanceOf(WorkflowUpdateFailedError);
        const cause = (failure as WorkflowUpdateFailedError).cause as ApplicationFailure;
        expect(cause).toBeInstanceOf(ApplicationFailure);
        expect(cause.type).toBe(refusalTypes.invalidInput);
        expect(cause.details?.[0]).toBe(field);
      }
      // Refused by the validator: nothing entered the history, and the task is still decidable.
      const history = await handle.fetchHistory();
      const accepted = history.events?.filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes) ?? [];
      expect(accepted).toHaveLength(0);
    });

    it('a form post from the inbox with bad data is refused too, and the task is then decided normally', async () => {
      const client = await signedIn(stack, tokens.analyst);
      const refusedForm = await client.post(`/ui/tasks/${task.id}/decision`, { outcome: 'acknowledged', comment: nul });
      expect(refusedForm.status).toBe(400);
      // The inbox takes no JSON: a field its form does not have is refused.
      const refusedData = await client.post(`/ui/tasks/${task.id}/decision`, { outcome: 'acknowledged', data: '{"x":"\\ud800"}' });
      expect(refusedData.status).toBe(400);

      const decided = await stack.request('POST', `/tasks/${task.id}/decision`, {
        token: tokens.analyst,
        body: { outcome: 'acknowledged', comment: 'seen \ud83d\udc40', data: { note: 'fine' } },
      });
      expect(decided.status, JSON.stringify(decided.body)).toBe(200);
      await eventually(
        async () =>
          (await stack.db.selectFrom('human_tasks').select('status').where('id', '=', task.id).executeTakeFirst())?.status === 'decided',
        20_000,
        'the task decided',
      );
    });
  });
});

const cmdbTables = ['services', 'configuration_items'];

describe('deep and large free-form JSON (finding 8)', () => {
  const ciBody = (attributes: unknown) => ({
    name: 'deep ci',
    type: 'server',
    owner: 'owner-x',
    classification: { confidentiality: 'low', integrity: 'low', availability: 'low' },
    attributes,
  });
  const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

  it('refuses attributes nested 3,000 deep with 400 naming where, and writes nothing', async () => {
    const before = await tableCounts(cmdbTables);
    const rawBody = JSON.stringify(ciBody(null)).replace('"attributes":null', `"attributes":${nested(3000)}`);
    expectRefused(await stack.request('POST', '/cis', { token: tokens.admin, rawBody }), `body.attributes${'.a'.repeat(maxJsonDepth - 1)}`);
    expect(await tableCounts(cmdbTables)).toEqual(before);
    const verify = await stack.request('GET', '/audit/verify', { token: tokens.auditor });
    expect(verify.status).toBe(200);
  });

  it('accepts attributes nested to the limit and refuses attributes over 64 KiB', async () => {
    const rawBody = JSON.stringify(ciBody(null)).replace('"attributes":null', `"attributes":${nested(maxJsonDepth - 1)}`);
    const accepted = await stack.request('POST', '/cis', { token: tokens.admin, rawBody });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(201);
    expectRefused(
      await stack.request('POST', '/cis', { token: tokens.admin, body: ciBody({ blob: 'z'.repeat(70_000) }) }),
      'body.attributes',
    );
  });
});

describe('finding 9', () => {
  it('answers a __proto__ key with 400 naming the field, not "not valid JSON"', async () => {
    const before = await tableCounts(cmdbTables);
    const response = await stack.request('POST', '/services', {
      token: tokens.admin,
      rawBody: '{"name":"proto","owner":"owner-x","__proto__":{"isAdmin":true}}',
    });
    expectRefused(response, 'body.__proto__', /not allowed/);
    const nestedResponse = await stack.request('POST', '/cis', {
      token: tokens.admin,
      rawBody:
        '{"name":"p","type":"server","owner":"o","classification":{"confidentiality":"low","integrity":"low","availability":"low"},"attributes":{"x":{"constructor":{"prototype":{"polluted":true}}}}}',
    });
    expectRefused(nestedResponse, 'body.attributes.x.constructor');
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(await tableCounts(cmdbTables)).toEqual(before);
  });

  it('answers PUT /controls/:id/schedule {"every":"x"} with 400 naming body.every', async () => {
    const created = await stack.request('POST', '/controls', {
      token: tokens.admin,
      body: {
        name: 'schedule probe',
        description: 'd',
        owner: 'owner-x',
        kind: 'technical',
        process: 'security',
        ciIds: [ciId],
        incidentCategory: 'malware',
        procedure: { type: 'manual', instructions: 'look' },
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    controlId = created.body.id as string;
    for (const every of ['x', '', '5', '10 s', '0s']) {
      const response = await stack.request('PUT', `/controls/${controlId}/schedule`, {
        token: tokens.admin,
        body: { every, paused: true },
      });
      expectRefused(response, 'body.every');
    }
    const fine = await stack.request('PUT', `/controls/${controlId}/schedule`, {
      token: tokens.admin,
      body: { every: '365d', paused: true },
    });
    expect(fine.status, JSON.stringify(fine.body)).toBe(200);
  });
});
