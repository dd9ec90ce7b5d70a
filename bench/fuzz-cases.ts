/**
 * The hostile-input fuzzer behind `npm run fuzz` and tests/api/fuzz.test.ts: it reads every write
 * route from /openapi.json, builds a plausible body from each route's schema, and breaks it one way
 * per request (wrong types, missing fields, NUL, lone surrogates, prototype keys, deep nesting, huge
 * strings, bad JSON, wrong content types, poisoned query strings and path parameters). Every request
 * is malformed by construction, so every answer must be a 4xx problem+json, naming the field when the
 * fault is one, and no table may change.
 */
import { randomUUID } from 'node:crypto';

type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  minItems?: number;
  additionalProperties?: boolean | JsonSchema;
  default?: unknown;
};

interface Operation {
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  parameters?: { in: string; name: string; schema?: JsonSchema }[];
}

export interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

export interface FuzzRoute {
  method: string;
  /** The OpenAPI path, `{id}` style. */
  path: string;
  contentTypes: string[];
  schema?: JsonSchema;
  /** Path parameter → its schema. */
  params: Record<string, JsonSchema>;
}

export interface FuzzCase {
  route: string;
  kind: string;
  oversized: boolean;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** The field the fault is in (`body.title`, `querystring.limit`, `params.id`), when there is one. */
  field?: string;
}

export interface FuzzOutcome {
  cases: number;
  malformed: number;
  oversized: number;
  /** Status code → how many answers had it. */
  statuses: Record<string, number>;
  failures: { case: string; status: number; reason: string; answer: string }[];
  /** Tables whose row count changed over the run (every request was refused, so none should). */
  changedTables: string[];
  seconds: number;
}

const writeMethods = new Set(['post', 'put', 'patch', 'delete']);

/** Every write route /openapi.json documents. */
export function writeRoutes(openapi: OpenApi): FuzzRoute[] {
  const routes: FuzzRoute[] = [];
  for (const [path, operations] of Object.entries(openapi.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (!writeMethods.has(method)) continue;
      const content = operation.requestBody?.content ?? {};
      routes.push({
        method: method.toUpperCase(),
        path,
        contentTypes: Object.keys(content),
        schema: content['application/json']?.schema ?? Object.values(content)[0]?.schema,
        params: Object.fromEntries((operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => [p.name, p.schema ?? {}])),
      });
    }
  }
  return routes;
}

/** A small seeded PRNG (mulberry32), so a failing run can be repeated with the same FUZZ_SEED. */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Candidates tried against a string pattern, so the plausible body passes the usual regexes.
const patternSamples = ['probe', '1h', 'A.5.1', 'T1190', 'CVE-2026-0001', 'owner-x', '2026-Q1', 'BL-C1', 'a', '1', 'x@example.org'];

function resolver(openapi: OpenApi) {
  const resolve = (schema: JsonSchema | undefined): JsonSchema => {
    let current = schema ?? {};
    for (let hops = 0; current.$ref && hops < 10; hops += 1) {
      current = openapi.components?.schemas?.[current.$ref.split('/').pop() as string] ?? {};
    }
    return current;
  };
  return resolve;
}

function typeOf(schema: JsonSchema): string | undefined {
  return Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
}

