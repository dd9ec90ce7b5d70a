import { z } from 'zod';
import type { HumanTask } from '../db/database';
import type { Actor } from '../domain/roles';
import { deciders } from '../http/roles';
import { badge, deadline, detailText, humanize, table, time } from './format';
import { html, type Html } from './html';
import { detailsShownByForm } from '../domain/task-forms';
import { taskFormFields, type FormLookups } from './task-form';
import { type Notice, subjectKey, uiPrefix, type WebContext } from './page';

export interface TaskCardOptions {
  csrfToken: string;
  /** Where the inbox returns after the decision. */
  returnTo: string;
  subject: Html;
  /** What the person entered, shown again when the decision was refused. */
  entered?: { comment?: string | undefined; data?: Record<string, unknown> | undefined };
  lookups: FormLookups;
  /** Whether this person may try to decide it (the workflow still has the last word). */
  decidable: boolean;
}

export const isOverdue = (task: HumanTask) =>
  task.status === 'open' && task.deadline_at !== null && task.deadline_at.getTime() < Date.now();

/** One task: what is asked, about what, by when, and a form with one button per allowed outcome. */
export function taskCard(task: HumanTask, options: TaskCardOptions): Html {
  const id = `task-${task.id}`;
  const overdue = isOverdue(task);
  // What the task's form collects is shown in the form (by name, pre-filled), not again as raw details.
  const collected = detailsShownByForm(task.kind);
  const details = Object.entries(task.details).filter(([key, value]) => value !== null && key !== 'expects' && !collected.has(key));
  return html`<article class="card task${overdue ? ' overdue' : ''}" id="${id}" aria-labelledby="${id}-title">
<header><h3 id="${id}-title">${task.title}</h3>${overdue ? badge('overdue') : ''}</header>
<dl class="facts">
  <dt>About</dt><dd>${options.subject}</dd>
  <dt>Asked</dt><dd>${humanize(task.kind.replace(/^\w+\./, ''))}: ${task.allowed_outcomes.map(humanize).join(' or ')}</dd>
  <dt>Deadline</dt><dd>${deadline(task.deadline_at)}${task.escalation_level > 0 ? html` <span class="badge">escalated ×${task.escalation_level}</span>` : ''}</dd>
  ${task.requester && html`<dt>Requested by</dt><dd>${task.requester}</dd>`}
  ${task.approvals_required > 1 && html`<dt>Approvals</dt><dd>${task.decisions.length} of ${task.approvals_required}</dd>`}
  ${details.map(([key, value]) => html`<dt>${humanize(key)}</dt><dd>${detailText(value)}</dd>`)}
</dl>
${
  options.decidable &&
  html`<form class="decide" method="post" action="${uiPrefix}/tasks/${task.id}/decision">
  <input type="hidden" name="_csrf" value="${options.csrfToken}">
  <input type="hidden" name="returnTo" value="${options.returnTo}">
  <label for="${id}-comment">Comment</label>
  <textarea id="${id}-comment" name="comment" rows="2" maxlength="10000">${options.entered?.comment}</textarea>
  ${taskFormFields(task, id, options.lookups, options.entered?.data)}
  <div class="outcomes">${task.allowed_outcomes.map((outcome) => html`<button type="submit" name="outcome" value="${outcome}"${/reject|deny/.test(outcome) ? html` class="secondary"` : ''}>${humanize(outcome)}</button>`)}</div>
</form>`
}
</article>`;
}

// What every page with a record's tasks shares: My tasks, an incident, a change, a control, a review.

/** The notice a page shows after a decision, named in its query (`?notice=decided`). */
export const decisionNoticeQuery = z.object({ notice: z.enum(['decided', 'awaiting_approval']).optional() });
export function decisionNotice(notice: z.infer<typeof decisionNoticeQuery>['notice']): Notice | undefined {
  if (notice === 'decided') return { kind: 'success', text: 'Your decision was recorded.' };
  if (notice === 'awaiting_approval') return { kind: 'success', text: 'Your approval was recorded; a second person must approve too.' };
  return undefined;
}

/** Overdue first, then by deadline (none last), then oldest. */
export function byUrgency(a: HumanTask, b: HumanTask): number {
  const overdue = Number(isOverdue(b)) - Number(isOverdue(a));
  if (overdue) return overdue;
  const deadline = (a.deadline_at?.getTime() ?? Infinity) - (b.deadline_at?.getTime() ?? Infinity);
  if (deadline) return deadline;
  return a.created_at.getTime() - b.created_at.getTime();
}

/** Open tasks of a record this person holds a role for: they may try, the workflow decides. */
export const mayTry = (actor: Actor) => (task: HumanTask) =>
  task.status === 'open' &&
  actor.roles.some((role) => deciders.includes(role)) &&
  (task.allowed_roles.some((role) => (actor.roles as string[]).includes(role)) || task.assignees.includes(actor.principalId));

/** Every task of a record with who decided what, when, and why; `person` names the deciders. */
export const taskDecisions = (tasks: HumanTask[], caption: string, person: (id: string) => string = (id) => id) =>
  table(
    ['Task', 'Status', 'Decisions'],
    tasks.map((t) => [
      t.title,
      humanize(t.status),
      t.decisions.map(
        (d) => html`<div>${person(d.principalId)}: ${humanize(d.outcome)}${d.comment ? ` — “${d.comment}”` : ''} (${time(d.at)})</div>`,
      ),
    ]),
    caption,
  );

/** Task cards with their subjects labelled and linked, for My tasks and a record's own page. */
export async function taskCards(
  web: WebContext,
  actor: Actor,
  tasks: HumanTask[],
  options: {
    csrfToken: string;
    returnTo: string;
    decidable: (task: HumanTask) => boolean;
    entered?: { comment?: string | undefined; data?: Record<string, unknown> | undefined };
  },
) {
  const [labels, lookups] = await Promise.all([
    web.subjectLabels(
      actor,
      tasks.map((task) => ({ type: task.subject_type, id: task.subject_id })),
    ),
    web.formLookups(tasks.filter(options.decidable)),
  ]);
  return tasks.map((task) => {
    const subject = { type: task.subject_type, id: task.subject_id };
    return taskCard(task, {
      ...options,
      lookups,
      decidable: options.decidable(task),
      subject: web.linkTo(subject, labels.get(subjectKey(subject))),
    });
  });
}

/** A record page's open tasks, most urgent first, with a form on those this person may try. */
export function openTaskCards(web: WebContext, actor: Actor, tasks: HumanTask[], options: { csrfToken: string; returnTo: string }) {
  return taskCards(web, actor, tasks.filter((task) => task.status === 'open').sort(byUrgency), { ...options, decidable: mayTry(actor) });
}
