import { z } from 'zod';
import { checkItemResults, problemStatuses, proposalKinds, proposalStatuses, settableProblemStatuses } from '../domain/problem';
import { page, pageQuery } from './common';

/** Problem management over HTTP (domain/problem.ts has the rules). */

const text = (max: number) => z.string().trim().max(max);

const problemFields = z.strictObject({
  title: text(200).min(1),
  description: text(20_000).default(''),
  serviceIds: z.array(z.uuid()).max(100).default([]).describe('affected services'),
  ciIds: z.array(z.uuid()).max(100).default([]).describe('affected configuration items'),
  incidentIds: z.array(z.uuid()).max(500).default([]).describe('incidents this problem is the cause of'),
  securityRisk: z
    .boolean()
    .default(false)
    .describe('the problem introduces a security risk: Security Management checks its workarounds and solutions'),
  rootCause: text(20_000).min(1).nullable().default(null),
  parentId: z.uuid().nullable().default(null).describe('the problem this one is part of; a link that loops back is refused'),
});

export const problemCreateBody = problemFields.meta({
  examples: [
    {
      title: 'Session tokens not invalidated on logout',
      description: 'Three incidents this quarter traced to reused session tokens',
      ciIds: ['5f0c9a52-3c4b-4d7e-9a31-0d2a6f1c9e01'],
      incidentIds: [],
      securityRisk: true,
    },
  ],
});

export const problemPatchBody = z
  .strictObject({
    title: problemFields.shape.title.optional(),
    description: text(20_000).optional(),
    serviceIds: z.array(z.uuid()).max(100).optional(),
    ciIds: z.array(z.uuid()).max(100).optional(),
    incidentIds: z.array(z.uuid()).max(500).optional(),
    securityRisk: z.boolean().optional(),
    rootCause: text(20_000).min(1).nullable().optional(),
    parentId: z.uuid().nullable().optional(),
    status: z
      .enum(settableProblemStatuses)
      .optional()
      .describe('known_error is reached only through an accepted workaround; resolved and closed are set by a person'),
  })
  .meta({ examples: [{ rootCause: 'The logout handler clears the cookie but not the server-side session', status: 'resolved' }] });

export const proposalBody = z
  .strictObject({
    kind: z.enum(proposalKinds),
    text: text(20_000).min(1).describe('the workaround or solution, as the people applying it will read it'),
    changeId: z.uuid().optional().describe('a solution that needs a change: the change, filed with problemId set to this problem'),
  })
  .meta({ examples: [{ kind: 'workaround', text: 'Shorten session lifetime to 15 minutes until the fix ships' }] });

const checklistItem = z.object({ id: z.string(), source: z.enum(['sla', 'baseline']), title: z.string(), detail: z.string() });
const itemResult = z.object({ itemId: z.string(), result: z.enum(checkItemResults), note: z.string() });

export const proposalView = z.object({
  id: z.uuid(),
  workflowId: z.string(),
  kind: z.enum(proposalKinds),
  text: z.string(),
  changeId: z.string().nullable(),
  proposedBy: z.string(),
  status: z.enum(proposalStatuses),
  checklist: z.array(checklistItem),
  results: z.array(itemResult),
  reasons: z.array(z.string()),
  checkedBy: z.array(z.string()),
  createdAt: z.string(),
  decidedAt: z.string().nullable(),
});

export const problemView = z
  .object({
    id: z.uuid(),
    title: z.string(),
    description: z.string(),
    status: z.enum(problemStatuses),
    serviceIds: z.array(z.string()),
    ciIds: z.array(z.string()),
    securityRisk: z.boolean(),
    rootCause: z.string().nullable(),
    workaround: z.string().nullable().describe('the accepted workaround, set only by a passed security check'),
    solution: z.string().nullable().describe('the accepted solution, set only by a passed security check'),
    parentId: z.string().nullable(),
    source: z.object({ type: z.string(), id: z.string() }).describe('`incident` when a post-incident review raised it'),
    createdBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'ProblemRecord' });

export const problemDetail = problemView
  .extend({
    incidentIds: z.array(z.string()),
    securityManagementInvolved: z.boolean(),
    proposals: z.array(proposalView),
    changes: z.array(z.object({ id: z.string(), title: z.string(), status: z.string(), risk: z.string() })),
  })
  .meta({ id: 'ProblemRecordDetail' });

export const proposalAccepted = z.object({ proposalId: z.uuid(), workflowId: z.string() });

export const problemListQuery = z.strictObject({
  status: z.enum(problemStatuses).optional(),
  serviceId: z.uuid().optional(),
  ciId: z.uuid().optional(),
  incidentId: z.uuid().optional(),
  securityRisk: z
    .enum(['true', 'false'])
    .optional()
    .transform((value) => (value === undefined ? undefined : value === 'true')),
  ...pageQuery,
});

export const problemPage = page(problemView);