/** A value the schema plausibly accepts (required fields only; unions take their first branch). */
function sampleValue(schema: JsonSchema, resolve: (s: JsonSchema | undefined) => JsonSchema, depth = 0): unknown {
  const s = resolve(schema);
  if (depth > 8) return null;
  if (s.const !== undefined) return s.const;
  if (s.default !== undefined) return s.default;
  if (s.enum?.length) return s.enum[0];
  const branch = s.anyOf?.[0] ?? s.oneOf?.[0] ?? s.allOf?.[0];
  if (branch && !s.type) return sampleValue(branch, resolve, depth + 1);
  switch (typeOf(s)) {
    case 'string': {
      if (s.format === 'date-time') return '2026-06-01T00:00:00Z';
      if (s.format === 'uuid') return randomUUID();
      if (s.format === 'email') return 'probe@example.org';
      if (s.format === 'uri') return 'https://example.org/probe';
      if (s.pattern) {
        const pattern = new RegExp(s.pattern);
        return patternSamples.find((candidate) => pattern.test(candidate)) ?? 'probe';
      }
      return 'probe'.padEnd(s.minLength ?? 0, 'x');
    }
    case 'integer':
    case 'number':
      return s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 1);
    case 'boolean':
      return true;
    case 'array':
      return s.minItems ? Array.from({ length: s.minItems }, () => sampleValue(s.items ?? {}, resolve, depth + 1)) : [];
    case 'object':
    case undefined: {
      const body: Record<string, unknown> = {};
      for (const key of s.required ?? []) body[key] = sampleValue(s.properties?.[key] ?? {}, resolve, depth + 1);
      return body;
    }
    default:
      return null;
  }
}

interface Field {
  /** Keys from the body's root. */
  keys: string[];
  schema: JsonSchema;
  required: boolean;
}

/** Every named property of the body, nested objects included (three levels). */
function fieldsOf(schema: JsonSchema, resolve: (s: JsonSchema | undefined) => JsonSchema, keys: string[] = []): Field[] {
  const s = resolve(schema);
  if (keys.length >= 3 || !s.properties) return [];
  return Object.entries(s.properties).flatMap(([key, property]) => {
    const field = { keys: [...keys, key], schema: resolve(property), required: (s.required ?? []).includes(key) };
    return [field, ...(typeOf(field.schema) === 'object' ? fieldsOf(field.schema, resolve, field.keys) : [])];
  });
}

/** A copy of `body` with the value at `keys` replaced (or removed when `value` is `remove`). */
const remove = Symbol('remove');
function setAt(body: unknown, keys: string[], value: unknown): unknown {
  const copy = structuredClone(body) as Record<string, unknown>;
  let target = copy;
  for (const key of keys.slice(0, -1)) {
    if (typeof target[key] !== 'object' || target[key] === null || Array.isArray(target[key])) target[key] = {};
    target = target[key] as Record<string, unknown>;
  }
  const last = keys.at(-1) as string;
  if (value === remove) delete target[last];
  else target[last] = value;
  return copy;
}

function wrongType(schema: JsonSchema): unknown[] {
  switch (typeOf(schema)) {
    case 'string':
      return [12345, true, ['x'], { x: 1 }];
    case 'integer':
      return ['12', 1.5, -1e308, true];
    case 'number':
      return ['1', [1], { n: 1 }, true];
    case 'boolean':
      return ['true', 1, [true]];
    case 'array':
      return ['not an array', { 0: 'x' }, 7];
    default:
      return ['not an object', [1, 2], 42];
  }
}

const nested = (depth: number, leaf: string) => `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`;

/**
 * The cases for one route: malformed (at least `malformed` of them over all routes) and oversized.
 * `bodyLimit` is the API's WARDEN_BODY_LIMIT_BYTES.
 */
