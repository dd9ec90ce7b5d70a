import { sql, type Kysely, type Selectable } from 'kysely';
import type { HeldEntitlement, SodMember, SodRule, SodRuleStatus } from '../domain/sod';
import { systemActor } from '../domain/roles';
import { auditedWrite } from './audit';
import { json } from './create-db';
import type { Database, SodRulesTable } from './database';

/** Separation of duties over entitlements: the conflict rules, what people hold, and the exceptions granted. */

export type SodRuleRow = Selectable<SodRulesTable>;

export const toSodRule = (row: SodRuleRow): SodRule => ({ id: row.id, name: row.name, members: row.members, status: row.status });

export async function listSodRules(db: Kysely<Database>, options: { includeRetired?: boolean } = {}): Promise<SodRuleRow[]> {
  let query = db.selectFrom('sod_rules').selectAll().orderBy('name');
  if (!options.includeRetired) query = query.where('status', '=', 'active');
  return query.execute();
}

export async function findSodRule(db: Kysely<Database>, id: string): Promise<SodRuleRow | undefined> {
  return db.selectFrom('sod_rules').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The systems among `ciIds` that exist, for naming an unknown one. */
export async function existingCis(db: Kysely<Database>, ciIds: readonly string[]): Promise<Set<string>> {
  if (ciIds.length === 0) return new Set();
  const rows = await db.selectFrom('configuration_items').select('id').where('id', 'in', ciIds).execute();
  return new Set(rows.map((row) => row.id));
}

export async function createSodRule(
  db: Kysely<Database>,
  input: { id: string; name: string; description: string; members: SodMember[]; actor: string },
): Promise<void> {
  await auditedWrite(db, async (trx) => {
    await trx
      .insertInto('sod_rules')
      .values({
        id: input.id,
        name: input.name,
        description: input.description,
        members: json(input.members),
        status: 'active',
        created_by: input.actor,
      })
      .execute();
    return {
      actor: input.actor,
      action: 'sod_rule.created',
      subjectType: 'sod_rule',
      subjectId: input.id,
      details: { name: input.name, members: input.members },
    };
  });
}

export async function updateSodRule(
  db: Kysely<Database>,
  input: { id: string; name: string; description: string; members: SodMember[]; status: SodRuleStatus; reason: string; actor: string },
): Promise<void> {
  await auditedWrite(db, async (trx) => {
    const before = await trx.selectFrom('sod_rules').selectAll().where('id', '=', input.id).forUpdate().executeTakeFirstOrThrow();
    await trx
      .updateTable('sod_rules')
      .set({ name: input.name, description: input.description, members: json(input.members), status: input.status, updated_at: new Date() })
      .where('id', '=', input.id)
      .execute();
    return {
      actor: input.actor,
      action: input.status === 'retired' ? 'sod_rule.retired' : 'sod_rule.changed',
      subjectType: 'sod_rule',
      subjectId: input.id,
      details: { reason: input.reason, from: { name: before.name, members: before.members, status: before.status }, to: input },
    };
  });
}

/**
 * What a person holds through the accounts they own on every system: an account whose revocation
 * was recorded no longer counts, because revoking is how a conflict is resolved.
 */
export async function holdingsOf(db: Kysely<Database>, principalId: string): Promise<HeldEntitlement[]> {
  const accounts = await db
    .selectFrom('system_accounts')
    .select(['ci_id', 'account_id', 'entitlements'])
    .where('owner', '=', principalId)
    .where('revocation_requested_at', 'is', null)
    .execute();
  return accounts.flatMap((account) =>
    account.entitlements.map((e) => ({ ciId: account.ci_id, accountId: account.account_id, entitlement: e.name })),
  );
}

/** Everyone's holdings, by person, for the campaign and the conflict list. */
export async function allHoldings(db: Kysely<Database>): Promise<Map<string, HeldEntitlement[]>> {
  const accounts = await db
    .selectFrom('system_accounts')
    .select(['owner', 'ci_id', 'account_id', 'entitlements'])
    .where('owner', 'is not', null)
    .where('revocation_requested_at', 'is', null)
    .execute();
  const byPerson = new Map<string, HeldEntitlement[]>();
  for (const account of accounts) {
    const held = byPerson.get(account.owner as string) ?? [];
    held.push(...account.entitlements.map((e) => ({ ciId: account.ci_id, accountId: account.account_id, entitlement: e.name })));
    byPerson.set(account.owner as string, held);
  }
  return byPerson;
}

/** The rules a person holds an unexpired exception to. */
export async function activeExceptionRules(db: Kysely<Database>, principalId?: string): Promise<{ principalId: string; ruleId: string }[]> {
  let query = db
    .selectFrom('sod_exceptions')
    .select(['principal_id as principalId', 'rule_id as ruleId'])
    .where('status', '=', 'active')
    .where('expires_at', '>', sql<Date>`now()`);
  if (principalId) query = query.where('principal_id', '=', principalId);
  return query.execute();
}

/** Safe to retry: one exception per request and rule; a second insert does nothing. */
export async function recordSodException(
  db: Kysely<Database>,
  input: { id: string; requestId: string; ruleIds: string[]; principalId: string; reason: string; expiresAt: string; grantedBy: string },
): Promise<void> {
  await auditedWrite(db, async (trx) => {
    const inserted = await trx
      .insertInto('sod_exceptions')
      .values(
        input.ruleIds.map((ruleId, index) => ({
          id: index === 0 ? input.id : sql<string>`gen_random_uuid()`,
          rule_id: ruleId,
          principal_id: input.principalId,
          request_id: input.requestId,
          reason: input.reason,
          expires_at: input.expiresAt,
          granted_by: input.grantedBy,
          status: 'active' as const,
        })),
      )
      .onConflict((oc) => oc.columns(['request_id', 'rule_id']).doNothing())
      .returning('rule_id')
      .execute();
    return inserted.length
      ? {
          actor: input.grantedBy,
          action: 'access_request.sod_exception_granted',
          subjectType: 'access_request',
          subjectId: input.requestId,
          details: { ruleIds: input.ruleIds, principalId: input.principalId, reason: input.reason, expiresAt: input.expiresAt },
        }
      : undefined;
  });
}

/** Safe to retry: only active exceptions lapse. */
export async function lapseSodExceptions(db: Kysely<Database>, input: { requestId: string }): Promise<void> {
  await auditedWrite(db, async (trx) => {
    const lapsed = await trx
      .updateTable('sod_exceptions')
      .set({ status: 'lapsed' })
      .where('request_id', '=', input.requestId)
      .where('status', '=', 'active')
      .returning('rule_id')
      .execute();
    return lapsed.length
      ? {
          actor: systemActor.principalId,
          action: 'access_request.sod_exception_lapsed',
          subjectType: 'access_request',
          subjectId: input.requestId,
          details: { ruleIds: lapsed.map((row) => row.rule_id) },
        }
      : undefined;
  });
}
