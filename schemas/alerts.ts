import { z } from 'zod';
import { techniqueIdPattern, techniqueIdsIn } from '../domain/attack';
import { incidentCategories, severities, type Severity } from '../domain/classification';
import type { AlertFormat, NormalisedAlert } from '../domain/incident';
import { observablesOf, observableTypes, type ObservableType } from '../domain/observable';
import { page, pageQuery, timestamp } from './common';

// The SIEM formats POST /alerts reads. Each keeps what Warden needs (rule, severity, time, the
// indicators, ATT&CK techniques) and is stored raw besides; the rest of a document is never trusted.

const observableInput = z.object({ type: z.enum(observableTypes), value: z.string().trim().min(1).max(2000) });

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
    observables: z.array(observableInput).max(200).optional().describe('further indicators: ip, hash, domain, url, email, …'),
    techniques: z.array(z.string().regex(techniqueIdPattern, 'an ATT&CK technique id such as T1110 or T1110.001')).max(50).optional(),
  })
  .meta({ id: 'GenericAlert' });

/** The fields Warden reads from a Wazuh alert (alerts.json); everything else is kept raw. */
export const wazuhAlert = z
  .looseObject({
    timestamp: z.string().min(1).max(100),
    rule: z.looseObject({
      id: z.string().max(100),
      level: z.number().int().min(0).max(16),
      description: z.string().max(2000),
      mitre: z.looseObject({ id: z.array(z.string().max(100)).max(50).optional() }).optional(),
    }),
    agent: z.looseObject({ name: z.string().max(300), ip: z.string().max(100).optional() }),
    data: z.looseObject({ srcuser: z.string().max(300).optional(), dstuser: z.string().max(300).optional() }).optional(),
  })
  .meta({ id: 'WazuhAlert' });

/** Splunk's alert action "webhook": the search that fired and the first result row. */
export const splunkAlert = z
  .looseObject({
    search_name: z.string().trim().min(1).max(500),
    sid: z.string().max(500).optional(),
    results_link: z.string().max(4000).optional(),
    result: z.record(z.string().max(200), z.unknown()),
  })
  .meta({ id: 'SplunkAlertWebhook' });

/** An Elastic Security detection alert (ECS), with fields nested or dotted as Kibana sends them. */
export const elasticAlert = z.looseObject({ '@timestamp': timestamp }).meta({ id: 'ElasticSecurityAlert' });

/** A Microsoft Sentinel incident resource, as its automation rules and Logic Apps hand it over. */
export const sentinelIncident = z
  .looseObject({
    id: z.string().max(1000).optional(),
    name: z.string().max(200).optional(),
    properties: z.looseObject({
      title: z.string().trim().min(1).max(500),
      severity: z.enum(['Informational', 'Low', 'Medium', 'High']),
      description: z.string().max(20_000).optional(),
      incidentNumber: z.number().int().optional(),
      createdTimeUtc: timestamp.optional(),
      firstActivityTimeUtc: timestamp.optional(),
      additionalData: z.looseObject({ techniques: z.array(z.string().max(100)).max(100).optional() }).optional(),
      relatedEntities: z
        .array(z.looseObject({ kind: z.string().max(100), properties: z.record(z.string(), z.unknown()).optional() }))
        .max(500)
        .optional(),
    }),
  })
  .meta({ id: 'SentinelIncident' });

