import { z } from 'zod';
import {
  accountFlags,
  accountKinds,
  employmentStatuses,
  privilegeLevels,
  reviewActions,
  type AccountFlag,
  type Entitlement,
} from '../domain/access-review';
import { CsvSyntaxError, parseCsv } from './csv';
import { duration, page, pageQuery, timestamp } from './common';

export const entitlement = z.strictObject({
  name: z.string().trim().min(1).max(200),
  privilege: z.enum(privilegeLevels).default('standard'),
});

/** CSV cells write entitlements as `admin:privileged;reader` (privilege defaults to standard). */
const entitlementText = z.string().transform((text, ctx): Entitlement[] => {
  const entries = text
    .split(';')
    .map((part) => part.trim())
    .filter(Boolean);
  return entries.map((entry) => {
    const [name = '', privilege = 'standard'] = entry.split(':').map((s) => s.trim());
    if (!name || !(privilegeLevels as readonly string[]).includes(privilege)) {
      ctx.addIssue({ code: 'custom', message: `"${entry}" is not name[:standard|privileged]` });
    }
    return { name, privilege: privilege as Entitlement['privilege'] };
  });
});

const optionalText = z
  .string()
  .trim()
  .max(200)
  .nullish()
  .transform((value) => value || null);

export const accountRow = z.strictObject({
  accountId: z.string().trim().min(1).max(200),
  kind: z.enum(accountKinds),
  owner: optionalText.describe('the owning principal; empty for an ownerless account'),
  entitlements: z.union([z.array(entitlement).max(500), entitlementText]),
  lastUsedAt: z
    .union([timestamp, z.literal(''), z.null()])
    .optional()
    .transform((value) => value || null),
});
export type AccountRow = z.output<typeof accountRow>;

export const personRow = z.strictObject({
  principalId: z.string().trim().min(1).max(200),
  displayName: optionalText,
  status: z.enum(['active', 'leaver']),
  manager: optionalText,
});
export type PersonRow = z.output<typeof personRow>;

/** Either format, in one JSON body; a `text/csv` body arrives here as `{ csv }`. */
export const importBody = (listKey: string, example: string) =>
  z.union([
    z.strictObject({ csv: z.string().max(5_000_000).describe(`RFC 4180 CSV with a header row: ${example}`) }),
    z.strictObject({ [listKey]: z.array(z.unknown()).max(100_000) }),
  ]);

export interface ImportFormat<T> {
  row: z.ZodType<T>;
  /** The JSON list's field name (`accounts`, `people`). */
  listKey: string;
  /** CSV header → row field. */
  csvColumns: Record<string, string>;
}

export const accountImport: ImportFormat<AccountRow> = {
  row: accountRow,
  listKey: 'accounts',
  csvColumns: { account_id: 'accountId', kind: 'kind', owner: 'owner', entitlements: 'entitlements', last_used_at: 'lastUsedAt' },
};

export const peopleImport: ImportFormat<PersonRow> = {
  row: personRow,
  listKey: 'people',
  csvColumns: { principal_id: 'principalId', display_name: 'displayName', status: 'status', manager: 'manager' },
};

export interface ImportError {
  path: string;
  message: string;
}

/**
 * All-or-nothing: either every row is valid and comes back typed, or every problem comes back, each
 * naming its row (`accounts.2.kind` for JSON, `csv.row.3.kind` for the third CSV data row).
 */
