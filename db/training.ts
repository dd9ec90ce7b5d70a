import { type Kysely, sql } from 'kysely';
import { escalationTarget, type CompletionSource, type OutstandingAssignment, type TrainingCampaignInput } from '../domain/training';
import { systemActor } from '../domain/roles';
import { auditedWrite } from './audit';
import { json } from './create-db';
import type { Database } from './database';
import { newestFirstPage, type PageRequest } from './pagination';

const subjectType = 'training_campaign';

/**
 * The audience as it stands when the campaign opens: role holders (unrevoked tokens), named
 * principals and the directory's active people, each once; a manager comes from the directory
 * export, else from the people register (`POST /people/import`).
 */
async function resolveAudience(db: Kysely<Database>, input: TrainingCampaignInput): Promise<OutstandingAssignment[]> {
  const { roles, principals, directory } = input.audience;
  const roleHolders = roles.length
    ? await db
        .selectFrom('api_tokens')
        .select('principal_id')
        .distinct()
        .where('revoked_at', 'is', null)
        .where(sql<boolean>`roles && ${roles}::text[]`)
        .execute()
    : [];
  const managers = new Map(directory.map((person) => [person.principalId, person.manager]));
  const everyone = [...new Set([...roleHolders.map((r) => r.principal_id), ...principals, ...directory.map((p) => p.principalId)])];
  const register = everyone.length
    ? await db.selectFrom('people').select(['principal_id', 'manager']).where('principal_id', 'in', everyone).execute()
    : [];
  const registered = new Map(register.map((p) => [p.principal_id, p.manager]));
  return everyone.sort().map((principalId) => ({ principalId, manager: managers.get(principalId) ?? registered.get(principalId) ?? null }));
}

