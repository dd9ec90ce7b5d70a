import createClient from 'openapi-fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roles } from '../../domain/roles';
import type { paths } from '../setup/warden-api';
import { walkableRoutes } from '../setup/routes';
import { startStack } from '../setup/stack';

const stack = await startStack({ worker: false });
afterAll(() => stack.close());

interface Operation {
  security?: unknown[];
  parameters?: { in: string; name: string }[];
  responses?: Record<string, unknown>;
}
let document: { openapi: string; paths: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, unknown> } };

beforeAll(async () => {
  const response = await stack.request('GET', '/openapi.json');
  expect(response.status).toBe(200);
  document = response.body;
});

const documented = walkableRoutes(stack.app).filter((route) => !route.hidden);
const openApiPath = (url: string) => url.replace(/:([A-Za-z]\w*)/g, '{$1}');

describe.each(documented)('$method $url', (route) => {
  it('is documented with its parameters and responses', () => {
    const operation = document.paths[openApiPath(route.url)]?.[route.method.toLowerCase()];
    expect(operation, `${route.method} ${route.url} is missing from /openapi.json`).toBeDefined();
    const statuses = Object.keys(operation?.responses ?? {});
    expect(statuses.some((status) => status.startsWith('2'))).toBe(true);
    for (const [, name] of route.url.matchAll(/:([A-Za-z]\w*)/g)) {
      expect(operation?.parameters).toContainEqual(expect.objectContaining({ in: 'path', name }));
    }
    if (route.roles === 'public') {
      expect(operation?.security).toEqual([]);
    } else {
      expect(statuses).toEqual(expect.arrayContaining(['400', '401']));
      // Refused roles are a 403; a route every role may call has none unless it says a record check refuses.
      expect(statuses.includes('403')).toBe(route.roles.length < roles.length || route.alsoAnswers.includes(403));
      expect(operation?.security).toBeUndefined(); // inherits the document's bearer requirement
    }
  });
});

it('requires a bearer token unless an operation says otherwise', () => {
  expect(document).toMatchObject({ openapi: expect.stringMatching(/^3\./), security: [{ bearer: [] }] });
});

it('defines every schema it refers to', () => {
  const refs = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map(([, name]) => name as string);
  expect(refs.length).toBeGreaterThan(0);
  expect(refs.filter((name) => !document.components?.schemas?.[name])).toEqual([]);
});

it('serves the interactive documentation as HTML', async () => {
  const response = await stack.request('GET', '/docs');
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/html');
});

it('serves a client generated from the document (openapi-typescript, openapi-fetch), errors included', async () => {
  const token = await stack.token(['security_manager'], 'typed-client');
  const client = createClient<paths>({ baseUrl: stack.baseUrl, headers: { authorization: `Bearer ${token}` } });
  const created = await client.POST('/services', { body: { name: 'Payroll', owner: 'typed-client' } });
  expect(created.response.status).toBe(201);
  const read = await client.GET('/services/{id}', { params: { path: { id: created.data?.id ?? '' } } });
  expect(read.data?.name).toBe('Payroll');

  const refused = await client.GET('/services/{id}', { params: { path: { id: 'not-a-uuid' } } });
  expect(refused.response.headers.get('content-type')).toContain('application/problem+json');
  expect(refused.error?.errors?.[0]?.path).toBe('params.id');
});