export function parseImport<T>(
  format: ImportFormat<T>,
  body: Record<string, unknown>,
  uniqueBy: (row: T) => string,
): { rows: T[] } | { errors: ImportError[] } {
  const errors: ImportError[] = [];
  let records: { path: string; value: unknown }[];
  if (typeof body.csv === 'string') {
    let table: string[][];
    try {
      table = parseCsv(body.csv);
    } catch (error) {
      if (error instanceof CsvSyntaxError) return { errors: [{ path: `csv.line.${error.line}`, message: error.message }] };
      throw error;
    }
    const [header = [], ...data] = table;
    const columns = header.map((name) => format.csvColumns[name.trim()]);
    const unknownColumns = header.filter((_name, i) => columns[i] === undefined);
    if (unknownColumns.length || header.length === 0) {
      return {
        errors: [
          {
            path: 'csv.header',
            message: `columns must be from: ${Object.keys(format.csvColumns).join(', ')}; unknown: ${unknownColumns.join(', ') || '(empty header)'}`,
          },
        ],
      };
    }
    records = data.map((cells, i) => {
      if (cells.length !== header.length)
        errors.push({ path: `csv.row.${i + 1}`, message: `has ${cells.length} fields, the header ${header.length}` });
      return { path: `csv.row.${i + 1}`, value: Object.fromEntries(columns.map((field, c) => [field, cells[c] ?? ''])) };
    });
  } else {
    records = ((body[format.listKey] as unknown[]) ?? []).map((value, i) => ({ path: `${format.listKey}.${i}`, value }));
  }
  const rows: T[] = [];
  const firstSeen = new Map<string, string>();
  for (const record of records) {
    const parsed = format.row.safeParse(record.value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        errors.push({ path: [record.path, ...issue.path.map(String)].join('.'), message: issue.message });
      continue;
    }
    const key = uniqueBy(parsed.data);
    const earlier = firstSeen.get(key);
    if (earlier) errors.push({ path: record.path, message: `${key} is already listed at ${earlier}` });
    else firstSeen.set(key, record.path);
    rows.push(parsed.data);
  }
  return errors.length ? { errors } : { rows };
}

export const importResult = z.object({
  imported: z.number(),
  removed: z.number().describe('accounts the previous import listed and this one does not'),
  revocationsVerified: z.array(z.string()).describe('revoked accounts this import no longer lists'),
  revocationsNotApplied: z.array(z.string()).describe('revoked accounts still listed: flagged revocation_not_applied'),
});

export const systemAccount = z
  .object({
    accountId: z.string(),
    kind: z.enum(accountKinds),
    owner: z.string().nullable(),
    employmentStatus: z.enum(employmentStatuses),
    entitlements: z.array(z.object({ name: z.string(), privilege: z.enum(privilegeLevels) })),
    lastUsedAt: z.string().nullable(),
    revocationNotApplied: z.boolean(),
    importedAt: z.string(),
  })
  .meta({ id: 'SystemAccount' });

const untilOrFor = {
  until: timestamp.optional().describe('access ends at this time; the workflow revokes it'),
  for: duration.optional().describe('access ends this long after it is provisioned, e.g. 8h, 5s'),
};

export const accessRequestBody = z
  .strictObject({
    system: z.uuid().describe('the configuration item (system) the access is on'),
    account: z.string().trim().min(1).max(200).optional().describe('the account to grant on; defaults to the beneficiary'),
    beneficiary: z.string().trim().min(1).max(200).optional().describe('who gets the access; defaults to the requester'),
    entitlements: z.array(entitlement).min(1).max(50),
    justification: z.string().trim().min(1).max(5000),
    ...untilOrFor,
    sodException: z
      .strictObject({
        reason: z.string().trim().min(1).max(2000),
        expiresAt: z.iso.datetime({ offset: true }).describe('the exception, and the access held under it, ends then'),
      })
      .optional()
      .describe(
        'the request would create a separation-of-duties conflict: ask the Security Manager for an exception instead of being refused',
      ),
  })
  .refine((body) => !(body.until && body.for), { message: 'give until or for, not both', path: ['for'] });

export const accessRequestView = z
  .object({
    id: z.string(),
    workflowId: z.string(),
    system: z.string(),
    account: z.string(),
    beneficiary: z.string(),
    requester: z.string(),
    entitlements: z.array(z.object({ name: z.string(), privilege: z.enum(privilegeLevels) })),
    privileged: z.boolean(),
    justification: z.string(),
    status: z.string(),
    approvedBy: z.array(z.string()),
    requestedUntil: z.string().nullable(),
    requestedFor: z.string().nullable(),
    expiresAt: z.string().nullable(),
    createdAt: z.string(),
    decidedAt: z.string().nullable(),
    provisionedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: 'AccessRequest' });

