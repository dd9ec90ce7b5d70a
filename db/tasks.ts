import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { OpenTaskRecord, TaskDecision } from '../domain/human-task';
import { systemActor, type Actor } from '../domain/roles';
import { auditedWrite } from './audit';
import { json } from './create-db';
import type { Database, HumanTask } from './database';

/** Roles that oversee the process and may read every task. */
const oversightRoles = ['admin', 'security_manager', 'auditor'];

function oversees(actor: Actor) {
  return actor.roles.some((role) => oversightRoles.includes(role));
}

/**
 * Roles whose authority comes from what a person owns, not from a process: a service owner acts on
 * the records of their own services and CIs (or when a task names them), never on another owner's.
 * Process roles (analyst, change manager, reviewer, tester) act on every record of their process.
 */
export const recordScopedRoles = ['service_owner', 'reporter'];

/** The person owns one of the CIs in `cis` (a uuid[] or text[] expression), or the service of one. */
function ownsCi(principalId: string, cis: RawBuilder<unknown>) {
  return sql<boolean>`exists (select 1 from configuration_items ci left join services s on s.id = ci.service_id
    where ci.id::text = any(${cis}::text[]) and (ci.owner = ${principalId} or s.owner = ${principalId}))`;
}

/**
 * The task's record is the person's: they own an affected CI or its service (incidents, changes,
 * security alerts, access requests and reviews), the tested control or its CIs (test runs), a
 * remediation (advisories) or the policy. Records of other kinds belong to no owner.
 */
function ownsSubject(principalId: string) {
  const subject = sql.ref('human_tasks.subject_id');
  return sql<boolean>`(case human_tasks.subject_type
    when 'incident' then exists (select 1 from incidents r where r.id::text = ${subject}
      and (r.reported_by = ${principalId} or ${ownsCi(principalId, sql`r.affected_cis`)}))
    when 'change' then exists (select 1 from changes r where r.id::text = ${subject} and ${ownsCi(principalId, sql`r.affected_cis`)})
    when 'security-alert' then exists (select 1 from security_alerts r where r.id::text = ${subject}
      and (${ownsCi(principalId, sql`r.affected_cis`)}
        or exists (select 1 from services s where s.id::text = any(r.affected_services::text[]) and s.owner = ${principalId})))
    when 'test-run' then exists (select 1 from test_runs r join controls c on c.id = r.control_id where r.id::text = ${subject}
      and (c.owner = ${principalId} or ${ownsCi(principalId, sql`c.ci_ids`)}))
    when 'access_request' then exists (select 1 from access_requests r where r.id::text = ${subject}
      and ${ownsCi(principalId, sql`array[r.ci_id]`)})
    when 'access_review' then exists (select 1 from access_review_campaigns r where r.id::text = ${subject}
      and ${ownsCi(principalId, sql`r.ci_ids`)})
    when 'advisory' then exists (select 1 from advisory_remediations r where r.advisory_id::text = ${subject} and r.owner = ${principalId})
    when 'policy' then exists (select 1 from policies r where r.id::text = ${subject} and r.owner = ${principalId})
    else false end)`;
}

/**
 * Who may act on an open task, and so see it: a person it names, or one holding an allowed role —
 * a process role anywhere, a record-scoped role (service owner) only on their own records.
 */
function mayDecide(actor: Actor) {
  const processRoles = actor.roles.filter((role) => !recordScopedRoles.includes(role));
  const scopedRoles = actor.roles.filter((role) => recordScopedRoles.includes(role));
  return sql<boolean>`(${actor.principalId} = any(assignees)
    or allowed_roles && ${processRoles}::text[]
    or (allowed_roles && ${scopedRoles}::text[] and ${ownsSubject(actor.principalId)}))`;
}

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

/**
 * A task is visible to the oversight roles, its requester, and those who may decide it (see
 * `mayDecide`): per record, in SQL, so a list, a lookup and a decision agree.
 */
