import { z } from 'zod';
import { observableTypes } from '../domain/observable';

export const observableQuery = z.strictObject({
  type: z.enum(observableTypes),
  value: z.string().trim().min(1).max(2000),
});

export const iocBody = z
  .strictObject({
    type: z.enum(observableTypes),
    value: z.string().trim().min(1).max(2000),
    reason: z.string().trim().min(1).max(2000),
  })
  .meta({ examples: [{ type: 'ip', value: '203.0.113.9', reason: 'C2 address from the CERT advisory of 2026-11-20' }] });

const iocView = z.object({ reason: z.string(), markedBy: z.string(), markedAt: z.string() });

export const observableSightings = z
  .object({
    type: z.enum(observableTypes),
    value: z.string().describe('the canonical form the lookup used'),
    ioc: iocView.nullable(),
    alerts: z.array(
      z.object({
        id: z.string(),
        source: z.string(),
        rule: z.string(),
        verdict: z.string(),
        incidentId: z.string().nullable(),
        observedAt: z.string(),
      }),
    ),
    incidents: z.array(
      z.object({
        id: z.string(),
        number: z.number(),
        title: z.string(),
        status: z.string(),
        severity: z.string(),
        origin: z.string(),
        firstSeenAt: z.string(),
        lastSeenAt: z.string(),
      }),
    ),
  })
  .meta({ id: 'ObservableSightings' });

export const iocMarked = z.object({
  type: z.enum(observableTypes),
  value: z.string(),
  marked: z.boolean().describe('false when it was an IOC already'),
});
