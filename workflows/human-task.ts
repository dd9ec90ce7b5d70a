import {
  ApplicationFailure,
  condition,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { durationMs, type DurationText } from '../domain/duration';
import type { NotificationActivities } from '../activities/notifications';
import type { TaskActivities } from '../activities/tasks';
import {
  decisionInputFault,
  refusalTypes,
  type CarriedTask,
  type CarriedTasks,
  type DecisionRequest,
  type DecisionResult,
  type OpenTaskView,
  type RefusalType,
  type TaskDecision,
} from '../domain/human-task';
import type { Role } from '../domain/roles';
import { decideUpdate, openTasksQuery } from './human-task.definitions';

// Task bookkeeping is a short, idempotent PostgreSQL write on the decision's critical path: as a
// local activity it completes inside the workflow task that accepted the decision, saving two round
// trips through the server (see bench/). Retried until the database is back rather than lost; a
// refusal of the data itself fails at once (activities/permanent-failures.ts), and accept() undoes it.
const { openHumanTask, recordTaskDecision, escalateHumanTask, closeHumanTask } = proxyLocalActivities<TaskActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});
const { notify } = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

/**
 * How many escalations one run keeps before a workflow that bounds its history continues as new. An
 * escalation costs about a dozen events (timer, task record, notification), so a run stays in the
 * low hundreds of events however long nobody answers; the server's own suggestion also counts.
 */
export const escalationsPerRun = 10;
/** Marks histories in which tasks park at the bound instead of escalating, so older ones replay as they ran. */
export const boundedHistoriesPatch = 'human-tasks-continue-as-new';
/** Closed task ids carried to the next run, newest last: enough to tell a late decision "closed". */
const closedIdsCarried = 100;

export interface EscalationStep {
  /** Roles added to those who may decide. */
  addRoles?: Role[];
  /** Principals added to those who may decide (the control owner when a test is overdue). */
  addAssignees?: string[];
  /** Roles told that the task is overdue (the task's current deciders are told anyway). */
  notifyRoles?: Role[];
  /** The next deadline, counted from the escalation. */
  extendBy: DurationText;
}

export interface HumanTaskSpec {
  kind: string;
  /**
   * The workflow's stable name for this task (`acknowledge`, `remediation:<ciId>`). A task carried
   * over continue-as-new under this key is resumed by `run` (same id, level, deciders, decisions so
   * far) instead of being opened and announced again. Only keyed tasks can be carried.
   */
  key?: string;
  title: string;
  details?: Record<string, unknown>;
  subject: { type: string; id: string };
  allowedRoles: Role[];
  /** Principals who may decide whatever their roles (the CI owner, a named tester). */
  assignees?: string[];
  outcomes: string[];
  /** The principal whose request this is; with `forbidSelfDecision` (the default) they may never decide. */
  requester?: string;
  forbidSelfDecision?: boolean;
  /** Further principals who may never decide (the beneficiary of an access request). */
  excluded?: string[];
  /** Four-eyes: this outcome needs two different people; any other outcome closes the task at once. */
  fourEyes?: { approveOutcome: string };
  deadline?: DurationText;
  escalations?: EscalationStep[];
  /** Keep escalating with the last step until someone decides (an unacknowledged incident). */
  repeatLastEscalation?: boolean;
  /** After the last deadline the task closes with this outcome; without it, it waits indefinitely. */
  expireWith?: string;
  /** A rule of the calling workflow, checked in the validator: a reason to refuse, or undefined. */
  guard?: (decision: DecisionRequest) => string | undefined;
  drill?: boolean;
  /** What the deciders are told besides the title: the threat and what to do (a security alert). */
  message?: string;
}

export interface TaskResult {
  taskId: string;
  outcome: string;
  expired: boolean;
  /** Every decision in order; with four-eyes both approvers are here. */
  decisions: TaskDecision[];
  /** The closing decision's data (the tester's evidence, the analyst's triage), if any. */
  data: Record<string, unknown> | null;
  decidedBy: string[];
  /** How many times the deadline passed and the task escalated before it closed. */
  escalations: number;
}

interface OpenTask {
  id: string;
  key?: string;
  spec: HumanTaskSpec;
  allowedRoles: Role[];
  assignees: string[];
  excluded: string[];
  approvals: TaskDecision[];
  decisions: TaskDecision[];
  escalationLevel: number;
  /** Set synchronously when a closing decision is accepted, so a concurrent one is refused. */
  closing: boolean;
  /** Waiting for a decision or its deadline, with no activity of its own running: safe to carry. */
  waiting: boolean;
  /** When the current deadline passes (workflow time, ms), or null without one. */
  deadlineAt: number | null;
  result?: TaskResult;
}

