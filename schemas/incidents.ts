import { z } from 'zod';
import { incidentCategories, securityAspects, severities } from '../domain/classification';
import { techniqueIdPattern } from '../domain/attack';
import { incidentStatuses } from '../domain/incident';
import { observableTypes } from '../domain/observable';
import { slaTargets } from '../domain/sla';
import { page, pageQuery, timestamp } from './common';
import { taskView } from './tasks';

export const incidentReport = z.strictObject({
  title: z.string().trim().min(1).max(300),
  description: z.string().max(20_000),
  category: z.enum(incidentCategories),
  affectedCis: z.array(z.uuid()).max(200),
  occurredAt: timestamp.optional(),
  detectedAt: timestamp.optional(),
  source: z.string().trim().min(1).max(200),
  drill: z.boolean().optional(),
  threatens: z.array(z.enum(securityAspects)).max(3).optional().describe('for category other: the security aspects the incident threatens'),
});

export const incidentAccepted = z.object({
  id: z.string(),
  workflowId: z.string(),
  severity: z.enum(severities),
  securityIncident: z.boolean(),
  classificationReason: z.string(),
});

export const slaState = z
  .object({
    breached: z.boolean().describe('whether any target was breached'),
    nextDueAt: z.string().nullable().describe('the earliest due time of the targets still open (neither met nor stopped)'),
    targets: z.array(
      z.object({
        target: z.enum(slaTargets),
        duration: z.string().describe('the target as the SLA states it, counted in the service’s support hours'),
        dueAt: z.string(),
        remainingSeconds: z
          .number()
          .nullable()
          .describe('support time left until due, in the service’s support hours (negative when overdue); null once met or stopped'),
        metAt: z.string().nullable(),
        breachedAt: z.string().nullable(),
        stoppedAt: z.string().nullable().describe('closed unmet because the incident was merged into another or failed'),
        stopReason: z.enum(['merged', 'failed']).nullable(),
        breached: z.boolean(),
      }),
    ),
  })
  .meta({ id: 'IncidentSla', description: 'the incident’s SLA clocks: acknowledge, triage and resolve, timed from registration' });

export const incidentSummary = z
  .object({
    id: z.string(),
    number: z.number(),
    title: z.string(),
    category: z.string(),
    severity: z.string(),
    securityIncident: z.boolean(),
    status: z.string(),
    drill: z.boolean(),
    affectedCis: z.array(z.string()),
    reportedBy: z.string(),
    source: z.string(),
    workflowId: z.string(),
    playbook: z.object({ category: z.string(), version: z.number() }),
    links: z.array(z.object({ type: z.string(), id: z.string() })),
    attackTechniques: z.array(z.string()).describe('ATT&CK technique ids from its alerts or set at triage'),
    mergedInto: z.string().nullable().describe('the incident this one was merged into as a duplicate'),
    timestamps: z.object({
      occurredAt: z.string().nullable(),
      detectedAt: z.string().nullable(),
      reportedAt: z.string(),
      acknowledgedAt: z.string().nullable(),
      containedAt: z.string().nullable(),
      resolvedAt: z.string().nullable(),
      closedAt: z.string().nullable(),
    }),
    sla: slaState.nullable().describe('null for incidents without SLA clocks (not security incidents, or registered before clocks)'),
    falsePositiveReason: z.string().nullable(),
  })
  .meta({ id: 'IncidentSummary' });

