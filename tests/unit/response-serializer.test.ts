import type { FastifySerializerCompiler } from 'fastify';
import { isResponseSerializationError, serializerCompiler } from 'fastify-type-provider-zod';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '../../config';
import { createResponseSerializers } from '../../http/response-serializer';
import { problemSchema } from '../../schemas/common';
import { buildServer } from '../../server';

const route = { method: 'GET', url: '/things', httpStatus: '200' };

/** What a serializer sends for `data`, or that it refused it as zod refuses (the error handler's 500). */
function outcome(serialize: (data: unknown) => string, data: unknown) {
  try {
    return { sent: serialize(data) };
  } catch (error) {
    return { refused: isResponseSerializationError(error) ? 'as zod refuses' : `with ${String(error)}` };
  }
}

/** Zod's serializer, as every route had it before. */
const zodSerializer = (schema: z.ZodType) => serializerCompiler({ ...route, schema });

/** The serializers under test, with zod's own behind them counting the responses that reach it. */
function responseSerializers() {
  const reachedZod = { count: 0 };
  const countingZod: FastifySerializerCompiler<unknown> = (definition) => {
    const serialize = serializerCompiler(definition as Parameters<typeof serializerCompiler>[0]);
    return (data) => {
      reachedZod.count++;
      return serialize(data);
    };
  };
  const serializers = createResponseSerializers(countingZod);
  return { serializers, reachedZod, serializerFor: (schema: z.ZodType) => serializers.compiler({ ...route, schema }) };
}

const view = z.object({
  id: z.uuid(),
  number: z.int(),
  title: z.string().max(200),
  score: z.number().min(0),
  open: z.boolean(),
  status: z.enum(['open', 'closed']),
  stopReason: z.enum(['merged', 'failed']).nullable(),
  kind: z.literal('incident'),
  tags: z.array(z.string()),
  owner: z.object({ id: z.string(), name: z.string().nullable() }),
  sla: z.object({ breached: z.boolean(), dueAt: z.iso.datetime() }).nullable(),
  closedAt: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  target: z.discriminatedUnion('type', [
    z.object({ type: z.literal('ci'), ciId: z.string() }),
    z.object({ type: z.literal('service'), name: z.string() }),
  ]),
  reference: z.union([z.string(), z.number()]),
  note: z.string().optional(),
});
const page = z.object({ items: z.array(view), nextCursor: z.string().nullable() });

const item = (n: number) => ({
  id: '0b5e8a0e-54a4-4f0e-9a8d-3c2b1a0f9e71',
  number: n,
  title: `Phishing "wave" ${n}\nwith a line break and ünïcödé`,
  score: 7.5,
  open: n % 2 === 0,
  status: 'open',
  stopReason: n % 2 ? null : 'merged',
  kind: 'incident',
  tags: ['mail', 'T1566'],
  owner: { id: 'alice', name: n % 2 ? null : 'Alice' },
  sla: n % 2 ? null : { breached: false, dueAt: '2026-12-02T16:17:00.000Z' },
  closedAt: null,
  details: { host: 'mail-1', count: n, nested: { list: [1, 'two', null] }, at: new Date(Date.UTC(2026, 11, 2)), dropped: undefined },
  target: n % 2 ? { type: 'ci', ciId: 'ci-1' } : { type: 'service', name: 'Mail' },
  reference: n % 2 ? 'INC-1' : n,
  ...(n % 3 ? { note: 'checked' } : {}),
});

