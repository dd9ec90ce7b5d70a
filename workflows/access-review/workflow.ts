import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import {
  completedOnTime,
  defaultUnusedAfterDays,
  parseReviewDecisions,
  type ReviewDecision,
  type ReviewItem,
} from '../../domain/access-review';
import { durationMs } from '../../domain/duration';
import type { AccessActivities } from '../../activities/access';
import {
  accessReviewWorkflowPrefix,
  campaignDefaults,
  type AccessReviewCampaignInput,
  type AccessReviewCampaignResult,
  type ProvisioningOutcome,
  type ReviewerList,
} from '../../domain/access';
import { HumanTasks, type HumanTaskSpec } from '../human-task';
import { provision } from '../provisioning';
import { publishSearchFields } from '../search-attributes';

// Campaign records are small PostgreSQL writes: retry until the database is back, never drop one.
// No attempt limit on purpose: what PostgreSQL refuses for good fails at once, non-retryable
// (activities/permanent-failures.ts), so only unavailability (and a bug, until a fix is deployed) retries.
const access = proxyActivities<AccessActivities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

/**
 * An access review campaign: accounts are flagged before anyone looks, each system owner certifies
 * the accounts on their systems (keep, revoke or reduce) by the deadline — their own accounts go to
 * the Security Manager, since nobody certifies themselves — overdue reviews escalate to the Security
 * Manager, and revocations and reductions run as provisioning actions.
 */
export async function accessReviewCampaignWorkflow(input: AccessReviewCampaignInput): Promise<AccessReviewCampaignResult> {
  const tasks = new HumanTasks();
  const workflowId = workflowInfo().workflowId;
  const campaignId = input.campaignId ?? workflowId.slice(accessReviewWorkflowPrefix.length);
  const subject = { type: 'access_review' as const, id: campaignId };
  const deadline = input.deadline ?? campaignDefaults.deadline;
  const escalationPeriod = input.escalationPeriod ?? campaignDefaults.escalationPeriod;

  const opened = await access.openAccessReviewCampaign({
    campaignId,
    workflowId,
    scope: input.scope,
    startedBy: input.startedBy,
    deadlineAt: new Date(Date.now() + durationMs(deadline)).toISOString(),
    unusedAfterDays: input.unusedAfterDays ?? defaultUnusedAfterDays,
  });

  publishSearchFields({ process: 'access-review', subjectId: campaignId, status: 'open', slaDueAt: opened.deadlineAt });
  const provisioning: Promise<ProvisioningOutcome>[] = [];
  const answeredAt = await Promise.all(opened.reviewers.flatMap(reviewLists).map(review));
  const completedAt = answeredAt.includes(null)
    ? null
    : // biome-ignore lint/complexity/useMathMinMax: ISO timestamps are strings; Math.max would compare numbers
      (answeredAt as string[]).reduce((last, at) => (at > last ? at : last), new Date().toISOString());
  const onTime = completedOnTime({ deadlineAt: opened.deadlineAt, completedAt });
  await access.closeAccessReviewCampaign({ campaignId, completedAt, completedOnTime: onTime });
  publishSearchFields({ status: 'closed', slaDueAt: null });
  await Promise.all(provisioning);
  return { completedOnTime: onTime };

  /** The owner's list, and the owner's own accounts as a separate list for the Security Manager. */
  function reviewLists(
    list: ReviewerList,
  ): { items: ReviewItem[]; decider: Pick<HumanTaskSpec, 'allowedRoles' | 'assignees' | 'excluded'>; title: string }[] {
    const own = list.items.filter((item) => item.owner === list.reviewer);
    const others = list.items.filter((item) => item.owner !== list.reviewer);
    return [
      ...(others.length
        ? [
            {
              items: others,
              decider: { allowedRoles: [], assignees: [list.reviewer] },
              title: `Access review: certify ${others.length} accounts on your systems`,
            },
          ]
        : []),
      ...(own.length
        ? [
            {
              items: own,
              decider: { allowedRoles: ['security_manager' as const], excluded: [list.reviewer] },
              title: `Access review: certify ${own.length} accounts of system owner ${list.reviewer}`,
            },
          ]
        : []),
    ];
  }

  /** One reviewer's task; resolves to when they answered, or null when nobody did. */
  async function review(list: {
    items: ReviewItem[];
    decider: Pick<HumanTaskSpec, 'allowedRoles' | 'assignees' | 'excluded'>;
    title: string;
  }): Promise<string | null> {
    const task = await tasks.run({
      kind: 'access-review.certify',
      title: list.title,
      details: {
        campaignId,
        accounts: list.items,
        expects: { decisions: '[{accountId, ciId?, action: keep | revoke | reduce, entitlements?}]' },
      },
      subject,
      ...list.decider,
      outcomes: ['completed'],
      forbidSelfDecision: false,
      deadline,
      escalations: [{ addRoles: ['security_manager'], notifyRoles: ['security_manager'], extendBy: escalationPeriod }],
      expireWith: 'unanswered',
      guard: (decision) => refusal(parseReviewDecisions(decision.data, list.items, decision.actor.principalId)),
    });
    if (task.expired) return null;
    const decider = task.decidedBy[0] as string;
    const parsed = parseReviewDecisions(task.data, list.items, decider);
    const decisions = 'decisions' in parsed ? parsed.decisions : [];
    const at = task.decisions.at(-1)?.at ?? new Date().toISOString();
    await access.recordReviewDecisions({ campaignId, decidedBy: decider, at, taskId: task.taskId, decisions });
    for (const decision of decisions) {
      if (decision.action !== 'keep') provisioning.push(carryOut(decision, list.items, decider));
    }
    return at;
  }

  function carryOut(decision: ReviewDecision & { ciId: string }, items: ReviewItem[], decider: string) {
    const held = items.find((item) => item.ciId === decision.ciId && item.accountId === decision.accountId)?.entitlements ?? [];
    const removed = decision.action === 'reduce' ? held.filter((e) => !decision.entitlements?.includes(e)) : held;
    return provision(
      tasks,
      {
        actionId: `${campaignId}:${decision.ciId}:${decision.accountId}`,
        ciId: decision.ciId,
        accountId: decision.accountId,
        operation: decision.action === 'reduce' ? 'reduce' : 'revoke',
        entitlements: removed,
        subject,
        approvedBy: [decider],
      },
      `${decision.action === 'reduce' ? 'Reduce' : 'Revoke'} account ${decision.accountId} (access review ${campaignId})`,
    );
  }
}

function refusal(parsed: ReturnType<typeof parseReviewDecisions>): string | undefined {
  return 'refusal' in parsed ? parsed.refusal : undefined;
}
