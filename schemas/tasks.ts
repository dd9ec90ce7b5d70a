import { z } from 'zod';
import { freeFormObject, pageQuery, page } from './common';

export const taskStatuses = ['open', 'decided', 'expired', 'cancelled'] as const;

export const taskView = z
  .object({
    id: z.string(),
    kind: z.string(),
    subject: z.object({ type: z.string(), id: z.string() }),
    title: z.string(),
    details: z.record(z.string(), z.unknown()),
    allowedRoles: z.array(z.string()),
    assignees: z.array(z.string()),
    allowedOutcomes: z.array(z.string()),
    requester: z.string().nullable(),
    approvalsRequired: z.number(),
    status: z.enum(taskStatuses),
    deadlineAt: z.string().nullable(),
    overdue: z.boolean(),
    escalationLevel: z.number(),
    outcome: z.string().nullable(),
    decisions: z.array(
      z.object({
        principalId: z.string(),
        outcome: z.string(),
        comment: z.string().nullable(),
        data: z.record(z.string(), z.unknown()).nullable(),
        at: z.string(),
      }),
    ),
    createdAt: z.string(),
    closedAt: z.string().nullable(),
  })
  .meta({ id: 'Task' });

export const taskListQuery = z.strictObject({
  status: z.enum(taskStatuses).optional(),
  role: z.string().max(50).optional(),
  mine: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  subjectType: z.string().max(50).optional(),
  subjectId: z.string().max(200).optional(),
  ...pageQuery,
});

export const taskPage = page(taskView);

export const decisionBody = z.strictObject({
  outcome: z.string().min(1).max(50),
  comment: z.string().max(10_000).optional(),
  data: freeFormObject().optional(),
});
export type DecisionBody = z.infer<typeof decisionBody>;

export const decisionResult = z.object({
  taskId: z.string(),
  status: z.enum(['decided', 'awaiting_approval']),
  outcome: z.string(),
  approvals: z.number(),
  approvalsRequired: z.number(),
});
