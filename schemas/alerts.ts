import { z } from 'zod';
import { incidentCategories, severities, type Severity } from '../domain/classification';
import type { NormalisedAlert } from '../domain/incident';
import { page, pageQuery, timestamp } from './common';

/** Warden's own alert shape, for any SIEM that can POST JSON. */
export const genericAlert = z
  .strictObject({
    source: z.string().trim().min(1).max(200),
    rule: z.string().trim().min(1).max(500),
    severity: z.enum(severities),
    host: z.string().max(300).optional(),
    account: z.string().max(300).optional(),
    fingerprint: z.string().max(500).optional(),
    time: timestamp,
    description: z.string().max(20_000).optional(),
    category: z.enum(incidentCategories).optional(),
  })
  .meta({ id: 'GenericAlert' });

/** The fields Warden reads from a Wazuh alert (alerts.json); everything else is kept raw. */
export const wazuhAlert = z
  .looseObject({
    timestamp: z.string().min(1),
    rule: z.looseObject({ id: z.string(), level: z.number().int().min(0).max(16), description: z.string() }),
    agent: z.looseObject({ name: z.string() }),
    data: z.looseObject({ srcuser: z.string().optional(), dstuser: z.string().optional() }).optional(),
  })
  .meta({ id: 'WazuhAlert' });

export const alertBody = z.union([genericAlert, wazuhAlert]);

/** Wazuh levels 0–15 onto Warden severities, as Wazuh's own documentation groups them. */
function wazuhSeverity(level: number): Severity {
  if (level >= 12) return 'critical';
  if (level >= 8) return 'high';
  if (level >= 5) return 'medium';
  return 'low';
}

export function normaliseAlert(body: z.infer<typeof alertBody>): NormalisedAlert {
  if ('source' in body && typeof body.source === 'string') {
    const alert = body as z.infer<typeof genericAlert>;
    return {
      format: 'generic',
      source: alert.source,
      rule: alert.rule,
      severity: alert.severity,
      host: alert.host ?? null,
      account: alert.account ?? null,
      fingerprint: alert.fingerprint ?? `${alert.source}:${alert.rule}:${alert.account ?? alert.host ?? '-'}`,
      time: new Date(alert.time),
      description: alert.description ?? alert.rule,
      category: alert.category,
    };
  }
  const alert = body as z.infer<typeof wazuhAlert>;
  const account = alert.data?.dstuser ?? alert.data?.srcuser ?? null;
  return {
    format: 'wazuh',
    source: 'wazuh',
    rule: `${alert.rule.id}: ${alert.rule.description}`,
    severity: wazuhSeverity(alert.rule.level),
    host: alert.agent.name,
    account,
    fingerprint: `wazuh:${alert.rule.id}:${account ?? alert.agent.name}`,
    time: new Date(alert.timestamp),
    description: alert.rule.description,
    category: undefined,
  };
}

export const alertVerdict = z.object({
  alertId: z.string(),
  verdict: z.enum(['incident', 'attached', 'benign']),
  reason: z.string(),
  incidentId: z.string().nullable(),
});

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM');
/** `attributes.expectedActivity` of an account CI: when and where the account is expected to act. */
export const expectedActivitySchema = z.object({
  windows: z.array(z.object({ days: z.array(z.enum(['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'])).min(1), start: hhmm, end: hhmm })),
  systems: z.array(z.string()),
});

export const receivedAlertListQuery = z.strictObject({
  verdict: z.enum(['incident', 'attached', 'benign']).optional(),
  source: z.string().max(200).optional(),
  severity: z.enum(severities).optional(),
  incidentId: z.uuid().optional(),
  host: z.string().max(200).optional(),
  since: timestamp.optional().describe('observed at or after'),
  until: timestamp.optional().describe('observed before'),
  ...pageQuery,
});

export const receivedAlertSummary = z.object({
  id: z.string(),
  format: z.string(),
  source: z.string(),
  rule: z.string(),
  severity: z.string(),
  host: z.string().nullable(),
  account: z.string().nullable(),
  observedAt: z.string(),
  verdict: z.enum(['incident', 'attached', 'benign']),
  reason: z.string(),
  receivedBy: z.string(),
  receivedAt: z.string(),
  incident: z
    .object({ id: z.string(), number: z.number(), title: z.string(), status: z.string(), severity: z.string() })
    .nullable()
    .describe('the incident the alert opened or joined; null when benign'),
});
export const receivedAlertPage = page(receivedAlertSummary);
