import { sql, type Kysely, type Transaction } from 'kysely';
import type {
  AccessRequestInput,
  AccessRequestStatusChange,
  CampaignScope,
  OpenedCampaign,
  ProvisioningOperation,
  ProvisioningOutcome,
  ProvisioningRequest,
  ReviewerList,
} from '../domain/access';
import {
  completedOnTime,
  employmentStatus,
  flagAccount,
  onTimePercentage,
  oversees,
  type Entitlement,
  type ImportedAccount,
  type ImportedPerson,
  type ReviewDecision,
} from '../domain/access-review';
import type { DurationText } from '../domain/duration';
import { systemActor, type Actor } from '../domain/roles';
import { completeSla, type ServiceSla } from '../domain/sla';
import { activeExceptionRules, allHoldings, listSodRules, toSodRule } from './sod';
import { sodConflicts } from '../domain/sod';
import { appendAudit, auditedTransaction, auditedWrite } from './audit';
import { json } from './create-db';
import { newestFirstPage } from './pagination';
import type { Database } from './database';

export async function findSystem(db: Kysely<Database>, ciId: string) {
  return db
    .selectFrom('configuration_items')
    .select(['id', 'name', 'owner', 'service_id', 'attributes'])
    .where('id', '=', ciId)
    .executeTakeFirst();
}

export async function listSystemAccounts(db: Kysely<Database>, ciId: string) {
  return db
    .selectFrom('system_accounts as a')
    .leftJoin('people as p', 'p.principal_id', 'a.owner')
    .selectAll('a')
    .select('p.status as person_status')
    .where('a.ci_id', '=', ciId)
    .orderBy('a.account_id')
    .execute();
}

export interface AccountImportResult {
  imported: number;
  removed: number;
  revocationsVerified: string[];
  revocationsNotApplied: string[];
}

/**
 * Replaces a system's account list in one transaction. An account whose revocation was recorded
 * is checked here: gone from the import means the system applied it; still listed means it did not,
 * and the account is flagged `revocation_not_applied` until an import no longer lists it.
 */
export async function importSystemAccounts(
  db: Kysely<Database>,
  input: { ciId: string; rows: ImportedAccount[]; actor: string },
): Promise<AccountImportResult> {
  return auditedTransaction(db, async (trx) => {
    // One import per system at a time, so two uploads cannot interleave their replace.
    await sql`select pg_advisory_xact_lock(hashtext(${`system-accounts:${input.ciId}`}))`.execute(trx);
    const previous = await trx
      .selectFrom('system_accounts')
      .select(['account_id', 'revocation_requested_at'])
      .where('ci_id', '=', input.ciId)
      .execute();
    const listed = new Set(input.rows.map((row) => row.accountId));
    const pending = new Set(previous.filter((p) => p.revocation_requested_at !== null).map((p) => p.account_id));
    const removed = previous.filter((p) => !listed.has(p.account_id)).map((p) => p.account_id);
    const now = new Date();
    if (removed.length)
      await trx.deleteFrom('system_accounts').where('ci_id', '=', input.ciId).where('account_id', 'in', removed).execute();
    if (input.rows.length) {
      await trx
        .insertInto('system_accounts')
        .values(
          input.rows.map((row) => ({
            ci_id: input.ciId,
            account_id: row.accountId,
            kind: row.kind,
            owner: row.owner,
            entitlements: json(row.entitlements),
            last_used_at: row.lastUsedAt,
            imported_at: now,
          })),
        )
        .onConflict((oc) =>
          oc.columns(['ci_id', 'account_id']).doUpdateSet((eb) => ({
            kind: eb.ref('excluded.kind'),
            owner: eb.ref('excluded.owner'),
            entitlements: eb.ref('excluded.entitlements'),
            last_used_at: eb.ref('excluded.last_used_at'),
            imported_at: eb.ref('excluded.imported_at'),
            revocation_not_applied: sql<boolean>`system_accounts.revocation_requested_at is not null`,
          })),
        )
        .execute();
    }
    const result: AccountImportResult = {
      imported: input.rows.length,
      removed: removed.length,
      revocationsVerified: removed.filter((id) => pending.has(id)),
      revocationsNotApplied: input.rows.map((r) => r.accountId).filter((id) => pending.has(id)),
    };
    await appendAudit(trx, {
      actor: input.actor,
      action: 'system.accounts_imported',
      subjectType: 'configuration_item',
      subjectId: input.ciId,
      details: { ...result },
    });
    return result;
  });
}

