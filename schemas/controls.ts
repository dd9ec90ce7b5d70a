import { z } from 'zod';
import { incidentCategories } from '../domain/classification';
import { isAnnexAControl } from '../domain/iso27001';
import { controlKinds, controlProcesses, testResults } from '../domain/controls';
import { durationMs, durationPattern } from '../domain/duration';
import { duration, freeFormObject, page, pageQuery, timestamp } from './common';
import { checkTypes } from '../domain/security-checks';
import { checkParamsSchemas } from './security-checks';

export const principalId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._@:-]{0,99}$/, 'must be a principal id: lowercase letters, digits and . _ @ : - (max 100)');

/** ISO/IEC 27001:2022 Annex A has four themes: 5 organisational (37), 6 people (8), 7 physical (14), 8 technological (34). */
export const iso27001Id = z.string().refine(isAnnexAControl, 'must be an ISO/IEC 27001:2022 Annex A control id, A.5.1 to A.8.34');
export const mitreAttackId = z.string().regex(/^T\d{4}(\.\d{3})?$/, 'must be a MITRE ATT&CK technique id such as T1190 or T1059.001');
/** A baseline measure's id; that a version of the baseline defines it is checked against PostgreSQL (db/controls.ts). */
export const baselineMeasureId = z
  .string()
  .regex(/^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$/, 'upper-case letters and digits in dash-separated parts, such as BL-C6')
  .max(32);

const automatedProcedure = z.strictObject({
  type: z.literal('automated'),
  check: z.enum(checkTypes),
  params: freeFormObject().default({}),
});
const manualProcedure = z.strictObject({
  type: z.literal('manual'),
  instructions: z.string().trim().min(1).max(20_000),
  tester: principalId.optional(),
  deadline: duration.optional().describe('how long the tester has before the test escalates to the control owner; default 7d'),
});

/** The check's own parameter schema decides; the stored params are the parsed ones, defaults filled in. */
export const testProcedure = z.discriminatedUnion('type', [automatedProcedure, manualProcedure]).transform((procedure, context) => {
  if (procedure.type === 'manual') return procedure;
  const parsed = checkParamsSchemas[procedure.check].safeParse(procedure.params);
  if (parsed.success) return { ...procedure, params: parsed.data as Record<string, unknown> };
  for (const issue of parsed.error.issues)
    context.addIssue({ code: 'custom', message: issue.message, path: ['params', ...issue.path.map(String)] });
  return z.NEVER;
});

const references = z.strictObject({
  iso27001: z.array(iso27001Id).max(100).default([]),
  mitreAttack: z.array(mitreAttackId).max(200).default([]),
});

const controlFields = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(10_000).optional(),
  owner: principalId.describe('the principal accountable for the control; a missed manual test escalates to them'),
  kind: z.enum(controlKinds),
  process: z.enum(controlProcesses).describe('the process that owns the control and its tests'),
  ciIds: z.array(z.uuid()).max(500).optional().describe('the configuration items the control protects'),
  references: references.optional(),
  baselineMeasures: z
    .array(baselineMeasureId)
    .max(50)
    .optional()
    .describe('baseline measure ids (domain/classification.ts) the control implements'),
  slaRequirements: z
    .array(z.strictObject({ serviceId: z.uuid(), requirementId: z.string().min(1).max(100) }))
    .max(100)
    .optional()
    .describe("SLA additional requirements the control implements: a service's sla.additionalRequirements[].id"),
  incidentCategory: z
    .enum(incidentCategories)
    .optional()
    .describe('the category of the incident a failed test opens; default vulnerability_exploitation'),
  procedure: testProcedure,
};

export const controlInput = z.strictObject(controlFields);
export type ControlInput = z.output<typeof controlInput>;
export const controlPatch = z
  .strictObject(controlFields)
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, 'send at least one field to change');
export type ControlPatch = z.output<typeof controlPatch>;

export const scheduleBody = z
  .strictObject({
    cron: z.string().trim().min(1).max(200).optional().describe('a cron expression, evaluated in UTC'),
    // Zod runs the refinement even when the pattern failed: only a duration is measured.
    every: duration.refine((text) => !durationPattern.test(text) || durationMs(text) >= 1000, 'must be at least 1s').optional(),
    startAt: timestamp.optional(),
    endAt: timestamp.optional(),
    paused: z.boolean().optional(),
    jitter: duration.optional().describe('each run starts up to this much later, so many controls do not test at once'),
  })
  .refine((body) => (body.cron === undefined) !== (body.every === undefined), {
    message: 'give exactly one of cron or every',
    path: ['every'],
  })
  .refine((body) => !body.startAt || !body.endAt || Date.parse(body.startAt) < Date.parse(body.endAt), {
    message: 'must be after startAt',
    path: ['endAt'],
  });
export type ScheduleBody = z.output<typeof scheduleBody>;

export const pauseBody = z.strictObject({ reason: z.string().trim().min(1).max(500) });