function refuse(type: RefusalType, message: string): never {
  throw ApplicationFailure.create({ type, message, nonRetryable: true });
}

/**
 * Every human step of every workflow goes through here: a task is recorded, people decide through
 * the `decide` Update (validated before it is accepted, so a refusal leaves no history), deadlines
 * escalate, and the outcome is recorded. Construct one per workflow before its first await.
 */
export class HumanTasks {
  private readonly open = new Map<string, OpenTask>();
  private readonly closed = new Set<string>();
  /** Tasks the previous run handed over, by key, until the workflow asks for them again. */
  private readonly carried = new Map<string, CarriedTask>();
  private readonly bounded: boolean;
  private escalationsThisRun = 0;
  private full = false;

  /**
   * `carried` resumes the previous run's open tasks; `boundHistory` makes tasks stop escalating once
   * this run has escalated `escalationsPerRun` times (or the server suggests it), so the workflow can
   * continue as new (see `readyToContinueAsNew`). A workflow that never continues as new leaves it off.
   */
  constructor(options: { carried?: CarriedTasks; boundHistory?: boolean } = {}) {
    for (const task of options.carried?.open ?? []) this.carried.set(task.key, task);
    for (const taskId of options.carried?.closed ?? []) this.closed.add(taskId);
    this.bounded = options.boundHistory ?? false;
    setHandler(decideUpdate, (request) => this.accept(request), {
      validator: (request) => {
        // Only in the validator: the input cannot change between validation and the handler, and
        // histories accepted before this check replay through the handler unchanged.
        const fault = decisionInputFault(request);
        if (fault) {
          throw ApplicationFailure.create({
            type: refusalTypes.invalidInput,
            message: `${fault.path}: ${fault.message}`,
            details: [fault.path],
            nonRetryable: true,
          });
        }
        this.validate(request);
      },
    });
    setHandler(openTasksQuery, () => [...this.open.values()].map(view));
  }

  async run(spec: HumanTaskSpec): Promise<TaskResult> {
    const carried = spec.key === undefined ? undefined : this.carried.get(spec.key);
    if (carried) this.carried.delete(carried.key);
    const taskId = carried?.taskId ?? uuid4();
    const forbidSelf = spec.forbidSelfDecision ?? true;
    const task: OpenTask = carried
      ? {
          id: taskId,
          key: carried.key,
          spec,
          allowedRoles: carried.allowedRoles,
          assignees: carried.assignees,
          excluded: carried.excluded,
          approvals: carried.approvals,
          decisions: carried.decisions,
          escalationLevel: carried.escalationLevel,
          closing: false,
          waiting: false,
          deadlineAt: carried.deadlineAt === null ? null : Date.parse(carried.deadlineAt),
        }
      : {
          id: taskId,
          key: spec.key,
          spec,
          allowedRoles: [...spec.allowedRoles],
          assignees: [...(spec.assignees ?? [])],
          excluded: [...(spec.excluded ?? []), ...(forbidSelf && spec.requester ? [spec.requester] : [])],
          approvals: [],
          decisions: [],
          escalationLevel: 0,
          closing: false,
          waiting: false,
          deadlineAt: null,
        };
    this.open.set(taskId, task);
    // A carried task is recorded and its deciders told already; it waits out what is left of its deadline.
    let deadlineMs: number | undefined;
    if (carried) deadlineMs = task.deadlineAt === null ? undefined : Math.max(1, task.deadlineAt - Date.now());
    else deadlineMs = await this.announce(task, forbidSelf);

    while (!task.closing) {
      task.deadlineAt = deadlineMs === undefined ? null : Date.now() + deadlineMs;
      task.waiting = true;
      const decided = await condition(() => task.closing, deadlineMs);
      task.waiting = false;
      if (decided) break;
      const step = spec.escalations?.[task.escalationLevel] ?? (spec.repeatLastEscalation ? spec.escalations?.at(-1) : undefined);
      if (step && task.key !== undefined && this.historyBoundReached()) {
        // Parked: the deadline stays passed, so the next run escalates at once; a decision still closes it here.
        task.waiting = true;
        await condition(() => task.closing);
        task.waiting = false;
      } else if (step) {
        await this.escalate(task, step);
        deadlineMs = durationMs(step.extendBy);
      } else if (spec.expireWith !== undefined) {
        task.closing = true;
        task.result = {
          taskId,
          outcome: spec.expireWith,
          expired: true,
          decisions: task.decisions,
          data: null,
          decidedBy: [],
          escalations: task.escalationLevel,
        };
        await closeHumanTask({
          taskId,
          status: 'expired',
          outcome: spec.expireWith,
          reason: 'the last deadline passed without a decision',
        });
      } else {
        deadlineMs = undefined;
      }
    }
    // A closing decision's handler may still be recording it; the result is set once it has.
    await condition(() => task.result !== undefined);
    this.open.delete(taskId);
    this.closed.add(taskId);
    return task.result as TaskResult;
  }