export function casesFor(
  openapi: OpenApi,
  route: FuzzRoute,
  bodyLimit: number,
  rand: () => number,
): { malformed: FuzzCase[]; oversized: FuzzCase[] } {
  const resolve = resolver(openapi);
  const name = `${route.method} ${route.path}`;
  const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1] as string);
  // Parameters the route accepts (a fresh uuid, an enum's first value), so a fault elsewhere is what is refused.
  const validParam = (param: string) => String(sampleValue(route.params[param] ?? { type: 'string', format: 'uuid' }, resolve));
  const url = (replace: (param: string) => string = validParam) =>
    route.path.replace(/\{(\w+)\}/g, (_, param: string) => encodeURIComponent(replace(param)).replace(/%25/g, '%'));
  const jsonBody = route.contentTypes.includes('application/json');
  const takesBody = route.contentTypes.length > 0;
  const base = jsonBody ? sampleValue(route.schema ?? {}, resolve) : undefined;
  // The base body's fields as JSON text without braces, to put a raw key before them.
  const baseFields = base && typeof base === 'object' && !Array.isArray(base) ? JSON.stringify(base).slice(1, -1) : '';
  const json = { 'content-type': 'application/json' };
  const make = (kind: string, body: string | undefined, field?: string, extra: Partial<FuzzCase> = {}): FuzzCase => ({
    route: name,
    kind,
    oversized: false,
    method: route.method,
    url: url(),
    headers: body === undefined ? {} : json,
    ...(body === undefined ? {} : { body }),
    ...(field ? { field } : {}),
    ...extra,
  });
  const malformed: FuzzCase[] = [];
  const oversized: FuzzCase[] = [];

  // Path parameters and query strings that cannot be stored.
  for (const param of params) {
    for (const [kind, value] of [
      ['NUL in a path parameter', 'a%00b'],
      ['an invalid percent-encoding in a path parameter', '%ED%A0%80'],
      ['an overlong NUL encoding in a path parameter', '%C0%80'],
    ] as const) {
      malformed.push(
        make(kind, jsonBody ? JSON.stringify(base) : undefined, kind.startsWith('NUL') ? `params.${param}` : undefined, {
          url: url((p) => (p === param ? value : validParam(p))),
        }),
      );
    }
  }
  malformed.push(
    make('NUL in the query string', jsonBody ? JSON.stringify(base) : undefined, 'querystring.q', { url: `${url()}?q=a%00b` }),
  );

  // The body as a whole.
  for (const [kind, body] of [
    ['truncated JSON', JSON.stringify(base ?? {}).slice(0, -1) || '{'],
    ['a trailing comma', '{"a":1,}'],
    ['single quotes', "{'a':1}"],
    ['NaN', '{"a":NaN}'],
    ['a bare word', 'undefined'],
    ['an empty body', ''],
    ['whitespace only', '   '],
    // Well-formed JSON of the wrong shape is malformed only where the route takes a body.
    ...(takesBody
      ? ([
          ['an array body', JSON.stringify([base])],
          ['a string body', '"body"'],
          ['a number body', '42'],
          ['null', 'null'],
        ] as const)
      : []),
    ['a BOM before JSON', `\ufeff${JSON.stringify(base ?? {})}`],
    ['an unpaired brace', '{"a":{"b":1}'],
    ['a key with NUL', '{"a\\u0000b":1}'],
    ['a __proto__ key', `{"__proto__":{"polluted":true}${baseFields ? `,${baseFields}` : ''}}`],
    ['a constructor.prototype key', '{"constructor":{"prototype":{"polluted":true}}}'],
    ['deep nesting (3,000)', nested(3000, '1')],
  ] as const) {
    const field = kind === 'a __proto__ key' ? 'body.__proto__' : kind === 'a key with NUL' ? 'body.a\u0000b' : undefined;
    malformed.push(make(kind, body, field));
  }
  for (const [kind, type, body] of [
    ['a form instead of JSON', 'application/x-www-form-urlencoded', 'a=1&b=%00'],
    ['text/plain', 'text/plain', JSON.stringify(base ?? {})],
    ['XML', 'application/xml', '<a>1</a>'],
    ['multipart', 'multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--'],
    ['a JSON variant', 'application/merge-patch+json', JSON.stringify(base ?? {})],
    ['a made-up type', 'application/x-warden', '{}'],
  ] as const) {
    if (route.contentTypes.some((accepted) => type.startsWith(accepted))) continue;
    // Fastify reads text/plain for every route; a route without a body then ignores it.
    if (type === 'text/plain' && !takesBody) continue;
    malformed.push(make(kind, body, undefined, { headers: { 'content-type': type } }));
  }
  if (route.contentTypes.includes('text/csv')) {
    malformed.push(make('CSV with NUL', 'name,owner\na\u0000b,c\n', 'body', { headers: { 'content-type': 'text/csv' } }));
    malformed.push(make('CSV that is binary', '\u0001\u0002\u0003,\u00ff\n', undefined, { headers: { 'content-type': 'text/csv' } }));
  }

  // Strict bodies refuse a field they do not know (loose ones, such as a SIEM's alert, keep it).
  if (jsonBody && resolve(route.schema).additionalProperties === false) {
    malformed.push(make('an unknown field', JSON.stringify({ ...(base as object), sneaky: true }), 'body.sneaky'));
  }

  // Field by field.
  const fields = jsonBody ? fieldsOf(route.schema ?? {}, resolve) : [];
  for (const field of fields) {
    const path = `body.${field.keys.join('.')}`;
    const put = (value: unknown) => JSON.stringify(setAt(base, field.keys, value));
    // A union may accept what is wrong for one of its members: wrong types only for single-typed fields.
    const singleTyped = !field.schema.anyOf && !field.schema.oneOf && (!Array.isArray(field.schema.type) || field.schema.type.length <= 2);
    if (singleTyped)
      for (const value of wrongType(field.schema))
        malformed.push(make(`${typeOf(field.schema) ?? 'value'} of a wrong type`, put(value), path));
    if (field.required && field.keys.length === 1) malformed.push(make('a missing required field', put(remove), path));
    const text = typeOf(field.schema) === 'string' || typeOf(field.schema) === undefined;
    const poison = text ? (s: string) => put(s) : (s: string) => put({ note: s });
    const poisonField = text ? path : `${path}.note`;
    malformed.push(make('NUL in a string', poison('a\u0000b'), poisonField));
    malformed.push(make('a lone high surrogate', poison('a\ud800b'), poisonField));
    malformed.push(make('a lone low surrogate', poison('\udfff'), poisonField));
    malformed.push(make('NUL at the end', poison(`${'x'.repeat(Math.floor(rand() * 20))}\u0000`), poisonField));
    const deep = put('__deep__').replace('"__deep__"', nested(40 + Math.floor(rand() * 200), '"x"'));
    malformed.push(make('a field nested 40+ deep', deep, path));
    // A computed key makes `__proto__` an own property, which JSON.stringify writes out.
    malformed.push(make('a __proto__ field inside', put({ ['__proto__']: { polluted: true } }), `${path}.__proto__`));

    const huge = Math.min(bodyLimit - 1024, 200_000 + Math.floor(rand() * 100_000));
    if (field.schema.maxLength !== undefined) oversized.push(make('a huge string', put('s'.repeat(huge)), path, { oversized: true }));
    if (typeOf(field.schema) === 'array') {
      oversized.push(make('a huge array of wrong items', put(Array.from({ length: 20_000 }, () => ({}))), path, { oversized: true }));
    }
    if (typeOf(field.schema) === 'object' && field.schema.additionalProperties !== false && !field.schema.properties) {
      oversized.push(
        make('free-form JSON over 64 KiB', put({ blob: 'b'.repeat(70_000 + Math.floor(rand() * 1000)) }), path, { oversized: true }),
      );
    }
  }
  const over = bodyLimit + 1 + Math.floor(rand() * 1024);
  oversized.push(make('a body over the size limit', JSON.stringify({ padding: 'p'.repeat(over) }), undefined, { oversized: true }));
  oversized.push(make('a body over the size limit, not JSON', 'x'.repeat(over), undefined, { oversized: true }));
  oversized.push(make('a deep body near the size limit', nested(Math.floor((bodyLimit - 64) / 6), '1'), undefined, { oversized: true }));
  return { malformed, oversized };
}

