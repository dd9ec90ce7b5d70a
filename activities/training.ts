import {
  closeTrainingCampaign,
  countTrainingReminder,
  escalateOverdueTraining,
  openTrainingCampaign,
  outstandingTraining,
} from '../db/training';
import type { TrainingCampaignInput } from '../domain/training';
import type { ActivityDeps } from './deps';

/** The awareness programme's campaign steps; each write's idempotency is documented in db/training.ts. */
export function createTrainingActivities({ db }: ActivityDeps) {
  return {
    /** Safe to retry: the campaign id is the primary key, assignments are written with it once. */
    openTrainingCampaign(input: TrainingCampaignInput & { workflowId: string }) {
      return openTrainingCampaign(db, input);
    },
    /** Safe to retry: a read. */
    outstandingTraining(input: { campaignId: string }) {
      return outstandingTraining(db, input.campaignId);
    },
    /** Safe to retry: a round's count is written once. */
    async countTrainingReminder(input: { campaignId: string; principalIds: string[]; round: number }) {
      await countTrainingReminder(db, input.campaignId, input.principalIds, input.round);
    },
    /** Safe to retry: only assignments not yet escalated are marked. */
    async escalateOverdueTraining(input: { campaignId: string; securityManager: string }) {
      await escalateOverdueTraining(db, input.campaignId, input.securityManager);
    },
    /** Safe to retry: only an open campaign is closed. */
    async closeTrainingCampaign(input: { campaignId: string }) {
      await closeTrainingCampaign(db, input.campaignId);
    },
  };
}

export type TrainingActivities = ReturnType<typeof createTrainingActivities>;
