import { linkBaselineApproval, settleBaselineVersion } from '../db/baseline';
import type { ActivityDeps } from './deps';

/** The baseline's approval; each write's idempotency is documented in db/baseline.ts. */
export function createBaselineActivities({ db }: ActivityDeps) {
  return {
    /** Safe to retry: the workflow id is written once per version. */
    async linkBaselineApproval(input: { version: number; workflowId: string }) {
      await linkBaselineApproval(db, input.version, input.workflowId);
    },
    /** Safe to retry: only a pending version is settled. */
    async settleBaselineVersion(input: { version: number; approved: boolean; decidedBy: string; comment: string | null }) {
      await settleBaselineVersion(db, input);
    },
  };
}

export type BaselineActivities = ReturnType<typeof createBaselineActivities>;