/** The people list is the whole truth: people no longer on it become `unknown` owners. */
export async function importPeople(db: Kysely<Database>, input: { rows: ImportedPerson[]; actor: string }) {
  return auditedTransaction(db, async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext('people-import'))`.execute(trx);
    const removed = await trx
      .deleteFrom('people')
      .where('principal_id', 'not in', ['', ...input.rows.map((r) => r.principalId)])
      .executeTakeFirst();
    if (input.rows.length) {
      await trx
        .insertInto('people')
        .values(
          input.rows.map((r) => ({
            principal_id: r.principalId,
            display_name: r.displayName ?? r.principalId,
            status: r.status,
            manager: r.manager,
            imported_at: new Date(),
          })),
        )
        .onConflict((oc) =>
          oc.column('principal_id').doUpdateSet((eb) => ({
            display_name: eb.ref('excluded.display_name'),
            status: eb.ref('excluded.status'),
            manager: eb.ref('excluded.manager'),
            imported_at: eb.ref('excluded.imported_at'),
          })),
        )
        .execute();
    }
    const counts = {
      imported: input.rows.length,
      leavers: input.rows.filter((r) => r.status === 'leaver').length,
      removed: Number(removed.numDeletedRows),
    };
    await appendAudit(trx, { actor: input.actor, action: 'people.imported', subjectType: 'people', subjectId: 'people', details: counts });
    return counts;
  });
}

/** Access requests: oversight sees all; others their own requests, their access and their systems'. */
function accessRequestVisibleTo(actor: Actor) {
  if (oversees(actor)) return sql<boolean>`true`;
  return sql<boolean>`(access_requests.requester = ${actor.principalId} or access_requests.beneficiary = ${actor.principalId} or exists (
    select 1 from configuration_items ci where ci.id = access_requests.ci_id and ci.owner = ${actor.principalId}))`;
}

export async function listAccessRequests(
  db: Kysely<Database>,
  actor: Actor,
  filter: { status?: string; system?: string; limit: number; after?: { createdAt: string; id: string } },
) {
  let query = db.selectFrom('access_requests').selectAll().where(accessRequestVisibleTo(actor));
  if (filter.status) query = query.where('status', '=', filter.status as never);
  if (filter.system) query = query.where('ci_id', '=', filter.system);
  return newestFirstPage(query, filter).execute();
}

export async function findVisibleAccessRequest(db: Kysely<Database>, actor: Actor, id: string) {
  return db.selectFrom('access_requests').selectAll().where('id', '=', id).where(accessRequestVisibleTo(actor)).executeTakeFirst();
}

export async function provisioningActionsFor(db: Kysely<Database>, subject: { type: string; id: string }) {
  return db
    .selectFrom('provisioning_actions')
    .selectAll()
    .where('subject_type', '=', subject.type)
    .where('subject_id', '=', subject.id)
    .orderBy('created_at')
    .execute();
}

/** Campaigns: oversight sees all; a service owner those covering a system they own. */
function campaignVisibleTo(actor: Actor) {
  if (oversees(actor)) return sql<boolean>`true`;
  return sql<boolean>`exists (select 1 from configuration_items ci where ci.id = any(access_review_campaigns.ci_ids) and ci.owner = ${actor.principalId})`;
}

export async function listCampaigns(
  db: Kysely<Database>,
  actor: Actor,
  filter: { limit: number; after?: { createdAt: string; id: string } },
) {
  const query = db.selectFrom('access_review_campaigns').selectAll().where(campaignVisibleTo(actor));
  return newestFirstPage(query, filter).execute();
}

export async function findVisibleCampaign(db: Kysely<Database>, actor: Actor, id: string) {
  return db.selectFrom('access_review_campaigns').selectAll().where('id', '=', id).where(campaignVisibleTo(actor)).executeTakeFirst();
}

/** A campaign's items; a service owner sees only their own systems' accounts. */
export async function campaignItems(db: Kysely<Database>, actor: Actor, campaignId: string) {
  let query = db.selectFrom('access_review_items').selectAll().where('campaign_id', '=', campaignId);
  if (!oversees(actor)) query = query.where('reviewer', '=', actor.principalId);
  return query.orderBy('ci_id').orderBy('account_id').execute();
}

export interface AccessReviewKpi {
  from: string;
  to: string;
  due: number;
  completedOnTime: number;
  percentage: number | null;
}

/**
 * "Access reviews completed on schedule" over [from, to): campaigns whose deadline falls in the
 * period, and how many had every reviewer answer by it. A campaign still open past its deadline
 * counts as due and not on time. The general KPI endpoint calls this.
 */
export async function accessReviewKpi(db: Kysely<Database>, period: { from: Date; to: Date }): Promise<AccessReviewKpi> {
  const due = await db
    .selectFrom('access_review_campaigns')
    .select(['deadline_at', 'completed_at'])
    .where('deadline_at', '>=', period.from)
    .where('deadline_at', '<', period.to)
    .execute();
  const onTime = due.filter((c) =>
    completedOnTime({ deadlineAt: c.deadline_at.toISOString(), completedAt: c.completed_at?.toISOString() ?? null }),
  ).length;
  return {
    from: period.from.toISOString(),
    to: period.to.toISOString(),
    due: due.length,
    completedOnTime: onTime,
    percentage: onTimePercentage(due.length, onTime),
  };
}

/**
 * Files an access request once and says whether it is privileged: when the requester says so, or
 * when the system's own import marks an entitlement of that name privileged. Safe to retry: the
 * request id is the primary key, and a filed request answers from its row.
 */
export async function fileAccessRequest(
  db: Kysely<Database>,
  input: AccessRequestInput & { workflowId: string },
): Promise<{ privileged: boolean }> {
  const existing = await db.selectFrom('access_requests').select('privileged').where('id', '=', input.requestId).executeTakeFirst();
  if (existing) return { privileged: existing.privileged };
  const names = input.entitlements.map((e) => e.name);
  const knownPrivileged = await db
    .selectFrom('system_accounts')
    .select(sql<string>`e->>'name'`.as('name'))
    .innerJoinLateral(sql`jsonb_array_elements(system_accounts.entitlements)`.as('e'), (join) => join.onTrue())
    .where('ci_id', '=', input.ciId)
    .where(sql<boolean>`e->>'privilege' = 'privileged' and e->>'name' = any(${names})`)
    .limit(1)
    .execute();
  const entitlements: Entitlement[] = input.entitlements.map((e) => ({
    ...e,
    privilege: knownPrivileged.some((k) => k.name === e.name) ? 'privileged' : e.privilege,
  }));
  const privileged = entitlements.some((e) => e.privilege === 'privileged');
  await auditedWrite(db, async (trx) => {
    const inserted = await trx
      .insertInto('access_requests')
      .values({
        id: input.requestId,
        workflow_id: input.workflowId,
        ci_id: input.ciId,
        account_id: input.accountId,
        beneficiary: input.beneficiary,
        requester: input.requester,
        entitlements: json(entitlements),
        privileged,
        justification: input.justification,
        status: 'pending_owner',
        requested_until: input.until ?? null,
        requested_for: input.for ?? null,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) return undefined;
    return {
      actor: input.requester,
      action: 'access_request.filed',
      subjectType: 'access_request',
      subjectId: input.requestId,
      details: {
        system: input.ciId,
        account: input.accountId,
        beneficiary: input.beneficiary,
        entitlements,
        privileged,
        until: input.until ?? null,
        for: input.for ?? null,
      },
    };
  });
  return { privileged };
}

/** Safe to retry: the status is written only when it changes, and each timestamp only once. */
export async function setAccessRequestStatus(db: Kysely<Database>, input: AccessRequestStatusChange): Promise<void> {
  await auditedWrite(db, async (trx) => {
    const stamp = input.stamp;
    const updated = await trx
      .updateTable('access_requests')
      .set((eb) => ({
        status: input.status,
        ...(input.approvedBy ? { approved_by: input.approvedBy } : {}),
        ...(input.expiresAt !== undefined ? { expires_at: input.expiresAt } : {}),
        ...(stamp ? { [stamp]: eb.fn.coalesce(eb.ref(stamp), eb.val(new Date())) } : {}),
      }))
      .where('id', '=', input.requestId)
      .where('status', '!=', input.status)
      .returning('id')
      .executeTakeFirst();
    if (!updated) return undefined;
    return {
      actor: input.actor,
      action: `access_request.${input.status}`,
      subjectType: 'access_request',
      subjectId: input.requestId,
      details: { approvedBy: input.approvedBy, expiresAt: input.expiresAt, ...input.details },
    };
  });
}

/** A provisioning action already recorded answers a retry from its row. */
export async function findProvisioningOutcome(db: Kysely<Database>, actionId: string): Promise<ProvisioningOutcome | undefined> {
  return db.selectFrom('provisioning_actions').select(['status', 'method', 'detail']).where('id', '=', actionId).executeTakeFirst();
}

/**
 * A review's revocation removes the account, so the system's next import verifies it. (An expired
 * request's revocation removes entitlements only; the account stays listed.)
 */
async function noteRevocation(
  trx: Transaction<Database>,
  action: { ci_id: string; account_id: string; operation: ProvisioningOperation; subject_type: string },
) {
  if (action.operation !== 'revoke' || action.subject_type !== 'access_review') return;
  await trx
    .updateTable('system_accounts')
    .set({ revocation_requested_at: new Date() })
    .where('ci_id', '=', action.ci_id)
    .where('account_id', '=', action.account_id)
    .where('revocation_requested_at', 'is', null)
    .execute();
}

/** Safe to retry: the action id is the primary key; only the first outcome is recorded and audited. */
export async function recordProvisioningAction(
  db: Kysely<Database>,
  input: { request: ProvisioningRequest; outcome: ProvisioningOutcome },
): Promise<void> {
  const { request, outcome } = input;
  await auditedWrite(db, async (trx) => {
    const inserted = await trx
      .insertInto('provisioning_actions')
      .values({
        id: request.actionId,
        ci_id: request.ciId,
        account_id: request.accountId,
        operation: request.operation,
        entitlements: json(request.entitlements),
        subject_type: request.subject.type,
        subject_id: request.subject.id,
        method: outcome.method,
        status: outcome.status,
        detail: outcome.detail,
        approved_by: request.approvedBy,
        completed_at: outcome.status === 'awaiting_manual' ? null : new Date(),
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning(['ci_id', 'account_id', 'operation', 'subject_type'])
      .executeTakeFirst();
    if (!inserted) return undefined;
    if (outcome.status === 'executed') await noteRevocation(trx, inserted);
    return {
      actor: systemActor.principalId,
      action: 'access.provisioning_run',
      subjectType: request.subject.type,
      subjectId: request.subject.id,
      details: {
        actionId: request.actionId,
        system: request.ciId,
        account: request.accountId,
        operation: request.operation,
        entitlements: request.entitlements,
        ...outcome,
      },
    };
  });
}

/** Safe to retry: only an action still awaiting its admin is settled. */
export async function confirmManualProvisioning(
  db: Kysely<Database>,
  input: { actionId: string; done: boolean; confirmedBy: string; taskId: string },
): Promise<void> {
  await auditedWrite(db, async (trx) => {
    const updated = await trx
      .updateTable('provisioning_actions')
      .set({
        status: input.done ? 'confirmed' : 'failed',
        detail: `${input.done ? 'carried out' : 'could not be carried out'} by ${input.confirmedBy}`,
        task_id: input.taskId,
        completed_at: new Date(),
      })
      .where('id', '=', input.actionId)
      .where('status', '=', 'awaiting_manual')
      .returning(['ci_id', 'account_id', 'operation', 'subject_type', 'subject_id'])
      .executeTakeFirst();
    if (!updated) return undefined;
    if (input.done) await noteRevocation(trx, updated);
    return {
      actor: input.confirmedBy,
      action: input.done ? 'access.provisioning_confirmed' : 'access.provisioning_failed',
      subjectType: updated.subject_type,
      subjectId: updated.subject_id,
      details: { actionId: input.actionId, account: updated.account_id, operation: updated.operation },
    };
  });
}

/**
 * Opens a campaign over the active systems in its scope and flags every account on them before
 * anyone looks. Safe to retry: the campaign id is the primary key; a campaign already open is left
 * as its first attempt recorded it.
 */
export async function openCampaign(
  db: Kysely<Database>,
  input: { campaignId: string; workflowId: string; scope: CampaignScope; startedBy: string; deadlineAt: string; unusedAfterDays: number },
): Promise<void> {
  await auditedWrite(db, async (trx) => {
    const exists = await trx.selectFrom('access_review_campaigns').select('id').where('id', '=', input.campaignId).executeTakeFirst();
    if (exists) return undefined;
    let systemsQuery = trx.selectFrom('configuration_items').select(['id', 'owner']).where('status', '=', 'active');
    systemsQuery =
      'ciIds' in input.scope
        ? systemsQuery.where('id', 'in', input.scope.ciIds)
        : systemsQuery.where('service_id', '=', input.scope.serviceId);
    const systems = await systemsQuery.execute();
    const ciIds = systems.map((s) => s.id);
    await trx
      .insertInto('access_review_campaigns')
      .values({
        id: input.campaignId,
        workflow_id: input.workflowId,
        scope: json(input.scope),
        ci_ids: ciIds,
        started_by: input.startedBy,
        unused_after_days: input.unusedAfterDays,
        status: 'open',
        deadline_at: input.deadlineAt,
      })
      .execute();
    const accounts = ciIds.length
      ? await trx
          .selectFrom('system_accounts as a')
          .leftJoin('people as p', 'p.principal_id', 'a.owner')
          .selectAll('a')
          .select('p.status as person_status')
          .select((eb) =>
            eb
              .selectFrom('access_requests as r')
              .select(sql<string[]>`coalesce(array_agg(distinct e->>'name'), '{}')`.as('names'))
              .innerJoinLateral(sql`jsonb_array_elements(r.entitlements)`.as('e'), (join) => join.onTrue())
              .whereRef('r.ci_id', '=', 'a.ci_id')
              .whereRef('r.account_id', '=', 'a.account_id')
              .where('r.status', 'in', ['provisioning', 'active'])
              .as('approved_entitlements'),
          )
          .where('a.ci_id', 'in', ciIds)
          .execute()
      : [];
    const ownerOf = new Map(systems.map((s) => [s.id, s.owner]));
    const now = Date.now();
    // Separation of duties is judged over everything a person holds, on every system, not just those in scope.
    const conflictsOf = await sodConflictsByAccount(trx);
    if (accounts.length) {
      await trx
        .insertInto('access_review_items')
        .values(
          accounts.map((a) => {
            const status = employmentStatus(a.person_status);
            const flags = flagAccount(
              {
                kind: a.kind,
                owner: a.owner,
                employmentStatus: status,
                entitlements: a.entitlements,
                lastUsedAt: a.last_used_at?.toISOString() ?? null,
                approvedEntitlements: a.approved_entitlements ?? [],
                revocationNotApplied: a.revocation_not_applied,
              },
              { now, unusedAfterDays: input.unusedAfterDays },
            );
            const sodConflicts = conflictsOf.get(`${a.ci_id}/${a.account_id}`) ?? [];
            return {
              campaign_id: input.campaignId,
              ci_id: a.ci_id,
              account_id: a.account_id,
              reviewer: ownerOf.get(a.ci_id) as string,
              account_owner: a.owner,
              kind: a.kind,
              employment_status: status,
              entitlements: json(a.entitlements),
              flags: sodConflicts.length ? [...flags, 'sod_conflict' as const] : flags,
              sod_conflicts: json(sodConflicts),
            };
          }),
        )
        .execute();
    }
    return {
      actor: input.startedBy,
      action: 'access_review.opened',
      subjectType: 'access_review',
      subjectId: input.campaignId,
      details: { scope: input.scope, systems: ciIds, accounts: accounts.length, deadlineAt: input.deadlineAt },
    };
  });
}

/** A campaign's deadline and each reviewer's list, as recorded when it opened. */
export async function campaignReviewerLists(db: Kysely<Database>, campaignId: string): Promise<OpenedCampaign> {
  const campaign = await db
    .selectFrom('access_review_campaigns')
    .select('deadline_at')
    .where('id', '=', campaignId)
    .executeTakeFirstOrThrow();
  const items = await db
    .selectFrom('access_review_items')
    .selectAll()
    .where('campaign_id', '=', campaignId)
    .orderBy('ci_id')
    .orderBy('account_id')
    .execute();
  const reviewers = new Map<string, ReviewerList>();
  for (const item of items) {
    const list = reviewers.get(item.reviewer) ?? { reviewer: item.reviewer, items: [] };
    list.items.push({
      ciId: item.ci_id,
      accountId: item.account_id,
      owner: item.account_owner,
      entitlements: item.entitlements.map((e) => e.name),
      flags: item.flags,
    });
    reviewers.set(item.reviewer, list);
  }
  return { deadlineAt: campaign.deadline_at.toISOString(), reviewers: [...reviewers.values()] };
}

/**
 * Safe to retry: an item takes a decision only while it has none, and each decision commits with
 * its own audit event, so a retry after a partial failure records only the decisions still missing.
 */
export async function recordReviewDecisions(
  db: Kysely<Database>,
  input: { campaignId: string; decidedBy: string; at: string; taskId: string; decisions: (ReviewDecision & { ciId: string })[] },
): Promise<void> {
  for (const decision of input.decisions) {
    await auditedWrite(db, async (trx) => {
      const updated = await trx
        .updateTable('access_review_items')
        .set({
          decision: decision.action,
          kept_entitlements: decision.entitlements ? json(decision.entitlements) : null,
          decided_by: input.decidedBy,
          decided_at: input.at,
        })
        .where('campaign_id', '=', input.campaignId)
        .where('ci_id', '=', decision.ciId)
        .where('account_id', '=', decision.accountId)
        .where('decision', 'is', null)
        .returning('flags')
        .executeTakeFirst();
      if (!updated) return undefined;
      return {
        actor: input.decidedBy,
        action: `access_review.${decision.action}`,
        subjectType: 'access_review',
        subjectId: input.campaignId,
        details: {
          taskId: input.taskId,
          system: decision.ciId,
          account: decision.accountId,
          flags: updated.flags,
          keptEntitlements: decision.entitlements ?? null,
        },
      };
    });
  }
}

/** Safe to retry: only an open campaign closes. */
export async function closeCampaign(
  db: Kysely<Database>,
  input: { campaignId: string; completedAt: string | null; completedOnTime: boolean },
): Promise<void> {
  await auditedWrite(db, async (trx) => {
    const status = input.completedAt ? 'completed' : 'unanswered';
    const updated = await trx
      .updateTable('access_review_campaigns')
      .set({ status, completed_at: input.completedAt, completed_on_time: input.completedOnTime })
      .where('id', '=', input.campaignId)
      .where('status', '=', 'open')
      .returning('id')
      .executeTakeFirst();
    if (!updated) return undefined;
    return {
      actor: systemActor.principalId,
      action: `access_review.${status}`,
      subjectType: 'access_review',
      subjectId: input.campaignId,
      details: { completedAt: input.completedAt, completedOnTime: input.completedOnTime },
    };
  });
}

/**
 * The review cadences of the SLAs a campaign scope falls under (a system outside any service
 * answers to the default SLA), and the scope's ids that do not exist.
 */
export async function scopeReviewCadences(
  db: Kysely<Database>,
  scope: CampaignScope,
): Promise<{ cadences: DurationText[]; unknown: string[] }> {
  if ('serviceId' in scope) {
    const service = await db.selectFrom('services').select('sla').where('id', '=', scope.serviceId).executeTakeFirst();
    if (!service) return { cadences: [], unknown: [scope.serviceId] };
    return { cadences: [completeSla(service.sla as Partial<ServiceSla>).reviewCadence], unknown: [] };
  }
  const cis = await db
    .selectFrom('configuration_items as ci')
    .leftJoin('services as s', 's.id', 'ci.service_id')
    .select(['ci.id', 's.sla'])
    .where('ci.id', 'in', scope.ciIds)
    .execute();
  const known = new Set(cis.map((ci) => ci.id));
  return {
    cadences: cis.map((ci) => completeSla(ci.sla as Partial<ServiceSla> | null).reviewCadence),
    unknown: scope.ciIds.filter((id) => !known.has(id)),
  };
}

/**
 * The separation-of-duties conflicts each account takes part in, keyed `<ciId>/<accountId>`: its
 * owner holds every entitlement of the rule across their accounts, and no unexpired exception covers it.
 */
async function sodConflictsByAccount(db: Kysely<Database>): Promise<Map<string, { ruleId: string; ruleName: string }[]>> {
  const [rules, holdings, exceptions] = await Promise.all([listSodRules(db), allHoldings(db), activeExceptionRules(db)]);
  const byAccount = new Map<string, { ruleId: string; ruleName: string }[]>();
  if (rules.length === 0) return byAccount;
  const active = rules.map(toSodRule);
  for (const [principalId, held] of holdings) {
    for (const conflict of sodConflicts(active, held)) {
      if (exceptions.some((e) => e.principalId === principalId && e.ruleId === conflict.ruleId)) continue;
      for (const key of new Set(conflict.holdings.map((h) => `${h.ciId}/${h.accountId}`))) {
        byAccount.set(key, [...(byAccount.get(key) ?? []), { ruleId: conflict.ruleId, ruleName: conflict.ruleName }]);
      }
    }
  }
  return byAccount;
}