describe('a response its schema fits', () => {
  it('is written without zod, byte for byte as zod wrote it', () => {
    const { serializerFor, reachedZod } = responseSerializers();
    const data = { items: [0, 1, 2, 3].map(item), nextCursor: 'abc' };
    expect(serializerFor(page)(data)).toBe(zodSerializer(page)(data));
    expect(reachedZod.count).toBe(0);
  });

  it('keeps absent, undefined and null apart as zod did', () => {
    const { serializerFor, reachedZod } = responseSerializers();
    const schema = z.object({ nullable: z.string().nullable(), optional: z.string().optional(), both: z.string().nullable().optional() });
    for (const data of [
      { nullable: null },
      { optional: undefined, nullable: 'x', both: undefined },
      { optional: 'o', nullable: null, both: null },
    ]) {
      expect(serializerFor(schema)(data)).toBe(zodSerializer(schema)(data));
    }
    expect(reachedZod.count).toBe(0);
  });

  it('is written the same through a recursive schema', () => {
    const { serializerFor, reachedZod } = responseSerializers();
    const node: z.ZodType<{ name: string; children: unknown[] }> = z.object({ name: z.string(), children: z.array(z.lazy(() => node)) });
    const data = { name: 'root', secret: 1, children: [{ name: 'leaf', secret: 2, children: [] }] };
    expect(serializerFor(node)(data)).toBe('{"name":"root","children":[{"name":"leaf","children":[]}]}');
    expect(serializerFor(node)(data)).toBe(zodSerializer(node)(data));
    expect(reachedZod.count).toBe(0);
  });

  it('leaves problem details as they were', () => {
    const { serializerFor, reachedZod } = responseSerializers();
    for (const problem of [
      { type: 'about:blank', title: 'Not Found', status: 404, detail: 'incident x does not exist' },
      {
        type: 'about:blank',
        title: 'Bad Request',
        status: 400,
        detail: 'body.title: required',
        errors: [{ path: 'body.title', message: 'required' }],
      },
    ]) {
      expect(serializerFor(problemSchema)(problem)).toBe(JSON.stringify(problem));
    }
    expect(reachedZod.count).toBe(0);
  });
});

describe('a response that does not fit its schema', () => {
  it('sends no property its schema does not list, at any depth, without handing it to zod', () => {
    const { serializerFor, reachedZod } = responseSerializers();
    const leaky = {
      ...item(0),
      passwordHash: 'secret-0',
      owner: { id: 'alice', name: 'Alice', passwordHash: 'secret-1' },
      sla: { breached: true, dueAt: '2026-12-02T16:17:00.000Z', passwordHash: 'secret-2' },
      target: { type: 'service', name: 'Mail', passwordHash: 'secret-3' },
    };
    const data = { items: [leaky], nextCursor: null, passwordHash: 'secret-4' };
    const sent = serializerFor(page)(data);
    expect(sent).not.toContain('secret');
    expect(sent).toBe(zodSerializer(page)(data));
    expect(reachedZod.count).toBe(0);
  });

  it.each([
    ['null for a string', { title: null }],
    ['a number for a string', { title: 42 }],
    ['an object for a string', { title: { text: 'x' } }],
    ['a Date for a string', { closedAt: new Date() }],
    ['a numeric string for a number', { score: '7.5' }],
    ['NaN for a number', { score: Number.NaN }],
    ['Infinity for a number', { score: Number.POSITIVE_INFINITY }],
    ['a fraction for an integer', { number: 1.5 }],
    ['1 for a boolean', { open: 1 }],
    ['"true" for a boolean', { open: 'true' }],
    ['a value outside an enum', { status: 'archived' }],
    ['a value outside a nullable enum', { stopReason: 'archived' }],
    ['a string for a nullable object', { sla: 'none' }],
    ['another literal', { kind: 'change' }],
    ['a string for an array', { tags: 'mail' }],
    ['a string for an object', { owner: 'alice' }],
    ['a required property left out', { owner: { name: 'Alice' } }],
    ['undefined for a nullable', { closedAt: undefined }],
    ['no union member', { target: { type: 'person', name: 'x' } }],
    ['a malformed uuid', { id: 'not-a-uuid' }],
    ['a string over its maximum length', { title: 'x'.repeat(201) }],
    ['a number under its minimum', { score: -1 }],
    ['a malformed timestamp', { sla: { breached: false, dueAt: 'yesterday' } }],
  ])('is refused as zod refuses it, never coerced: %s', (_, change) => {
    const { serializerFor } = responseSerializers();
    const data = { items: [{ ...item(0), ...change }], nextCursor: null };
    expect(outcome(serializerFor(page), data)).toEqual({ refused: 'as zod refuses' });
    expect(outcome(zodSerializer(page), data)).toEqual({ refused: 'as zod refuses' });
  });

  it('is refused when a strict object has a property it does not list, as zod refused it', () => {
    const { serializerFor } = responseSerializers();
    const schema = z.object({ hours: z.strictObject({ kind: z.literal('24x7') }) });
    const data = { hours: { kind: '24x7', extra: true } };
    expect(outcome(serializerFor(schema), data)).toEqual({ refused: 'as zod refuses' });
    expect(outcome(zodSerializer(schema), data)).toEqual(outcome(serializerFor(schema), data));
  });
});