/** Safe to retry: the campaign id is the primary key and each assignment's key is (campaign, person). */
export async function openTrainingCampaign(db: Kysely<Database>, input: TrainingCampaignInput & { workflowId: string }) {
  const assignments = await resolveAudience(db, input);
  await auditedWrite(db, async (trx) => {
    const inserted = await trx
      .insertInto('training_campaigns')
      .values({
        id: input.campaignId,
        workflow_id: input.workflowId,
        title: input.title,
        course_id: input.courseId,
        due_at: input.dueAt,
        audience: json(input.audience),
        status: 'open',
        created_by: input.createdBy,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) return undefined;
    if (assignments.length) {
      await trx
        .insertInto('training_assignments')
        .values(assignments.map((a) => ({ campaign_id: input.campaignId, principal_id: a.principalId, manager: a.manager })))
        .execute();
    }
    return {
      actor: input.createdBy,
      action: 'training.campaign_opened',
      subjectType,
      subjectId: input.campaignId,
      details: { title: input.title, courseId: input.courseId, dueAt: input.dueAt, assigned: assignments.map((a) => a.principalId) },
    };
  });
  return { assigned: (await outstandingTraining(db, input.campaignId)).length };
}

/** Who has not completed the training yet, in a stable order. */
export async function outstandingTraining(db: Kysely<Database>, campaignId: string): Promise<OutstandingAssignment[]> {
  const rows = await db
    .selectFrom('training_assignments')
    .select(['principal_id', 'manager'])
    .where('campaign_id', '=', campaignId)
    .where('completed_at', 'is', null)
    .orderBy('principal_id')
    .execute();
  return rows.map((r) => ({ principalId: r.principal_id, manager: r.manager }));
}

/** Counts a reminder round. Safe to retry: the round number is written only once (`reminders < round`). */
export async function countTrainingReminder(db: Kysely<Database>, campaignId: string, principalIds: string[], round: number) {
  if (principalIds.length === 0) return;
  await db
    .updateTable('training_assignments')
    .set({ reminders: round })
    .where('campaign_id', '=', campaignId)
    .where('principal_id', 'in', principalIds)
    .where('reminders', '<', round)
    .execute();
}

/**
 * Marks the overdue as escalated to their manager or the Security Manager, audited. Safe to retry:
 * only assignments not yet escalated and still not completed are marked.
 */
export async function escalateOverdueTraining(db: Kysely<Database>, campaignId: string, securityManager: string) {
  return auditedWrite(db, async (trx) => {
    const overdue = await trx
      .selectFrom('training_assignments')
      .select(['principal_id', 'manager'])
      .where('campaign_id', '=', campaignId)
      .where('completed_at', 'is', null)
      .where('escalated_at', 'is', null)
      .orderBy('principal_id')
      .forUpdate()
      .execute();
    if (overdue.length === 0) return undefined;
    const escalations = overdue.map((a) => ({
      principalId: a.principal_id,
      to: escalationTarget({ principalId: a.principal_id, manager: a.manager }, securityManager),
    }));
    for (const { principalId, to } of escalations) {
      await trx
        .updateTable('training_assignments')
        .set({ escalated_at: new Date(), escalated_to: to })
        .where('campaign_id', '=', campaignId)
        .where('principal_id', '=', principalId)
        .execute();
    }
    return {
      actor: systemActor.principalId,
      action: 'training.overdue_escalated',
      subjectType,
      subjectId: campaignId,
      details: { escalations },
    };
  });
}

/** Safe to retry: a closed campaign stays closed with its first closing time. */
export async function closeTrainingCampaign(db: Kysely<Database>, campaignId: string) {
  await auditedWrite(db, async (trx) => {
    const closed = await trx
      .updateTable('training_campaigns')
      .set({ status: 'closed', closed_at: new Date() })
      .where('id', '=', campaignId)
      .where('status', '=', 'open')
      .returning('id')
      .executeTakeFirst();
    return (
      closed && { actor: systemActor.principalId, action: 'training.campaign_closed', subjectType, subjectId: campaignId, details: {} }
    );
  });
}

export interface TrainingCompletion {
  principalId: string;
  completedAt: string;
}

/**
 * Records completions, all or nothing, audited. Returns the principals the campaign does not
 * assign (nothing is written then), so the caller can name them. A completion already recorded
 * stands: recording it again (an LMS resending, a CSV imported twice) changes nothing.
 */
export async function recordTrainingCompletions(
  db: Kysely<Database>,
  input: { campaignId: string; completions: TrainingCompletion[]; source: CompletionSource; actor: string },
): Promise<{ unassigned: string[]; recorded: string[] }> {
  let result = { unassigned: [] as string[], recorded: [] as string[] };
  await auditedWrite(db, async (trx) => {
    const principalIds = input.completions.map((c) => c.principalId);
    const assigned = principalIds.length
      ? await trx
          .selectFrom('training_assignments')
          .select(['principal_id', 'completed_at'])
          .where('campaign_id', '=', input.campaignId)
          .where('principal_id', 'in', principalIds)
          .forUpdate()
          .execute()
      : [];
    const known = new Map(assigned.map((a) => [a.principal_id, a.completed_at]));
    const unassigned = principalIds.filter((id) => !known.has(id));
    if (unassigned.length) {
      result = { unassigned, recorded: [] };
      return undefined;
    }
    const fresh = input.completions.filter((c) => known.get(c.principalId) === null);
    for (const completion of fresh) {
      await trx
        .updateTable('training_assignments')
        .set({ completed_at: completion.completedAt, completion_source: input.source, recorded_by: input.actor })
        .where('campaign_id', '=', input.campaignId)
        .where('principal_id', '=', completion.principalId)
        .where('completed_at', 'is', null)
        .execute();
    }
    result = { unassigned: [], recorded: fresh.map((c) => c.principalId) };
    return fresh.length
      ? {
          actor: input.actor,
          action: 'training.completions_recorded',
          subjectType,
          subjectId: input.campaignId,
          details: { source: input.source, completions: fresh },
        }
      : undefined;
  });
  return result;
}

/** The campaigns of a course in which the person still owes the training: what an LMS completion settles. */
export async function campaignsAwaiting(db: Kysely<Database>, courseId: string, principalId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('training_assignments')
    .innerJoin('training_campaigns', 'training_campaigns.id', 'training_assignments.campaign_id')
    .select('training_assignments.campaign_id')
    .where('training_campaigns.course_id', '=', courseId)
    .where('training_assignments.principal_id', '=', principalId)
    .where('training_assignments.completed_at', 'is', null)
    .orderBy('training_campaigns.created_at')
    .execute();
  return rows.map((r) => r.campaign_id);
}

export function findTrainingCampaign(db: Kysely<Database>, id: string) {
  return db.selectFrom('training_campaigns').selectAll().where('id', '=', id).executeTakeFirst();
}

export function assignmentsOf(db: Kysely<Database>, campaignId: string) {
  return db.selectFrom('training_assignments').selectAll().where('campaign_id', '=', campaignId).orderBy('principal_id').execute();
}

export async function listTrainingCampaigns(db: Kysely<Database>, filter: PageRequest & { status?: 'open' | 'closed' }) {
  let query = db.selectFrom('training_campaigns').selectAll();
  if (filter.status) query = query.where('status', '=', filter.status);
  return newestFirstPage(query, filter).execute();
}

export { subjectType as trainingSubjectType };

/**
 * The assignments of campaigns due in the period up to its as-of time (a campaign not yet due is
 * not judged), with whether each was completed by then: the review's training completion rate.
 */
export async function trainingCompletionKpi(db: Kysely<Database>, period: { from: Date; to: Date; asOf: Date }) {
  const rows = await db
    .selectFrom('training_assignments')
    .innerJoin('training_campaigns', 'training_campaigns.id', 'training_assignments.campaign_id')
    .select([
      'training_campaigns.id as campaign_id',
      'training_campaigns.title',
      'training_assignments.principal_id',
      'training_assignments.manager',
      'training_assignments.escalated_to',
      'training_assignments.completed_at',
    ])
    .where('training_campaigns.due_at', '>=', period.from)
    .where('training_campaigns.due_at', '<', period.to)
    .where('training_campaigns.due_at', '<=', period.asOf)
    .orderBy('training_campaigns.due_at')
    .orderBy('training_campaigns.id')
    .orderBy('training_assignments.principal_id')
    .execute();
  const done = (r: (typeof rows)[number]) => r.completed_at !== null && r.completed_at <= period.asOf;
  return { assigned: rows.length, completed: rows.filter(done).length, overdue: rows.filter((r) => !done(r)) };
}
