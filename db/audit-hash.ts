import { createHash } from 'node:crypto';

// What an audit event's hash is: frozen, because every chain and signed checkpoint already written
// must verify unchanged.

export const genesisHash = '0'.repeat(64);

/** A value still to write, or literal text (a bracket, a comma, a key) to emit as is. */
type CanonicalTask = { value: unknown; inArray: boolean } | string;

const byKey = ([a]: [string, unknown], [b]: [string, unknown]) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * JSON with object keys sorted at every depth: the same event always hashes the same. Iterative, with
 * its own stack, so a value nested thousands deep (free-form `attributes`, decision `data`) cannot
 * overflow the call stack when it is audited or verified.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const out: string[] = [];
  const stack: CanonicalTask[] = [{ value, inArray: false }];
  while (stack.length > 0) {
    const task = stack.pop() as CanonicalTask;
    if (typeof task === 'string') {
      out.push(task);
      continue;
    }
    const current = task.value;
    if (current === null || typeof current !== 'object') {
      // As `[…].join(',')` and a template literal wrote what JSON.stringify leaves undefined.
      const text = JSON.stringify(current) as string | undefined;
      out.push(task.inArray ? (text ?? '') : `${text}`);
    } else if (current instanceof Date) {
      out.push(JSON.stringify(current.toISOString()));
    } else if (Array.isArray(current)) {
      out.push('[');
      stack.push(']');
      for (let index = current.length - 1; index >= 0; index -= 1) {
        stack.push({ value: current[index], inArray: true });
        if (index > 0) stack.push(',');
      }
    } else {
      const entries = Object.entries(current as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(byKey);
      out.push('{');
      stack.push('}');
      for (let index = entries.length - 1; index >= 0; index -= 1) {
        const [key, v] = entries[index] as [string, unknown];
        stack.push({ value: v, inArray: false });
        stack.push(`${index > 0 ? ',' : ''}${JSON.stringify(key)}:`);
      }
    }
  }
  return out.join('');
}

export interface HashedFields {
  occurredAt: Date;
  actor: string;
  action: string;
  subjectType: string;
  subjectId: string;
  details: Record<string, unknown>;
  prevHash: string;
}

export function auditHash(fields: HashedFields): string {
  return createHash('sha256').update(canonicalJson(fields)).digest('hex');
}

/**
 * The canonical text of an event around its `prevHash`, which is not known until the event is linked:
 * `auditHash(fields)` is the SHA-256 of `head + fields.prevHash + tail`. The keys sort action, actor,
 * details, occurredAt, prevHash, subjectId, subjectType, so prevHash splits the object in two.
 */
export function auditHashParts(fields: Omit<HashedFields, 'prevHash'>): { head: string; tail: string } {
  const { action, actor, details, occurredAt, subjectId, subjectType } = fields;
  const before = canonicalJson({ action, actor, details, occurredAt });
  const after = canonicalJson({ subjectId, subjectType });
  return { head: `${before.slice(0, -1)},"prevHash":"`, tail: `",${after.slice(1)}` };
}