export const provisioningActionView = z.object({
  id: z.string(),
  system: z.string(),
  account: z.string(),
  operation: z.enum(['grant', 'revoke', 'reduce']),
  entitlements: z.array(z.string()),
  method: z.enum(['webhook', 'manual']),
  status: z.string(),
  detail: z.string(),
  approvedBy: z.array(z.string()),
  taskId: z.string().nullable(),
  createdAt: z.string(),
  completedAt: z.string().nullable(),
});

export const accessRequestListQuery = z.strictObject({
  status: z.string().max(50).optional(),
  system: z.uuid().optional(),
  ...pageQuery,
});
export const accessRequestPage = page(accessRequestView);

export const reviewScope = z.union([z.strictObject({ ciIds: z.array(z.uuid()).min(1).max(500) }), z.strictObject({ serviceId: z.uuid() })]);

const campaignOptions = {
  deadline: duration.optional().describe('how long reviewers have; default 14d'),
  escalationPeriod: duration
    .optional()
    .describe('after the deadline, how long the Security Manager has before the campaign closes unanswered; default 7d'),
  unusedAfterDays: z.number().int().min(1).max(3650).optional().describe(`accounts unused this long are flagged; default 90`),
};

export const campaignBody = z.union([
  z.strictObject({ ciIds: z.array(z.uuid()).min(1).max(500), ...campaignOptions }),
  z.strictObject({ serviceId: z.uuid(), ...campaignOptions }),
]);

export const scheduleBody = z.strictObject({
  scope: reviewScope,
  every: duration.optional().describe('the cadence; default the service SLA’s reviewCadence (the strictest over the scope)'),
  ...campaignOptions,
});

export const scheduleView = z.object({ scheduleId: z.string(), every: z.string(), scope: reviewScope, nextRunAt: z.string().nullable() });

export const campaignAccepted = z.object({ id: z.string(), workflowId: z.string() });

export const campaignSummary = z
  .object({
    id: z.string(),
    workflowId: z.string(),
    scope: reviewScope,
    systems: z.array(z.string()),
    startedBy: z.string(),
    status: z.enum(['open', 'completed', 'unanswered']),
    deadlineAt: z.string(),
    completedAt: z.string().nullable(),
    completedOnTime: z.boolean().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'AccessReviewCampaign' });

export const campaignDetail = campaignSummary
  .extend({
    progress: z.object({
      accounts: z.number(),
      decided: z.number(),
      flagged: z.number(),
      reviewers: z.number(),
      reviewersDone: z.number(),
    }),
    // An object with a property per flag rather than z.record(z.enum(…)): a record's JSON Schema
    // requires the keys without defining them, which clients generated from the document reject.
    findings: z
      .object(Object.fromEntries(accountFlags.map((flag) => [flag, z.number()])) as Record<AccountFlag, z.ZodNumber>)
      .describe('accounts per flag'),
    items: z.array(
      z.object({
        system: z.string(),
        account: z.string(),
        reviewer: z.string(),
        accountOwner: z.string().nullable(),
        kind: z.enum(accountKinds),
        employmentStatus: z.enum(employmentStatuses),
        entitlements: z.array(z.object({ name: z.string(), privilege: z.enum(privilegeLevels) })),
        flags: z.array(z.enum(accountFlags)),
        sodConflicts: z.array(z.object({ ruleId: z.string(), ruleName: z.string() })).describe('the rules behind a sod_conflict flag'),
        decision: z.enum(reviewActions).nullable(),
        keptEntitlements: z.array(z.string()).nullable(),
        decidedBy: z.string().nullable(),
        decidedAt: z.string().nullable(),
      }),
    ),
    provisioning: z.array(provisioningActionView),
  })
  .meta({ id: 'AccessReviewCampaignDetail' });

export const campaignPage = page(campaignSummary);

export const kpiPeriodQuery = z
  .strictObject({ from: timestamp, to: timestamp })
  .refine((q) => Date.parse(q.from) < Date.parse(q.to), { message: 'from must be before to', path: ['to'] });

export const accessReviewKpi = z
  .object({
    from: z.string(),
    to: z.string(),
    due: z.number().describe('campaigns whose deadline falls in the period'),
    completedOnTime: z.number(),
    percentage: z.number().nullable().describe('completed on time / due × 100, one decimal; null when none was due'),
  })
  .meta({ id: 'AccessReviewKpi' });
