import {
  campaignReviewerLists,
  closeCampaign,
  confirmManualProvisioning,
  fileAccessRequest,
  findProvisioningOutcome,
  findSystem,
  openCampaign,
  recordProvisioningAction,
  recordReviewDecisions,
  setAccessRequestStatus,
} from '../db/access';
import type {
  AccessRequestInput,
  AccessRequestStatusChange,
  CampaignScope,
  OpenedCampaign,
  ProvisioningOutcome,
  ProvisioningRequest,
} from '../domain/access';
import type { ReviewDecision } from '../domain/access-review';
import { lapseSodExceptions, recordSodException } from '../db/sod';
import type { ActivityDeps } from './deps';
import { postSignedAction } from './signed-webhook';

/** Access requests, provisioning and access review campaigns; each write's idempotency is documented in db/access.ts. */
export function createAccessActivities({ db, logger, provisioningSecret, outbound }: ActivityDeps) {
  /** The system's webhook answer, or — when the system has none — an action awaiting an admin. */
  async function carryOutProvisioning(input: ProvisioningRequest): Promise<ProvisioningOutcome> {
    const system = await findSystem(db, input.ciId);
    if (!system) throw new Error(`configuration item ${input.ciId} does not exist`);
    const url = typeof system.attributes.provisioningUrl === 'string' ? system.attributes.provisioningUrl : undefined;
    if (!url) {
      return {
        status: 'awaiting_manual',
        method: 'manual',
        detail: `no provisioningUrl on ${system.name}: an admin carries it out and confirms`,
      };
    }
    const payload = {
      actionId: input.actionId,
      operation: input.operation,
      system: { id: system.id, name: system.name },
      account: input.accountId,
      entitlements: input.entitlements,
      subject: input.subject,
      approvedBy: input.approvedBy,
    };
    const answer = await postSignedAction(url, {
      actionId: input.actionId,
      payload,
      secret: provisioningSecret,
      receiver: 'provisioning endpoint',
      outbound,
    });
    return { status: answer.ok ? 'executed' : 'failed', method: 'webhook', detail: answer.detail };
  }

  return {
    /** Safe to retry: the request id is the primary key, and a filed request answers from its row. */
    async registerAccessRequest(
      input: AccessRequestInput & { workflowId: string },
    ): Promise<{ systemName: string; systemOwner: string; privileged: boolean }> {
      const system = await findSystem(db, input.ciId);
      if (!system) throw new Error(`configuration item ${input.ciId} does not exist`);
      const { privileged } = await fileAccessRequest(db, input);
      return { systemName: system.name, systemOwner: system.owner, privileged };
    },

    /** Safe to retry: the status is written only when it changes, and each timestamp only once. */
    async setAccessRequestStatus(input: AccessRequestStatusChange): Promise<void> {
      await setAccessRequestStatus(db, input);
    },

    /** Safe to retry: one exception per request and rule; a second insert does nothing. */
    async recordSodException(input: {
      id: string;
      requestId: string;
      ruleIds: string[];
      principalId: string;
      reason: string;
      expiresAt: string;
      grantedBy: string;
    }): Promise<void> {
      await recordSodException(db, input);
    },

    /** Safe to retry: only active exceptions lapse. */
    async lapseSodExceptions(input: { requestId: string }): Promise<void> {
      await lapseSodExceptions(db, input);
    },

    /**
     * One provisioning action behind one interface: POSTed, signed, to the system's
     * `attributes.provisioningUrl`, or — when the system has none — recorded as awaiting an admin who
     * carries it out by hand. Safe to retry: the action id is the primary key and a recorded action
     * is answered from its row; the receiver gets the same Idempotency-Key on every attempt.
     */
    async runProvisioningAction(input: ProvisioningRequest): Promise<ProvisioningOutcome> {
      const done = await findProvisioningOutcome(db, input.actionId);
      if (done) return done;
      const outcome = await carryOutProvisioning(input);
      await recordProvisioningAction(db, { request: input, outcome });
      logger.info({ actionId: input.actionId, operation: input.operation, status: outcome.status }, 'provisioning action');
      return outcome;
    },

    /** Safe to retry: only an action still awaiting its admin is settled. */
    async confirmManualProvisioning(input: { actionId: string; done: boolean; confirmedBy: string; taskId: string }): Promise<void> {
      await confirmManualProvisioning(db, input);
    },

    /**
     * Safe to retry: the campaign id is the primary key; a retry answers from the items recorded by
     * the first attempt, so reviewers see the flags as they were when the campaign opened.
     */
    async openAccessReviewCampaign(input: {
      campaignId: string;
      workflowId: string;
      scope: CampaignScope;
      startedBy: string;
      deadlineAt: string;
      unusedAfterDays: number;
    }): Promise<OpenedCampaign> {
      await openCampaign(db, input);
      return campaignReviewerLists(db, input.campaignId);
    },

    /** Safe to retry: an item takes a decision only while it has none; each decision is audited once. */
    async recordReviewDecisions(input: {
      campaignId: string;
      decidedBy: string;
      at: string;
      taskId: string;
      decisions: (ReviewDecision & { ciId: string })[];
    }): Promise<void> {
      await recordReviewDecisions(db, input);
    },

    /** Safe to retry: only an open campaign closes. */
    async closeAccessReviewCampaign(input: { campaignId: string; completedAt: string | null; completedOnTime: boolean }): Promise<void> {
      await closeCampaign(db, input);
    },
  };
}

export type AccessActivities = ReturnType<typeof createAccessActivities>;
