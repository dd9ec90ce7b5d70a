import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { auditHash, auditHashParts, genesisHash } from '../../db/audit-hash';

// The link (migration 2026-12-02T1800, audit_link) hashes head || prev_hash || tail in SQL; verification
// recomputes auditHash in Node. The two must agree byte for byte, or every linked event fails verify.
describe('auditHashParts', () => {
  it.each([
    ['a plain event', { a: 1 }],
    ['keys that sort around prevHash', { prevHash: 'forged', subjectId: 'x', occurredAt: 'y', zz: [{ b: 1, a: null }] }],
    ['text JSON escapes', { note: 'quote " backslash \\ newline \n \u2028 é 😀', nested: { deep: ['"prevHash":"'] } }],
    ['empty details', {}],
  ])('splits %s around its prevHash', (_name, details) => {
    const fields = {
      occurredAt: new Date('2026-12-02T16:00:00.123Z'),
      actor: 'alice "the auditor"',
      action: 'test.split',
      subjectType: 'linker-test',
      subjectId: 'subject-1',
      details,
    };
    const prevHash = createHash('sha256').update('the event before').digest('hex');
    const { head, tail } = auditHashParts(fields);
    for (const prev of [prevHash, genesisHash]) {
      expect(
        createHash('sha256')
          .update(head + prev + tail)
          .digest('hex'),
      ).toBe(auditHash({ ...fields, prevHash: prev }));
    }
  });
});
