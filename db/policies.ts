import type { Kysely } from 'kysely';
import { Refusal } from '../domain/refusal';
import type { Actor } from '../domain/roles';
import { appendAudit, auditedTransaction, type AuditedTransaction, auditedWrite, changedFields } from './audit';
import type { Database, Policy, PolicyVersion } from './database';
import { keysetPage, pageOf, type PageRequest } from './pagination';

export interface PolicyContent {
  body?: string | undefined;
  documentUrl?: string | undefined;
  nextReviewAt: string;
}

const iso = (value: Date | null) => value?.toISOString() ?? null;

function toPolicyVersionView(version: PolicyVersion) {
  return {
    version: version.version,
    body: version.body,
    documentUrl: version.document_url,
    nextReviewAt: version.next_review_at.toISOString(),
    status: version.status,
    proposedBy: version.proposed_by,
    approvedBy: version.status === 'approved' ? version.decided_by : null,
    decidedAt: iso(version.decided_at),
    comment: version.comment,
  };
}

function toPolicyView(policy: Policy, current: PolicyVersion | undefined) {
  return {
    id: policy.id,
    title: policy.title,
    owner: policy.owner,
    status: policy.status,
    version: policy.current_version,
    approvedBy: current?.decided_by ?? null,
    approvedAt: iso(current?.decided_at ?? null),
    nextReviewAt: iso(current?.next_review_at ?? null),
    body: current?.body ?? null,
    documentUrl: current?.document_url ?? null,
    createdAt: policy.created_at.toISOString(),
    updatedAt: policy.updated_at.toISOString(),
  };
}

async function insertVersion(trx: AuditedTransaction, policyId: string, version: number, content: PolicyContent, actor: Actor) {
  const row = await trx
    .insertInto('policy_versions')
    .values({
      policy_id: policyId,
      version,
      body: content.body ?? null,
      document_url: content.documentUrl ?? null,
      next_review_at: content.nextReviewAt,
      status: 'pending_approval',
      proposed_by: actor.principalId,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await appendAudit(trx, {
    actor: actor.principalId,
    action: 'policy.version_proposed',
    subjectType: 'policy',
    subjectId: policyId,
    details: { version },
  });
  return row;
}

export async function createPolicy(db: Kysely<Database>, fields: { title: string; owner: string } & PolicyContent, actor: Actor) {
  return auditedTransaction(db, async (trx) => {
    const policy = await trx
      .insertInto('policies')
      .values({ title: fields.title, owner: fields.owner, current_version: null })
      .returningAll()
      .executeTakeFirstOrThrow();
    await appendAudit(trx, {
      actor: actor.principalId,
      action: 'policy.created',
      subjectType: 'policy',
      subjectId: policy.id,
      details: { title: fields.title, owner: fields.owner },
    });
    const version = await insertVersion(trx, policy.id, 1, fields, actor);
    return { policy, version };
  });
}

/** A new version waits for the Security Manager; only one may wait at a time. */
export async function proposePolicyVersion(db: Kysely<Database>, policyId: string, content: PolicyContent, actor: Actor) {
  return auditedTransaction(db, async (trx) => {
    const policy = await trx.selectFrom('policies').selectAll().where('id', '=', policyId).forUpdate().executeTakeFirst();
    if (!policy) throw new Refusal('not_found', `policy ${policyId} does not exist`);
    if (policy.status === 'retired') throw new Refusal('conflict', 'the policy is retired');
    const versions = await trx.selectFrom('policy_versions').select(['version', 'status']).where('policy_id', '=', policyId).execute();
    const pending = versions.find((v) => v.status === 'pending_approval');
    if (pending) throw new Refusal('conflict', `version ${pending.version} still awaits approval`);
    const version = await insertVersion(trx, policyId, Math.max(0, ...versions.map((v) => v.version)) + 1, content, actor);
    return { policy, version };
  });
}

/** Safe to retry: only a pending version is settled, and the current version only moves forward. */
export async function settlePolicyVersion(
  db: Kysely<Database>,
  input: { policyId: string; version: number; approved: boolean; decidedBy: string; comment: string | null },
) {
  await auditedWrite(db, async (trx) => {
    const settled = await trx
      .updateTable('policy_versions')
      .set({
        status: input.approved ? 'approved' : 'rejected',
        decided_by: input.decidedBy,
        decided_at: new Date(),
        comment: input.comment,
      })
      .where('policy_id', '=', input.policyId)
      .where('version', '=', input.version)
      .where('status', '=', 'pending_approval')
      .returning('version')
      .executeTakeFirst();
    if (!settled) return undefined;
    if (input.approved) {
      await trx
        .updateTable('policies')
        .set({ current_version: input.version, updated_at: new Date() })
        .where('id', '=', input.policyId)
        .where((eb) => eb.or([eb('current_version', 'is', null), eb('current_version', '<', input.version)]))
        .execute();
    }
    return {
      actor: input.decidedBy,
      action: input.approved ? 'policy.version_approved' : 'policy.version_rejected',
      subjectType: 'policy',
      subjectId: input.policyId,
      details: { version: input.version, comment: input.comment },
    };
  });
}

export async function findPolicyDetail(db: Kysely<Database>, id: string) {
  const policy = await db.selectFrom('policies').selectAll().where('id', '=', id).executeTakeFirst();
  if (!policy) return undefined;
  const versions = await db.selectFrom('policy_versions').selectAll().where('policy_id', '=', id).orderBy('version').execute();
  return {
    ...toPolicyView(
      policy,
      versions.find((v) => v.version === policy.current_version),
    ),
    versions: versions.map(toPolicyVersionView),
  };
}

export async function listPolicies(db: Kysely<Database>, filter: { owner?: string; reviewDue?: boolean }, page: PageRequest) {
  let query = db.selectFrom('policies').selectAll();
  if (filter.owner) query = query.where('owner', '=', filter.owner);
  if (filter.reviewDue) {
    query = query.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('policy_versions')
          .select('version')
          .whereRef('policy_versions.policy_id', '=', 'policies.id')
          .whereRef('policy_versions.version', '=', 'policies.current_version')
          .where('next_review_at', '<', new Date()),
      ),
    );
  }
  const { items, nextCursor } = pageOf(await keysetPage(query, page).execute(), page.limit);
  const currents = items.length
    ? await db
        .selectFrom('policy_versions')
        .selectAll()
        .where(
          'policy_id',
          'in',
          items.map((p) => p.id),
        )
        .where('status', '=', 'approved')
        .execute()
    : [];
  return {
    items: items.map((p) =>
      toPolicyView(
        p,
        currents.find((v) => v.policy_id === p.id && v.version === p.current_version),
      ),
    ),
    nextCursor,
  };
}

export async function updatePolicy(
  db: Kysely<Database>,
  id: string,
  changes: { title?: string; owner?: string; status?: 'active' | 'retired' },
  actor: Actor,
) {
  await auditedWrite(db, async (trx) => {
    const current = await trx.selectFrom('policies').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
    if (!current) throw new Refusal('not_found', `policy ${id} does not exist`);
    const before = { title: current.title, owner: current.owner, status: current.status };
    const after = { ...before, ...changes };
    await trx
      .updateTable('policies')
      .set({ ...after, updated_at: new Date() })
      .where('id', '=', id)
      .execute();
    return {
      actor: actor.principalId,
      action: after.status === 'retired' && before.status !== 'retired' ? 'policy.retired' : 'policy.updated',
      subjectType: 'policy',
      subjectId: id,
      details: { changes: changedFields(before, after) },
    };
  });
}
