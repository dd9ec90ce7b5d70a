/**
 * A review covers a period: a calendar quarter ("2026-Q4", UTC) or any from–to range. `to` is
 * exclusive, so consecutive quarters neither overlap nor leave a gap.
 */
export interface Period {
  label: string;
  from: Date;
  to: Date;
}

const quarterPattern = /^(\d{4})-Q([1-4])$/;
export const periodLabelPattern = /^(\d{4}-Q[1-4]|\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2})$/;

export function quarter(label: string): Period {
  const match = quarterPattern.exec(label);
  if (!match) throw new RangeError(`not a quarter: ${JSON.stringify(label)} (expected e.g. 2026-Q4)`);
  const year = Number(match[1]);
  const index = Number(match[2]) - 1;
  return { label, from: new Date(Date.UTC(year, index * 3, 1)), to: new Date(Date.UTC(year, index * 3 + 3, 1)) };
}

export function quarterContaining(at: Date): Period {
  return quarter(`${at.getUTCFullYear()}-Q${Math.floor(at.getUTCMonth() / 3) + 1}`);
}

/** The quarter before `period`'s start: what a review run at the start of a quarter looks back on. */
export function previousQuarter(at: Date): Period {
  return quarterContaining(new Date(quarterContaining(at).from.getTime() - 1));
}

/** The `count` quarters ending with the one containing `at`, oldest first: the KPI trend's x axis. */
export function quartersUpTo(at: Date, count: number): Period[] {
  const periods = [quarterContaining(at)];
  while (periods.length < count) periods.unshift(previousQuarter((periods[0] as Period).from));
  return periods;
}

const day = (date: Date) => date.toISOString().slice(0, 10);

const dayMs = 86_400_000;

/** Whole days from `first` to `last`, both included, labelled "first_last". */
export function dayRange(first: string, last: string): Period {
  const from = new Date(`${first}T00:00:00Z`);
  const to = new Date(new Date(`${last}T00:00:00Z`).getTime() + dayMs);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || !(from < to))
    throw new RangeError('a period must end on or after the day it starts');
  return { label: `${day(from)}_${day(new Date(to.getTime() - dayMs))}`, from, to };
}

/** Any label this module produces, back into its period. */
export function periodFromLabel(label: string): Period {
  if (quarterPattern.test(label)) return quarter(label);
  const [from, to] = label.split('_');
  if (!periodLabelPattern.test(label) || !from || !to) throw new RangeError(`not a period: ${JSON.stringify(label)}`);
  return dayRange(from, to);
}
