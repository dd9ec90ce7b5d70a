import { condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { NotificationActivities } from '../../activities/notifications';
import type { TrainingActivities } from '../../activities/training';
import { durationMs } from '../../domain/duration';
import {
  escalationTarget,
  trainingDefaults,
  type OutstandingAssignment,
  type TrainingCampaignInput,
  type TrainingCampaignResult,
} from '../../domain/training';
import { endingVisibly } from '../permanent-failure';
import { publishSearchFields } from '../search-attributes';
import { completionsRecordedSignal } from './definitions';

// Campaign records are small PostgreSQL writes: retry until the database is back, never drop one.
// No attempt limit on purpose: what PostgreSQL refuses for good fails at once, non-retryable
// (activities/permanent-failures.ts), so only unavailability (and a bug, until a fix is deployed) retries.
const training = proxyActivities<TrainingActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});
// A notification is recorded once per dedup key; retried deliveries are paced by the backoff.
const { notify } = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

/** What a continued run carries over: how many reminder rounds were sent, and when the next is due. */
export interface TrainingCampaignRun extends TrainingCampaignInput {
  reminderRound?: number;
  nextReminderAt?: number;
}

/**
 * An awareness training campaign: everyone in the audience is told, reminded at an interval until
 * they complete it, and whoever has not completed it by the due date is escalated to their manager
 * (or, without one, the Security Manager). Completions arrive in PostgreSQL from the API, a CSV
 * import or the LMS; the campaign reads who is still outstanding each time it wakes.
 */
export async function trainingCampaignWorkflow(input: TrainingCampaignRun): Promise<TrainingCampaignResult> {
  // A permanent failure (PostgreSQL refusing the data for good) ends it visibly, not wedged.
  return endingVisibly(
    {
      record: { process: 'training_campaign', campaignId: input.campaignId },
      label: `Training campaign "${input.title}"`,
      subject: { type: 'training_campaign', id: input.campaignId },
    },
    () => runTrainingCampaign(input),
  );
}

async function runTrainingCampaign(input: TrainingCampaignRun): Promise<TrainingCampaignResult> {
  const { campaignId } = input;
  const subject = { type: 'training_campaign', id: campaignId };
  let completionsSignalled = 0;
  setHandler(completionsRecordedSignal, () => {
    completionsSignalled += 1;
  });
  const { assigned } = await training.openTrainingCampaign({ ...stripRun(input), workflowId: workflowInfo().workflowId });
  publishSearchFields(
    { process: 'training-campaign', subjectId: campaignId, status: 'open', slaDueAt: input.dueAt },
    { title: input.title },
  );
  const reminderEvery = durationMs(input.reminderEvery ?? trainingDefaults.reminderEvery);
  const dueAt = Date.parse(input.dueAt);
  let round = input.reminderRound ?? 0;
  let nextReminderAt = input.nextReminderAt ?? Date.now();

  for (;;) {
    const completionsSeen = completionsSignalled;
    const outstanding = await training.outstandingTraining({ campaignId });
    if (outstanding.length === 0) {
      await close();
      return { assigned, completedByDue: assigned, escalated: 0 };
    }
    if (Date.now() >= dueAt) {
      await escalate(outstanding);
      await close();
      return { assigned, completedByDue: assigned - outstanding.length, escalated: outstanding.length };
    }
    // A completion wakes the campaign only to look again; reminders keep their own rhythm.
    if (Date.now() >= nextReminderAt) {
      round += 1;
      await remind(outstanding, round);
      nextReminderAt = Date.now() + reminderEvery;
    }
    if (workflowInfo().continueAsNewSuggested) {
      return continueAsNew<typeof trainingCampaignWorkflow>({ ...input, reminderRound: round, nextReminderAt });
    }
    await condition(() => completionsSignalled > completionsSeen, Math.max(1, Math.min(nextReminderAt, dueAt) - Date.now()));
  }

  async function close() {
    await training.closeTrainingCampaign({ campaignId });
    publishSearchFields({ status: 'closed', slaDueAt: null });
  }

  async function remind(outstanding: OutstandingAssignment[], reminderRound: number) {
    const first = reminderRound === 1;
    await Promise.all(
      outstanding.map((person) =>
        notify({
          dedupKey: `training/${campaignId}/reminder/${reminderRound}/${person.principalId}`,
          recipientRoles: [],
          recipients: [person.principalId],
          subject,
          title: `${first ? 'Training assigned' : 'Reminder'}: ${input.title}`,
          body: `Please complete the training "${input.title}" (course ${input.courseId}) by ${input.dueAt}.`,
        }),
      ),
    );
    await training.countTrainingReminder({ campaignId, principalIds: outstanding.map((p) => p.principalId), round: reminderRound });
  }

  async function escalate(overdue: OutstandingAssignment[]) {
    await training.escalateOverdueTraining({ campaignId, securityManager: input.securityManager });
    await Promise.all(
      overdue.map((person) =>
        notify({
          dedupKey: `training/${campaignId}/escalation/${person.principalId}`,
          recipientRoles: [],
          recipients: [escalationTarget(person, input.securityManager), person.principalId],
          subject,
          title: `Overdue training: ${person.principalId} has not completed "${input.title}"`,
          body: `${person.principalId} was due to complete the training "${input.title}" (course ${input.courseId}) by ${input.dueAt} and has not.`,
        }),
      ),
    );
  }
}

/** The campaign as it was opened, without what a continued run carries. */
function stripRun({ reminderRound: _round, nextReminderAt: _next, ...input }: TrainingCampaignRun): TrainingCampaignInput {
  return input;
}
