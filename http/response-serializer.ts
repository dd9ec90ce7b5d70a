import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySerializerCompiler } from 'fastify';
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod';
import build, { type AnySchema } from 'fast-json-stringify';
import { z } from 'zod';

/**
 * Response serialization (issue #21): every response used to be parsed through its zod schema
 * (`safeEncode`) and then `JSON.stringify`'d, the largest cost of Warden's own on the read path.
 * Now each response schema is turned once into JSON Schema (zod's `toJSONSchema`, output side)
 * and a response is checked by an ajv validator and written by fast-json-stringify, both compiled
 * from it:
 *
 * - fast-json-stringify writes only the properties the schema lists, so nothing unlisted leaks;
 * - it coerces a value of the wrong type (null to "", 1 to true), so the validator runs first and
 *   checks every type, required property, enum, literal and the formats and patterns zod states.
 *   A response it refuses goes to zod's serializer as before: zod's answer, its bytes or its
 *   ResponseSerializationError (a 500), is the one sent. The validator never refuses what zod
 *   accepts because it ignores unlisted properties, which zod strips;
 * - a schema whose JSON Schema would not say what zod sends, byte for byte, stays on zod's
 *   serializer entirely (`ZodOnly`): transforms and codecs (encoding changes the value),
 *   refinements and overwrites such as `trim()`, what JSON Schema cannot express (dates, bigints,
 *   custom types), and objects listing an optional property before a required one.
 */

export type ResponseSerializer = 'fast-json-stringify' | 'zod';

/** What serializes one response of one route (for tests, which hold every route to it). */
export interface ResponseSerialization {
  method: string;
  url: string;
  status: string | undefined;
  contentType: string | undefined;
  /** The response schema the route declares. */
  schema: unknown;
  /** The function Fastify was given for it. */
  serialize: (data: unknown) => string;
  serializer: ResponseSerializer;
  /** Why the response stays on zod's serializer. */
  reason?: string;
}

/** Thrown from `toJSONSchema`'s override to stop at the first part of a schema JSON Schema cannot carry. */
class ZodOnly extends Error {}

/** Zod types whose encoded value differs from the value given (`pipe` covers codecs and transforms). */
const encodingTypes = new Set(['pipe', 'transform']);

/**
 * The checks zod's JSON Schema states (bounds, lengths, sizes, formats and patterns) or that check
 * nothing (descriptions). The others stay on zod: refinements (`custom`) check what no keyword
 * says, and `overwrite` (`trim()`, `toLowerCase()`) changes the value it checks.
 */
const checksJsonSchemaStates = new Set([
  'less_than',
  'greater_than',
  'multiple_of',
  'number_format',
  'max_length',
  'min_length',
  'length_equals',
  'string_format',
  'max_size',
  'min_size',
  'size_equals',
  'describe',
  'meta',
]);

/**
 * fast-json-stringify writes an object's required properties before its optional ones; zod writes
 * them in the schema's order. Where an optional one comes first, the bytes would differ.
 */
function optionalBeforeRequired(jsonSchema: z.core.JSONSchema.BaseSchema) {
  const required = new Set(jsonSchema.required);
  const names = Object.keys(jsonSchema.properties ?? {});
  const firstOptional = names.findIndex((name) => !required.has(name));
  return firstOptional >= 0 && names.slice(firstOptional).some((name) => required.has(name));
}

/** Keywords that apply to every type, so a nullable member carrying one cannot simply admit null. */
const everyTypeKeywords = ['anyOf', 'oneOf', 'allOf', 'not', 'if', 'const', '$ref'];

/**
 * zod writes `.nullable()` as `anyOf: [S, {type: 'null'}]` (itself only for a bare type such as
 * `{type: 'string'}`). fast-json-stringify picks an anyOf member by validating the value against
 * each at run time, an ajv call per nullable object or enum in every item of a list; written as S
 * with null among its types it tests `=== null` instead. The same set of values: S's other keywords
 * (properties, bounds, formats) constrain their own type only, and an enum gets null added.
 */
function nullAmongTypes(jsonSchema: z.core.JSONSchema.BaseSchema) {
  const [member, nullMember, ...more] = jsonSchema.anyOf ?? [];
  if (more.length || nullMember?.type !== 'null' || Object.keys(nullMember).length !== 1) return;
  if (typeof member?.type !== 'string' || everyTypeKeywords.some((keyword) => keyword in member)) return;
  const { anyOf: _members, ...outer } = jsonSchema;
  delete jsonSchema.anyOf;
  Object.assign(jsonSchema, member, outer, { type: [member.type, 'null'] }, member.enum ? { enum: [...member.enum, null] } : {});
}

/** A strict object refuses the properties it does not list, where other objects strip them. */
const isStrictObject = (schema: z.core.$ZodType) =>
  schema instanceof z.core.$ZodObject && schema._zod.def.catchall?._zod.def.type === 'never';

/** Ids live in a registry of their own here: zod would otherwise move id'd schemas into `definitions`. */
const noIds = z.registry<{ id?: string }>();