/** A value at a dotted ECS path, whether the document nests it, flattens it, or mixes both. */
export function fieldAt(document: unknown, path: string): unknown {
  if (typeof document !== 'object' || document === null) return undefined;
  const record = document as Record<string, unknown>;
  if (path in record) return record[path];
  const parts = path.split('.');
  for (let i = 1; i < parts.length; i += 1) {
    const head = parts.slice(0, i).join('.');
    if (head in record) {
      const found = fieldAt(record[head], parts.slice(i).join('.'));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** Strings at the paths, multi-valued fields flattened: SIEMs send one value or a list. */
function stringsAt(document: unknown, paths: readonly string[]): string[] {
  return paths.flatMap((path) => {
    const value = fieldAt(document, path);
    const values = Array.isArray(value) ? value : [value];
    return values.filter((v): v is string => typeof v === 'string' && v.length > 0 && v.length <= 2000);
  });
}

const first = (values: string[]) => values[0] ?? null;
const tagged = (type: ObservableType, values: string[]) => values.map((value) => ({ type, value }));

function formatOf(body: Record<string, unknown>): AlertFormat | undefined {
  if ('search_name' in body || 'result' in body) return 'splunk';
  if ('properties' in body) return 'sentinel';
  if ('@timestamp' in body || fieldAt(body, 'kibana.alert.rule.name') !== undefined) return 'elastic';
  if ('agent' in body || (typeof body.rule === 'object' && body.rule !== null)) return 'wazuh';
  if ('source' in body || typeof body.rule === 'string' || 'severity' in body || 'time' in body) return 'generic';
  return undefined;
}

/** Wazuh levels 0–15 onto Warden severities, as Wazuh's own documentation groups them. */
function wazuhSeverity(level: number): Severity {
  if (level >= 12) return 'critical';
  if (level >= 8) return 'high';
  if (level >= 5) return 'medium';
  return 'low';
}

/** Named severities as SIEMs spell them; a SIEM that says nothing raises nothing (`low`). */
function namedSeverity(name: string | null): Severity {
  switch (name?.toLowerCase()) {
    case 'critical':
      return 'critical';
    case 'high':
      return 'high';
    case 'medium':
      return 'medium';
    default:
      return 'low';
  }
}

/** Elastic's risk score 0–100, cut where Kibana's own severity defaults sit (21, 47, 73, 99). */
function riskScoreSeverity(score: number): Severity {
  if (score >= 99) return 'critical';
  if (score >= 73) return 'high';
  if (score >= 47) return 'medium';
  return 'low';
}

type Issue = { path: (string | number)[]; message: string };
type Parsed = { alert: NormalisedAlert } | { issues: Issue[] };

function issuesOf(error: z.ZodError): Issue[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: [...(issue.path as (string | number)[]), key], message: 'unknown field' }))
      : [{ path: issue.path as (string | number)[], message: issue.message }],
  );
}

function fromGeneric(alert: z.infer<typeof genericAlert>): NormalisedAlert {
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
    observables: observablesOf([
      { type: 'account', value: alert.account },
      { type: 'host', value: alert.host },
      ...(alert.observables ?? []),
    ]),
    techniques: alert.techniques ?? [],
  };
}

function fromWazuh(alert: z.infer<typeof wazuhAlert>): Issue[] | NormalisedAlert {
  const time = new Date(alert.timestamp);
  if (Number.isNaN(time.getTime())) return [{ path: ['timestamp'], message: 'not a date and time' }];
  const accounts = stringsAt(alert, ['data.dstuser', 'data.srcuser', 'data.win.eventdata.targetUserName']);
  const account = first(accounts);
  return {
    format: 'wazuh',
    source: 'wazuh',
    rule: `${alert.rule.id}: ${alert.rule.description}`,
    severity: wazuhSeverity(alert.rule.level),
    host: alert.agent.name,
    account,
    fingerprint: `wazuh:${alert.rule.id}:${account ?? alert.agent.name}`,
    time,
    description: alert.rule.description,
    category: undefined,
    observables: observablesOf([
      ...tagged('account', accounts),
      { type: 'host', value: alert.agent.name },
      ...tagged('ip', stringsAt(alert, ['agent.ip', 'data.srcip', 'data.dstip'])),
      ...tagged('hash', stringsAt(alert, ['syscheck.sha256_after', 'syscheck.sha1_after', 'syscheck.md5_after'])),
      ...tagged('url', stringsAt(alert, ['data.url'])),
    ]),
    techniques: techniqueIdsIn(alert.rule.mitre?.id ?? []),
  };
}

/** Splunk's `_time` is epoch seconds (as text) or ISO 8601; a webhook row without it is as of now. */
function splunkTime(value: unknown): Date | undefined {
  if (value === undefined) return new Date();
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const time = /^\d+(\.\d+)?$/.test(String(value)) ? new Date(Number(value) * 1000) : new Date(String(value));
  return Number.isNaN(time.getTime()) ? undefined : time;
}

