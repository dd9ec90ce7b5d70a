import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { auditHash, canonicalJson, changedFields, genesisHash } from '../../db/audit';

/** The recursive canonicalJson every stored hash was computed with: the iterative one must agree byte for byte. */
function recursiveCanonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(recursiveCanonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${recursiveCanonicalJson(v)}`).join(',')}}`;
}

const nest = (depth: number, wrap: (inner: unknown) => unknown, bottom: unknown = 'bottom') => {
  let value = bottom;
  for (let level = 0; level < depth; level += 1) value = wrap(value);
  return value;
};

describe('canonicalJson', () => {
  it.each([
    ['scalars', [1, -0.5, 'text', true, null, '\u2028"\\']],
    ['empty containers', { a: {}, b: [], c: [[]], d: [{}] }],
    ['unsorted keys at every depth', { b: { z: 1, a: [{ y: 2, x: 3 }] }, a: 0, '': 'empty key', é: 'accent' }],
    ['dates and undefined', { at: new Date(0), gone: undefined, list: [undefined, null, new Date(1)] }],
    [
      'an audit event',
      { occurredAt: new Date(), actor: 'a', details: { sla: { p1: '4h' }, n: [1, 2, { x: null }] }, prevHash: genesisHash },
    ],
  ])('writes %s exactly as the recursive version did', (_name, value) => {
    expect(canonicalJson(value)).toBe(recursiveCanonicalJson(value));
  });

  it('leaves the hashes of existing events unchanged', () => {
    const fields = {
      occurredAt: new Date('2026-11-30T10:00:00.123Z'),
      actor: 'alice',
      action: 'service.updated',
      subjectType: 'service',
      subjectId: 's-1',
      details: { changes: { 'sla.p1': { from: '4h', to: '2h' } } },
      prevHash: genesisHash,
    };
    expect(auditHash(fields)).toBe(createHash('sha256').update(recursiveCanonicalJson(fields)).digest('hex'));
  });

  it('does not overflow the stack on values nested far deeper than the recursive version survived', () => {
    const objects = nest(100_000, (inner) => ({ nested: inner }));
    const arrays = nest(100_000, (inner) => [inner]);
    expect(() => recursiveCanonicalJson(nest(3000, (inner) => ({ nested: inner })))).toThrow(RangeError);
    expect(canonicalJson(objects).length).toBe('{"nested":'.length * 100_000 + '"bottom"'.length + 100_000);
    expect(canonicalJson(arrays)).toBe(`${'['.repeat(100_000)}"bottom"${']'.repeat(100_000)}`);
  });
});

describe('changedFields', () => {
  it('names nested changes by dotted path, in key order', () => {
    expect(changedFields({ a: { b: 1, c: { d: 1 } }, e: 1 }, { a: { b: 2, c: { d: 2 } }, e: 2, f: 3 })).toEqual({
      'a.b': { from: 1, to: 2 },
      'a.c.d': { from: 1, to: 2 },
      e: { from: 1, to: 2 },
      f: { from: null, to: 3 },
    });
  });

  it('walks two values 3,000 deep without overflowing', () => {
    const before = nest(3000, (inner) => ({ k: inner }), { leaf: 1 }) as object;
    const after = nest(3000, (inner) => ({ k: inner }), { leaf: 2 }) as object;
    const changes = changedFields(before, after);
    expect(Object.keys(changes)).toEqual([`${'k.'.repeat(3000)}leaf`]);
  });

  it('reports nothing for equal records, and a change from an object to a scalar whole', () => {
    expect(changedFields({ a: { b: [1, { c: 2 }] }, u: undefined }, { a: { b: [1, { c: 2 }] } })).toEqual({});
    expect(changedFields({ a: { b: 1 } }, { a: 'flat' })).toEqual({ a: { from: { b: 1 }, to: 'flat' } });
  });
});
