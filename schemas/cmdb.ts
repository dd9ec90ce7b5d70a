import { z } from 'zod';
import { classificationLevels, securityAspects, severities } from '../domain/classification';
import { configurationItemStatuses, configurationItemTypes } from '../domain/cmdb';
import { durationMs } from '../domain/duration';
import { knownTimeZone } from '../domain/support-hours';
import { duration, freeFormObject, page, pageQuery, principalId, timestamp } from './common';

const name = z.string().trim().min(1).max(200);
const description = z.string().trim().max(2000);
const level = z.enum(classificationLevels);
const ciType = z.enum(configurationItemTypes);
const ciStatus = z.enum(configurationItemStatuses);

/** An object with a duration under each key, spelled out so OpenAPI 3.0 clients see the keys. */
const durationsBy = <const K extends string>(keys: readonly K[]) =>
  z.strictObject(Object.fromEntries(keys.map((key) => [key, duration])) as Record<K, typeof duration>);
const severityTargets = durationsBy(severities);
const levelDeadlines = durationsBy(classificationLevels);

const additionalRequirement = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][\w.-]{0,49}$/, 'letters, digits and . _ - (max 50)'),
  title: z.string().trim().min(1).max(200),
  description: description.optional(),
});
const additionalRequirements = z
  .array(additionalRequirement)
  .max(100)
  .superRefine((requirements, context) => {
    const seen = new Set<string>();
    requirements.forEach((requirement, index) => {
      if (seen.has(requirement.id))
        context.addIssue({ code: 'custom', path: [index, 'id'], message: `duplicate requirement id ${requirement.id}` });
      seen.add(requirement.id);
    });
  });
const localTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'local time HH:MM');
const supportHours = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('24x7') }),
    z
      .strictObject({
        kind: z.literal('business'),
        timeZone: z.string().max(64).refine(knownTimeZone, 'not a time zone this server knows (IANA name, e.g. Europe/Berlin)'),
        days: z.array(z.number().int().min(1).max(7)).min(1).max(7).describe('ISO weekdays supported: 1 Monday … 7 Sunday'),
        start: localTime,
        end: localTime,
        holidays: z.array(z.iso.date()).max(400).default([]).describe('local dates without support'),
      })
      .refine((hours) => hours.start < hours.end, { path: ['end'], message: 'end must be after start' }),
  ])
  .meta({
    id: 'SupportHours',
    description: 'the hours incident SLA targets count in: round the clock, or business hours in a time zone with holidays',
    examples: [
      { kind: 'business', timeZone: 'Europe/Berlin', days: [1, 2, 3, 4, 5], start: '08:00', end: '18:00', holidays: ['2026-12-25'] },
    ],
  });
const availabilityTarget = z.number().min(0).max(100).describe('percentage, e.g. 99.9');

export const serviceSla = z
  .object({
    acknowledgeTargets: severityTargets.describe('time to acknowledge an incident, per severity'),
    triageTargets: severityTargets.describe('time from registration to a finished triage, per severity'),
    resolveTargets: severityTargets.describe('time to resolve an incident, per severity'),
    supportHours,
    patchDeadlines: levelDeadlines.describe('time to apply a security patch, per classification level'),
    testCadence: duration.describe('how often security controls are tested'),
    reviewCadence: duration.describe('how often the service is reviewed'),
    availabilityTarget,
    additionalRequirements: z.array(additionalRequirement),
  })
  .meta({ id: 'ServiceSla', description: 'The security section of the service level agreement' });

/** Any part of an SLA; left-out keys keep their current (or default) value, targets merge per key. */
export const slaChanges = z
  .strictObject({
    acknowledgeTargets: severityTargets.partial().optional(),
    triageTargets: severityTargets.partial().optional(),
    resolveTargets: severityTargets.partial().optional(),
    supportHours: supportHours.optional(),
    patchDeadlines: levelDeadlines.partial().optional(),
    testCadence: duration.optional(),
    reviewCadence: duration.optional(),
    availabilityTarget: availabilityTarget.optional(),
    additionalRequirements: additionalRequirements.optional().describe('replaces the whole list'),
  })
  .meta({ id: 'ServiceSlaChanges' });

