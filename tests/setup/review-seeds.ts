import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { json } from '../../db/create-db';
import type { Database } from '../../db/database';

let number = 0;

/** One incident row with the KPI timestamps given; the columns a review ignores get plain values. */
export async function seedIncident(
  db: Kysely<Database>,
  fields: {
    severity: string;
    category: string;
    affectedCis: string[];
    reportedAt: string;
    occurredAt?: string;
    detectedAt?: string;
    acknowledgedAt?: string;
    resolvedAt?: string;
    acknowledgeTarget: string;
    resolveTarget: string;
    drill?: boolean;
  },
) {
  const id = randomUUID();
  number += 1;
  await db
    .insertInto('incidents')
    .values({
      id,
      workflow_id: `incident/${id}`,
      title: `seeded incident ${number}`,
      description: 'seeded for a review test',
      category: fields.category,
      severity: fields.severity,
      security_incident: true,
      classification_reason: 'seeded',
      status: fields.resolvedAt ? 'closed' : 'containment',
      affected_cis: fields.affectedCis,
      source: 'test',
      drill: fields.drill ?? false,
      reported_by: 'rita',
      playbook_category: fields.category,
      playbook_version: 1,
      acknowledge_target: fields.acknowledgeTarget,
      resolve_target: fields.resolveTarget,
      occurred_at: fields.occurredAt ?? null,
      detected_at: fields.detectedAt ?? null,
      reported_at: fields.reportedAt,
      acknowledged_at: fields.acknowledgedAt ?? null,
      resolved_at: fields.resolvedAt ?? null,
      links: json([]),
    })
    .execute();
  return id;
}

export async function seedRisk(db: Kysely<Database>, fields: { title: string; likelihood: number; impact: number; owner: string; treatment: 'mitigate' | 'accept'; reviewAt: string; acceptedUntil?: string; affectedServices?: string[] }) {
  return db
    .insertInto('risks')
    .values({
      title: fields.title,
      threat: 'seeded',
      affected_cis: [],
      affected_services: fields.affectedServices ?? [],
      likelihood: fields.likelihood,
      impact: fields.impact,
      owner: fields.owner,
      treatment: fields.treatment,
      controls: fields.treatment === 'mitigate' ? ['CTRL-1'] : [],
      accepted_until: fields.acceptedUntil ?? null,
      review_at: fields.reviewAt,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
}

export async function seedApprovedPolicy(db: Kysely<Database>, fields: { title: string; owner: string; nextReviewAt: string }) {
  const policy = await db.insertInto('policies').values({ title: fields.title, owner: fields.owner, current_version: 1 }).returning('id').executeTakeFirstOrThrow();
  await db
    .insertInto('policy_versions')
    .values({ policy_id: policy.id, version: 1, body: '# Policy', next_review_at: fields.nextReviewAt, status: 'approved', proposed_by: 'max', decided_by: 'mia', decided_at: new Date() })
    .execute();
  return policy;
}

export async function seedImprovementAction(db: Kysely<Database>, fields: { title: string; owner: string; status: string; dueAt: string; createdAt: string }) {
  await db
    .insertInto('improvement_actions')
    .values({ id: randomUUID(), title: fields.title, source_type: 'incident', source_id: randomUUID(), owner: fields.owner, status: fields.status, due_at: fields.dueAt, created_at: fields.createdAt })
    .execute();
}

/** An access review campaign with its deadline and, if it finished, when. */
export async function seedAccessReviewCampaign(db: Kysely<Database>, fields: { deadlineAt: string; completedAt: string | null }) {
  const id = randomUUID();
  await db
    .insertInto('access_review_campaigns')
    .values({ id, workflow_id: `access-review/${id}`, scope: json({}), ci_ids: [], started_by: 'max', unused_after_days: 90, status: fields.completedAt ? 'completed' : 'open', deadline_at: fields.deadlineAt, completed_at: fields.completedAt })
    .execute();
}
