import { z } from 'zod';
import { incidentCategories } from '../domain/classification';
import { duration, timestamp } from './common';

export const drillCategoryParams = z.object({ category: z.enum(incidentCategories) });

export const drillScheduleRequest = z
  .strictObject({
    cronExpressions: z.array(z.string().min(9).max(100)).min(1).max(10).optional(),
    every: duration.optional(),
    paused: z.boolean().optional(),
    affectedCis: z.array(z.uuid()).max(20).default([]).describe('the CIs the exercise pretends are affected'),
  })
  .refine((b) => !(b.cronExpressions && b.every), { message: 'give cronExpressions or every, not both', path: ['every'] })
  .refine((b) => b.cronExpressions || b.every, { message: 'give cronExpressions or every', path: ['every'] })
  .meta({
    id: 'DrillScheduleRequest',
    examples: [
      { cronExpressions: ['0 9 1 */3 *'], affectedCis: ['7d0c5b1e-2f4a-4c8e-9a51-0f6f3c2b9d10'] },
      { every: '30d', paused: true },
    ],
  });

export const drillScheduleView = z
  .object({
    scheduleId: z.string(),
    category: z.enum(incidentCategories),
    cronExpressions: z.array(z.string()),
    every: z.array(z.string()),
    affectedCis: z.array(z.string()),
    paused: z.boolean(),
    nextRunTimes: z.array(z.string()),
  })
  .meta({ id: 'DrillSchedule' });

export const drillResultsQuery = z.strictObject({
  from: timestamp.describe('drills reported from (inclusive)'),
  to: timestamp.describe('until (exclusive)'),
});

export const drillResult = z
  .object({
    incidentId: z.string(),
    number: z.number(),
    category: z.string(),
    status: z.string(),
    reportedAt: z.string(),
    secondsToAcknowledge: z.number().nullable(),
    secondsToContain: z.number().nullable(),
    secondsToClose: z.number().nullable(),
    stepsSkipped: z.number(),
  })
  .meta({ id: 'DrillResult' });
