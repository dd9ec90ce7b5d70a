import { expect, it } from 'vitest';
import { deadline } from '../../web/format';
import { timeLeft } from '../../web/time-left';

const now = Date.parse('2026-12-02T10:00:00Z');
const minutes = (count: number) => now + count * 60_000;

it('reads a deadline as time left or overdue, in the two largest units, with words for screen readers', () => {
  expect(timeLeft(minutes(12), now)).toEqual({ state: 'soon', text: 'in 12 min', label: 'Due in 12 minutes' });
  expect(timeLeft(minutes(60), now)).toEqual({ state: 'soon', text: 'in 1 h', label: 'Due in 1 hour' });
  expect(timeLeft(minutes(125), now)).toEqual({ state: 'later', text: 'in 2 h 5 min', label: 'Due in 2 hours 5 minutes' });
  expect(timeLeft(minutes(3 * 24 * 60 + 61), now)).toEqual({ state: 'later', text: 'in 3 d 1 h', label: 'Due in 3 days 1 hour' });
  expect(timeLeft(minutes(-180), now)).toEqual({ state: 'overdue', text: 'overdue by 3 h', label: 'Overdue by 3 hours' });
  expect(timeLeft(now + 20_000, now)).toEqual({ state: 'soon', text: 'in less than 1 min', label: 'Due in less than a minute' });
  expect(timeLeft(now - 1, now).state).toBe('overdue');
});

it('renders a deadline for the page to keep current, with its absolute time', () => {
  const rendered = String(deadline(new Date(minutes(-5)), now));
  expect(rendered).toContain('class="due overdue" data-deadline="2026-12-02T09:55:00.000Z"');
  expect(rendered).toContain('<span class="left" aria-hidden="true">overdue by 5 min</span>');
  expect(rendered).toContain('<span class="visually-hidden">Overdue by 5 minutes.</span>');
  expect(rendered).toContain('2026-12-02 09:55 UTC');
  expect(deadline(null)).toBe('—');
});