function fromSplunk(alert: z.infer<typeof splunkAlert>): Issue[] | NormalisedAlert {
  const row = alert.result;
  const time = splunkTime(row._time);
  if (!time) return [{ path: ['result', '_time'], message: 'epoch seconds or an ISO 8601 date and time' }];
  const accounts = stringsAt(row, ['user', 'src_user', 'user_name', 'account', 'Account_Name']);
  const hosts = stringsAt(row, ['host', 'dest', 'dest_host', 'src_host', 'ComputerName']);
  const account = first(accounts);
  return {
    format: 'splunk',
    source: 'splunk',
    rule: alert.search_name,
    severity: namedSeverity(first(stringsAt(row, ['severity', 'urgency']))),
    host: first(hosts),
    account,
    fingerprint: `splunk:${alert.search_name}:${account ?? first(hosts) ?? '-'}`,
    time,
    description: [alert.search_name, alert.results_link].filter(Boolean).join('\n'),
    category: undefined,
    observables: observablesOf([
      ...tagged('account', accounts),
      ...tagged('host', hosts),
      ...tagged('ip', stringsAt(row, ['src_ip', 'src', 'dest_ip', 'ip', 'clientip'])),
      ...tagged('hash', stringsAt(row, ['file_hash', 'sha256', 'sha1', 'md5'])),
      ...tagged('url', stringsAt(row, ['url'])),
      ...tagged('domain', stringsAt(row, ['domain', 'dest_domain', 'query'])),
      ...tagged('email', stringsAt(row, ['sender', 'recipient', 'src_user_email'])),
    ]),
    techniques: techniqueIdsIn([
      ...stringsAt(row, ['mitre_technique_id', 'annotations.mitre_attack', 'annotations.mitre_attack.mitre_technique_id']),
    ]),
  };
}

function fromElastic(alert: z.infer<typeof elasticAlert>): Issue[] | NormalisedAlert {
  const rule = first(stringsAt(alert, ['kibana.alert.rule.name', 'rule.name']));
  if (!rule) return [{ path: ['kibana.alert.rule.name'], message: 'required: the detection rule that raised the alert' }];
  const accounts = stringsAt(alert, ['user.name', 'user.target.name', 'source.user.name']);
  const hosts = stringsAt(alert, ['host.name', 'host.hostname']);
  const account = first(accounts);
  const named = first(stringsAt(alert, ['kibana.alert.severity']));
  const risk = fieldAt(alert, 'kibana.alert.risk_score');
  const severity = named ? namedSeverity(named) : typeof risk === 'number' ? riskScoreSeverity(risk) : 'low';
  const threats = fieldAt(alert, 'threat');
  const threatList = Array.isArray(threats) ? threats : threats === undefined ? [] : [threats];
  const techniques = threatList.flatMap((threat) => {
    const list = fieldAt(threat, 'technique');
    return (Array.isArray(list) ? list : [list]).flatMap((technique) => [
      ...stringsAt(technique, ['id']),
      ...[fieldAt(technique, 'subtechnique')].flat().flatMap((sub) => stringsAt(sub, ['id'])),
    ]);
  });
  const ruleId = first(stringsAt(alert, ['kibana.alert.rule.uuid', 'kibana.alert.rule.rule_id', 'rule.id'])) ?? rule;
  return {
    format: 'elastic',
    source: 'elastic',
    rule,
    severity,
    host: first(hosts),
    account,
    fingerprint: `elastic:${ruleId}:${account ?? first(hosts) ?? '-'}`,
    time: new Date(alert['@timestamp']),
    description: first(stringsAt(alert, ['kibana.alert.reason', 'kibana.alert.rule.description', 'message'])) ?? rule,
    category: undefined,
    observables: observablesOf([
      ...tagged('account', accounts),
      ...tagged('host', hosts),
      ...tagged('ip', stringsAt(alert, ['host.ip', 'source.ip', 'destination.ip', 'client.ip'])),
      ...tagged('hash', stringsAt(alert, ['file.hash.sha256', 'file.hash.sha1', 'file.hash.md5', 'process.hash.sha256'])),
      ...tagged('url', stringsAt(alert, ['url.full', 'url.original'])),
      ...tagged('domain', stringsAt(alert, ['url.domain', 'dns.question.name', 'destination.domain'])),
      ...tagged('email', stringsAt(alert, ['email.from.address', 'email.to.address'])),
    ]),
    techniques: techniqueIdsIn(techniques),
  };
}

