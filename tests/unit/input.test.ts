import { describe, expect, it } from 'vitest';
import { findFreeFormFault, findInputFault, jsonTextLength, maxJsonDepth, unstorableString } from '../../domain/input';
import { decisionInputFault } from '../../domain/human-task';

describe('the input checker', () => {
  it.each([
    ['a\u0000b', /NUL/],
    ['\ud800', /lone surrogate/],
    ['x\udbffy', /lone surrogate/],
    ['\udc00', /lone surrogate/],
    ['\ude00\ud83d', /lone surrogate/],
  ])('refuses %j', (text, message) => {
    expect(unstorableString(text)).toMatch(message);
  });

  it.each(['', 'plain', 'emoji \ud83d\udd12', 'ünïcødé', '\u0001 control characters are storable'])('accepts %j', (text) => {
    expect(unstorableString(text)).toBeUndefined();
  });

  it('names the first fault by its dotted path, keys included, in document order', () => {
    expect(findInputFault({ a: [{ b: 'ok' }, { c: 'x\u0000' }] }, 'body')).toEqual({
      path: 'body.a.1.c',
      message: expect.stringMatching(/NUL/),
    });
    expect(findInputFault({ ok: 1, 'k\ud800': 1 }, 'body')?.path).toBe('body.k\ud800');
    expect(findInputFault({ first: '\u0000', second: '\ud800' }, 'body')?.path).toBe('body.first');
    expect(findInputFault('a\u0000', 'querystring.q')?.path).toBe('querystring.q');
  });

  it('refuses keys that reach a prototype, not harmless ones', () => {
    expect(findInputFault(JSON.parse('{"a":{"__proto__":{"x":1}}}'), 'body')?.path).toBe('body.a.__proto__');
    expect(findInputFault({ constructor: { prototype: { x: 1 } } }, 'body')?.path).toBe('body.constructor');
    expect(findInputFault({ constructor: 'a string', prototype: 1 }, 'body')).toBeUndefined();
  });

  it('allows nesting to the limit and refuses one level more, without recursion even 100,000 deep', () => {
    const nest = (depth: number) => {
      let value: unknown = 1;
      for (let i = 0; i < depth; i++) value = { a: value };
      return value;
    };
    expect(findInputFault(nest(maxJsonDepth), 'body')).toBeUndefined();
    expect(findInputFault(nest(maxJsonDepth + 1), 'body')).toEqual({
      path: `body${'.a'.repeat(maxJsonDepth)}`,
      message: `nests deeper than ${maxJsonDepth} levels`,
    });
    expect(findInputFault(nest(100_000), 'body')?.message).toMatch(/deeper/);
  });

  it('measures JSON text as JSON.stringify would', () => {
    for (const value of [{}, [], { a: [1, 'two', null, true, { b: 'ü\ud83d\udd12"' }] }, 'x', 3.5, null]) {
      expect(jsonTextLength(value)).toBe(JSON.stringify(value).length);
    }
    expect(findFreeFormFault({ blob: 'x'.repeat(70_000) }, 'body.attributes')?.message).toMatch(/at most 65536/);
    expect(findFreeFormFault({ blob: 'x'.repeat(60_000) }, 'body.attributes')).toBeUndefined();
  });

  it('checks a decision: outcome, comment and data', () => {
    expect(decisionInputFault({ outcome: 'approved', comment: 'fine', data: { a: 'b' } })).toBeUndefined();
    expect(decisionInputFault({ outcome: 'approved', comment: 'a\u0000' })?.path).toBe('comment');
    expect(decisionInputFault({ outcome: 'approved', data: { x: '\ud800' } })?.path).toBe('data.x');
    expect(decisionInputFault({ outcome: 'approved', data: { big: 'y'.repeat(70_000) } })?.path).toBe('data');
  });
});
