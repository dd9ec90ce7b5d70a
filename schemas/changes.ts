import { z } from 'zod';
import { impactAreas } from '../domain/change-impact';
import { changeRisks, changeSources, changeStatuses } from '../domain/change-risk';
import { page, pageQuery, timestamp } from './common';
import { taskView } from './tasks';

export const evidenceItem = z.strictObject({
  kind: z.string().regex(/^[a-z][a-z0-9_]{0,49}$/, 'must be a snake_case kind such as penetration_test or configuration_review'),
  ref: z.string().trim().min(1).max(500).describe('where the evidence is: a report id, a URL, a ticket'),
});

export const securityImpact = z.strictObject({
  accessControls: z.boolean(),
  networkConfiguration: z.boolean(),
  dataHandling: z.boolean(),
  other: z.string().trim().max(2000).optional().describe('any other security impact, in words; blank means none'),
});

const changeFields = z.strictObject({
  title: z.string().trim().min(1).max(200),
  description: z.string().max(20_000),
  affectedCis: z.array(z.uuid()).max(100),
  securityImpact,
  plannedStart: timestamp,
  plannedEnd: timestamp,
  rollbackPlan: z.string().trim().min(1).max(20_000),
  problemId: z.string().trim().min(1).max(100).optional().describe('the problem whose workaround this change implements'),
  knownErrorId: z.string().trim().min(1).max(100).optional().describe('the known error whose fix this change implements'),
  category: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .describe('the change category (network, database, identity, …); the content rules read it'),
});

export const changeRequestBody = changeFields.extend({
  evidence: z.array(evidenceItem).max(50).optional(),
  callbackUrl: z.url().max(2000).optional().describe('every decision is POSTed here, signed; its origin must be allowed by configuration'),
});
export type ChangeRequestBody = z.infer<typeof changeRequestBody>;

export const amendmentBody = changeFields.partial().extend({
  problemId: changeFields.shape.problemId.unwrap().nullable().optional(),
  knownErrorId: changeFields.shape.knownErrorId.unwrap().nullable().optional(),
  evidence: z.array(evidenceItem).max(50).optional().describe('added to the evidence on file'),
  revision: z.number().int().min(1).optional().describe('the revision you amended; refused with 409 if the change moved on'),
});
export type AmendmentBody = z.infer<typeof amendmentBody>;

export const evidenceBody = z.strictObject({ evidence: z.array(evidenceItem).min(1).max(50) });
export const implementedBody = z.strictObject({
  implementedAt: timestamp.optional().describe('defaults to now'),
  notes: z.string().max(10_000).optional(),
});

export const changeUpdated = z.object({ id: z.uuid(), status: z.enum(changeStatuses), revision: z.number(), risk: z.enum(changeRisks) });

const ruleHit = z.object({
  ruleId: z.string(),
  version: z.number(),
  name: z.string(),
  field: z.string().describe('title, description, category or source:<ITSM field>'),
  keyword: z.string(),
  areas: z.array(z.enum(impactAreas)),
  minimumRisk: z.enum(changeRisks),
});

export const impactDerivation = z
  .object({
    declaredRisk: z.enum(changeRisks).describe('the risk the requester’s flags alone give'),
    derivedRisk: z.enum(changeRisks).describe('the risk the content rules and CI classification alone give'),
    declaredLower: z.boolean(),
    ruleHits: z.array(ruleHit),
    ciFloor: z.array(z.object({ ciId: z.string(), aspect: z.string(), level: z.string() })),
    rulesEvaluated: z.array(z.object({ id: z.string(), version: z.number() })),
  })
  .describe('how the gate derived the impact itself; absent on changes assessed before it did');

const assessment = z.object({
  risk: z.enum(changeRisks),
  reviewRequired: z.boolean(),
  fourEyes: z.boolean(),
  evidenceRequired: z.array(z.string()),
  reasons: z.array(z.string()),
  impact: impactDerivation.optional(),
});

export const changeAccepted = z.object({
  id: z.uuid(),
  workflowId: z.string(),
  risk: z.enum(changeRisks),
  reviewRequired: z.boolean(),
  reasons: z.array(z.string()),
  impact: impactDerivation.optional(),
});

const baselineVerification = z.object({
  outcome: z.enum(['holds', 'fails', 'no_controls']),
  summary: z.string(),
  verifiedAt: z.string(),
  checks: z.array(
    z.object({
      ciId: z.string(),
      measureId: z.string(),
      title: z.string(),
      aspect: z.string(),
      status: z.enum(['holds', 'fails', 'not_covered']),
      controlId: z.string().nullable(),
      detail: z.string(),
    }),
  ),
});

export const changeView = z
  .object({
    id: z.uuid(),
    workflowId: z.string(),
    title: z.string(),
    description: z.string(),
    affectedCis: z.array(z.string()),
    securityImpact: z.object({
      accessControls: z.boolean(),
      networkConfiguration: z.boolean(),
      dataHandling: z.boolean(),
      other: z.string().nullish(),
    }),
    plannedStart: z.string(),
    plannedEnd: z.string(),
    rollbackPlan: z.string(),
    evidence: z.array(z.object({ kind: z.string(), ref: z.string() })),
    problemId: z.string().nullable(),
    knownErrorId: z.string().nullable(),
    category: z.string().nullish(),
    sourceFields: z.record(z.string(), z.string()).optional().describe('text fields the ITSM tool sent that the content rules read'),
    requester: z.string(),
    source: z.enum(changeSources),
    externalRef: z.record(z.string(), z.unknown()).nullable(),
    callbackUrl: z.string().nullable(),
    status: z.enum(changeStatuses),
    risk: z.enum(changeRisks),
    assessment,
    revision: z.number(),
    verification: baselineVerification.nullable(),
    incidentId: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Change' });

export const changeDetail = changeView
  .extend({
    decisions: z.array(
      z.object({
        key: z.string(),
        revision: z.number(),
        outcome: z.string(),
        decidedBy: z.array(z.string()),
        reason: z.string(),
        taskId: z.string().nullable(),
        decidedAt: z.string(),
      }),
    ),
    reviewers: z.array(z.object({ principalId: z.string(), outcome: z.string(), revision: z.number().nullable(), at: z.string() })),
    reviews: z.array(taskView),
    callbacks: z.array(
      z.object({
        eventKey: z.string(),
        url: z.string(),
        status: z.string(),
        attempts: z.number(),
        lastStatusCode: z.number().nullable(),
        lastError: z.string().nullable(),
        deliveredAt: z.string().nullable(),
      }),
    ),
    timeline: z.array(
      z.object({
        id: z.number(),
        occurredAt: z.string(),
        actor: z.string(),
        action: z.string(),
        details: z.record(z.string(), z.unknown()),
      }),
    ),
    live: z
      .object({
        status: z.enum(changeStatuses),
        revision: z.number(),
        risk: z.enum(changeRisks),
        waitingFor: z.enum(['review', 'amendment', 'implementation_report', 'verification']).nullable(),
        openTaskIds: z.array(z.string()),
        reviewExpiresAt: z.string().nullable(),
      })
      .nullable()
      .describe('the gate workflow answering a Query; null when it cannot be reached'),
  })
  .meta({ id: 'ChangeDetail' });

export const changeListQuery = z.strictObject({
  status: z.enum(changeStatuses).optional(),
  risk: z.enum(changeRisks).optional(),
  requester: z.string().max(200).optional(),
  source: z.enum(changeSources).optional(),
  ciId: z.uuid().optional(),
  problemId: z.string().max(100).optional(),
  knownErrorId: z.string().max(100).optional(),
  ...pageQuery,
});

export const changePage = page(changeView);
