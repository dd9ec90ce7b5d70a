import { html, type Html, type Interpolation } from './html';
import { timeLeft } from './time-left';

/** A timestamp people read in UTC (the process runs in UTC), machine-readable in `datetime`. */
export function time(value: Date | string | null | undefined): Html | string {
  if (!value) return '—';
  const date = typeof value === 'string' ? new Date(value) : value;
  return html`<time datetime="${date.toISOString()}">${date.toISOString().slice(0, 16).replace('T', ' ')} UTC</time>`;
}

/**
 * A deadline as people read it: the time left or overdue, coloured by urgency and spelled out in
 * words for screen readers, then the absolute time. `web/time-left.js` keeps it current on the page.
 */
export function deadline(value: Date | null | undefined, now = Date.now()): Html | string {
  if (!value) return '—';
  const left = timeLeft(value.getTime(), now);
  return html`<span class="due ${left.state}" data-deadline="${value.toISOString()}"><span class="left" aria-hidden="true">${left.text}</span><span class="visually-hidden">${left.label}.</span> <span class="at">(${time(value)})</span></span>`;
}

export const humanize = (code: string) => {
  const words = code
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/[_.-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
};

export const badge = (text: string, kind = text) => html`<span class="badge ${kind}">${humanize(text)}</span>`;

/** A compact rendering of structured details (task details, step results) for people. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 1).replace(/\n\s*/g, ' ');
}

/** A detail value as people read it (task details, audit details): text as is, a list joined, anything nested as compact text. */
export const detailText = (value: unknown): string =>
  typeof value === 'string'
    ? value
    : Array.isArray(value) && value.every((v) => typeof v !== 'object')
      ? value.join(', ')
      : jsonText(value);

export function table(headings: string[], rows: Interpolation[][], caption?: string): Html {
  if (!rows.length) return html`<p class="hint">None.</p>`;
  return html`<div class="table" tabindex="0" role="region" aria-label="${caption ?? headings.join(', ')}"><table>
<thead><tr>${headings.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
<tbody>${rows.map((cells) => html`<tr>${cells.map((cell) => html`<td>${cell}</td>`)}</tr>`)}</tbody>
</table></div>`;
}

/** A GET form of selects filtering a list; each select offers "Any" and the given codes. */
export function filters<Name extends string>(
  action: string,
  label: string,
  values: Partial<Record<Name, string | undefined>>,
  fields: { name: Name; label: string; options: readonly string[] }[],
): Html {
  return html`<form class="filters" method="get" action="${action}" role="search" aria-label="${label}">
${fields.map(
  ({ name, label: text, options }) => html`<div>
  <label for="filter-${name}">${text}</label>
  <select id="filter-${name}" name="${name}"><option value="">Any</option>${options.map((option) => html`<option value="${option}"${values[name] === option ? html` selected` : ''}>${humanize(option)}</option>`)}</select>
</div>`,
)}
<div class="actions"><button type="submit">Filter</button></div>
</form>`;
}

/** A record's audit trail, oldest first; `person` names the actors (their ids where not given). */
export const timeline = (
  events: { occurred_at: Date; action: string; actor: string; details: Record<string, unknown> }[],
  person: (id: string) => string = (id) => id,
): Html =>
  html`<ol class="timeline">${events.map(
    (event) =>
      html`<li>${time(event.occurred_at)}<strong>${humanize(event.action)}</strong> by ${person(event.actor)}${
        Object.keys(event.details).length
          ? html` <span class="hint">${Object.entries(event.details)
              .map(([key, value]) => `${humanize(key)}: ${detailText(value)}`)
              .join('; ')}</span>`
          : ''
      }</li>`,
  )}</ol>`;

/** The link to a list's next page, keeping the filters it was asked with; nothing on the last page. */
export function nextPageLink(path: string, query: Record<string, unknown>, nextCursor: string | null, text: string): Html | '' {
  if (!nextCursor) return '';
  const kept = Object.entries(query).filter(([key, value]) => key !== 'cursor' && typeof value === 'string' && value !== '') as [
    string,
    string,
  ][];
  return html`<p><a href="${path}?${new URLSearchParams([...kept, ['cursor', nextCursor]]).toString()}">${text}</a></p>`;
}

/** A record's facts as a definition list; entries whose value is null, undefined or false are left out. */
export const facts = (entries: [string, Interpolation][]): Html =>
  html`<dl class="facts">${entries.filter(([, value]) => value !== null && value !== undefined && value !== false).map(([name, value]) => html`<dt>${name}</dt><dd>${value}</dd>`)}</dl>`;