const scheduleView = z.object({
  cron: z.string().optional(),
  every: z.string().optional(),
  startAt: z.string().optional(),
  endAt: z.string().optional(),
  jitter: z.string().optional(),
  paused: z.boolean(),
  cadenceMs: z.number().nullable(),
  scheduledSince: z.string().nullable(),
});

export const controlView = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    owner: z.string(),
    kind: z.enum(controlKinds),
    process: z.enum(controlProcesses),
    ciIds: z.array(z.string()),
    references: z.object({ iso27001: z.array(z.string()), mitreAttack: z.array(z.string()) }),
    baselineMeasures: z.array(z.string()),
    slaRequirements: z.array(z.object({ serviceId: z.string(), requirementId: z.string() })),
    incidentCategory: z.enum(incidentCategories),
    procedure: z.union([
      z.object({ type: z.literal('automated'), check: z.string(), params: z.record(z.string(), z.unknown()) }),
      z.object({ type: z.literal('manual'), instructions: z.string(), tester: z.string().optional(), deadline: z.string() }),
    ]),
    schedule: scheduleView.nullable(),
    status: z.enum(['active', 'retired']),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Control' });

export const controlListQuery = z.strictObject({
  process: z.enum(controlProcesses).optional(),
  kind: z.enum(controlKinds).optional(),
  owner: z.string().max(100).optional(),
  ciId: z.uuid().optional(),
  status: z.enum(['active', 'retired']).default('active'),
  ...pageQuery,
});
export const controlPage = page(controlView);

export const exportQuery = z.strictObject({ format: z.enum(['json', 'csv']).default('json') });

export const importResult = z.object({
  created: z.number(),
  updated: z.number(),
  controls: z.array(z.object({ id: z.string(), name: z.string(), created: z.boolean() })),
});

export const scheduleDescription = z
  .object({
    scheduleId: z.string(),
    controlId: z.string(),
    spec: scheduleView,
    paused: z.boolean(),
    note: z.string().nullable(),
    nextRunTimes: z.array(z.string()),
    recentRuns: z.array(z.object({ workflowId: z.string(), scheduledAt: z.string(), takenAt: z.string() })),
    runningWorkflowIds: z.array(z.string()),
    actionsTaken: z.number(),
    skippedOverlap: z.number(),
    missedCatchupWindow: z.number(),
  })
  .meta({ id: 'TestSchedule' });

export const runRequested = z.object({
  controlId: z.string(),
  via: z.enum(['schedule', 'direct']),
  workflowId: z.string().nullable().describe('the new run; null when the Schedule starts it (its id then carries the run time)'),
});

export const testResult = z.enum(testResults);

export const testRunView = z
  .object({
    id: z.string(),
    controlId: z.string(),
    controlName: z.string(),
    workflowId: z.string(),
    method: z.enum(['automated', 'manual']),
    requestedBy: z.string(),
    scheduledAt: z.string(),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    durationMs: z.number().nullable(),
    status: z.enum(['running', 'finished']),
    result: testResult.nullable(),
    testedBy: z.string().nullable(),
    summary: z.string().nullable(),
    notes: z.string().nullable(),
    evidence: z.record(z.string(), z.unknown()),
    taskId: z.string().nullable(),
    incidentId: z.string().nullable(),
  })
  .meta({ id: 'TestRun' });

export const testRunListQuery = z.strictObject({
  controlId: z.uuid().optional(),
  result: testResult.optional(),
  status: z.enum(['running', 'finished']).optional(),
  ...pageQuery,
});
export const testRunPage = page(testRunView);

export const testingScheduleQuery = z
  .strictObject({
    from: timestamp.optional().describe('default: now'),
    to: timestamp.optional().describe('default: 30 days after `from`'),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), { message: 'must not be before from', path: ['to'] });

export const testingScheduleEntry = z.object({
  controlId: z.string(),
  name: z.string(),
  owner: z.string(),
  process: z.enum(controlProcesses),
  method: z.enum(['automated', 'manual']),
  cadence: z.string().describe('as scheduled: "every 1d" or "cron 0 3 * * 1"'),
  cadenceMs: z.number().nullable(),
  paused: z.boolean(),
  pauseNote: z.string().nullable(),
  overdue: z.boolean(),
  lastRun: z
    .object({
      id: z.string(),
      result: testResult.nullable(),
      status: z.enum(['running', 'finished']),
      startedAt: z.string(),
      finishedAt: z.string().nullable(),
    })
    .nullable(),
  lastTestedAt: z.string().nullable(),
  nextRunTimes: z.array(z.string()),
  scheduleState: z.enum(['ok', 'missing']).describe('missing: the Temporal Schedule is gone though the control says it is scheduled'),
});

export const testingSchedule = z
  .object({ from: z.string(), to: z.string(), generatedAt: z.string(), items: z.array(testingScheduleEntry) })
  .meta({ id: 'TestingSchedule' });
