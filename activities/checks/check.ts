import type { RecordedTargets } from '../../domain/outbound';
import type { CheckParams, CheckParamsParser, CheckType } from '../../domain/security-checks';
import type { OutboundGuard } from '../outbound';

/** What a check found: pass or fail, a sentence for people, and the evidence a report keeps. */
export interface CheckOutcome {
  passed: boolean;
  summary: string;
  evidence: Record<string, unknown>;
}

/** Every check bounds its own time with its `timeoutMs`, well inside the activity's timeout. */
export interface CheckContext {
  commandChecksEnabled: boolean;
  parseParams: CheckParamsParser;
  /** Every connection a check makes goes through it (checks use the `check` purpose). */
  outbound: OutboundGuard;
  /** The hosts and addresses the control's CIs record: a check aims only at these or at allowlisted ones. */
  recorded: RecordedTargets;
}

/**
 * One automated check type. `run` resolves with a failing outcome when the control does not hold
 * (a missing header, a refused port that should be open); it throws only when the check itself
 * cannot run, and throws `CheckNotRunnable` when retrying could not help.
 */
export interface SecurityCheck<T extends CheckType> {
  type: T;
  run(params: CheckParams<T>, context: CheckContext): Promise<CheckOutcome>;
}

/** The check's configuration forbids running it; retrying would refuse the same way. */
export class CheckNotRunnable extends Error {
  override name = 'CheckNotRunnable';
}

export function errorCode(error: unknown): string {
  if (error && typeof error === 'object') {
    const { code, cause } = error as { code?: unknown; cause?: unknown };
    if (typeof code === 'string') return code;
    if (cause) return errorCode(cause);
  }
  return error instanceof Error ? error.name : 'Error';
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