/** `malformed` + `oversized` cases spread over every route, cycling through each route's list. */
export function fuzzCases(
  openapi: OpenApi,
  options: { malformed: number; oversized: number; bodyLimit: number; seed: number },
): FuzzCase[] {
  const rand = random(options.seed);
  const perRoute = writeRoutes(openapi).map((route) => casesFor(openapi, route, options.bodyLimit, rand));
  const spread = (lists: FuzzCase[][], total: number) => {
    const chosen: FuzzCase[] = [];
    for (let round = 0; chosen.length < total && lists.some((list) => list.length); round += 1) {
      for (const list of lists) {
        if (chosen.length >= total) break;
        if (list.length) chosen.push(list[round % list.length] as FuzzCase);
      }
    }
    return chosen;
  };
  return [
    ...spread(
      perRoute.map((r) => r.malformed),
      options.malformed,
    ),
    ...spread(
      perRoute.map((r) => r.oversized),
      options.oversized,
    ),
  ];
}

interface Answer {
  status: number;
  type: string;
  body: string;
}

/** Why this answer is wrong for this case, or undefined when it is a proper refusal. */
export function judge(fuzzCase: FuzzCase, answer: Answer): string | undefined {
  if (answer.status >= 500) return 'a server error';
  if (answer.status < 400) return 'accepted a malformed request';
  if (!answer.type.includes('application/problem+json')) return `a ${answer.status} that is not problem+json (${answer.type || 'no type'})`;
  if (answer.status !== 400 || !fuzzCase.field) return undefined;
  let errors: { path?: string }[] = [];
  try {
    errors = (JSON.parse(answer.body) as { errors?: { path?: string }[] }).errors ?? [];
  } catch {
    return 'a problem that is not JSON';
  }
  const field = fuzzCase.field;
  // A union or a parent's refinement may name the field's parent: a path on the same branch counts.
  const named = errors.some(
    (error) => error.path && (error.path === field || field.startsWith(`${error.path}.`) || error.path.startsWith(`${field}.`)),
  );
  return named ? undefined : `the problem does not name ${field} (it names ${errors.map((e) => e.path).join(', ') || 'nothing'})`;
}

