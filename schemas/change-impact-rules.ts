import { z } from 'zod';
import { impactAreas, impactRuleFields, impactRuleStatuses } from '../domain/change-impact';

/** The change gate's content rules over HTTP (domain/change-impact.ts has what they mean). */

const ruleContent = z.strictObject({
  name: z.string().trim().min(1).max(200),
  description: z.string().trim().max(2000).default(''),
  keywords: z
    .array(z.string().trim().min(1).max(100))
    .max(200)
    .describe('words or phrases, any of which raises the rule; matched whole-word and case-insensitively, never as a regular expression'),
  fields: z
    .array(z.enum(impactRuleFields))
    .max(impactRuleFields.length)
    .default([...impactRuleFields]),
  areas: z.array(z.enum(impactAreas)).max(impactAreas.length).describe('the security impact the rule declares for a change it raises'),
  minimumRisk: z.enum(['low', 'medium', 'high']).default('low').describe('the lowest risk a change it raises may have'),
});

const example = {
  name: 'Remote desktop exposure',
  description: 'RDP reachable from outside is the most common ransomware entry',
  keywords: ['rdp', '3389', 'remote desktop'],
  fields: ['title', 'description', 'category', 'source'],
  areas: ['networkConfiguration'],
  minimumRisk: 'high',
};

export const impactRuleCreateBody = ruleContent
  .extend({
    reason: z.string().trim().max(2000).default('').describe('why the rule is added; kept with the version and in the audit trail'),
  })
  .meta({ examples: [{ ...example, reason: 'pen test finding 2026-11' }] });

export const impactRuleChangeBody = ruleContent
  .extend({
    version: z.number().int().min(1).describe('the version you changed; refused with 409 when the rule moved on since'),
    retired: z.boolean().default(false).describe('true takes the rule out of force; its versions stay readable'),
    reason: z.string().trim().min(1).max(2000).describe('why the rule changes'),
  })
  .meta({ examples: [{ ...example, version: 1, retired: false, reason: 'also catch "terminal server"' }] });

export const impactRuleView = z
  .object({
    id: z.uuid(),
    version: z.number(),
    name: z.string(),
    description: z.string(),
    keywords: z.array(z.string()),
    fields: z.array(z.enum(impactRuleFields)),
    areas: z.array(z.enum(impactAreas)),
    minimumRisk: z.enum(['low', 'medium', 'high']),
    status: z.enum(impactRuleStatuses),
    changedBy: z.string(),
    reason: z.string(),
    changedAt: z.string(),
  })
  .meta({ id: 'ChangeImpactRule' });

export const impactRuleList = z.object({ items: z.array(impactRuleView) });
export const impactRuleDetail = impactRuleView.extend({ versions: z.array(impactRuleView).describe('every version, newest first') });
export const impactRuleListQuery = z.strictObject({
  includeRetired: z
    .enum(['true', 'false'])
    .optional()
    .transform((value) => value === 'true'),
});