  /**
   * True once this run has escalated as often as one run keeps (or the server suggests continuing):
   * tasks then park at their deadlines instead of escalating, and the workflow should continue as new.
   */
  historyFull(): boolean {
    return this.full;
  }

  /**
   * Every open task is waiting (no activity of its own running, no decision being recorded) and can
   * be carried: the moment to continue as new. The workflow adds its own conditions and
   * `allHandlersFinished`.
   */
  quiescent(): boolean {
    return [...this.open.values()].every((task) => task.waiting && !task.closing && task.key !== undefined);
  }

  /** An undecided task with this key is open in this run (not yet closing). */
  hasOpen(key: string): boolean {
    return [...this.open.values()].some((task) => task.key === key && !task.closing);
  }

  /** What the next run needs to go on deciding this run's open tasks; call only when `quiescent()`. */
  carry(): CarriedTasks {
    return {
      open: [...this.open.values()].map((task) => ({
        taskId: task.id,
        key: task.key as string,
        allowedRoles: task.allowedRoles,
        assignees: task.assignees,
        excluded: task.excluded,
        approvals: task.approvals,
        decisions: task.decisions,
        escalationLevel: task.escalationLevel,
        deadlineAt: task.deadlineAt === null ? null : new Date(task.deadlineAt).toISOString(),
      })),
      closed: [...this.closed].slice(-closedIdsCarried),
    };
  }

  private historyBoundReached(): boolean {
    if (this.bounded && !this.full && (this.escalationsThisRun >= escalationsPerRun || workflowInfo().continueAsNewSuggested)) {
      this.full = patched(boundedHistoriesPatch);
    }
    return this.full;
  }

  /** Records a new task and tells its deciders; answers its first deadline in ms. */
  private async announce(task: OpenTask, forbidSelf: boolean): Promise<number | undefined> {
    const { spec, id: taskId } = task;
    await openHumanTask({
      taskId,
      workflowId: workflowInfo().workflowId,
      kind: spec.kind,
      subject: spec.subject,
      title: spec.title,
      details: spec.details ?? {},
      allowedRoles: task.allowedRoles,
      assignees: task.assignees,
      outcomes: spec.outcomes,
      requester: spec.requester ?? null,
      forbidSelfDecision: forbidSelf,
      approvalsRequired: spec.fourEyes ? 2 : 1,
      approveOutcome: spec.fourEyes?.approveOutcome ?? null,
      deadlineAt: deadlineAt(spec.deadline),
    });
    await this.notifyDeciders(task, 'opened', `New task: ${spec.title}`);
    return spec.deadline ? durationMs(spec.deadline) : undefined;
  }

  /**
   * Takes over an open task recorded by another workflow and re-pointed to this one (a merge moving
   * it): `run` with its key then waits on it, with its deciders, decisions and deadline, without
   * recording or announcing it again.
   */
  adopt(task: CarriedTask): void {
    this.carried.set(task.key, task);
  }

  openTaskIds(): string[] {
    return [...this.open.keys()];
  }

  /** The id of the undecided task with this key open in this run (not yet closing), if there is one. */
  openTaskId(key: string): string | undefined {
    return [...this.open.values()].find((task) => task.key === key && !task.closing)?.id;
  }

  /** Closes tasks the workflow no longer needs (the incident was closed another way). */
  async cancel(taskId: string, reason: string): Promise<void> {
    const task = this.open.get(taskId);
    if (!task || task.closing) return;
    task.closing = true;
    task.result = {
      taskId,
      outcome: 'cancelled',
      expired: false,
      decisions: task.decisions,
      data: null,
      decidedBy: [],
      escalations: task.escalationLevel,
    };
    await closeHumanTask({ taskId, status: 'cancelled', outcome: null, reason });
  }

