/**
 * What the SLA clocks of a GET /incidents page cost the API's thread: the support time each open
 * clock has left (`remainingSupportSeconds`) for a page of 50 incidents with three clocks each, in
 * business hours (a Berlin office, Monday to Friday 08:00–18:00, with holidays), beside its bare
 * floor: the same page with round-the-clock clocks, which is a subtraction. Pages whose clocks are
 * due from a few days ahead to years overdue, each request at its own now, as a list is read. Run:
 * npm run bench:sla-clocks (BENCH_ROUNDS, default 200 pages each).
 */
import { remainingSupportSeconds, type RecordedSlaClock } from '../db/incident-sla';
import { type SlaTarget, slaTargets } from '../domain/sla';
import { roundTheClock, type SupportHours } from '../domain/support-hours';

const rounds = Number(process.env.BENCH_ROUNDS ?? 200);
const berlinOffice: SupportHours = {
  kind: 'business',
  timeZone: 'Europe/Berlin',
  days: [1, 2, 3, 4, 5],
  start: '08:00',
  end: '18:00',
  holidays: ['2026-12-24', '2026-12-25', '2026-12-31', '2027-01-01'],
};
const now = new Date('2026-12-03T10:00:00Z').getTime();
const hourMs = 3_600_000;

/** A page's 150 clocks, due at instants of their own spread over `fromHours`…`toHours` from now. */
function page(supportHours: SupportHours, fromHours: number, toHours: number): RecordedSlaClock[] {
  return Array.from({ length: 150 }, (_, i) => ({
    target: slaTargets[i % slaTargets.length] as SlaTarget,
    duration: '4h',
    dueAt: new Date(now + (fromHours + ((toHours - fromHours) * i) / 149) * hourMs).toISOString(),
    metAt: null,
    breachedAt: null,
    stoppedAt: null,
    stopReason: null,
    supportHours,
  }));
}

/** The seconds left, summed: what the pages computed is used, so none of it is optimised away. */
let secondsLeft = 0;

/** Microseconds a page, median of `rounds`, each page read at a now of its own. */
function timePage(clocks: RecordedSlaClock[]): number {
  const samples: number[] = [];
  for (let round = -20; round < rounds; round += 1) {
    const at = new Date(now + round * 1000);
    const started = performance.now();
    for (const clock of clocks) secondsLeft += remainingSupportSeconds(clock, at) ?? 0;
    if (round >= 0) samples.push((performance.now() - started) * 1000);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? Number.NaN;
}

const spans: [string, number, number][] = [
  ['due within days (3 days overdue … 5 days ahead)', -72, 120],
  ['overdue by weeks (1 … 8 weeks)', -8 * 168, -168],
  ['overdue by years (1 … 3 years)', -3 * 8766, -8766],
];
console.log(`SLA clocks of a GET /incidents page: 50 incidents × 3 clocks, median of ${rounds} pages`);
console.log('| clocks | business hours | 24×7 (floor) | ratio |\n|---|---|---|---|');
for (const [label, fromHours, toHours] of spans) {
  const business = timePage(page(berlinOffice, fromHours, toHours));
  const floor = timePage(page(roundTheClock, fromHours, toHours));
  console.log(`| ${label} | ${business.toFixed(0)} µs | ${floor.toFixed(0)} µs | ${(business / floor).toFixed(1)}× |`);
}
if (!Number.isFinite(secondsLeft)) throw new Error('a clock had no finite time left');
