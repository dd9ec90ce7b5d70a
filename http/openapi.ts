/**
 * The OpenAPI document as clients nobody here wrote read it (`@redocly/cli lint`, openapi-typescript).
 * Routes declare what only they know (operationId, tags, summary, description, body examples, their
 * success schemas and media types); this module finishes the document with what follows from the
 * server's own behaviour, so a route added later cannot get it wrong:
 *
 * - every problem leaves as `application/problem+json` (http/plugins/errors.ts), so error responses
 *   are declared with that media type;
 * - a problem status only where the route can answer it (`impossibleProblemsRemoved`, from the
 *   route's own declaration: its roles, path parameters and method);
 * - 413 (body too large) and 415 (unsupported media type) only exist for operations with a body;
 * - 503 with Retry-After is what any operation reading PostgreSQL or Temporal answers while they are
 *   unreachable (http/plugins/errors.ts); only the liveness check reads neither;
 * - each JSON request body gets its example from http/openapi-examples.ts;
 * - each response gets a description of what the status means here instead of "Default Response";
 * - components no operation reaches are left out (zod registers every schema with an id, used or not);
 * - zod's OpenAPI 3.0 output wraps an optional `$ref` in a one-element `allOf`, which linters flag as
 *   illogical: the wrapper is removed.
 *
 * tests/api/openapi.test.ts holds every operation to the rules (docs/architecture.md, "HTTP operations").
 */

import { roles } from '../domain/roles';
import { requestBodyExamples } from './openapi-examples';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Problem statuses the route answers although its declaration does not imply them (see
     * `impossibleProblemsRemoved`): a 403 from a per-record check on a route every role may call,
     * a 404 for something missing on a route without a path parameter.
     */
    alsoAnswers?: readonly (403 | 404)[];
  }
}

type Json = Record<string, unknown>;

/** The tags operations may use, each described once; an operation with another tag fails the OpenAPI test. */
export const openApiTags: { name: string; description: string }[] = [
  { name: 'operations', description: 'Health, readiness, diagnostics, metrics and the Temporal codec server' },
  { name: 'tokens', description: 'API tokens: created, listed, revoked by administrators' },
  { name: 'audit', description: 'The hash-chained audit trail and its signed checkpoints' },
  { name: 'tasks', description: 'Human tasks every process opens, and deciding them' },
  { name: 'incidents', description: 'Security incidents and the SIEM alerts that report them' },
  { name: 'playbooks', description: 'Versioned incident playbooks, one per category' },
  { name: 'drills', description: 'Incident drill Schedules per category, and drill results' },
  { name: 'cmdb', description: 'Services, configuration items and their software components' },
  { name: 'risks', description: 'The risk register' },
  { name: 'policies', description: 'Security policies and their approved versions' },
  { name: 'security reviews', description: 'Periodic security reviews, the IT Security Report and improvement actions' },
  { name: 'access', description: 'Access requests, system accounts and the people list' },
  { name: 'access-reviews', description: 'Access review campaigns and their Schedules' },
  { name: 'kpis', description: 'Key performance indicators computed live' },
  { name: 'controls', description: 'The security controls catalog' },
  { name: 'testing schedule', description: 'Security test Schedules and test reports' },
  { name: 'notifications', description: 'Notifications sent and where each principal receives them' },
  { name: 'advisories', description: 'Security advisories and the remediations they start' },
  { name: 'security-alerts', description: 'Security alerts broadcast to owners and acknowledged' },
  { name: 'changes', description: 'The change security gate, from Warden, ServiceNow or Jira' },
  { name: 'training', description: 'The awareness programme: training campaigns, completions by API, CSV or the LMS' },
  { name: 'baseline', description: 'The tailorable security baseline, its approved versions and the Statement of Applicability' },
  { name: 'problems', description: 'Problem management: problems, and the security check of every workaround and solution' },
];

const responseMeaning: Record<string, string> = {
  200: 'Success',
  201: 'Created',
  202: 'Accepted: the work runs in a Temporal workflow',
  204: 'Done; no content',
  400: 'The request is invalid; `errors` names every bad field',
  401: 'No valid credentials (send `Authorization: Bearer <token>`)',
  403: "The caller's roles, or this record's owner, do not allow it",
  404: 'No such record, or not one the caller may see',
  409: 'The record is not in a state that allows this',
  413: 'The request body is larger than WARDEN_BODY_LIMIT_BYTES',
  415: 'The request body has a media type this operation does not accept',
  429: "The token's (or the client address's) rate limit is spent; retry after the time Retry-After gives",
  503: 'PostgreSQL or Temporal is unreachable; nothing was done, retry after Retry-After seconds',
};

const problemRef = { $ref: '#/components/schemas/Problem' };
const methods = ['get', 'put', 'post', 'delete', 'patch'];
/** Neither touches PostgreSQL nor Temporal, so it never answers 503 for them. */
const livenessPaths = new Set(['/healthz']);

/** Paths the rate limiter lets through (server.ts's allowList): probes are never limited. */
const unlimitedPaths = new Set(['/healthz', '/readyz']);

/**
 * A route's response schemas without the problems it cannot answer. `responses()` (schemas/common.ts)
 * names every problem a route may have; what the route declares decides which it really has:
 * 400 always (every route's params and query pass the input boundary); 401 only with credentials;
 * 403 only when some role is refused (or `alsoAnswers` says a record check refuses); 404 only for
 * a record named in the path (or `alsoAnswers`); 409 only for writes: reads change no state and
 * carry no Idempotency-Key; 429 except where the limiter lets probes through.
 */
