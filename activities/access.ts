import { systemActor } from '../domain/roles';
import { sql, type Transaction } from 'kysely';
import { employmentStatus, findSystem } from '../db/access';
import type { AccessRequestStatus, ProvisioningOperation, ProvisioningStatus } from '../db/access-tables';
import { appendAudit } from '../db/audit';
import { json } from '../db/create-db';
import type { Database } from '../db/database';
import { flagAccount, type AccountFlag, type Entitlement, type ReviewDecision, type ReviewItem } from '../domain/access-review';
import type { AccessRequestInput, CampaignScope } from '../workflows/access/definitions';
import type { ActivityDeps } from './deps';
import { postSignedAction } from './signed-webhook';

export interface ProvisioningRequest {
  /** Derived from the request or campaign and the account, so a retry finds the recorded action. */
  actionId: string;
  ciId: string;
  accountId: string;
  operation: ProvisioningOperation;
  entitlements: string[];
  subject: { type: 'access_request' | 'access_review'; id: string };
  approvedBy: string[];
}

export interface ProvisioningOutcome {
  status: ProvisioningStatus;
  method: 'webhook' | 'manual';
  detail: string;
}

export interface ReviewerList {
  reviewer: string;
  items: (ReviewItem & { flags: AccountFlag[] })[];
}

export interface OpenedCampaign {
  deadlineAt: string;
  reviewers: ReviewerList[];
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

export function createAccessActivities({ db, logger, provisioningSecret }: ActivityDeps) {
  return {
    /**
     * Safe to retry: the request id is the primary key. Privileged when the requester says so or
     * when the system's own import marks an entitlement of that name privileged.
     */
    async registerAccessRequest(
      input: AccessRequestInput & { workflowId: string },
    ): Promise<{ systemName: string; systemOwner: string; privileged: boolean }> {
      const system = await findSystem(db, input.ciId);
      if (!system) throw new Error(`configuration item ${input.ciId} does not exist`);
      const existing = await db.selectFrom('access_requests').select('privileged').where('id', '=', input.requestId).executeTakeFirst();
      if (existing) return { systemName: system.name, systemOwner: system.owner, privileged: existing.privileged };
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
      await db.transaction().execute(async (trx) => {
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
        if (!inserted) return;
        await appendAudit(trx, {
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
        });
      });
      return { systemName: system.name, systemOwner: system.owner, privileged };
    },

    /** Safe to retry: the status is written only when it changes, and each timestamp only once. */
    async setAccessRequestStatus(input: {
      requestId: string;
      status: AccessRequestStatus;
      actor: string;
      approvedBy?: string[];
      stamp?: 'decided_at' | 'provisioned_at' | 'revoked_at';
      expiresAt?: string | null;
      details?: Record<string, unknown>;
    }): Promise<void> {
      await db.transaction().execute(async (trx) => {
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
        if (!updated) return;
        await appendAudit(trx, {
          actor: input.actor,
          action: `access_request.${input.status}`,
          subjectType: 'access_request',
          subjectId: input.requestId,
          details: { approvedBy: input.approvedBy, expiresAt: input.expiresAt, ...input.details },
        });
      });
    },

    /**
     * One provisioning action behind one interface: POSTed, signed, to the system's
     * `attributes.provisioningUrl`, or — when the system has none — recorded as awaiting an admin who
     * carries it out by hand. Safe to retry: the action id is the primary key and a recorded action
     * is answered from its row; the receiver gets the same Idempotency-Key on every attempt.
     */
    async runProvisioningAction(input: ProvisioningRequest): Promise<ProvisioningOutcome> {
      const done = await db
        .selectFrom('provisioning_actions')
        .select(['status', 'method', 'detail'])
        .where('id', '=', input.actionId)
        .executeTakeFirst();
      if (done) return done;
      const system = await findSystem(db, input.ciId);
      if (!system) throw new Error(`configuration item ${input.ciId} does not exist`);
      const url = typeof system.attributes.provisioningUrl === 'string' ? system.attributes.provisioningUrl : undefined;
      let outcome: ProvisioningOutcome;
      if (!url) {
        outcome = {
          status: 'awaiting_manual',
          method: 'manual',
          detail: `no provisioningUrl on ${system.name}: an admin carries it out and confirms`,
        };
      } else {
        const payload = {
          actionId: input.actionId,
          operation: input.operation,
          system: { id: system.id, name: system.name },
          account: input.accountId,
          entitlements: input.entitlements,
          subject: input.subject,
          approvedBy: input.approvedBy,
        };
        const answer = await postSignedAction(url, {
          actionId: input.actionId,
          payload,
          secret: provisioningSecret,
          receiver: 'provisioning endpoint',
        });
        outcome = { status: answer.ok ? 'executed' : 'failed', method: 'webhook', detail: answer.detail };
      }
      await db.transaction().execute(async (trx) => {
        const inserted = await trx
          .insertInto('provisioning_actions')
          .values({
            id: input.actionId,
            ci_id: input.ciId,
            account_id: input.accountId,
            operation: input.operation,
            entitlements: json(input.entitlements),
            subject_type: input.subject.type,
            subject_id: input.subject.id,
            method: outcome.method,
            status: outcome.status,
            detail: outcome.detail,
            approved_by: input.approvedBy,
            completed_at: outcome.status === 'awaiting_manual' ? null : new Date(),
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .returning(['ci_id', 'account_id', 'operation', 'subject_type'])
          .executeTakeFirst();
        if (!inserted) return;
        if (outcome.status === 'executed') await noteRevocation(trx, inserted);
        await appendAudit(trx, {
          actor: systemActor.principalId,
          action: 'access.provisioning_run',
          subjectType: input.subject.type,
          subjectId: input.subject.id,
          details: {
            actionId: input.actionId,
            system: input.ciId,
            account: input.accountId,
            operation: input.operation,
            entitlements: input.entitlements,
            ...outcome,
          },
        });
      });
      logger.info({ actionId: input.actionId, operation: input.operation, status: outcome.status }, 'provisioning action');
      return outcome;
    },

    /** Safe to retry: only an action still awaiting its admin is settled. */
    async confirmManualProvisioning(input: { actionId: string; done: boolean; confirmedBy: string; taskId: string }): Promise<void> {
      await db.transaction().execute(async (trx) => {
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
        if (!updated) return;
        if (input.done) await noteRevocation(trx, updated);
        await appendAudit(trx, {
          actor: input.confirmedBy,
          action: input.done ? 'access.provisioning_confirmed' : 'access.provisioning_failed',
          subjectType: updated.subject_type,
          subjectId: updated.subject_id,
          details: { actionId: input.actionId, account: updated.account_id, operation: updated.operation },
        });
      });
    },

    /**
     * Safe to retry: the campaign id is the primary key; a retry answers from the items recorded by
     * the first attempt, so reviewers see the flags as they were when the campaign opened.
     */
    async openAccessReviewCampaign(input: {
      campaignId: string;
      workflowId: string;
      scope: CampaignScope;
      startedBy: string;
      deadlineAt: string;
      unusedAfterDays: number;
    }): Promise<OpenedCampaign> {
      await db.transaction().execute(async (trx) => {
        const exists = await trx.selectFrom('access_review_campaigns').select('id').where('id', '=', input.campaignId).executeTakeFirst();
        if (exists) return;
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
                return {
                  campaign_id: input.campaignId,
                  ci_id: a.ci_id,
                  account_id: a.account_id,
                  reviewer: ownerOf.get(a.ci_id) as string,
                  account_owner: a.owner,
                  kind: a.kind,
                  employment_status: status,
                  entitlements: json(a.entitlements),
                  flags,
                };
              }),
            )
            .execute();
        }
        await appendAudit(trx, {
          actor: input.startedBy,
          action: 'access_review.opened',
          subjectType: 'access_review',
          subjectId: input.campaignId,
          details: { scope: input.scope, systems: ciIds, accounts: accounts.length, deadlineAt: input.deadlineAt },
        });
      });
      const campaign = await db
        .selectFrom('access_review_campaigns')
        .select('deadline_at')
        .where('id', '=', input.campaignId)
        .executeTakeFirstOrThrow();
      const items = await db
        .selectFrom('access_review_items')
        .selectAll()
        .where('campaign_id', '=', input.campaignId)
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
    },