/** Sentinel's entity kinds and the property each keeps its indicator in. */
const sentinelEntities: Record<string, [ObservableType, string][]> = {
  Account: [['account', 'accountName']],
  Host: [['host', 'hostName']],
  Ip: [['ip', 'address']],
  FileHash: [['hash', 'hashValue']],
  Url: [['url', 'url']],
  DnsResolution: [['domain', 'domainName']],
  Mailbox: [['email', 'mailboxPrimaryAddress']],
  MailMessage: [
    ['email', 'sender'],
    ['email', 'recipient'],
  ],
};

function fromSentinel(incident: z.infer<typeof sentinelIncident>): Issue[] | NormalisedAlert {
  const { properties } = incident;
  const when = properties.firstActivityTimeUtc ?? properties.createdTimeUtc;
  if (!when) return [{ path: ['properties', 'firstActivityTimeUtc'], message: 'required (or properties.createdTimeUtc)' }];
  const entities = (properties.relatedEntities ?? []).flatMap((entity) =>
    (sentinelEntities[entity.kind] ?? []).map(([type, key]) => ({ type, value: fieldAt(entity.properties, key) as string | undefined })),
  );
  const observables = observablesOf(entities);
  const account = observables.find((o) => o.type === 'account')?.value ?? null;
  const host = observables.find((o) => o.type === 'host')?.value ?? null;
  return {
    format: 'sentinel',
    source: 'sentinel',
    rule: properties.title,
    severity: namedSeverity(properties.severity),
    host,
    account,
    fingerprint: `sentinel:${incident.name ?? incident.id ?? properties.incidentNumber ?? properties.title}`,
    time: new Date(when),
    description: properties.description ?? properties.title,
    category: undefined,
    observables,
    techniques: techniqueIdsIn(properties.additionalData?.techniques ?? []),
  };
}

const shapes = {
  generic: { schema: genericAlert, normalise: fromGeneric },
  wazuh: { schema: wazuhAlert, normalise: fromWazuh },
  splunk: { schema: splunkAlert, normalise: fromSplunk },
  elastic: { schema: elasticAlert, normalise: fromElastic },
  sentinel: { schema: sentinelIncident, normalise: fromSentinel },
} as const;

export const unknownAlertShape =
  "unknown alert shape: send Warden's generic alert (source, rule, severity, time), a Wazuh alert (timestamp, rule, agent), " +
  'a Splunk webhook (search_name, result), an Elastic Security alert (@timestamp, kibana.alert.rule.name) ' +
  'or a Microsoft Sentinel incident (properties.title, properties.severity)';

/** Reads an alert in any supported format, or says which fields are missing or wrong. */
export function parseAlert(body: Record<string, unknown>): Parsed {
  const format = formatOf(body);
  if (!format) return { issues: [{ path: [], message: unknownAlertShape }] };
  const { schema, normalise } = shapes[format];
  const parsed = schema.safeParse(body);
  if (!parsed.success) return { issues: issuesOf(parsed.error) };
  const result = (normalise as (input: unknown) => Issue[] | NormalisedAlert)(parsed.data);
  return Array.isArray(result) ? { issues: result } : { alert: result };
}

/**
 * POST /alerts's body: any of the formats above, each validated by its own schema. Validation reads
 * the alert, so the route gets it read (`alert`) with the document as received (`raw`) rather than
 * reading it a second time.
 */
export const alertBody = z
  .looseObject({})
  .meta({
    id: 'AlertIntake',
    description: `One SIEM alert: ${unknownAlertShape.replace(/^unknown alert shape: send /, '')}. The format is told by its fields.`,
    examples: [
      {
        source: 'elastic',
        rule: 'Authentication failure',
        severity: 'high',
        host: 'hr-db',
        account: 'svc-payroll',
        time: '2026-11-21T02:00:00Z',
        observables: [{ type: 'ip', value: '203.0.113.9' }],
        techniques: ['T1110'],
      },
    ],
  })
  .transform((body, ctx) => {
    const parsed = parseAlert(body);
    if ('alert' in parsed) return { raw: body, alert: parsed.alert };
    for (const issue of parsed.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    return z.NEVER;
  });

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