/**
 * The SLA's durations shorter than the configured floor, as field errors under `prefix`: a 1-second
 * acknowledge target would escalate every second for as long as nobody answers. Checked in the route
 * because the floor is configuration, not part of the contract.
 */
export function slaBelowFloor(
  sla: z.infer<typeof slaChanges> | undefined,
  floor: string,
  prefix = 'body.sla',
): { path: string; message: string }[] {
  if (!sla) return [];
  const floorMs = durationMs(floor);
  const durations: [string, string | undefined][] = [
    ...(['acknowledgeTargets', 'triageTargets', 'resolveTargets', 'patchDeadlines'] as const).flatMap((group) =>
      Object.entries(sla[group] ?? {}).map(([key, value]): [string, string | undefined] => [`${group}.${key}`, value]),
    ),
    ['testCadence', sla.testCadence],
    ['reviewCadence', sla.reviewCadence],
  ];
  return durations
    .filter(([, value]) => value !== undefined && durationMs(value) < floorMs)
    .map(([path, value]) => ({ path: `${prefix}.${path}`, message: `${value} is below the minimum SLA target of ${floor}` }));
}

export const service = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string(),
    owner: z.string(),
    sla: serviceSla,
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Service' });

const baselineMeasure = z.object({ id: z.string(), title: z.string(), aspect: z.enum(securityAspects), from: level });

const requiredMeasure = z.discriminatedUnion('source', [
  baselineMeasure.extend({ source: z.literal('baseline') }),
  z.object({ source: z.literal('sla'), id: z.string(), title: z.string(), description: z.string().optional() }),
]);

export const serviceOverview = service
  .extend({
    ciCount: z.number().int().describe('active configuration items in the service'),
    requiredMeasures: z
      .array(requiredMeasure)
      .describe("the baseline its active CIs' classifications require, then its SLA's additional requirements"),
  })
  .meta({ id: 'ServiceOverview' });

export const serviceCreateRequest = z.strictObject({
  name,
  description: description.default(''),
  owner: principalId,
  sla: slaChanges.default({}),
});

export const serviceChangeRequest = z.strictObject({
  name: name.optional(),
  description: description.optional(),
  owner: principalId.optional(),
  sla: slaChanges.optional(),
});

export const serviceListQuery = z.strictObject({
  name: z.string().max(200).optional().describe('part of the name, in any case'),
  owner: principalId.optional(),
  ...pageQuery,
});

export const servicePage = page(service);

const classification = z.strictObject({ confidentiality: level, integrity: level, availability: level });
const attributes = z.record(z.string(), z.unknown()).describe('free JSON object, e.g. expected activity windows');

export const configurationItem = z
  .object({
    id: z.uuid(),
    name: z.string(),
    type: ciType,
    description: z.string(),
    serviceId: z.uuid().nullable(),
    owner: z.string(),
    classification,
    attributes,
    status: ciStatus,
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'ConfigurationItem' });

export const configurationItemDetail = configurationItem
  .extend({ baseline: z.array(baselineMeasure).describe('the baseline measures its classification requires') })
  .meta({ id: 'ConfigurationItemDetail' });

export const configurationItemCreateRequest = z.strictObject({
  name,
  type: ciType,
  description: description.default(''),
  serviceId: z.uuid().nullable().default(null),
  owner: principalId,
  classification,
  attributes: freeFormObject()
    .describe(attributes.description ?? '')
    .default({}),
});

export const configurationItemChangeRequest = z.strictObject({
  name: name.optional(),
  type: ciType.optional(),
  description: description.optional(),
  serviceId: z.uuid().nullable().optional().describe('null detaches the CI from its service'),
  owner: principalId.optional(),
  classification: classification.partial().optional().describe('aspects left out keep their level'),
  attributes: freeFormObject().optional().describe('free JSON object; replaces the whole object'),
});

export const configurationItemListQuery = z.strictObject({
  serviceId: z.uuid().optional(),
  type: ciType.optional(),
  owner: principalId.optional(),
  minLevel: level.optional().describe('at least this level on any of confidentiality, integrity and availability'),
  status: ciStatus.optional(),
  ...pageQuery,
});

export const configurationItemPage = page(configurationItem);