    /** Safe to retry: an item takes a decision only while it has none; each decision is audited once. */
    async recordReviewDecisions(input: {
      campaignId: string;
      decidedBy: string;
      at: string;
      taskId: string;
      decisions: (ReviewDecision & { ciId: string })[];
    }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        for (const decision of input.decisions) {
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
          if (!updated) continue;
          await appendAudit(trx, {
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
          });
        }
      });
    },

    /** Safe to retry: only an open campaign closes. */
    async closeAccessReviewCampaign(input: { campaignId: string; completedAt: string | null; completedOnTime: boolean }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const status = input.completedAt ? 'completed' : 'unanswered';
        const updated = await trx
          .updateTable('access_review_campaigns')
          .set({ status, completed_at: input.completedAt, completed_on_time: input.completedOnTime })
          .where('id', '=', input.campaignId)
          .where('status', '=', 'open')
          .returning('id')
          .executeTakeFirst();
        if (!updated) return;
        await appendAudit(trx, {
          actor: systemActor.principalId,
          action: `access_review.${status}`,
          subjectType: 'access_review',
          subjectId: input.campaignId,
          details: { completedAt: input.completedAt, completedOnTime: input.completedOnTime },
        });
      });
    },
  };
}

export type AccessActivities = ReturnType<typeof createAccessActivities>;
