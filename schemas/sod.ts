import { z } from 'zod';
import { sodRuleStatuses } from '../domain/sod';

/** Separation-of-duties conflict rules over HTTP (domain/sod.ts has what they mean). */

const member = z.strictObject({
  ciId: z.uuid().nullable().default(null).describe('the system; null for the entitlement on any system'),
  entitlement: z.string().trim().min(1).max(200),
});

const ruleFields = {
  name: z.string().trim().min(1).max(200),
  description: z.string().trim().max(2000).default(''),
  members: z.array(member).max(20).describe('entitlements one person may not hold together (at least two)'),
};

const example = {
  name: 'Vendor master vs payments',
  description: 'Whoever creates vendors may not approve or release payments to them',
  members: [
    { ciId: null, entitlement: 'vendor-create' },
    { ciId: null, entitlement: 'payment-approve' },
  ],
};

export const sodRuleCreateBody = z.strictObject(ruleFields).meta({ examples: [example] });
export const sodRuleChangeBody = z
  .strictObject({
    ...ruleFields,
    retired: z.boolean().default(false).describe('true takes the rule out of force'),
    reason: z.string().trim().min(1).max(2000),
  })
  .meta({ examples: [{ ...example, retired: false, reason: 'release is as sensitive as approval' }] });

export const sodRuleView = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string(),
    members: z.array(z.object({ ciId: z.string().nullable(), entitlement: z.string() })),
    status: z.enum(sodRuleStatuses),
    createdBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'SodRule' });

export const sodRuleList = z.object({ items: z.array(sodRuleView) });
export const sodRuleListQuery = z.strictObject({
  includeRetired: z
    .enum(['true', 'false'])
    .optional()
    .transform((value) => value === 'true'),
});

export const sodConflictList = z.object({
  items: z.array(
    z.object({
      principalId: z.string(),
      ruleId: z.string(),
      ruleName: z.string(),
      holdings: z.array(z.object({ ciId: z.string(), accountId: z.string(), entitlement: z.string() })),
      exception: z.boolean().describe('an unexpired exception covers it'),
    }),
  ),
});
