import { z } from 'zod';
import { roles } from '../domain/roles';
import { page, pageQuery, principalId, timestamp } from './common';

const text = (max: number) => z.string().trim().min(1).max(max);

export const securityAlertBody = z.strictObject({
  title: text(500),
  threat: text(10_000),
  affectedServices: z.array(z.uuid()).max(200).default([]),
  affectedCis: z.array(z.uuid()).max(1000).default([]),
  actions: z.array(text(2000)).min(1).max(50),
  audience: z.array(z.enum(roles)).max(roles.length).describe('Roles told besides the owners of the affected CIs and services'),
});

export const securityAlertAccepted = z.object({ id: z.string(), workflowId: z.string() });

const recipientView = z.object({
  recipient: z.string().describe('principal:<id> or role:<role>'),
  reason: z.string(),
  acknowledged: z.boolean(),
  acknowledgedBy: z.string().nullable(),
  acknowledgedAt: z.string().nullable(),
  taskId: z.string().nullable(),
});

export const securityAlertView = z
  .object({
    id: z.string(),
    workflowId: z.string(),
    title: z.string(),
    threat: z.string(),
    actions: z.array(z.string()),
    affectedServices: z.array(z.string()),
    affectedCis: z.array(z.string()),
    audience: z.array(z.string()),
    links: z.array(z.object({ type: z.string(), id: z.string() })),
    raisedBy: z.string(),
    createdAt: z.string(),
    acknowledged: z.array(recipientView),
    pending: z.array(recipientView),
  })
  .meta({ id: 'SecurityAlert' });

export const securityAlertListQuery = z.strictObject({
  raisedBy: principalId.optional(),
  affectedService: z.uuid().optional(),
  affectedCi: z.uuid().optional(),
  pending: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe('true: someone has not acknowledged yet; false: everyone has'),
  since: timestamp.optional().describe('raised at or after'),
  until: timestamp.optional().describe('raised before'),
  ...pageQuery,
});

export const securityAlertSummary = z.object({
  id: z.string(),
  workflowId: z.string(),
  title: z.string(),
  threat: z.string(),
  affectedServices: z.array(z.string()),
  affectedCis: z.array(z.string()),
  audience: z.array(z.string()),
  raisedBy: z.string(),
  createdAt: z.string(),
  recipients: z.number(),
  acknowledged: z.number(),
});
export const securityAlertPage = page(securityAlertSummary);
