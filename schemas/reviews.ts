import { z } from 'zod';
import { riskTreatments } from '../domain/risk';
import { periodLabelPattern } from '../domain/review-period';
import { duration, page, pageQuery, principalId, timestamp } from './common';

const rating = z.number().int().min(1).max(5);
const flag = z.enum(['true', 'false']).transform((v) => v === 'true');

export const riskFields = {
  title: z.string().min(1).max(200),
  threat: z.string().min(1).max(2000),
  affectedCis: z.array(z.uuid()).max(200).default([]),
  affectedServices: z.array(z.uuid()).max(200).default([]),
  likelihood: rating,
  impact: rating,
  owner: principalId,
  treatment: z.enum(riskTreatments),
  controls: z.array(z.string().min(1).max(200)).max(50).default([]),
  acceptedUntil: timestamp.nullable().default(null),
  reviewAt: timestamp,
};
export const riskCreateRequest = z.strictObject(riskFields);
export const riskChangeRequest = z.strictObject({
  title: riskFields.title.optional(),
  threat: riskFields.threat.optional(),
  affectedCis: z.array(z.uuid()).max(200).optional(),
  affectedServices: z.array(z.uuid()).max(200).optional(),
  likelihood: rating.optional(),
  impact: rating.optional(),
  owner: principalId.optional(),
  treatment: z.enum(riskTreatments).optional(),
  controls: z.array(z.string().min(1).max(200)).max(50).optional(),
  acceptedUntil: timestamp.nullable().optional(),
  reviewAt: timestamp.optional(),
});
export const risk = z
  .object({
    id: z.string(),
    title: z.string(),
    threat: z.string(),
    affectedCis: z.array(z.string()),
    affectedServices: z.array(z.string()),
    likelihood: z.number(),
    impact: z.number(),
    owner: z.string(),
    treatment: z.enum(riskTreatments),
    controls: z.array(z.string()),
    acceptedUntil: z.string().nullable(),
    reviewAt: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Risk' });
export const riskListQuery = z.strictObject({
  owner: principalId.optional(),
  treatment: z.enum(riskTreatments).optional(),
  reviewDue: flag.optional(),
  ...pageQuery,
});
export const riskPage = page(risk);

const policyContent = {
  body: z.string().min(1).max(200_000).optional(),
  documentUrl: z.url().max(2000).optional(),
  nextReviewAt: timestamp,
};
const hasContent = (value: { body?: string; documentUrl?: string }) => value.body !== undefined || value.documentUrl !== undefined;
export const policyCreateRequest = z
  .strictObject({ title: z.string().min(1).max(200), owner: principalId, ...policyContent })
  .refine(hasContent, { message: 'a policy needs a Markdown body or a document link', path: ['body'] });
export const policyVersionRequest = z
  .strictObject(policyContent)
  .refine(hasContent, { message: 'a version needs a Markdown body or a document link', path: ['body'] });
export const policyChangeRequest = z.strictObject({ title: z.string().min(1).max(200).optional(), owner: principalId.optional() });
const policyVersion = z.object({
  version: z.number(),
  body: z.string().nullable(),
  documentUrl: z.string().nullable(),
  nextReviewAt: z.string(),
  status: z.enum(['pending_approval', 'approved', 'rejected', 'failed']),
  proposedBy: z.string(),
  approvedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
  comment: z.string().nullable(),
});
export const policy = z
  .object({
    id: z.string(),
    title: z.string(),
    owner: z.string(),
    status: z.enum(['active', 'retired']),
    version: z.number().nullable(),
    approvedBy: z.string().nullable(),
    approvedAt: z.string().nullable(),
    nextReviewAt: z.string().nullable(),
    body: z.string().nullable(),
    documentUrl: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Policy' });
export const policyDetail = policy.extend({ versions: z.array(policyVersion) });
export const policyProposed = z.object({
  policyId: z.string(),
  version: z.number(),
  workflowId: z.string(),
  status: z.literal('pending_approval'),
});
export const policyListQuery = z.strictObject({ owner: principalId.optional(), reviewDue: flag.optional(), ...pageQuery });
export const policyPage = page(policy);

export const periodLabel = z.string().regex(periodLabelPattern, 'a quarter such as 2026-Q4, or a from_to range of days');
export const reviewParams = z.strictObject({ id: periodLabel });
export const reviewDeadlines = z.strictObject({ ownerReview: duration.optional(), escalation: duration.optional() });
export const reviewStartRequest = z
  .strictObject({
    period: z
      .string()
      .regex(/^\d{4}-Q[1-4]$/, 'a quarter such as 2026-Q4')
      .optional(),
    from: z.iso.date().optional(),
    to: z.iso.date().optional(),
    scope: z.array(z.uuid()).min(1).max(500).optional(),
    deadlines: reviewDeadlines.optional(),
  })
  .refine((b) => (b.period !== undefined) !== (b.from !== undefined && b.to !== undefined), {
    message: 'give either period or both from and to',
    path: ['period'],
  });
export const reviewAccepted = z.object({ id: z.string(), workflowId: z.string(), started: z.boolean() });

const deviation = z.object({
  key: z.string(),
  title: z.string(),
  detail: z.string(),
  owner: z.string().nullable(),
  serviceId: z.string().nullable(),
  likelihood: z.number(),
  impact: z.number(),
  level: z.string(),
});
export const measuredKpi = z
  .object({
    id: z.string(),
    title: z.string(),
    definition: z.string(),
    result: z.object({
      status: z.enum(['measured', 'not_measured']),
      value: z.number().nullable(),
      unit: z.string(),
      breakdown: z.array(z.object({ label: z.string(), value: z.number().nullable(), count: z.number().optional() })).optional(),
      misses: z.array(deviation).optional(),
      note: z.string().optional(),
      records: z
        .array(z.object({ key: z.string(), title: z.string(), detail: z.string(), sampled: z.boolean() }))
        .optional()
        .describe('records listed for checking after the fact, with the sample marked'),
    }),
  })
  .meta({ id: 'Kpi' });
const riskChange = z.object({
  title: z.string(),
  likelihood: z.number(),
  impact: z.number(),
  riskId: z.string().optional(),
  detail: z.string().optional(),
});
const signOffRecord = z.object({
  outcome: z.string(),
  by: z.string(),
  at: z.string(),
  comment: z.string().nullable(),
  additions: z.array(riskChange).optional(),
});
const plannedAction = z.object({
  id: z.string(),
  title: z.string(),
  owner: z.string(),
  dueAt: z.string().nullable(),
  riskScore: z.number().nullable(),
  status: z.string(),
  progress: z.string().nullable(),
  deviationKey: z.string().nullable(),
});
export const securityReport = z
  .object({
    id: z.string(),
    period: z.object({ label: z.string(), from: z.string(), to: z.string() }),
    scope: z.array(z.object({ id: z.string(), name: z.string() })).nullable(),
    status: z.string(),
    requestedBy: z.string(),
    generatedAt: z.string(),
    measures: z.array(measuredKpi),
    trend: z.array(z.object({ period: z.string(), values: z.record(z.string(), z.number().nullable()) })),
    deviations: z.array(deviation.extend({ measureId: z.string() })),
    ownerReviews: z.array(
      z.object({
        serviceId: z.string(),
        serviceName: z.string(),
        owner: z.string(),
        level: z.string(),
        outcome: z.string(),
        comment: z.string().nullable(),
        riskChanges: z.array(riskChange),
        decidedBy: z.array(z.string()),
        expired: z.boolean(),
      }),
    ),
    improvementActions: z.array(plannedAction),
    revisions: z.array(signOffRecord),
    signOff: signOffRecord.nullable(),
  })
  .meta({ id: 'SecurityReport' });
export const reviewSummary = z
  .object({
    id: z.string(),
    workflowId: z.string(),
    period: z.object({ from: z.string(), to: z.string() }),
    scope: z.array(z.string()).nullable(),
    status: z.string(),
    requestedBy: z.string(),
    deviations: z.number().nullable(),
    signOff: signOffRecord.nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'SecurityReview' });
export const reviewDetail = reviewSummary.extend({
  live: z.object({ step: z.string(), openTaskIds: z.array(z.string()), signOffRounds: z.number() }).nullable(),
});
export const reviewListQuery = z.strictObject({ limit: pageQuery.limit });

export const kpiQuery = z.strictObject({
  from: z.iso.date(),
  to: z.iso.date(),
  service: z
    .array(z.uuid())
    .or(z.uuid().transform((id) => [id]))
    .optional(),
});
export const kpiResponse = z.object({ from: z.string(), to: z.string(), asOf: z.string(), measures: z.array(measuredKpi) });

export const scheduleRequest = z
  .strictObject({
    cronExpressions: z.array(z.string().min(9).max(100)).min(1).max(10).optional(),
    every: duration.optional(),
    paused: z.boolean().optional(),
    securityManager: principalId.optional(),
    deadlines: reviewDeadlines.optional(),
  })
  .refine((b) => !(b.cronExpressions && b.every), { message: 'give cronExpressions or every, not both', path: ['every'] });
export const scheduleView = z.object({
  scheduleId: z.string(),
  cronExpressions: z.array(z.string()),
  every: z.array(z.string()),
  paused: z.boolean(),
  nextRunTimes: z.array(z.string()),
});

export const improvementStatus = z.enum(['open', 'in_progress', 'done', 'cancelled']);
export const improvementAction = plannedAction
  .extend({
    description: z.string(),
    source: z.object({ type: z.string(), id: z.string() }),
    serviceId: z.string().nullable(),
    overdue: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'ImprovementAction' });
export const improvementListQuery = z.strictObject({
  status: improvementStatus.optional(),
  owner: principalId.optional(),
  sourceType: z.string().max(50).optional(),
  sourceId: z.string().max(200).optional(),
  serviceId: z.uuid().optional(),
  overdue: flag.optional(),
  ...pageQuery,
});
export const improvementPage = page(improvementAction);
/** `stage` rather than `status`: a body never names a server-owned field, even where a person moves it. */
export const improvementChangeRequest = z.strictObject({
  stage: improvementStatus.optional(),
  progress: z.string().max(5000).optional(),
  dueAt: timestamp.optional(),
});
