import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { canonicalJson, recordAudit } from '../db/audit';
import {
  claimOrFindIdempotencyKey,
  completeIdempotencyKey,
  type IdempotencyKeyName,
  releaseIdempotencyKey,
  type StoredIdempotencyKey,
} from '../db/idempotency-keys';
import { findTask, findVisibleTask } from '../db/tasks';
import type { HumanTask } from '../db/database';
import { refusalTypes, type DecisionResult } from '../domain/human-task';
import { checkTaskData } from '../domain/task-forms';
import type { Actor } from '../domain/roles';
import type { DecisionBody } from '../schemas/tasks';
import { decideUpdate } from '../workflows/human-task.definitions';
import { conflict, forbidden, invalid, notFound, unavailable } from './problem';
import { updateRefusal } from './update-refusal';

/** Idempotency keys of decisions live in their own scope of the one key table. */
export const decisionIdempotencyScope = 'decision';

/** How long a client waits before retrying a decision the workflow cannot take yet. */
const notRegisteredRetryAfterSeconds = 2;

/** What a decision's idempotency key stores: the request, then its answer once it has one. */
interface StoredDecision {
  taskId: string;
  decision: DecisionBody;
  result?: DecisionResult;
}

/**
 * The one way a person decides a task, for the JSON API and the web inbox alike.
 *
 * - A role is not enough on another owner's record: a service owner deciding a task on a service
 *   or CI they do not own (and not assigned to them) is refused with 403, audited, before the
 *   workflow is asked. Everything else about who may decide is the workflow's answer.
 * - The decision's data must fit the form the task's kind declares (`domain/task-forms.ts`): a 400
 *   naming each field, before anything is stored or sent.
 * - The task's workflow validates the decision in its `decide` Update; a refusal is audited (it
 *   leaves no workflow history) and thrown as a problem with the validator's reason.
 * - A task whose row exists but which its workflow does not know yet (a worker crashed between
 *   recording it and the workflow's next task) is a 503 to retry, not a refusal.
 * - A decision is idempotent by its content: the same principal sending the same outcome, comment
 *   and data again, with or without an `Idempotency-Key`, after it took effect is answered what it
 *   was answered then (the task row holds every accepted decision). So a client retrying after a
 *   lost answer gets 200, and a 503 means the outcome is really unknown: Temporal went away during
 *   the Update and the row does not show the decision (yet), or PostgreSQL cannot say.
 * - With an `Idempotency-Key`, a retry of a decision that succeeded answers the same result; a retry
 *   while the first is in flight joins it (the key is the Update's id, which Temporal deduplicates).
 *   The key is claimed in the same round trip as the task is read, and given back when the decision
 *   is refused before the workflow is asked (a 4xx), so the key can carry a corrected request.
 */
export async function decideTask(
  app: FastifyInstance,
  actor: Actor,
  taskId: string,
  decision: DecisionBody,
  idempotencyKey?: string,
): Promise<DecisionResult> {
  const name = idempotencyKey ? { scope: decisionIdempotencyScope, principalId: actor.principalId, key: idempotencyKey } : undefined;
  const fingerprint = name ? createHash('sha256').update(canonicalJson({ taskId, decision })).digest('hex') : null;
  // Side by side: the key, claimed or found as an earlier request left it, and the task as the actor sees it.
  const [key, visible] = await Promise.all([
    name ? claimOrFindIdempotencyKey(app.db, { ...name, resourceId: taskId, request: { taskId, decision }, fingerprint }) : undefined,
    findVisibleTask(app.db, actor, taskId),
  ]);
  const earlier = name && key && !key.claimed ? storedDecision(name, key.stored, fingerprint) : undefined;
  if (earlier?.result) return earlier.result;

  let task: HumanTask;
  try {
    task = visible ?? (await taskNotVisible(app, actor, taskId, decision));
    const repeated = earlierAnswer(task, actor, decision);
    if (repeated) return repeated;
    if (task.status !== 'open') throw conflict(`the task is already ${task.status}${task.outcome ? ` (${task.outcome})` : ''}`);
    // What the task's form declares (domain/task-forms.ts), checked here as the inbox renders it.
    const dataErrors = checkTaskData(task.kind, task.details, decision.data);
    if (dataErrors.length) throw invalid(dataErrors.map((error) => ({ ...error, path: `body.${error.path}` })));
  } catch (refused) {
    // Refused before the workflow was asked: the key was not used, and may carry a corrected request.
    if (name && key?.claimed) {
      await releaseIdempotencyKey(app.db, name).catch((error: unknown) =>
        app.log.warn({ err: error, taskId }, 'a refused decision could not give its idempotency key back'),
      );
    }
    throw refused;
  }

  const { principalId, roles } = actor;
  let result: DecisionResult;
  try {
    result = await app.temporal.client.workflow.getHandle(task.workflow_id).executeUpdate(decideUpdate, {
      args: [{ taskId: task.id, actor: { principalId, roles }, ...decision }],
      ...(name ? { updateId: `decision/${createHash('sha256').update(`${principalId}\n${name.key}`).digest('hex').slice(0, 32)}` } : {}),
    });
  } catch (error) {
    const refusal = updateRefusal(error, 'the workflow that owned this task has finished');
    if (!refusal || refusal.type === refusalTypes.closed) {
      // Temporal went away mid-Update, or a concurrent repeat of this decision closed the task: if
      // the row shows this decision it took effect, and that is the answer. Unreadable, unknown.
      const taken = await findTask(app.db, taskId).then(
        (row) => row && earlierAnswer(row, actor, decision),
        () => undefined,
      );
      if (taken) return taken;
    }
    if (!refusal) throw error;
    if (refusal.type === refusalTypes.notFound && (await findTask(app.db, taskId))?.status === 'open') {
      // The row is open but the workflow has not registered the task: it will once its worker
      // replays. Not a refusal, so not audited as one.
      throw unavailable('the task is not ready for decisions yet; retry shortly', notRegisteredRetryAfterSeconds);
    }
    const { problem } = refusal;
    await auditRefusal(app, actor, task, decision, { status: problem.status, type: refusal.type, detail: problem.detail });
    throw problem;
  }
  if (name) {
    // The decision took effect and the task row holds it, so the answer does not wait for the key:
    // a retry that finds the key without its answer reads the row and answers the same (the repeat).
    void completeIdempotencyKey(app.db, name, { taskId, decision, result } satisfies StoredDecision).catch((error: unknown) =>
      app.log.warn({ err: error, taskId }, 'the decision took effect but its idempotency key could not be completed'),
    );
  }
  return result;
}

