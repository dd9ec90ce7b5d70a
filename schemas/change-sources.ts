import { z } from 'zod';
import type { ChangeRequestBody } from './changes';

/**
 * Change requests as ITSM tools send them: a ServiceNow outbound REST message and a Jira Service
 * Management issue webhook. Their payloads carry fields Warden does not use, so these schemas
 * strip unknown fields instead of refusing them; what Warden needs is mapped to its own request
 * (docs/change-gate.md has the field tables). CIs may be named by Warden id or by CI name.
 */
export interface ItsmChange {
  source: 'servicenow' | 'jira';
  externalRef: { system: 'servicenow' | 'jira'; id: string; key: string };
  /** Who raised the change in the ITSM tool; they may not review it either. */
  externalRequester: string | null;
  /** The tool's own id: a resent message never creates a second change. */
  naturalKey: string;
  ciRefs: string[];
  fields: Omit<ChangeRequestBody, 'affectedCis' | 'callbackUrl'> & { sourceFields: Record<string, string> };
}

// ServiceNow renders booleans as "true"/"false" and date-times as "YYYY-MM-DD HH:mm:ss" in UTC.
const flag = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', ''])])
  .optional()
  .transform((value) => value === true || value === 'true' || value === '1');
const dateTime = z
  .string()
  .trim()
  .transform((value, ctx) => {
    const iso = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(value)
      ? `${value.replace(' ', 'T')}Z`
      : value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
    if (!z.iso.datetime({ offset: true }).safeParse(iso).success) {
      ctx.addIssue({ code: 'custom', message: 'must be a date-time such as 2026-12-01 22:00:00 (UTC) or ISO 8601 with an offset' });
      return z.NEVER;
    }
    return iso;
  });
const refList = z
  .union([
    z.string(),
    z.array(z.union([z.string(), z.object({ name: z.string().optional(), value: z.string().optional(), label: z.string().optional() })])),
  ])
  .optional()
  .transform((value) =>
    (typeof value === 'string'
      ? value.split(',')
      : (value ?? []).map((item) => (typeof item === 'string' ? item : (item.name ?? item.value ?? item.label ?? '')))
    )
      .map((ref) => ref.trim())
      .filter(Boolean),
  );
const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .nullish()
    .transform((value) => value || undefined);

export const serviceNowChange = z.object({
  sys_id: z.string().trim().min(1).max(64),
  number: z.string().trim().min(1).max(40),
  short_description: z.string().trim().min(1).max(200),
  description: z.string().max(20_000).default(''),
  cmdb_ci: refList.describe('Warden CI ids or names, an array or a comma-separated string'),
  start_date: dateTime,
  end_date: dateTime,
  backout_plan: z.string().trim().min(1).max(20_000),
  requested_by: optionalText(200),
  u_security_access_controls: flag,
  u_security_network_configuration: flag,
  u_security_data_handling: flag,
  u_security_other: optionalText(2000),
  problem_id: optionalText(100),
  u_known_error: optionalText(100),
  category: optionalText(200),
  // Read by the content rules (never trusted as declarations): what the requester wrote about the change.
  type: optionalText(100),
  justification: optionalText(20_000),
  implementation_plan: optionalText(20_000),
  risk_impact_analysis: optionalText(20_000),
  test_plan: optionalText(20_000),
});

/** The ServiceNow fields the content rules read beside title, description and category. */
const serviceNowRuleFields = ['type', 'justification', 'implementation_plan', 'risk_impact_analysis', 'test_plan'] as const;

/** The non-empty text fields among `names`, keyed `<system>.<name>`. */
const presentFields = (system: string, values: Record<string, string | undefined>) =>
  Object.fromEntries(Object.entries(values).flatMap(([name, value]) => (value ? [[`${system}.${name}`, value]] : [])));

export function fromServiceNow(message: z.infer<typeof serviceNowChange>): ItsmChange {
  return {
    source: 'servicenow',
    externalRef: { system: 'servicenow', id: message.sys_id, key: message.number },
    externalRequester: message.requested_by ?? null,
    naturalKey: `servicenow:${message.sys_id}`,
    ciRefs: message.cmdb_ci,
    fields: {
      title: message.short_description,
      description: message.description,
      securityImpact: {
        accessControls: message.u_security_access_controls,
        networkConfiguration: message.u_security_network_configuration,
        dataHandling: message.u_security_data_handling,
        ...(message.u_security_other ? { other: message.u_security_other } : {}),
      },
      plannedStart: message.start_date,
      plannedEnd: message.end_date,
      rollbackPlan: message.backout_plan,
      ...(message.problem_id ? { problemId: message.problem_id } : {}),
      ...(message.u_known_error ? { knownErrorId: message.u_known_error } : {}),
      ...(message.category ? { category: message.category } : {}),
      sourceFields: presentFields('servicenow', Object.fromEntries(serviceNowRuleFields.map((name) => [name, message[name]]))),
    },
  };
}

