// The contract of the awareness programme: training campaigns, who must take them, and how a
// completion is recorded. Shared by the campaign workflow, its activities and the API.
import type { DurationText } from './duration';
import type { Role } from './roles';

export const trainingCampaignWorkflowType = 'trainingCampaign';
export const makeTrainingCampaignWorkflowId = (campaignId: string) => `training-campaign/${campaignId}`;

/** Who must take the training; the three sources add up, each person once. */
export interface TrainingAudience {
  /** Everyone holding an unrevoked API token with one of these roles when the campaign opens. */
  roles: Role[];
  principals: string[];
  /** People from a directory export (the `POST /people/import` format); leavers are left out. */
  directory: { principalId: string; displayName: string | null; manager: string | null }[];
}

/** Reminders and escalation; configurable per campaign so tests use seconds. */
export const trainingDefaults = { reminderEvery: '7d' } as const;

export interface TrainingCampaignInput {
  campaignId: string;
  title: string;
  /** The course's id in the learning platform; an LMS completion names it. */
  courseId: string;
  dueAt: string;
  audience: TrainingAudience;
  createdBy: string;
  /** Overdue people without a manager escalate to this Security Manager (defaults to the creator). */
  securityManager: string;
  reminderEvery?: DurationText;
}

export interface TrainingCampaignResult {
  assigned: number;
  completedByDue: number;
  escalated: number;
}

export const completionSources = ['api', 'csv', 'lms'] as const;
export type CompletionSource = (typeof completionSources)[number];

/** One person still owing the training, as the workflow sees them when it wakes. */
export interface OutstandingAssignment {
  principalId: string;
  /** Their manager from the directory; null escalates to the campaign's Security Manager. */
  manager: string | null;
}

/** xAPI's verbs that mean a learner finished a course (ADL vocabulary). */
export const lmsCompletionVerbs = ['http://adlnet.gov/expapi/verbs/completed', 'http://adlnet.gov/expapi/verbs/passed'] as const;

/** Whom an overdue person's escalation goes to: their manager, else the campaign's Security Manager. */
export const escalationTarget = (assignment: OutstandingAssignment, securityManager: string) => assignment.manager ?? securityManager;
