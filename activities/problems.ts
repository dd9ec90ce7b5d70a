import { checklistFor, recordCheckOutcome, recordProposal, type CheckOutcome } from '../db/problems';
import type { ChecklistItem, ProposalKind } from '../domain/problem';
import type { ActivityDeps } from './deps';

/** The security check of a problem's workaround or solution; each write's idempotency is documented in db/problems.ts. */
export function createProblemActivities({ db }: ActivityDeps) {
  return {
    /**
     * Builds the checklist from the problem's services and CIs as they stand and records the
     * proposal with it. Safe to retry: the proposal id is the primary key, and a retry returns the
     * checklist first recorded, so the task shows what was recorded.
     */
    async openProblemCheck(input: {
      proposalId: string;
      problemId: string;
      workflowId: string;
      kind: ProposalKind;
      text: string;
      changeId: string | null;
      proposedBy: string;
    }): Promise<ChecklistItem[]> {
      return recordProposal(db, { ...input, checklist: await checklistFor(db, input.problemId) });
    },

    /** Safe to retry: only a proposal still in check takes the outcome. */
    async recordProblemCheckOutcome(input: CheckOutcome): Promise<void> {
      await recordCheckOutcome(db, input);
    },
  };
}

export type ProblemActivities = ReturnType<typeof createProblemActivities>;