export function impossibleProblemsRemoved<T extends Record<string, unknown>>(
  response: T | undefined,
  route: {
    method: string | string[];
    url: string;
    config?: { public?: boolean; roles?: readonly string[]; alsoAnswers?: readonly number[] };
  },
): T | undefined {
  if (!response) return response;
  const config = route.config ?? {};
  const methods = [route.method].flat().map((method) => method.toUpperCase());
  const also = new Set(config.alsoAnswers ?? []);
  const possible: Record<number, boolean> = {
    401: !config.public,
    403: !config.public && ((config.roles?.length ?? 0) < roles.length || also.has(403)),
    404: route.url.includes('/:') || also.has(404),
    409: methods.some((method) => method !== 'GET' && method !== 'HEAD'),
    429: !unlimitedPaths.has(route.url),
  };
  return Object.fromEntries(Object.entries(response).filter(([status]) => possible[Number(status)] ?? true)) as T;
}

/** The operation's example request body, from `requestBodyExamples` unless its schema has one. */
function addRequestBodyExample(operation: Json): void {
  const json = ((operation.requestBody as Json | undefined)?.content as Record<string, Json> | undefined)?.['application/json'];
  const example = requestBodyExamples[String(operation.operationId)];
  if (!json || example === undefined || json.example !== undefined || json.examples !== undefined) return;
  json.example = example;
}

function finishResponses(path: string, operation: Json): void {
  const responses = (operation.responses ?? {}) as Record<string, Json>;
  const hasBody = operation.requestBody !== undefined;
  if (!hasBody) {
    delete responses['413'];
    delete responses['415'];
  } else {
    responses['415'] ??= {};
  }
  // The input boundary checks every route's params and query (http/plugins/input-boundary.ts).
  responses['400'] ??= {};
  if (!livenessPaths.has(path)) responses['503'] ??= {};
  for (const [status, response] of Object.entries(responses)) {
    if (response.description === undefined || response.description === 'Default Response') {
      response.description = responseMeaning[status] ?? 'Response';
    }
    if (Number(status) >= 400) {
      const content = (response.content ?? {}) as Record<string, { schema?: unknown }>;
      response.content = { 'application/problem+json': { schema: content['application/json']?.schema ?? problemRef } };
    }
  }
  operation.responses = responses;
}

/** Components reachable from the paths (and from each other), by name. */
function reachableComponents(document: Json): Set<string> {
  const schemas = ((document.components as Json | undefined)?.schemas ?? {}) as Json;
  const reached = new Set<string>();
  const pending = [JSON.stringify(document.paths)];
  while (pending.length) {
    const text = pending.pop() as string;
    for (const [, name] of text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
      if (name === undefined || reached.has(name)) continue;
      reached.add(name);
      pending.push(JSON.stringify(schemas[name] ?? null));
    }
  }
  return reached;
}

/** Replaces every `{ allOf: [schema] }` that says nothing else by the schema itself. */
function unwrapSingleAllOf(root: unknown): void {
  const pending: unknown[] = [root];
  while (pending.length) {
    const node = pending.pop();
    if (node === null || typeof node !== 'object') continue;
    const entries = Array.isArray(node) ? node.entries() : Object.entries(node);
    for (const [key, value] of entries) {
      const only = (value as Json | null)?.allOf;
      if (Array.isArray(only) && only.length === 1 && Object.keys(value as Json).length === 1) {
        (node as Record<string | number, unknown>)[key] = only[0];
      }
      pending.push((node as Record<string | number, unknown>)[key]);
    }
  }
}

/**
 * What zod's JSON Schema says that OpenAPI 3.0's Schema Object does not allow: an `examples` array
 * (3.0 has one `example`), and `nullable` beside an `allOf` reference without the `type` 3.0 requires
 * there (taken from the referenced component). Media types' `examples` are maps, so they stay.
 */
function fitOpenApi30Schemas(doc: Json): void {
  const schemas = ((doc.components as Json | undefined)?.schemas ?? {}) as Record<string, Json>;
  const pending: unknown[] = [doc];
  while (pending.length) {
    const node = pending.pop();
    if (node === null || typeof node !== 'object') continue;
    if (!Array.isArray(node)) {
      const schema = node as Json;
      if (Array.isArray(schema.examples)) {
        schema.example ??= schema.examples[0];
        delete schema.examples;
      }
      const only = Array.isArray(schema.allOf) && schema.allOf.length === 1 ? (schema.allOf[0] as Json) : undefined;
      const ref = typeof only?.$ref === 'string' ? only.$ref.split('/').pop() : undefined;
      if (schema.nullable === true && schema.type === undefined && ref && schemas[ref]?.type !== undefined) schema.type = schemas[ref].type;
    }
    pending.push(...(Array.isArray(node) ? node : Object.values(node)));
  }
}

export function finishOpenApiDocument<T extends object>(document: T, options: { serverUrl: string }): T {
  const doc = document as unknown as Json;
  doc.servers = [{ url: options.serverUrl, description: 'This Warden' }];
  doc.info = { ...(doc.info as Json), license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' } };
  doc.tags = openApiTags;
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Record<string, Json>)) {
    for (const method of methods) {
      const operation = item[method] as Json | undefined;
      if (!operation) continue;
      finishResponses(path, operation);
      addRequestBodyExample(operation);
    }
  }
  unwrapSingleAllOf(doc);
  fitOpenApi30Schemas(doc);
  const components = doc.components as Json | undefined;
  if (components?.schemas) {
    const reached = reachableComponents(doc);
    components.schemas = Object.fromEntries(Object.entries(components.schemas as Json).filter(([name]) => reached.has(name)));
  }
  return document;
}
