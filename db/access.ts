import { sql, type Kysely } from 'kysely';
import { completedOnTime, onTimePercentage, type EmploymentStatus } from '../domain/access-review';
import type { Actor } from '../domain/roles';
import type { AccountRow, PersonRow } from '../schemas/access';
import { appendAudit } from './audit';
import { json } from './create-db';
import type { Database } from './database';

/** Roles that see every system's accounts, requests and campaigns. */
const accessOversight = ['admin', 'security_manager', 'auditor'];
const oversees = (actor: Actor) => actor.roles.some((role) => accessOversight.includes(role));

export async function findSystem(db: Kysely<Database>, ciId: string) {
  return db
    .selectFrom('configuration_items')
    .select(['id', 'name', 'owner', 'service_id', 'attributes'])
    .where('id', '=', ciId)
    .executeTakeFirst();
}

/** May this actor read (and, for owners, import) this system's access records? */
export function ownsOrOversees(actor: Actor, system: { owner: string }) {
  return oversees(actor) || system.owner === actor.principalId;
}

/** An account's employment status, from the people list by owner. */
export const employmentStatus = (status: string | null): EmploymentStatus =>
  status === 'active' || status === 'leaver' ? status : 'unknown';

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
  input: { ciId: string; rows: AccountRow[]; actor: string },
): Promise<AccountImportResult> {
  return db.transaction().execute(async (trx) => {
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
export async function importPeople(db: Kysely<Database>, input: { rows: PersonRow[]; actor: string }) {
  return db.transaction().execute(async (trx) => {
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
  if (filter.after)
    query = query.where(sql<boolean>`(created_at, id) < (${filter.after.createdAt}::timestamptz, ${filter.after.id}::uuid)`);
  return query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(filter.limit + 1)
    .execute();
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
  let query = db.selectFrom('access_review_campaigns').selectAll().where(campaignVisibleTo(actor));
  if (filter.after) query = query.where(sql<boolean>`(created_at, id) < (${filter.after.createdAt}::timestamptz, ${filter.after.id})`);
  return query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(filter.limit + 1)
    .execute();
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