function visibleTo(actor: Actor) {
  if (oversees(actor)) return sql<boolean>`true`;
  return sql<boolean>`(${mayDecide(actor)} or requester = ${actor.principalId})`;
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
      .where(
        oversees(actor)
          ? sql<boolean>`(allowed_roles && ${actor.roles}::text[] or ${actor.principalId} = any(assignees))`
          : mayDecide(actor),
      )
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

/** Records a task the workflow opened. Safe to retry: the task id comes from the workflow, and a second insert does nothing. */
export async function openTask(db: Kysely<Database>, task: OpenTaskRecord): Promise<void> {
  await auditedWrite(db, async (trx) => {
    const inserted = await trx
      .insertInto('human_tasks')
      .values({
        id: task.taskId,
        workflow_id: task.workflowId,
        kind: task.kind,
        subject_type: task.subject.type,
        subject_id: task.subject.id,
        title: task.title,
        details: json(task.details),
        allowed_roles: task.allowedRoles,
        assignees: task.assignees,
        allowed_outcomes: task.outcomes,
        requester: task.requester,
        forbid_self_decision: task.forbidSelfDecision,
        approvals_required: task.approvalsRequired,
        approve_outcome: task.approveOutcome,
        status: 'open',
        deadline_at: task.deadlineAt,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    return (
      inserted && {
        actor: systemActor.principalId,
        action: 'task.opened',
        subjectType: task.subject.type,
        subjectId: task.subject.id,
        details: {
          taskId: task.taskId,
          kind: task.kind,
          allowedRoles: task.allowedRoles,
          assignees: task.assignees,
          deadlineAt: task.deadlineAt,
        },
      }
    );
  });
}

/**
 * Appends a decision to an open task, closing it when the decision does. Safe to retry: a decision
 * is appended only if this principal's decision at that time is not there yet.
 */
export async function appendTaskDecision(
  db: Kysely<Database>,
  input: { taskId: string; decision: TaskDecision; closes: boolean },
): Promise<void> {
  const { decision } = input;
  await auditedWrite(db, async (trx) => {
    const updated = await trx
      .updateTable('human_tasks')
      .set({
        decisions: sql`decisions || ${json([decision])}::jsonb`,
        ...(input.closes ? { status: 'decided' as const, outcome: decision.outcome, closed_at: new Date(decision.at) } : {}),
      })
      .where('id', '=', input.taskId)
      .where('status', '=', 'open')
      .where(sql<boolean>`not decisions @> ${json([{ principalId: decision.principalId, at: decision.at }])}::jsonb`)
      .returning(['subject_type', 'subject_id', 'kind'])
      .executeTakeFirst();
    return (
      updated && {
        actor: decision.principalId,
        action: input.closes ? 'task.decided' : 'task.approval_recorded',
        subjectType: updated.subject_type,
        subjectId: updated.subject_id,
        details: { taskId: input.taskId, kind: updated.kind, outcome: decision.outcome, comment: decision.comment, data: decision.data },
      }
    );
  });
}

/** Widens who may decide a task past its deadline. Safe to retry: the level only moves from `level - 1` to `level`. */
export async function escalateTask(
  db: Kysely<Database>,
  input: { taskId: string; level: number; allowedRoles: string[]; assignees: string[]; deadlineAt: string | null },
): Promise<void> {
  await auditedWrite(db, async (trx) => {
    const updated = await trx
      .updateTable('human_tasks')
      .set({
        escalation_level: input.level,
        allowed_roles: input.allowedRoles,
        assignees: input.assignees,
        deadline_at: input.deadlineAt,
      })
      .where('id', '=', input.taskId)
      .where('escalation_level', '=', input.level - 1)
      .returning(['subject_type', 'subject_id', 'kind'])
      .executeTakeFirst();
    return (
      updated && {
        actor: systemActor.principalId,
        action: 'task.escalated',
        subjectType: updated.subject_type,
        subjectId: updated.subject_id,
        details: {
          taskId: input.taskId,
          kind: updated.kind,
          level: input.level,
          allowedRoles: input.allowedRoles,
          assignees: input.assignees,
          deadlineAt: input.deadlineAt,
        },
      }
    );
  });
}

/** Closes a task nobody decided (expired, or no longer needed). Safe to retry: only an open task closes. */
export async function closeTask(
  db: Kysely<Database>,
  input: { taskId: string; status: 'expired' | 'cancelled'; outcome: string | null; reason: string },
): Promise<void> {
  await auditedWrite(db, async (trx) => {
    const updated = await trx
      .updateTable('human_tasks')
      .set({ status: input.status, outcome: input.outcome, closed_at: new Date() })
      .where('id', '=', input.taskId)
      .where('status', '=', 'open')
      .returning(['subject_type', 'subject_id', 'kind'])
      .executeTakeFirst();
    return (
      updated && {
        actor: systemActor.principalId,
        action: `task.${input.status}`,
        subjectType: updated.subject_type,
        subjectId: updated.subject_id,
        details: { taskId: input.taskId, kind: updated.kind, outcome: input.outcome, reason: input.reason },
      }
    );
  });
}
