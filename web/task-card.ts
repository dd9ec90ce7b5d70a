import type { HumanTask } from '../db/database';
import { badge, humanize, jsonText, time } from './format';
import { html, type Html } from './html';
import { uiPrefix } from './page';

export interface TaskCardOptions {
  csrfToken: string;
  /** Where the inbox returns after the decision. */
  returnTo: string;
  subject: Html;
  /** What the person typed, shown again when the decision was refused. */
  entered?: { comment?: string | undefined; data?: string | undefined };
  /** Whether this person may try to decide it (the workflow still has the last word). */
  decidable: boolean;
}

export const isOverdue = (task: HumanTask) =>
  task.status === 'open' && task.deadline_at !== null && task.deadline_at.getTime() < Date.now();

/** The data a task reads from a decision: what its details say it expects, or the details themselves. */
function dataHint(details: Record<string, unknown>): string {
  if (details.expects) return `Expected: ${jsonText(details.expects)}`;
  return 'Optional: a JSON object, for tasks that record data (a triage\'s {"scope": "…"}, a tester\'s evidence).';
}

/** One task: what is asked, about what, by when, and a form with one button per allowed outcome. */
export function taskCard(task: HumanTask, options: TaskCardOptions): Html {
  const id = `task-${task.id}`;
  const overdue = isOverdue(task);
  const details = Object.entries(task.details).filter(([key, value]) => value !== null && key !== 'expects');
  return html`<article class="card task${overdue ? ' overdue' : ''}" id="${id}" aria-labelledby="${id}-title">
<header><h3 id="${id}-title">${task.title}</h3>${overdue ? badge('overdue') : ''}</header>
<dl class="facts">
  <dt>About</dt><dd>${options.subject}</dd>
  <dt>Asked</dt><dd>${humanize(task.kind.replace(/^\w+\./, ''))}: ${task.allowed_outcomes.map(humanize).join(' or ')}</dd>
  <dt>Deadline</dt><dd>${time(task.deadline_at)}${task.escalation_level > 0 ? html` <span class="badge">escalated ×${task.escalation_level}</span>` : ''}</dd>
  ${task.requester && html`<dt>Requested by</dt><dd>${task.requester}</dd>`}
  ${task.approvals_required > 1 && html`<dt>Approvals</dt><dd>${task.decisions.length} of ${task.approvals_required}</dd>`}
  ${details.map(([key, value]) => html`<dt>${humanize(key)}</dt><dd>${typeof value === 'string' ? value : jsonText(value)}</dd>`)}
</dl>
${
  options.decidable &&
  html`<form class="decide" method="post" action="${uiPrefix}/tasks/${task.id}/decision">
  <input type="hidden" name="_csrf" value="${options.csrfToken}">
  <input type="hidden" name="returnTo" value="${options.returnTo}">
  <label for="${id}-comment">Comment</label>
  <textarea id="${id}-comment" name="comment" rows="2" maxlength="10000">${options.entered?.comment}</textarea>
  <label for="${id}-data">Data (JSON)</label>
  <textarea id="${id}-data" name="data" rows="2" class="json" aria-describedby="${id}-data-hint" spellcheck="false">${options.entered?.data}</textarea>
  <p class="hint" id="${id}-data-hint">${dataHint(task.details)}</p>
  <div class="outcomes">${task.allowed_outcomes.map((outcome) => html`<button type="submit" name="outcome" value="${outcome}"${/reject|deny/.test(outcome) ? html` class="secondary"` : ''}>${humanize(outcome)}</button>`)}</div>
</form>`
}
</article>`;
}
