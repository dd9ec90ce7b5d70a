import { z } from 'zod';
import { roles } from '../domain/roles';
import { completionSources, lmsCompletionVerbs } from '../domain/training';
import type { ImportFormat } from './access';
import { duration, page, pageQuery, principalId, timestamp } from './common';

export const trainingCampaignBody = z
  .strictObject({
    title: z.string().trim().min(1).max(200),
    courseId: z.string().trim().min(1).max(200).describe("The course's id in the learning platform (an LMS statement's object id)"),
    dueAt: timestamp,
    audience: z
      .strictObject({
        roles: z.array(z.enum(roles)).max(20).default([]),
        principals: z.array(principalId).max(10_000).default([]),
        directoryExport: z
          .string()
          .max(5_000_000)
          .optional()
          .describe(
            'A directory export as RFC 4180 CSV with a header row: principal_id,display_name,status,manager (leavers are left out)',
          ),
      })
      .refine((a) => a.roles.length > 0 || a.principals.length > 0 || a.directoryExport !== undefined, {
        message: 'name roles, principals or a directory export',
      }),
    reminderEvery: duration.optional().describe('How often the outstanding are reminded (default 7d)'),
    securityManager: principalId.optional().describe('Who is told about overdue people without a manager; defaults to the requester'),
  })
  .meta({
    examples: [
      {
        title: 'Phishing awareness 2026',
        courseId: 'course-phishing-2026',
        dueAt: '2026-12-31T23:59:59Z',
        audience: {
          roles: ['service_owner'],
          principals: ['pat'],
          directoryExport: 'principal_id,display_name,status,manager\r\ndora,Dora,active,mona\r\n',
        },
        reminderEvery: '7d',
      },
    ],
  });

export const trainingCampaignAccepted = z.object({ id: z.uuid(), workflowId: z.string() });

export const trainingCampaignQuery = z.strictObject({ status: z.enum(['open', 'closed']).optional(), ...pageQuery });

export const trainingAssignment = z.object({
  principalId: z.string(),
  manager: z.string().nullable(),
  completedAt: z.string().nullable(),
  completionSource: z.enum(completionSources).nullable(),
  recordedBy: z.string().nullable(),
  reminders: z.number(),
  overdue: z.boolean().describe('not completed and past the due date'),
  escalatedAt: z.string().nullable(),
  escalatedTo: z.string().nullable(),
});

export const trainingCampaignSummary = z.object({
  id: z.uuid(),
  workflowId: z.string(),
  title: z.string(),
  courseId: z.string(),
  dueAt: z.string(),
  status: z.enum(['open', 'closed']),
  createdBy: z.string(),
  createdAt: z.string(),
  closedAt: z.string().nullable(),
});
export const trainingCampaignPage = page(trainingCampaignSummary);

export const trainingCampaignView = trainingCampaignSummary.extend({
  completion: z.object({
    assigned: z.number(),
    completed: z.number(),
    rate: z.number().nullable().describe('completed ÷ assigned, 0–1'),
  }),
  assignments: z.array(trainingAssignment),
});

const completionRow = z.strictObject({
  principalId: principalId,
  completedAt: z
    .union([timestamp, z.literal('')])
    .optional()
    .transform((value) => value || undefined),
});

/** Completions as JSON (`completions: [{principalId, completedAt?}]`) or CSV (`principal_id,completed_at`). */
export const completionImport: ImportFormat<z.output<typeof completionRow>> = {
  row: completionRow,
  listKey: 'completions',
  csvColumns: { principal_id: 'principalId', completed_at: 'completedAt' },
};

export const completionResult = z.object({
  recorded: z.array(z.string()).describe('principals whose completion this request recorded'),
  alreadyCompleted: z.array(z.string()).describe('principals whose completion was already recorded; unchanged'),
});

/** An xAPI statement (IEEE 9274.1.1) as a learning platform sends it; the fields Warden reads. */
const xapiStatement = z.object({
  id: z.uuid().optional(),
  actor: z.object({
    name: z.string().max(200).optional(),
    mbox: z.string().max(320).optional(),
    account: z
      .object({ homePage: z.string().max(2000), name: principalId })
      .describe("the learner's account: its name is the Warden principal id"),
  }),
  verb: z.object({ id: z.string().max(2000), display: z.record(z.string(), z.string().max(200)).optional() }),
  object: z.object({
    id: z.string().max(2000).describe("the course's id, as the campaign's courseId"),
    objectType: z.string().max(50).optional(),
  }),
  result: z.object({ completion: z.boolean().optional(), success: z.boolean().optional() }).optional(),
  timestamp: timestamp.optional(),
});

export const lmsStatementBody = xapiStatement.meta({
  examples: [
    {
      actor: { name: 'Pat', account: { homePage: 'https://lms.example', name: 'pat' } },
      verb: { id: lmsCompletionVerbs[0], display: { 'en-US': 'completed' } },
      object: { id: 'course-phishing-2026', objectType: 'Activity' },
      result: { completion: true },
      timestamp: '2026-12-01T10:00:00Z',
    },
  ],
});

export const lmsResult = z.object({
  recorded: z
    .array(z.object({ principalId: z.string(), campaignId: z.uuid() }))
    .describe('the campaigns whose assignment this statement completed'),
  ignored: z.string().nullable().describe('why the statement completed nothing, when it did not'),
});
