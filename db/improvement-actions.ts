import { sql, type Kysely } from 'kysely';
import { Refusal } from '../domain/refusal';
import type { Actor } from '../domain/roles';
import type { PlannedAction } from '../domain/security-report/model';
import { appendAudit, auditedTransaction, changedFields } from './audit';
import type { Database, ImprovementAction } from './database';
import { keysetPage, pageOf, type PageRequest } from './pagination';
import { keepsRegister } from './risks';

export const improvementStatuses = ['open', 'in_progress', 'done', 'cancelled'] as const;
export type ImprovementStatus = (typeof improvementStatuses)[number];

export function toPlannedAction(action: ImprovementAction): PlannedAction {
  return {
    id: action.id,
    title: action.title,
    owner: action.owner,
    dueAt: action.due_at?.toISOString() ?? null,
    riskScore: action.risk_score,
    status: action.status,
    progress: action.progress,
    deviationKey: action.deviation_key,
  };
}

export function toImprovementView(action: ImprovementAction) {
  return {
    ...toPlannedAction(action),
    description: action.description,
    source: { type: action.source_type, id: action.source_id },
    serviceId: action.service_id,
    overdue: !['done', 'cancelled'].includes(action.status) && action.due_at !== null && action.due_at.getTime() < Date.now(),
    createdAt: action.created_at.toISOString(),
    updatedAt: action.updated_at.toISOString(),
  };
}

export interface ImprovementFilter {
  status?: ImprovementStatus;
  owner?: string;
  sourceType?: string;
  sourceId?: string;
  serviceId?: string;
  overdue?: boolean;
}

export async function listImprovementActions(db: Kysely<Database>, filter: ImprovementFilter, page: PageRequest) {
  let query = db.selectFrom('improvement_actions').selectAll();
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.owner) query = query.where('owner', '=', filter.owner);
  if (filter.sourceType) query = query.where('source_type', '=', filter.sourceType);
  if (filter.sourceId) query = query.where('source_id', '=', filter.sourceId);
  if (filter.serviceId) query = query.where('service_id', '=', filter.serviceId);
  if (filter.overdue) query = query.where('status', 'not in', ['done', 'cancelled']).where('due_at', '<', new Date());
  return pageOf(await keysetPage(query, page).execute(), page.limit);
}

/** The actions a review raised, highest risk first. */
export function actionsOfReview(db: Kysely<Database>, reviewId: string) {
  return db
    .selectFrom('improvement_actions')
    .selectAll()
    .where('source_type', '=', 'security_review')
    .where('source_id', '=', reviewId)
    .orderBy(sql`risk_score desc nulls last`)
    .orderBy('deviation_key')
    .execute();
}

/** Progress on an action: by its owner or the Security Manager. */
export async function updateImprovementAction(
  db: Kysely<Database>,
  id: string,
  changes: { status?: ImprovementStatus; progress?: string; dueAt?: string },
  actor: Actor,
) {
  return auditedTransaction(db, async (trx) => {
    const current = await trx.selectFrom('improvement_actions').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
    if (!current) throw new Refusal('not_found', `improvement action ${id} does not exist`);
    if (!keepsRegister(actor) && current.owner !== actor.principalId)
      throw new Refusal('forbidden', 'only the action owner or the Security Manager may update it');
    if (changes.dueAt !== undefined && !keepsRegister(actor))
      throw new Refusal('forbidden', 'only the Security Manager may move a due date', 'dueAt');
    const updated = await trx
      .updateTable('improvement_actions')
      .set({
        ...(changes.status ? { status: changes.status } : {}),
        ...(changes.progress !== undefined ? { progress: changes.progress } : {}),
        ...(changes.dueAt ? { due_at: changes.dueAt } : {}),
        updated_at: new Date(),
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await appendAudit(trx, {
      actor: actor.principalId,
      action: 'improvement_action.updated',
      subjectType: 'improvement_action',
      subjectId: id,
      details: { changes: changedFields(toPlannedAction(current), toPlannedAction(updated)) },
    });
    return updated;
  });
}