export const incidentDetail = incidentSummary
  .extend({
    description: z.string(),
    classificationReason: z.string(),
    scope: z.string().nullable(),
    severityFloor: z
      .string()
      .nullable()
      .describe('the least severity its alerts demand: the SIEM’s, or high for a known IOC or an unexpected account'),
    targets: z.object({ acknowledge: z.string(), resolve: z.string() }),
    observables: z.array(
      z.object({
        type: z.enum(observableTypes),
        value: z.string(),
        origin: z.enum(['alert', 'cmdb', 'merge']),
        ioc: z.boolean(),
        firstSeenAt: z.string(),
        lastSeenAt: z.string(),
      }),
    ),
    related: z.array(
      z.object({
        id: z.string(),
        number: z.number(),
        title: z.string(),
        status: z.string(),
        kind: z.enum(['related', 'merged_into', 'merged_from']),
        note: z.string().nullable(),
        by: z.string(),
        at: z.string(),
      }),
    ),
    steps: z.array(
      z.object({
        stepId: z.string(),
        type: z.string(),
        phase: z.string(),
        title: z.string(),
        status: z.string(),
        taskId: z.string().nullable(),
        result: z.unknown(),
        startedAt: z.string(),
        finishedAt: z.string().nullable(),
      }),
    ),
    tasks: z.array(taskView),
    actions: z.array(
      z.object({
        id: z.string(),
        kind: z.string(),
        name: z.string(),
        status: z.string(),
        detail: z.string(),
        approvedBy: z.array(z.string()),
        executedAt: z.string(),
        confirmedBy: z.string().nullable().describe('who confirmed, with evidence, an action no responder carried out'),
        confirmedAt: z.string().nullable(),
        evidence: z.object({ evidence: z.string(), links: z.array(z.string()) }).nullable(),
      }),
    ),
    alerts: z.array(
      z.object({
        id: z.string(),
        source: z.string(),
        rule: z.string(),
        host: z.string().nullable(),
        account: z.string().nullable(),
        verdict: z.string(),
        observedAt: z.string(),
      }),
    ),
    communications: z.array(
      z.object({
        id: z.string(),
        audience: z.string(),
        status: z.string(),
        requestedBy: z.string(),
        decidedBy: z.string().nullable(),
        sentAt: z.string().nullable(),
      }),
    ),
    timeline: z.array(z.object({ at: z.string(), actor: z.string(), action: z.string(), details: z.record(z.string(), z.unknown()) })),
    live: z
      .object({
        status: z.string(),
        severity: z.string().nullable(),
        currentStep: z.string().nullable(),
        openTaskIds: z.array(z.string()),
        acknowledgeEscalations: z.number(),
        pendingCommunications: z.number(),
        sla: z
          .array(
            z.object({
              target: z.enum(slaTargets),
              duration: z.string(),
              dueAt: z.string(),
              metAt: z.string().nullable(),
              breachedAt: z.string().nullable(),
            }),
          )
          .optional()
          .describe('the clocks as the workflow times them'),
      })
      .nullable()
      .describe('the running workflow’s own view (a Query); null once it is gone'),
  })
  .meta({ id: 'Incident' });

export const incidentListQuery = z.strictObject({
  status: z.enum(incidentStatuses).optional(),
  severity: z.enum(severities).optional(),
  category: z.enum(incidentCategories).optional(),
  drill: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  technique: z
    .string()
    .regex(techniqueIdPattern, 'an ATT&CK technique id such as T1110')
    .optional()
    .describe('also matches its sub-techniques'),
  slaBreached: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe('only incidents with (true) or without (false) a breached SLA target'),
  sort: z
    .enum(['newest', 'slaDue'])
    .default('newest')
    .describe('newest first, or the earliest unmet SLA target first (incidents with none last)'),
  ...pageQuery,
});
export const incidentPage = page(incidentSummary);

export const actionResultBody = z
  .strictObject({
    status: z.enum(['executed', 'failed']),
    detail: z.string().max(2000).default(''),
  })
  .meta({ examples: [{ status: 'executed', detail: 'account svc-payroll disabled in AD at 02:14' }] });

export const actionResultHeaders = z.object({
  'x-warden-timestamp': z
    .string()
    .regex(/^\d{1,12}$/, 'unix seconds')
    .describe('when the responder signed, in unix seconds'),
  'x-warden-signature': z
    .string()
    .regex(/^sha256=[0-9a-f]{64}$/, 'sha256=<hex>')
    .describe('sha256=<hex HMAC-SHA256 with WARDEN_RESPONDER_SECRET of "<timestamp>.<actionId>.<status>.<detail>">'),
});

export const communicationRequestBody = z.strictObject({
  audience: z.string().trim().min(1).max(300),
  message: z.string().trim().min(1).max(20_000),
});

export const mergeBody = z
  .strictObject({
    into: z.uuid().describe('the incident that carries on'),
    reason: z.string().trim().min(1).max(2000),
  })
  .meta({ examples: [{ into: '0b8f6a52-8a4e-4f61-9d0c-6a1f2b3c4d5e', reason: 'same brute force on svc-payroll, reported twice' }] });

export const linkBody = z
  .strictObject({
    incidentId: z.uuid().describe('the related incident'),
    note: z.string().trim().min(1).max(2000).optional(),
  })
  .meta({ examples: [{ incidentId: '0b8f6a52-8a4e-4f61-9d0c-6a1f2b3c4d5e', note: 'same phishing campaign' }] });
