import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config';
import { openApiTags } from '../../http/openapi';
import { openApiDocument } from '../../server';
import { generateApiTypes, generatedTypesPath } from '../setup/openapi-types';

/**
 * The rules every HTTP operation follows (docs/architecture.md, "HTTP operations"), checked on the
 * document itself so a route added later is held to them without touching this file. CI also runs
 * `@redocly/cli lint` on the same document (.ci/run).
 */
interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  requestBody?: { content: Record<string, { schema?: Record<string, unknown> }> };
  responses: Record<string, { description: string; content?: Record<string, unknown> }>;
}

const document = (await openApiDocument(loadConfig({}))) as {
  paths: Record<string, Record<string, Operation>>;
  servers?: { url: string }[];
};
const operations = Object.entries(document.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, operation })),
);
const declaredTags = new Set(openApiTags.map((tag) => tag.name));

it('documents every route it serves', () => {
  expect(operations.length).toBeGreaterThan(90);
  expect(document.servers?.length).toBeGreaterThan(0);
});

describe.each(operations)('$name', ({ operation }) => {
  it('has a camelCase operationId, a short summary, a description and one declared tag', () => {
    expect(operation.operationId).toMatch(/^[a-z][a-zA-Z0-9]+$/);
    expect(operation.summary?.length ?? 0).toBeGreaterThan(0);
    expect(operation.summary?.length ?? 0).toBeLessThanOrEqual(60);
    expect(operation.description?.length ?? 0).toBeGreaterThan(0);
    expect(operation.tags?.length).toBe(1);
    expect(declaredTags).toContain(operation.tags?.[0]);
  });

  it('gives its JSON request body, if any, an example (http/openapi-examples.ts)', () => {
    const json = operation.requestBody?.content['application/json'] as { example?: unknown; examples?: unknown } | undefined;
    if (operation.requestBody) expect(json?.example ?? json?.examples).toBeDefined();
  });

  it('describes every response, and errors as application/problem+json', () => {
    for (const [status, response] of Object.entries(operation.responses)) {
      expect(response.description, status).not.toBe('Default Response');
      if (Number(status) >= 400) expect(Object.keys(response.content ?? {}), status).toEqual(['application/problem+json']);
    }
  });
});

it('gives every operation its own operationId', () => {
  const ids = operations.map(({ operation }) => operation.operationId);
  expect(ids.filter((id, index) => ids.indexOf(id) !== index)).toEqual([]);
});

it('ships the client types generated from this document (run `npm run openapi:types` after changing a route)', async () => {
  expect(readFileSync(generatedTypesPath, 'utf8')).toBe(await generateApiTypes());
});