describe('a schema whose JSON Schema would not say what zod sends', () => {
  it.each([
    ['a transform', z.object({ n: z.string().transform((value) => value.length) }), { n: 3 }, /Transforms cannot be represented/],
    [
      'a codec',
      z.object({ n: z.codec(z.string(), z.number(), { decode: Number, encode: String }) }),
      { n: 3 },
      /a pipe may change the value/,
    ],
    ['a date', z.object({ at: z.date() }), { at: new Date(0) }, /Date cannot be represented/],
    [
      'an optional property first',
      z.object({ note: z.string().optional(), id: z.string() }),
      { id: 'x', note: 'y' },
      /an optional property comes before a required one/,
    ],
    ['a refinement', z.object({ n: z.number().refine((n) => n % 2 === 0) }), { n: 3 }, /custom check/],
    ['a trim', z.object({ name: z.string().trim() }), { name: '  padded  ' }, /overwrite check/],
  ])('stays on zod: %s', (_, schema, data, reason) => {
    const { serializers, serializerFor, reachedZod } = responseSerializers();
    expect(outcome(serializerFor(schema), data)).toEqual(outcome(zodSerializer(schema), data));
    expect(reachedZod.count).toBe(1);
    expect(serializers.decisions.at(-1)).toMatchObject({ serializer: 'zod', reason: expect.stringMatching(reason) });
  });
});

// --- Every route of the server -------------------------------------------------------------------

// Routes need PostgreSQL and Temporal only to serve requests; nothing is served here.
const unused = {} as never;
const app = await buildServer({ config: loadConfig({}), db: unused, temporal: unused, codec: unused });
await app.ready();
afterAll(() => app.close());
const decisions = app.responseSerializers.decisions.filter((decision) => decision.method !== 'HEAD');

