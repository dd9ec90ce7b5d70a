import { sql, type Kysely } from 'kysely';
import type { Actor } from '../domain/roles';
import type { Database, HumanTask } from './database';

/** Roles that oversee the process and may read every task. */
const oversightRoles = ['admin', 'security_manager', 'auditor'];

export interface TaskFilter {
  status?: HumanTask['status'];
  role?: string;
  /** Only open tasks this actor may decide now. */
  mine?: boolean;
  subjectType?: string;
  subjectId?: string;
  limit: number;
  after?: { createdAt: string; id: string };
}

/** A task is visible to those who may decide it, its requester, and the oversight roles. */
function visibleTo(actor: Actor) {
  if (actor.roles.some((role) => oversightRoles.includes(role))) return sql<boolean>`true`;
  return sql<boolean>`(allowed_roles && ${actor.roles}::text[] or ${actor.principalId} = any(assignees) or requester = ${actor.principalId})`;
}

export async function listTasks(db: Kysely<Database>, actor: Actor, filter: TaskFilter): Promise<HumanTask[]> {
  let query = db.selectFrom('human_tasks').selectAll().where(visibleTo(actor));
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.role) query = query.where(sql<boolean>`${filter.role} = any(allowed_roles)`);
  if (filter.subjectType) query = query.where('subject_type', '=', filter.subjectType);
  if (filter.subjectId) query = query.where('subject_id', '=', filter.subjectId);
  if (filter.mine) {
    query = query
      .where('status', '=', 'open')
      .where(sql<boolean>`(allowed_roles && ${actor.roles}::text[] or ${actor.principalId} = any(assignees))`)
      .where(sql<boolean>`not (forbid_self_decision and requester is not distinct from ${actor.principalId})`);
  }
  if (filter.after) {
    query = query.where(sql<boolean>`(created_at, id) > (${filter.after.createdAt}::timestamptz, ${filter.after.id}::uuid)`);
  }
  return query
    .orderBy('created_at')
    .orderBy('id')
    .limit(filter.limit + 1)
    .execute();
}

export async function findVisibleTask(db: Kysely<Database>, actor: Actor, id: string): Promise<HumanTask | undefined> {
  return db.selectFrom('human_tasks').selectAll().where('id', '=', id).where(visibleTo(actor)).executeTakeFirst();
}

export async function findTask(db: Kysely<Database>, id: string): Promise<HumanTask | undefined> {
  return db.selectFrom('human_tasks').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Every task about one record, oldest first: its page shows them all, closed ones with their decisions. */
export function tasksOfSubject(db: Kysely<Database>, subject: { type: string; id: string }): Promise<HumanTask[]> {
  return db
    .selectFrom('human_tasks')
    .selectAll()
    .where('subject_type', '=', subject.type)
    .where('subject_id', '=', subject.id)
    .orderBy('created_at')
    .execute();
}
