// What Warden refuses in any input, whatever its schema: the one checker behind the HTTP input
// boundary (http/plugins/input-boundary.ts) and the `decide` Update's validator. Pure and
// iterative, so it runs in the workflow sandbox and no input can overflow the stack.

/**
 * Free-form JSON (CI attributes, decision data, check parameters, advisory documents) nests at most
 * this deep. Warden's own schemas nest at most 6 levels and a CSAF product tree about 12; 32 leaves
 * room for real documents while every recursive consumer downstream (the audit trail's
 * canonicalisation, PostgreSQL's jsonb, the Temporal payload converter, templates) stays far from
 * its stack limit. A body nested 3,000 deep once overflowed canonicalJson.
 */
export const maxJsonDepth = 32;

/**
 * A free-form JSON value is at most this large as JSON text (64 KiB). Decision data travels in the
 * workflow's history (Temporal warns at 256 KiB per payload and caps a history at 50 MiB); attributes
 * and parameters are configuration, not documents. Whole bodies are bounded by WARDEN_BODY_LIMIT_BYTES.
 */
export const maxFreeFormJsonBytes = 65_536;

export interface InputFault {
  /** Where, dotted from the root given: `body.attributes.a.b`, `querystring.q`, `data.x`. */
  path: string;
  message: string;
}

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// `__proto__`, or `constructor.prototype`: keys that would reach an object's prototype if the value
// were ever merged with Object.assign (what Fastify's own JSON parser refuses, without saying where).
function prototypeKey(key: string, item: unknown): boolean {
  return key === '__proto__' || (key === 'constructor' && typeof item === 'object' && item !== null && 'prototype' in item);
}

/** Why PostgreSQL or JSON cannot hold this string, or undefined when it can. */
export function unstorableString(text: string): string | undefined {
  if (text.includes('\u0000')) return 'contains a NUL character (U+0000), which cannot be stored';
  if (loneSurrogate.test(text)) return 'contains a lone surrogate (invalid Unicode), which cannot be stored';
  return undefined;
}

interface Frame {
  value: unknown;
  path: string;
  depth: number;
}

/**
 * The first fault in `value`, in document order, walked without recursion: a string (value or key)
 * that cannot be stored, a key that reaches a prototype, or nesting deeper than `maxDepth`.
 */
export function findInputFault(value: unknown, root: string, maxDepth = maxJsonDepth): InputFault | undefined {
  const stack: Frame[] = [{ value, path: root, depth: 0 }];
  while (stack.length) {
    const { value: current, path, depth } = stack.pop() as Frame;
    if (typeof current === 'string') {
      const problem = unstorableString(current);
      if (problem) return { path, message: problem };
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= maxDepth) return { path, message: `nests deeper than ${maxDepth} levels` };
    const keys = Array.isArray(current) ? current.map((_, index) => String(index)) : Object.keys(current);
    const children: Frame[] = [];
    for (const key of keys) {
      const item = (current as Record<string, unknown>)[key];
      const itemPath = path ? `${path}.${key}` : key;
      const keyProblem = unstorableString(key);
      if (keyProblem) return { path: itemPath, message: `field name ${keyProblem}` };
      if (!Array.isArray(current) && prototypeKey(key, item)) return { path: itemPath, message: `the field name ${key} is not allowed` };
      children.push({ value: item, path: itemPath, depth: depth + 1 });
    }
    for (let index = children.length - 1; index >= 0; index -= 1) stack.push(children[index] as Frame);
  }
  return undefined;
}

/** The length of `value` as JSON text, counted without building it (UTF-16 units; call after findInputFault). */
export function jsonTextLength(value: unknown): number {
  let length = 0;
  const stack: unknown[] = [value];
  while (stack.length) {
    const current = stack.pop();
    if (typeof current === 'string') length += JSON.stringify(current).length;
    else if (Array.isArray(current)) {
      length += 2 + Math.max(0, current.length - 1);
      for (const item of current) stack.push(item);
    } else if (typeof current === 'object' && current !== null) {
      const keys = Object.keys(current);
      length += 2 + Math.max(0, keys.length - 1);
      for (const key of keys) {
        length += JSON.stringify(key).length + 1;
        stack.push((current as Record<string, unknown>)[key]);
      }
    } else length += String(JSON.stringify(current) ?? 'null').length;
  }
  return length;
}

/** A fault in a free-form JSON value: anything findInputFault finds, or more than `maxBytes` of JSON text. */
export function findFreeFormFault(value: unknown, root: string, maxBytes = maxFreeFormJsonBytes): InputFault | undefined {
  const fault = findInputFault(value, root);
  if (fault) return fault;
  const length = jsonTextLength(value);
  if (length > maxBytes) return { path: root, message: `is ${length} characters of JSON; at most ${maxBytes} are accepted` };
  return undefined;
}
