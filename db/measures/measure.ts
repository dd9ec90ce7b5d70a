import type { Kysely } from 'kysely';
import type { MeasureResult } from '../../domain/security-report/model';
import type { Database } from '../database';

/**
 * The window a measure looks at. Records are counted when they happened in [from, to); dated
 * obligations (review dates, expiries, due dates) are judged as of `asOf`, the period's end or now,
 * whichever comes first.
 */
export interface MeasurePeriod {
  from: Date;
  to: Date;
  asOf: Date;
}

/** The services a review covers; null covers everything. */
export type MeasureScope = readonly string[] | null;

/**
 * A KPI of the IT Security Report. Each data source plugs in one file under db/measures/; the
 * report prints `definition` next to the figure, so a reader sees how it was computed.
 */
export interface Measure {
  id: string;
  title: string;
  definition: string;
  /** Drawn in the report's chart over the last quarters. */
  trend: boolean;
  compute(db: Kysely<Database>, period: MeasurePeriod, scope: MeasureScope): Promise<MeasureResult>;
}

export function measurePeriod(from: Date, to: Date, now = new Date()): MeasurePeriod {
  return { from, to, asOf: new Date(Math.min(to.getTime(), now.getTime())) };
}

export const round2 = (value: number) => Math.round(value * 100) / 100;

export const percent = (part: number, whole: number) => (whole === 0 ? null : round2((100 * part) / whole));

export const day = (date: Date) => date.toISOString().slice(0, 10);