  private validate(request: DecisionRequest): void {
    const task = this.open.get(request.taskId);
    if (!task) {
      if (this.closed.has(request.taskId)) refuse(refusalTypes.closed, 'the task is already closed');
      refuse(refusalTypes.notFound, 'no open task with this id in this workflow');
    }
    if (task.closing) refuse(refusalTypes.closed, 'the task is already decided');
    const { spec } = task;
    if (!spec.outcomes.includes(request.outcome)) {
      refuse(refusalTypes.outcomeNotAllowed, `outcome must be one of: ${spec.outcomes.join(', ')}`);
    }
    const principal = request.actor.principalId;
    if (task.excluded.includes(principal)) {
      refuse(refusalTypes.ownRequest, 'you may not decide a task about your own request');
    }
    const assigned = task.assignees.includes(principal);
    if (!assigned && !request.actor.roles.some((role) => task.allowedRoles.includes(role))) {
      refuse(refusalTypes.notPermitted, `this task needs one of the roles: ${task.allowedRoles.join(', ') || '(assignees only)'}`);
    }
    if (spec.fourEyes && request.outcome === spec.fourEyes.approveOutcome && task.approvals.some((a) => a.principalId === principal)) {
      refuse(refusalTypes.sameApprover, 'four-eyes: the second approval must come from a different person');
    }
    const reason = spec.guard?.(request);
    if (reason) refuse(refusalTypes.refused, reason);
  }

  private async accept(request: DecisionRequest): Promise<DecisionResult> {
    // Re-checked here: another decision may have been accepted since this one was validated.
    this.validate(request);
    const task = this.open.get(request.taskId) as OpenTask;
    const decision: TaskDecision = {
      principalId: request.actor.principalId,
      outcome: request.outcome,
      comment: request.comment ?? null,
      data: request.data ?? null,
      at: new Date().toISOString(),
    };
    const approving = task.spec.fourEyes?.approveOutcome === request.outcome;
    if (approving) task.approvals.push(decision);
    const approvalsRequired = task.spec.fourEyes ? 2 : 1;
    const closes = !approving || task.approvals.length >= approvalsRequired;
    if (closes) task.closing = true;
    task.decisions.push(decision);
    try {
      await recordTaskDecision({ taskId: task.id, decision, closes, expected: { subject: task.spec.subject, kind: task.spec.kind } });
    } catch (error) {
      // Not recorded, so not taken: the task stays open for a decision that can be recorded, instead
      // of waiting for ever on one that never will be. The caller hears why.
      task.decisions.pop();
      if (approving) task.approvals.pop();
      task.closing = false;
      throw ApplicationFailure.create({
        type: refusalTypes.notRecorded,
        message: `the decision could not be recorded: ${error instanceof Error ? error.message : String(error)}`,
        nonRetryable: true,
      });
    }
    if (closes) {
      task.result = {
        taskId: task.id,
        outcome: request.outcome,
        expired: false,
        decisions: task.decisions,
        data: decision.data,
        decidedBy: approving ? task.approvals.map((a) => a.principalId) : [decision.principalId],
        escalations: task.escalationLevel,
      };
    }
    return {
      taskId: task.id,
      status: closes ? 'decided' : 'awaiting_approval',
      outcome: request.outcome,
      approvals: task.approvals.length,
      approvalsRequired,
    };
  }

  private async escalate(task: OpenTask, step: EscalationStep): Promise<void> {
    task.escalationLevel += 1;
    this.escalationsThisRun += 1;
    task.allowedRoles = [...new Set([...task.allowedRoles, ...(step.addRoles ?? [])])];
    task.assignees = [...new Set([...task.assignees, ...(step.addAssignees ?? [])])];
    await escalateHumanTask({
      taskId: task.id,
      level: task.escalationLevel,
      allowedRoles: task.allowedRoles,
      assignees: task.assignees,
      deadlineAt: deadlineAt(step.extendBy),
    });
    await this.notifyDeciders(
      task,
      `escalated-${task.escalationLevel}`,
      `Overdue (escalation ${task.escalationLevel}): ${task.spec.title}`,
      step.notifyRoles,
    );
  }

  private async notifyDeciders(task: OpenTask, event: string, title: string, extraRoles: Role[] = []): Promise<void> {
    await notify({
      dedupKey: `task:${task.id}:${event}`,
      recipientRoles: [...new Set([...task.allowedRoles, ...extraRoles])],
      recipients: task.assignees,
      subject: task.spec.subject,
      title,
      body: `${task.spec.message ? `${task.spec.message}\n\n` : ''}Decide at /tasks/${task.id}: ${task.spec.outcomes.join(' / ')}`,
      taskId: task.id,
      drill: task.spec.drill,
    });
  }
}

function deadlineAt(duration: DurationText | undefined): string | null {
  return duration ? new Date(Date.now() + durationMs(duration)).toISOString() : null;
}

function view(task: OpenTask): OpenTaskView {
  return {
    taskId: task.id,
    kind: task.spec.kind,
    allowedRoles: task.allowedRoles,
    assignees: task.assignees,
    approvals: task.approvals.map((a) => a.principalId),
    escalationLevel: task.escalationLevel,
  };
}