describe('every route', () => {
  it('serializes its responses with fast-json-stringify, except these, which stay on zod for the reason given', () => {
    const onZod = decisions.filter((decision) => decision.serializer === 'zod');
    const optionalFirst = 'an optional property comes before a required one';
    const trimmed = 'JSON Schema does not state its overwrite check';
    expect(
      Object.fromEntries(onZod.map(({ method, url, status, reason }) => [`${method} ${url} ${status}`, reason?.replace(/^#\/\S*: /, '')])),
    ).toEqual({
      'GET /audit/verify 200': optionalFirst,
      'GET /playbooks 200': optionalFirst,
      'GET /playbooks/:category 200': optionalFirst,
      'PUT /playbooks/:category 201': optionalFirst,
      'POST /services 201': trimmed,
      'GET /services 200': trimmed,
      'GET /services/:id 200': trimmed,
      'PATCH /services/:id 200': trimmed,
      'POST /controls 201': optionalFirst,
      'GET /controls 200': optionalFirst,
      'GET /controls/:id 200': optionalFirst,
      'PATCH /controls/:id 200': optionalFirst,
      'PUT /controls/:id/schedule 200': optionalFirst,
      'GET /controls/:id/schedule 200': optionalFirst,
      'POST /controls/:id/schedule/pause 200': optionalFirst,
      'POST /controls/:id/schedule/unpause 200': optionalFirst,
      'GET /advisories/:id 200': optionalFirst,
      'GET /changes 200': optionalFirst,
      'GET /changes/:id 200': optionalFirst,
      'GET /baseline 200': trimmed,
      'GET /baseline/versions 200': trimmed,
      'GET /baseline/versions/:version 200': trimmed,
    });
    expect(decisions.length - onZod.length).toBeGreaterThan(700);
    for (const list of ['GET /incidents 200', 'GET /tasks 200']) {
      expect(decisions.find(({ method, url, status }) => `${method} ${url} ${status}` === list)?.serializer).toBe('fast-json-stringify');
    }
  });

  it('has a response schema fast-json-stringify and the validator compile', () => {
    expect(() => app.responseSerializers.compileAll()).not.toThrow();
  });

  it('sends what zod sent for generated responses, unlisted properties left out', () => {
    const schemas = new Map<unknown, (typeof decisions)[number]>();
    for (const decision of decisions) if (decision.serializer !== 'zod') schemas.set(decision.schema, decision);
    const random = seededRandom(21);
    let fitting = 0;
    for (const [schema, decision] of schemas) {
      const { serializerFor, reachedZod } = responseSerializers();
      const jsonSchema = z.toJSONSchema(schema as z.ZodType, {
        io: 'output',
        target: 'draft-07',
        reused: 'inline',
        cycles: 'ref',
        metadata: z.registry(),
      });
      const serialize = serializerFor(schema as z.ZodType);
      let fastSamples = 0;
      for (let sample = 0; sample < 8; sample++) {
        const data = generate(jsonSchema, jsonSchema, random, 0);
        const before = reachedZod.count;
        const sent = outcome(serialize, data);
        expect(sent, `${decision.method} ${decision.url} ${decision.status}`).toEqual(outcome(zodSerializer(schema as z.ZodType), data));
        if (sent.sent !== undefined) expect(sent.sent).not.toContain('unlisted');
        if (reachedZod.count === before) fastSamples++;
      }
      if (fastSamples > 0) fitting++;
    }
    // Generated strings rarely match a pattern; those responses are refused by both serializers.
    expect(fitting / schemas.size).toBeGreaterThan(0.9);
  });
});

type JsonSchema = Record<string, any>;

/** mulberry32: the same samples every run. */
function seededRandom(seed: number) {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const formats: Record<string, () => string> = {
  uuid: () => '6f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b',
  'date-time': () => '2026-12-02T16:17:00.000Z',
  date: () => '2026-12-02',
  email: () => 'alice@example.com',
  uri: () => 'https://warden.example/incidents',
};

/** A value for `schema`, mostly one that fits it, with a property it does not list on every object. */
function generate(schema: JsonSchema, root: JsonSchema, random: () => number, depth: number): unknown {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  if (schema.$ref) return generate(resolve(schema.$ref, root), root, random, depth + 1);
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return pick(schema.enum);
  if (schema.anyOf ?? schema.oneOf) return generate(pick(schema.anyOf ?? schema.oneOf), root, random, depth);
  if (schema.allOf) return Object.assign({}, ...schema.allOf.map((part: JsonSchema) => generate(part, root, random, depth)));
  const type = Array.isArray(schema.type) ? pick(schema.type) : schema.type;
  switch (type) {
    case 'null':
      return null;
    case 'boolean':
      return random() < 0.5;
    case 'integer':
      return Math.floor((schema.minimum ?? 0) + random() * 100);
    case 'number':
      return (schema.minimum ?? 0) + Math.round(random() * 10_000) / 100;
    case 'string':
      return formats[schema.format]?.() ?? `text ${Math.floor(random() * 1000)} "quoted" ü`.slice(0, schema.maxLength ?? 100);
    case 'array': {
      const length = depth > 6 ? (schema.minItems ?? 0) : Math.max(schema.minItems ?? 0, Math.floor(random() * 3));
      return Array.from({ length }, () => generate(schema.items ?? {}, root, random, depth + 1));
    }
    case 'object': {
      const value: Record<string, unknown> = { unlisted: 'unlisted value' };
      for (const [name, property] of Object.entries<JsonSchema>(schema.properties ?? {})) {
        if (schema.required?.includes(name) || random() < 0.5) value[name] = generate(property, root, random, depth + 1);
      }
      // A record or loose object takes any property: there, one it does not name.
      if (typeof schema.additionalProperties === 'object') {
        delete value.unlisted;
        value[`key${Math.floor(random() * 100)}`] = generate(schema.additionalProperties, root, random, depth + 1);
      }
      return value;
    }
    default:
      return pick([{ free: 'form', n: 1, at: new Date(0) }, 'text', 3, null, [1, 'two']]);
  }
}

function resolve(ref: string, root: JsonSchema): JsonSchema {
  return ref
    .replace(/^#\/?/, '')
    .split('/')
    .filter(Boolean)
    .reduce((schema, key) => schema[key], root);
}
