// The inbox's one script, served as is to the browser (/ui/assets/time-left.<hash>.js) and imported by
// the server, so a deadline reads the same when the page is rendered and every half minute after.
// Plain JavaScript: the browser runs it without a build step. Types are in time-left.d.ts.

/** Within this of its deadline, a task or SLA is "due soon" (amber) rather than merely pending. */
export const soonMs = 60 * 60 * 1000;

const units = [
  { ms: 24 * 60 * 60 * 1000, short: 'd', long: ['day', 'days'] },
  { ms: 60 * 60 * 1000, short: 'h', long: ['hour', 'hours'] },
  { ms: 60 * 1000, short: 'min', long: ['minute', 'minutes'] },
];

/** "2 h 5 min" and "2 hours 5 minutes": the two largest units, for the eye and for a screen reader. */
function span(ms) {
  const parts = [];
  let rest = Math.max(ms, 0);
  for (const unit of units) {
    const count = Math.floor(rest / unit.ms);
    rest -= count * unit.ms;
    if (count > 0 || (parts.length > 0 && parts.length < 2)) parts.push({ count, unit });
    if (parts.length === 2) break;
  }
  const shown = parts.filter((part) => part.count > 0);
  if (!shown.length) return { short: 'less than 1 min', long: 'less than a minute' };
  return {
    short: shown.map((part) => `${part.count} ${part.unit.short}`).join(' '),
    long: shown.map((part) => `${part.count} ${part.unit.long[part.count === 1 ? 0 : 1]}`).join(' '),
  };
}

/**
 * How a deadline reads now: `text` for the page ("in 12 min", "overdue by 3 h"), `label` for
 * assistive technology (whole words), and `state` for the colour (overdue, soon, later).
 */
export function timeLeft(deadlineMs, nowMs) {
  const left = deadlineMs - nowMs;
  const { short, long } = span(Math.abs(left));
  if (left < 0) return { state: 'overdue', text: `overdue by ${short}`, label: `Overdue by ${long}` };
  return { state: left <= soonMs ? 'soon' : 'later', text: `in ${short}`, label: `Due in ${long}` };
}

/** In the browser: refresh every `[data-deadline]` element every 30 s, without reloading the page. */
function refresh() {
  for (const element of document.querySelectorAll('[data-deadline]')) {
    const now = timeLeft(Date.parse(element.getAttribute('data-deadline')), Date.now());
    element.classList.remove('overdue', 'soon', 'later');
    element.classList.add(now.state);
    const text = element.querySelector('.left');
    const label = element.querySelector('.visually-hidden');
    if (text) text.textContent = now.text;
    if (label) label.textContent = `${now.label}.`;
  }
}

if (typeof document !== 'undefined') {
  refresh();
  setInterval(refresh, 30_000);
}