/**
 * A task the actor may not see: a 404 when it does not exist, and a 403, audited, when their role
 * fits but the record is another owner's (the workflow knows roles, not owners). Any other task goes
 * on to the workflow's validator, which refuses it with its own reason.
 */
async function taskNotVisible(app: FastifyInstance, actor: Actor, taskId: string, decision: DecisionBody): Promise<HumanTask> {
  const task = await findTask(app.db, taskId);
  if (!task) throw notFound('task', taskId);
  if (holdsAllowedRole(actor, task)) {
    const problem = forbidden('this task is on a record that is not yours (no service or CI of yours) and is not assigned to you');
    await auditRefusal(app, actor, task, decision, { status: 403, type: 'NotYourRecord', detail: problem.detail });
    throw problem;
  }
  return task;
}

/**
 * What the workflow answered when it accepted this same decision (principal, outcome, comment and
 * data) on this task, rebuilt from the row as `HumanTasks.accept` built it; undefined when the task
 * holds no such decision. Only the first matching decision counts: a principal's decisions on one
 * task never repeat, since the validator refuses a second approval by the same person.
 */
function earlierAnswer(task: HumanTask, actor: Actor, decision: DecisionBody): DecisionResult | undefined {
  const content = canonicalJson({ outcome: decision.outcome, comment: decision.comment ?? null, data: decision.data ?? null });
  const index = task.decisions.findIndex(
    (earlier) =>
      earlier.principalId === actor.principalId &&
      canonicalJson({ outcome: earlier.outcome, comment: earlier.comment, data: earlier.data }) === content,
  );
  if (index < 0) return undefined;
  const approving = task.approve_outcome !== null && decision.outcome === task.approve_outcome;
  // Approvals up to this decision, itself included when it is one; a task without four eyes has none.
  const approvals = task.decisions.slice(0, index + 1).filter((earlier) => earlier.outcome === task.approve_outcome).length;
  const closes = !approving || approvals >= task.approvals_required;
  return {
    taskId: task.id,
    status: closes ? 'decided' : 'awaiting_approval',
    outcome: decision.outcome,
    approvals,
    approvalsRequired: task.approvals_required,
  };
}

function holdsAllowedRole(actor: Actor, task: HumanTask) {
  return actor.roles.some((role) => task.allowed_roles.includes(role));
}

/** What an earlier request with this key stored, unless it was a different request (409). */
function storedDecision(name: IdempotencyKeyName, row: StoredIdempotencyKey, fingerprint: string | null): StoredDecision {
  if (row.fingerprint !== fingerprint) {
    throw conflict(`Idempotency-Key ${JSON.stringify(name.key)} was already used for a different request`);
  }
  return row.request as StoredDecision;
}

async function auditRefusal(
  app: FastifyInstance,
  actor: Actor,
  task: HumanTask,
  decision: DecisionBody,
  refusal: { status: number; type: string; detail: string },
) {
  await recordAudit(app.db, {
    actor: actor.principalId,
    action: 'task.decision_refused',
    subjectType: task.subject_type,
    subjectId: task.subject_id,
    // The refusal's type, not its wording, is what measures count (e.g. refused self-approvals).
    details: {
      taskId: task.id,
      kind: task.kind,
      outcome: decision.outcome,
      status: refusal.status,
      refusal: refusal.type,
      reason: refusal.detail,
    },
  });
}
