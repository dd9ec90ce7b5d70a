import {
  applyTriage,
  closeAsFalsePositive,
  confirmIncidentAction,
  findIncidentAction,
  type IncidentStepRecord,
  recordCommunicationRequest,
  mergeIncident,
  recordIncidentAction,
  recordIncidentStep,
  recordFailedRegistration,
  recordPostIncidentReview,
  registerIncident,
  settleIncidentAction,
  settleCommunication,
  updateIncidentStatus,
} from '../db/incidents';
import { meetSlaClock, recordSlaBreach, retimeSlaClocks, startSlaClocks } from '../db/incident-sla';
import type { IncidentCategory } from '../domain/classification';
import type { ProcessFailure } from '../domain/failure';
import type { IncidentPlaybookInput, IncidentTimestamp, RegisteredIncident } from '../domain/incident';
import type { PlaybookAction } from '../domain/playbook';
import type { SlaTarget } from '../domain/sla';
import type { ActivityDeps } from './deps';
import { createNotificationActivities } from './notifications';
import { postSignedAction } from './signed-webhook';

/** The incident procedure; each write's idempotency is documented in db/incidents.ts. */
export function createIncidentActivities(deps: ActivityDeps) {
  const { db, logger, responderUrl, responderSecret, outbound, containment } = deps;
  const notifications = createNotificationActivities(deps);
  return {
    /**
     * Safe to retry: the incident id is the primary key, and a retry answers from the recorded row.
     * The answer carries this worker's containment timing, so the workflow's timers come from history.
     */
    async registerIncident(input: IncidentPlaybookInput & { workflowId: string }): Promise<RegisteredIncident> {
      return { ...(await registerIncident(db, input)), containment };
    },

    /**
     * After `registerIncident` failed for good: a minimal, sanitised row with status
     * `registration_failed`, so the id the API answered with never reads as 404. Safe to retry: the
     * incident id is the primary key; a second insert does nothing.
     */
    async recordFailedRegistration(input: IncidentPlaybookInput & { workflowId: string; failure: ProcessFailure }): Promise<void> {
      await recordFailedRegistration(db, input);
    },

    /** Safe to retry: a status is written only when it changes and a timestamp only once. */
    async updateIncidentStatus(input: {
      incidentId: string;
      status: string;
      actor: string;
      stamp?: IncidentTimestamp;
      details?: Record<string, unknown>;
    }): Promise<void> {
      await updateIncidentStatus(db, input);
    },

    /** Safe to retry: the triage result overwrites the same fields with the same values. */
    applyTriage(input: {
      incidentId: string;
      actor: string;
      scope?: string;
      category?: IncidentCategory;
      affectedCis?: string[];
      attackTechniques?: string[];
    }) {
      return applyTriage(db, input);
    },

    /** Safe to retry: one row per incident and step, updated in place. */
    async recordIncidentStep(input: IncidentStepRecord): Promise<void> {
      await recordIncidentStep(db, input);
    },

    /**
     * Runs an automated responder once: the action id is derived from the incident and step, so a
     * retry finds the recorded execution instead of acting twice.
     */
    async runIncidentAction(input: { actionId: string; incidentId: string; action: PlaybookAction; approvedBy: string[]; drill: boolean }) {
      const done = await findIncidentAction(db, input.actionId);
      if (done) return done;
      const { action } = input;
      let status = 'executed';
      let detail: string;
      if (action.kind === 'notify') {
        // Through the notifier, so the roles' channels (e-mail, webhooks) deliver it, once.
        await notifications.notify({
          dedupKey: `action:${input.actionId}`,
          recipientRoles: action.roles,
          recipients: [],
          subject: { type: 'incident', id: input.incidentId },
          title: 'Incident update',
          body: action.message,
          drill: input.drill,
        });
        detail = `notified ${action.roles.join(', ')}`;
      } else {
        const url = action.kind === 'webhook' ? action.url : responderUrl;
        if (input.drill) {
          status = 'simulated';
          detail = 'drill: the responder was not called';
        } else if (!url) {
          status = 'manual';
          detail = 'no responder configured (WARDEN_RESPONDER_URL): carry out the action by hand and record it on the step';
        } else {
          const payload = {
            actionId: input.actionId,
            incidentId: input.incidentId,
            action: action.kind === 'containment' ? action.name : 'webhook',
            params: action.kind === 'containment' ? (action.params ?? {}) : {},
            approvedBy: input.approvedBy,
          };
          const answer = await postSignedAction(url, {
            actionId: input.actionId,
            payload,
            secret: responderSecret,
            receiver: 'responder',
            outbound,
          });
          status = answer.accepted ? 'pending' : answer.ok ? 'executed' : 'failed';
          detail = answer.accepted ? `${answer.detail}: awaiting its signed callback` : answer.detail;
        }
      }
      const name = action.kind === 'containment' ? action.name : action.kind;
      await recordIncidentAction(db, {
        actionId: input.actionId,
        incidentId: input.incidentId,
        action,
        name,
        status,
        detail,
        approvedBy: input.approvedBy,
      });
      logger.info({ incidentId: input.incidentId, action: name, status }, 'incident action');
      return { status, detail };
    },

    /**
     * Computes and records when each SLA target falls due (in the services' support hours), so the
     * workflow's timers come from history, not from a clock it may not read. Safe to retry: one row
     * per incident and target, inserted once; a retry answers with the recorded clocks.
     */
    startSlaClocks(input: { incidentId: string }) {
      return startSlaClocks(db, input);
    },

    /** Safe to retry: the open targets get the same due times for the same severity, audited once. */
    retimeSlaClocks(input: { incidentId: string; actor: string; cause?: string }) {
      return retimeSlaClocks(db, input);
    },

    /** Safe to retry: a target is met once. */
    async meetSlaClock(input: { incidentId: string; target: SlaTarget; actor: string }): Promise<void> {
      await meetSlaClock(db, input);
    },

    /** Safe to retry: only an unmet, unbreached target is marked breached, and audited once. */
    recordSlaBreach(input: { incidentId: string; target: SlaTarget; responsible: string }) {
      return recordSlaBreach(db, input);
    },

    /** Safe to retry: only an incident not closed yet is closed, and audited once. */
    async closeAsFalsePositive(input: { incidentId: string; actor: string; reason: string }): Promise<void> {
      await closeAsFalsePositive(db, input);
    },

    /** Safe to retry: only a pending action is settled, and audited once. */
    async settleIncidentAction(input: { actionId: string; incidentId: string; status: string; detail: string }): Promise<void> {
      await settleIncidentAction(db, input);
    },

    /** Safe to retry: only an unconfirmed action is confirmed, and audited once. */
    async confirmIncidentAction(input: { actionId: string; incidentId: string; confirmedBy: string; evidence: string; links: string[] }) {
      await confirmIncidentAction(db, input);
    },

    /** Safe to retry: action and problem ids come from the workflow; repeats insert nothing. */
    async recordPostIncidentReview(input: {
      incidentId: string;
      actor: string;
      lessons: { id: string; title: string; owner: string; dueAt: string | null }[];
      problem: { id: string; title: string; reason: string } | null;
    }): Promise<void> {
      await recordPostIncidentReview(db, input);
    },

    /** Safe to retry: the communication id comes from the API and is the primary key. */
    async recordCommunicationRequest(input: {
      communicationId: string;
      incidentId: string;
      audience: string;
      message: string;
      requestedBy: string;
    }): Promise<void> {
      await recordCommunicationRequest(db, input);
    },

    /** Safe to retry: a duplicate already merged is left as it is, and answers with what the merge moved. */
    mergeIncident(input: {
      incidentId: string;
      workflowId: string;
      into: string;
      reason: string;
      requestedBy: string;
      moveTasks?: boolean;
    }) {
      return mergeIncident(db, input);
    },

    /** Safe to retry: only a pending communication is settled. */
    async settleCommunication(input: {
      communicationId: string;
      incidentId: string;
      approved: boolean;
      decidedBy: string;
      taskId: string;
      drill: boolean;
    }): Promise<void> {
      await settleCommunication(db, input);
    },
  };
}

export type IncidentActivities = ReturnType<typeof createIncidentActivities>;