/** Sends every case to `baseUrl` (`parallel` at a time) and checks answers and row counts. */
export async function runFuzz(options: {
  baseUrl: string;
  token: string;
  cases: FuzzCase[];
  countRows: () => Promise<Record<string, number>>;
  parallel?: number;
}): Promise<FuzzOutcome> {
  const started = performance.now();
  const before = await options.countRows();
  const statuses: Record<string, number> = {};
  const failures: FuzzOutcome['failures'] = [];
  let next = 0;
  const send = async (fuzzCase: FuzzCase): Promise<Answer> => {
    const response = await fetch(options.baseUrl + fuzzCase.url, {
      method: fuzzCase.method,
      headers: { authorization: `Bearer ${options.token}`, ...fuzzCase.headers },
      ...(fuzzCase.body === undefined ? {} : { body: fuzzCase.body }),
    });
    return { status: response.status, type: response.headers.get('content-type') ?? '', body: await response.text() };
  };
  await Promise.all(
    Array.from({ length: options.parallel ?? 8 }, async () => {
      while (next < options.cases.length) {
        const fuzzCase = options.cases[next++] as FuzzCase;
        const answer = await send(fuzzCase).catch((error: unknown) => ({ status: 0, type: '', body: String(error) }));
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
        const reason = answer.status === 0 ? 'the connection failed' : judge(fuzzCase, answer);
        if (reason) {
          failures.push({ case: `${fuzzCase.route}: ${fuzzCase.kind}`, status: answer.status, reason, answer: answer.body.slice(0, 300) });
        }
      }
    }),
  );
  const after = await options.countRows();
  const changedTables = Object.keys({ ...before, ...after }).filter((table) => before[table] !== after[table]);
  return {
    cases: options.cases.length,
    malformed: options.cases.filter((c) => !c.oversized).length,
    oversized: options.cases.filter((c) => c.oversized).length,
    statuses,
    failures,
    changedTables,
    seconds: (performance.now() - started) / 1000,
  };
}