/** Jira custom fields differ per site: which one holds what is configured (WARDEN_JIRA_FIELDS). */
export interface JiraFieldMap {
  plannedStart: string;
  plannedEnd: string;
  backoutPlan: string;
  affectedCis: string;
  problem: string;
}

export const defaultJiraFields: JiraFieldMap = {
  plannedStart: 'customfield_10050',
  plannedEnd: 'customfield_10051',
  backoutPlan: 'customfield_10052',
  affectedCis: 'customfield_10053',
  problem: 'customfield_10054',
};

export function parseJiraFieldMap(setting: string | undefined): JiraFieldMap {
  const overrides = Object.fromEntries(
    (setting ?? '').split(',').flatMap((pair) => {
      const [name, id] = pair.split('=').map((part) => part.trim());
      return name && id ? [[name, id]] : [];
    }),
  );
  return { ...defaultJiraFields, ...overrides };
}

/** Labels that declare the security impact of a Jira change request. */
export const jiraImpactLabels = {
  accessControls: 'security-access-controls',
  networkConfiguration: 'security-network-configuration',
  dataHandling: 'security-data-handling',
  other: 'security-other',
} as const;

// Jira Cloud sends rich text as an Atlassian Document; Warden keeps its text.
type AdfNode = { text?: string; content?: AdfNode[] };
const adfText = (node: AdfNode): string => (node.text ?? '') + (node.content ?? []).map(adfText).join(node.content?.length ? '\n' : '');
const richText = z
  // Null on each branch rather than on the union: OpenAPI 3.0 allows `nullable` only beside a `type`.
  .union([
    z.string().nullable(),
    z
      .object({ content: z.array(z.unknown()).optional() })
      .loose()
      .nullable(),
  ])
  .optional()
  .transform((value) => (typeof value === 'string' ? value : value ? adfText(value as AdfNode).trim() : ''));

export const jiraChangeWebhook = z.object({
  webhookEvent: z.string().max(100).optional(),
  issue: z.object({
    id: z.string().trim().min(1).max(64),
    key: z.string().trim().min(1).max(64),
    fields: z
      .object({
        summary: z.string().trim().min(1).max(200),
        description: richText,
        labels: z.array(z.string()).default([]),
        reporter: z
          .object({ accountId: z.string().optional(), emailAddress: z.string().optional(), name: z.string().optional() })
          .nullish(),
        // Read by the content rules: what kind of change it is and what it touches, in Jira's words.
        issuetype: z.object({ name: z.string().max(200).optional() }).nullish(),
        components: z
          .array(z.object({ name: z.string().max(200).optional() }))
          .max(100)
          .nullish(),
      })
      .catchall(z.unknown()),
  }),
});

export function jiraChangeSchema(fields: JiraFieldMap) {
  const custom = z.object({
    [fields.plannedStart]: dateTime,
    [fields.plannedEnd]: dateTime,
    [fields.backoutPlan]: richText.pipe(z.string().trim().min(1, 'the backout plan is required').max(20_000)),
    [fields.affectedCis]: refList,
    [fields.problem]: z
      .union([z.string(), z.object({ value: z.string() })])
      .nullish()
      .transform((value) => (typeof value === 'string' ? value : value?.value) || undefined),
  });
  return jiraChangeWebhook.transform((hook, ctx): ItsmChange => {
    const parsed = custom.safeParse(hook.issue.fields);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: ['issue', 'fields', ...issue.path] } as never);
      return z.NEVER;
    }
    const values = parsed.data as Record<string, unknown>;
    const { labels, reporter, summary, description, issuetype, components } = hook.issue.fields;
    const problem = values[fields.problem] as string | undefined;
    return {
      source: 'jira',
      externalRef: { system: 'jira', id: hook.issue.id, key: hook.issue.key },
      externalRequester: reporter?.emailAddress ?? reporter?.name ?? reporter?.accountId ?? null,
      naturalKey: `jira:${hook.issue.id}`,
      ciRefs: values[fields.affectedCis] as string[],
      fields: {
        title: summary,
        description,
        securityImpact: {
          accessControls: labels.includes(jiraImpactLabels.accessControls),
          networkConfiguration: labels.includes(jiraImpactLabels.networkConfiguration),
          dataHandling: labels.includes(jiraImpactLabels.dataHandling),
          ...(labels.includes(jiraImpactLabels.other) ? { other: `labelled ${jiraImpactLabels.other} in ${hook.issue.key}` } : {}),
        },
        plannedStart: values[fields.plannedStart] as string,
        plannedEnd: values[fields.plannedEnd] as string,
        rollbackPlan: values[fields.backoutPlan] as string,
        ...(problem ? { problemId: problem } : {}),
        ...(issuetype?.name ? { category: issuetype.name } : {}),
        sourceFields: presentFields('jira', {
          components: (components ?? []).flatMap((component) => (component.name ? [component.name] : [])).join(', '),
          labels: labels.join(', '),
        }),
      },
    };
  });
}
