/**
 * Durations are written the way people write them ("15m", "4h", "30d", "2s" for tests) and stored
 * as written. Temporal's sleep() and timers accept the same strings.
 */
export type DurationText = string;

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
export const durationPattern = /^(\d+)(ms|s|m|h|d|w)$/;

export function durationMs(text: DurationText): number {
  const match = durationPattern.exec(text);
  if (!match) throw new RangeError(`not a duration: ${JSON.stringify(text)} (expected e.g. 15m, 4h, 30d)`);
  return Number(match[1]) * (units[match[2] as string] as number);
}

/**
 * The longest duration accepted: ten years. Durations are written by people and the pattern bounds
 * no digits: an SLA target of 99999999w puts an incident's due time past what a Date holds, and a
 * business-hours target walks its days one by one.
 */
export const longestDuration: DurationText = '3653d';
export const longestDurationMs = durationMs(longestDuration);

/**
 * `text`, or the longest duration accepted when it is longer: a duration stored before durations
 * were bounded (an SLA's target or patch deadline) would put a deadline past what a Date holds.
 */
export function withinLongest(text: DurationText): DurationText {
  return durationMs(text) > longestDurationMs ? longestDuration : text;
}