/** The JSON Schema both the validator and the writer are compiled from, or why there is none. */
function serializationSchema(schema: z.core.$ZodType): { jsonSchema: Record<string, unknown> } | { reason: string } {
  try {
    const jsonSchema = z.toJSONSchema(schema, {
      target: 'draft-07',
      io: 'output',
      unrepresentable: 'throw',
      cycles: 'ref',
      reused: 'inline',
      metadata: noIds,
      override: ({ zodSchema, jsonSchema, path }) => {
        const { type, checks } = zodSchema._zod.def;
        const at = `#/${path.join('/')}`;
        if (encodingTypes.has(type)) throw new ZodOnly(`${at}: a ${type} may change the value it encodes`);
        const unstated = checks?.find((check) => !checksJsonSchemaStates.has(check._zod.def.check));
        if (unstated) throw new ZodOnly(`${at}: JSON Schema does not state its ${unstated._zod.def.check} check`);
        if (optionalBeforeRequired(jsonSchema)) throw new ZodOnly(`${at}: an optional property comes before a required one`);
        // zod strips the properties an object does not list (a strict one refuses them):
        // fast-json-stringify skips them when this is absent, and the validator must not refuse
        // a response zod would have sent without them.
        if (jsonSchema.additionalProperties === false && !isStrictObject(zodSchema)) delete jsonSchema.additionalProperties;
        if (type === 'nullable') nullAmongTypes(jsonSchema);
      },
    });
    return { jsonSchema };
  } catch (error) {
    return { reason: (error as Error).message };
  }
}

/**
 * One validator instance for every response schema; formats checked as fast-json-stringify's own
 * ajv does. `strictNumbers` refuses NaN and Infinity, as zod does: fast-json-stringify would
 * write Infinity as null.
 */
function responseValidator() {
  const ajv = new Ajv({ strict: false, strictNumbers: true, allErrors: false, validateSchema: false });
  addFormats(ajv);
  return ajv;
}

type Serialize = (data: unknown) => string;

/**
 * A schema's validator and writer, compiled at its first response: compiling them for every route
 * at startup took about a second (ajv most of it), paid by every process and test that builds the
 * server, `warden openapi` included.
 */
class FastSerializer {
  private compiled: { validate: ValidateFunction; write: Serialize } | undefined;

  constructor(
    private readonly ajv: Ajv,
    private readonly jsonSchema: Record<string, unknown>,
  ) {}

  compile() {
    this.compiled ??= { validate: this.ajv.compile(this.jsonSchema), write: build(this.jsonSchema as AnySchema) as Serialize };
    return this.compiled;
  }

  /** The response as fast-json-stringify writes it once the validator accepts it, else as `refused` does. */
  serialize(data: unknown, refused: Serialize): string {
    const { validate, write } = this.compile();
    return validate(data) ? write(data) : refused(data);
  }
}

export interface ResponseSerializers {
  /** Given to Fastify's `setSerializerCompiler`. */
  compiler: FastifySerializerCompiler<unknown>;
  /** What serializes each route's responses, per status, in the order routes were added. */
  decisions: readonly ResponseSerialization[];
  /** Compiles now what would compile at a schema's first response, so a test sees every failure. */
  compileAll(): void;
}

/**
 * The serializer compiler for every route's response schemas. Each schema object is turned into
 * JSON Schema and compiled once: the problem schema every route shares once for all of them.
 * `zodSerializers` serializes what the fast path does not (zod's own, unless a test counts it).
 */
export function createResponseSerializers(
  zodSerializers: FastifySerializerCompiler<unknown> = zodSerializerCompiler as FastifySerializerCompiler<unknown>,
): ResponseSerializers {
  const ajv = responseValidator();
  const serializers = new WeakMap<z.core.$ZodType, FastSerializer | { reason: string }>();
  const fast = new Set<FastSerializer>();
  const decisions: ResponseSerialization[] = [];

  function serializerOf(schema: unknown): FastSerializer | { reason: string } {
    if (!(schema instanceof z.core.$ZodType)) return { reason: 'not a zod schema' };
    let serializer = serializers.get(schema);
    if (!serializer) {
      const plan = serializationSchema(schema);
      serializer = 'reason' in plan ? plan : new FastSerializer(ajv, plan.jsonSchema);
      serializers.set(schema, serializer);
    }
    return serializer;
  }

  const compiler: FastifySerializerCompiler<unknown> = (route) => {
    // zod's serializer, made per route because its error names the route.
    const zodSerialize = zodSerializers(route);
    const serializer = serializerOf(route.schema);
    const { method, url, httpStatus: status, contentType, schema } = route;
    if (!(serializer instanceof FastSerializer)) {
      decisions.push({ method, url, status, contentType, schema, serialize: zodSerialize, serializer: 'zod', reason: serializer.reason });
      return zodSerialize;
    }
    fast.add(serializer);
    const serialize = (data: unknown) => serializer.serialize(data, zodSerialize);
    decisions.push({ method, url, status, contentType, schema, serialize, serializer: 'fast-json-stringify' });
    return serialize;
  };

  return {
    compiler,
    decisions,
    compileAll: () => {
      for (const serializer of fast) serializer.compile();
    },
  };
}
