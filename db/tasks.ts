import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { OpenTaskRecord, TaskDecision } from '../domain/human-task';
import { systemActor, type Actor } from '../domain/roles';
import { type AuditInput, auditedWrite, auditedWriteOfKnownEvent } from './audit';
import { compiledPerShape, everyColumn } from './compiled-statements';
import { json } from './create-db';
import type { Database, HumanTask, HumanTasksTable } from './database';
import { keysetRows } from './pagination';

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
 * The actor as the visibility rules read them. In a statement compiled once (`compiledPerShape`) its
 * fields are placeholders, so the rules take them rather than the actor.
 */
interface Standing {
  principalId: string;
  processRoles: string[];
  scopedRoles: string[];
}

function standingOf(actor: Actor): Standing {
  return {
    principalId: actor.principalId,
    processRoles: actor.roles.filter((role) => !recordScopedRoles.includes(role)),
    scopedRoles: actor.roles.filter((role) => recordScopedRoles.includes(role)),
  };
}

/**
 * Who may act on an open task, and so see it: a person it names, or one holding an allowed role —
 * a process role anywhere, a record-scoped role (service owner) only on their own records.
 */
function mayDecide({ principalId, processRoles, scopedRoles }: Standing) {
  return sql<boolean>`(${principalId} = any(assignees)
    or allowed_roles && ${processRoles}::text[]
    or (allowed_roles && ${scopedRoles}::text[] and ${ownsSubject(principalId)}))`;
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
function visibleTo(oversight: boolean, standing: Standing) {
  if (oversight) return sql<boolean>`true`;
  return sql<boolean>`(${mayDecide(standing)} or requester = ${standing.principalId})`;
}

/** Which of the list's conditions a request has, and whether its actor oversees: what its statement's text depends on. */
interface TaskListShape {
  oversees: boolean;
  status: boolean;
  role: boolean;
  subjectType: boolean;
  subjectId: boolean;
  mine: boolean;
  after: boolean;
}

/** The values that go into the list's statement. */
interface TaskListValues extends Standing {
  roles: string[];
  status?: HumanTask['status'];
  role?: string;
  subjectType?: string;
  subjectId?: string;
  afterPosition?: string;
  afterId?: string;
  /** The page and one row beyond it. */
  rows: number;
}

const taskColumns = everyColumn<HumanTasksTable>({
  id: true,
  workflow_id: true,
  kind: true,
  subject_type: true,
  subject_id: true,
  title: true,
  details: true,
  allowed_roles: true,
  assignees: true,
  allowed_outcomes: true,
  requester: true,
  forbid_self_decision: true,
  approvals_required: true,
  approve_outcome: true,
  status: true,
  deadline_at: true,
  escalation_level: true,
  outcome: true,
  decisions: true,
  created_at: true,
  closed_at: true,
});

// Built once per shape: the visibility rule alone is some forty nodes Kysely would build and compile
// on every GET /tasks (docs/performance.md, the incident list's statement).
const taskListStatement = compiledPerShape<TaskListShape, TaskListValues, HumanTask>((db, shape, value) => {
  const standing = { principalId: value('principalId'), processRoles: value('processRoles'), scopedRoles: value('scopedRoles') };
  let query = db.selectFrom('human_tasks').select(taskColumns).where(visibleTo(shape.oversees, standing));
  if (shape.status) query = query.where('status', '=', value('status'));
  if (shape.role) query = query.where(sql<boolean>`${value('role')} = any(allowed_roles)`);
  if (shape.subjectType) query = query.where('subject_type', '=', value('subjectType'));
  if (shape.subjectId) query = query.where('subject_id', '=', value('subjectId'));
  if (shape.mine) {
    query = query
      .where('status', '=', 'open')
      .where(
        shape.oversees
          ? sql<boolean>`(allowed_roles && ${value('roles')}::text[] or ${standing.principalId} = any(assignees))`
          : mayDecide(standing),
      )
      .where(sql<boolean>`not (forbid_self_decision and requester is not distinct from ${standing.principalId})`);
  }
  const after = shape.after ? { createdAt: value('afterPosition'), id: value('afterId') } : undefined;
  return keysetRows(query, 'asc', value('rows'), after);
});

export function listTasks(db: Kysely<Database>, actor: Actor, filter: TaskFilter): Promise<HumanTask[]> {
  const shape: TaskListShape = {
    oversees: oversees(actor),
    status: Boolean(filter.status),
    role: Boolean(filter.role),
    subjectType: Boolean(filter.subjectType),
    subjectId: Boolean(filter.subjectId),
    mine: Boolean(filter.mine),
    after: filter.after !== undefined,
  };
  return taskListStatement(db, shape, {
    ...standingOf(actor),
    roles: actor.roles,
    status: filter.status,
    role: filter.role,
    subjectType: filter.subjectType,
    subjectId: filter.subjectId,
    afterPosition: filter.after?.createdAt,
    afterId: filter.after?.id,
    rows: filter.limit + 1,
  });
}

// Built once for each of the two shapes: every decision and task page reads its task through it.
const visibleTaskStatement = compiledPerShape<{ oversees: boolean }, Standing & { id: string }, HumanTask>((db, shape, value) => {
  const standing = { principalId: value('principalId'), processRoles: value('processRoles'), scopedRoles: value('scopedRoles') };
  return db.selectFrom('human_tasks').select(taskColumns).where('id', '=', value('id')).where(visibleTo(shape.oversees, standing));
});

export async function findVisibleTask(db: Kysely<Database>, actor: Actor, id: string): Promise<HumanTask | undefined> {
  const [task] = await visibleTaskStatement(db, { oversees: oversees(actor) }, { ...standingOf(actor), id });
  return task;
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
  await auditedWriteOfKnownEvent(
    db,
    sql`insert into human_tasks (id, workflow_id, kind, subject_type, subject_id, title, details, allowed_roles, assignees,
                                 allowed_outcomes, requester, forbid_self_decision, approvals_required, approve_outcome,
                                 status, deadline_at)
        values (${task.taskId}, ${task.workflowId}, ${task.kind}, ${task.subject.type}, ${task.subject.id}, ${task.title},
                ${json(task.details)}, ${task.allowedRoles}, ${task.assignees}, ${task.outcomes}, ${task.requester},
                ${task.forbidSelfDecision}, ${task.approvalsRequired}, ${task.approveOutcome}, 'open', ${task.deadlineAt})
        on conflict (id) do nothing
        returning id`,
    {
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
    },
  );
}

/** A decision the task's workflow accepted, to record on its row. */
export interface TaskDecisionRecord {
  taskId: string;
  decision: TaskDecision;
  closes: boolean;
  /** The task's record and kind as its workflow knows them, when it passes them. */
  expected?: { subject: { type: string; id: string }; kind: string };
}

/**
 * Appends a decision to an open task, closing it when the decision does. Safe to retry: a decision
 * is appended only if this principal's decision at that time is not there yet.
 *
 * The workflow passes the task's record and kind, so the event is known before the write and both
 * go in one statement. When the row no longer matches them (its task moved to another incident on a
 * merge) or nothing was written (a retry), the row is read as it is, in a transaction of its own.
 */
export async function appendTaskDecision(db: Kysely<Database>, input: TaskDecisionRecord): Promise<void> {
  const { expected } = input;
  if (expected && (await auditedWriteOfKnownEvent(db, decisionAppended(input, expected), decisionEvent(input, expected)))) return;
  await auditedWrite(db, async (trx) => {
    const { rows } = await decisionAppended(input).execute(trx);
    const updated = rows[0];
    return updated && decisionEvent(input, { subject: { type: updated.subject_type, id: updated.subject_id }, kind: updated.kind });
  });
}

/** The decision appended to the task's row, if it is open, does not hold it yet and (when given) is on `expected`. */
function decisionAppended({ taskId, decision, closes }: TaskDecisionRecord, expected?: TaskDecisionRecord['expected']) {
  return sql<{ subject_type: string; subject_id: string; kind: string }>`
    update human_tasks
       set decisions = decisions || ${json([decision])}::jsonb
           ${closes ? sql`, status = 'decided', outcome = ${decision.outcome}, closed_at = ${new Date(decision.at)}` : sql``}
     where id = ${taskId} and status = 'open'
       and not decisions @> ${json([{ principalId: decision.principalId, at: decision.at }])}::jsonb
       ${expected ? sql`and subject_type = ${expected.subject.type} and subject_id = ${expected.subject.id} and kind = ${expected.kind}` : sql``}
    returning subject_type, subject_id, kind`;
}

function decisionEvent({ taskId, decision, closes }: TaskDecisionRecord, task: NonNullable<TaskDecisionRecord['expected']>): AuditInput {
  return {
    actor: decision.principalId,
    action: closes ? 'task.decided' : 'task.approval_recorded',
    subjectType: task.subject.type,
    subjectId: task.subject.id,
    details: { taskId, kind: task.kind, outcome: decision.outcome, comment: decision.comment, data: decision.data },
  };
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
