import { systemActor } from '../../domain/roles';
import { ParentClosePolicy, WorkflowIdReusePolicy, proxyActivities, setHandler, startChild, workflowInfo } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { previousQuarter } from '../../domain/review-period';
import type { OwnerReview, ProposedRiskChange, ReviewedService } from '../../domain/security-report/model';
import type { ReviewActivities } from '../../activities/reviews';
import { HumanTasks } from '../human-task';
import { endingVisibly } from '../permanent-failure';
import type { Role } from '../../domain/roles';
import {
  makeReviewWorkflowId,
  securityReviewWorkflowType,
  type ReviewState,
  type ScheduledReviewInput,
  type ScheduledReviewResult,
  type SecurityReviewInput,
  type SecurityReviewResult,
} from '../../domain/security-review';
import { reviewStateQuery } from './definitions';
import { publishSearchFields } from '../search-attributes';

// Measuring reads a quarter of records: minutes at most. Retried until the database is back; a
// review must not be lost to an outage.
// No attempt limit on purpose: what PostgreSQL refuses for good fails at once, non-retryable
// (activities/permanent-failures.ts), so only unavailability (and a bug, until a fix is deployed) retries.
const reviews = proxyActivities<ReviewActivities>({
  startToCloseTimeout: '5m',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

const reviewers: Role[] = ['security_manager', 'admin'];

/**
 * ITIL's Security Review: measure how far the SLA security requirements were met, ask each service
 * owner whether the measures still fit their risk perception, plan improvements in risk order,
 * and have the Security Manager sign off the IT Security Report (or send it back to planning).
 */
export async function securityReviewWorkflow(input: SecurityReviewInput): Promise<SecurityReviewResult> {
  // A permanent failure (PostgreSQL refusing the data for good) ends it visibly, not wedged.
  return endingVisibly(
    {
      record: { process: 'security_review', reviewId: input.period },
      label: `Security review ${input.period}`,
      subject: { type: 'security_review', id: input.period },
    },
    () => runSecurityReview(input),
  );
}

async function runSecurityReview(input: SecurityReviewInput): Promise<SecurityReviewResult> {
  const tasks = new HumanTasks();
  const reviewId = input.period;
  const subject = { type: 'security_review', id: reviewId };
  const securityManager = input.securityManager ?? input.requestedBy;
  const state: ReviewState = { reviewId, step: 'measure', openTaskIds: [], signOffRounds: 0 };
  publishSearchFields({ process: 'security-review', subjectId: reviewId, status: state.step });
  setHandler(reviewStateQuery, () => ({ ...state, openTaskIds: tasks.openTaskIds() }));

  // Step 1: measure.
  await reviews.openSecurityReview({
    reviewId,
    workflowId: workflowInfo().workflowId,
    from: input.from,
    to: input.to,
    scope: input.scope ?? null,
    requestedBy: input.requestedBy,
  });
  const measured = await reviews.measureSecurityReview({ reviewId });

  // Step 2: every service owner in scope confirms the measures or says what changed.
  state.step = 'owner_review';
  publishSearchFields({ status: state.step });
  const answers = await Promise.all(measured.services.map((service) => askOwner(service)));
  await reviews.recordOwnerReviews({ reviewId, reviews: answers });

  // Steps 3 and 4: plan, then sign-off; a send-back reopens planning with the comments.
  let actions = 0;
  for (;;) {
    state.step = 'plan';
    publishSearchFields({ status: state.step });
    actions += (await reviews.planSecurityReview({ reviewId, securityManager })).raised;
    state.step = 'sign_off';
    publishSearchFields({ status: state.step });
    const signOff = await tasks.run({
      kind: 'review.sign-off',
      title: `Sign off the IT Security Report ${reviewId}`,
      details: {
        reviewId,
        report: `/reviews/${reviewId}/report`,
        expects: { additions: '[{title, likelihood 1-5, impact 1-5, detail?}] when sending back' },
      },
      subject,
      allowedRoles: reviewers,
      outcomes: ['approved', 'sent_back'],
      // The Security Manager who started the review is the one who signs it off.
      forbidSelfDecision: false,
    });
    const decision = signOff.decisions.at(-1);
    await reviews.recordReviewSignOff({
      reviewId,
      decision: {
        outcome: signOff.outcome,
        by: signOff.decidedBy[0] ?? systemActor.principalId,
        at: decision?.at ?? new Date().toISOString(),
        comment: decision?.comment ?? null,
        additions: proposedChanges(signOff.data?.additions),
      },
    });
    if (signOff.outcome === 'approved') break;
    state.signOffRounds += 1;
  }
  state.step = 'done';
  publishSearchFields({ status: state.step });
  return { reviewId, actions, signOffRounds: state.signOffRounds };

  async function askOwner(service: ReviewedService): Promise<OwnerReview> {
    const answer = await tasks.run({
      kind: 'review.owner-confirmation',
      title: `Do the security measures of ${service.serviceName} still fit your risk perception? (${reviewId})`,
      details: {
        reviewId,
        serviceId: service.serviceId,
        report: `/reviews/${reviewId}/report`,
        expects: { riskChanges: '[{title, likelihood 1-5, impact 1-5, riskId?, detail?}] when changed' },
      },
      subject,
      allowedRoles: [],
      assignees: [service.owner],
      outcomes: ['confirmed', 'changed'],
      forbidSelfDecision: false,
      deadline: input.deadlines?.ownerReview ?? '14d',
      escalations: [{ addRoles: ['security_manager'], notifyRoles: ['security_manager'], extendBy: input.deadlines?.escalation ?? '7d' }],
      expireWith: 'no_response',
    });
    return {
      ...service,
      outcome: answer.outcome,
      comment: answer.decisions.at(-1)?.comment ?? null,
      riskChanges: proposedChanges(answer.data?.riskChanges),
      decidedBy: answer.decidedBy,
      expired: answer.expired,
    };
  }
}

const rating = (value: unknown) => (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 5 ? value : undefined);

/** Task data is free-form; only well-formed proposals are kept. */
function proposedChanges(value: unknown): ProposedRiskChange[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item: Record<string, unknown>) => {
    const likelihood = rating(item?.likelihood);
    const impact = rating(item?.impact);
    if (typeof item?.title !== 'string' || !likelihood || !impact) return [];
    return [
      {
        title: item.title,
        likelihood,
        impact,
        ...(typeof item.riskId === 'string' ? { riskId: item.riskId } : {}),
        ...(typeof item.detail === 'string' ? { detail: item.detail } : {}),
      },
    ];
  });
}

/**
 * What the quarterly Schedule starts: Schedules give their workflows timestamped ids, so this
 * starts the review of the previous quarter under its business id, once.
 */
export async function scheduledSecurityReviewWorkflow(input: ScheduledReviewInput): Promise<ScheduledReviewResult> {
  const period = previousQuarter(new Date(Date.now()));
  publishSearchFields({ process: 'security-review', subjectId: period.label, status: 'scheduled' });
  try {
    await startChild(securityReviewWorkflowType, {
      workflowId: makeReviewWorkflowId(period.label),
      args: [
        {
          period: period.label,
          from: period.from.toISOString(),
          to: period.to.toISOString(),
          requestedBy: systemActor.principalId,
          securityManager: input.securityManager,
          deadlines: input.deadlines,
        } satisfies SecurityReviewInput,
      ],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    });
    return { period: period.label, started: true };
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return { period: period.label, started: false };
    throw error;
  }
}
