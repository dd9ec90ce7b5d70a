import { describe, expect, it } from 'vitest';
import {
  completedOnTime,
  flagAccount,
  onTimePercentage,
  parseReviewDecisions,
  type AccountUnderReview,
  type ReviewItem,
} from '../../domain/access-review';

const now = Date.parse('2026-11-24T00:00:00Z');
const base: AccountUnderReview = {
  kind: 'person',
  owner: 'pat',
  employmentStatus: 'active',
  entitlements: [{ name: 'reader', privilege: 'standard' }],
  lastUsedAt: '2026-11-20T00:00:00Z',
  approvedEntitlements: [],
  revocationNotApplied: false,
};
const admin = { name: 'admin', privilege: 'privileged' } as const;

describe('access review flags', () => {
  it.each([
    ['an active, recently used standard account', {}, []],
    ['a leaver’s account', { employmentStatus: 'leaver' }, ['orphaned']],
    ['an owner missing from the people list', { employmentStatus: 'unknown' }, ['orphaned']],
    ['a person account without owner', { owner: null, employmentStatus: 'unknown' }, ['orphaned']],
    ['a shared account without owner', { kind: 'shared', owner: null, employmentStatus: 'unknown' }, ['shared_without_owner']],
    ['a shared account with an active owner', { kind: 'shared' }, []],
    ['unused for 31 days (threshold 30)', { lastUsedAt: '2026-10-24T00:00:00Z' }, ['unused']],
    ['used exactly 30 days ago', { lastUsedAt: '2026-10-25T00:00:00Z' }, []],
    ['never used', { lastUsedAt: null }, ['unused']],
    ['a privileged entitlement nobody approved', { entitlements: [admin] }, ['privileged_without_approval']],
    ['a privileged entitlement an access request granted', { entitlements: [admin], approvedEntitlements: ['admin'] }, []],
    ['a standard entitlement without request', { entitlements: [{ name: 'writer', privilege: 'standard' }] }, []],
    ['a revocation the system did not apply', { revocationNotApplied: true }, ['revocation_not_applied']],
    [
      'everything wrong at once',
      { employmentStatus: 'leaver', lastUsedAt: null, entitlements: [admin], revocationNotApplied: true },
      ['orphaned', 'unused', 'privileged_without_approval', 'revocation_not_applied'],
    ],
  ] as const)('%s', (_name, change, expected) => {
    expect(flagAccount({ ...base, ...change } as AccountUnderReview, { now, unusedAfterDays: 30 })).toEqual(expected);
  });
});

describe('review decisions', () => {
  const items: ReviewItem[] = [
    { ciId: 'crm', accountId: 'alice', owner: 'alice', entitlements: ['reader', 'admin'] },
    { ciId: 'crm', accountId: 'svc-backup', owner: 'olga', entitlements: ['backup'] },
    { ciId: 'erp', accountId: 'bob', owner: 'bob', entitlements: ['reader'] },
  ];
  const decide = (decisions: unknown, decider = 'olga') => parseReviewDecisions({ decisions }, items, decider);
  const all = [
    { accountId: 'alice', action: 'reduce', entitlements: ['reader'] },
    { accountId: 'svc-backup', action: 'revoke' },
    { accountId: 'bob', action: 'keep' },
  ];

  it('accepts one decision per account and resolves each to its system', () => {
    expect(decide(all)).toEqual({
      decisions: [
        { accountId: 'alice', ciId: 'crm', action: 'reduce', entitlements: ['reader'] },
        { accountId: 'svc-backup', ciId: 'crm', action: 'revoke' },
        { accountId: 'bob', ciId: 'erp', action: 'keep' },
      ],
    });
  });

  it.each([
    ['no decisions list', undefined, 'olga', /must list a decision/],
    ['a missing account', all.slice(0, 2), 'olga', /no decision for: bob/],
    ['an account twice', [...all, { accountId: 'bob', action: 'revoke' }], 'olga', /decided twice/],
    ['an account not on the list', [...all, { accountId: 'mallory', action: 'keep' }], 'olga', /not on your review list/],
    ['an unknown action', [{ accountId: 'alice', action: 'certify' }], 'olga', /action must be one of/],
    ['keeping one’s own account', all, 'bob', /may not certify your own account bob/],
    ['reducing one’s own account', all, 'alice', /may not certify your own account alice/],
    ['a reduction that adds', [{ accountId: 'alice', action: 'reduce', entitlements: ['root'] }, ...all.slice(1)], 'olga', /root not held/],
    [
      'a reduction to nothing',
      [{ accountId: 'alice', action: 'reduce', entitlements: [] }, ...all.slice(1)],
      'olga',
      /must list the entitlements/,
    ],
  ])('refuses %s', (_name, decisions, decider, reason) => {
    const parsed = decide(decisions, decider);
    expect('refusal' in parsed && parsed.refusal).toMatch(reason);
  });

  it('lets an owner revoke their own account', () => {
    const own = [{ accountId: 'alice', action: 'revoke' }, ...all.slice(1)];
    expect(decide(own, 'alice')).toHaveProperty('decisions');
  });
});

describe('on-time completion', () => {
  it.each([
    ['answered before the deadline', '2026-11-10T00:00:00Z', true],
    ['answered at the deadline', '2026-11-14T00:00:00Z', true],
    ['answered after the deadline', '2026-11-15T00:00:00Z', false],
    ['never answered', null, false],
  ] as const)('%s', (_name, completedAt, expected) => {
    expect(completedOnTime({ deadlineAt: '2026-11-14T00:00:00Z', completedAt })).toBe(expected);
  });

  it.each([
    [0, 0, null],
    [3, 2, 66.7],
    [4, 4, 100],
  ] as const)('%i due, %i on time → %s %%', (due, onTime, expected) => {
    expect(onTimePercentage(due, onTime)).toBe(expected);
  });
});
