import { createHmac } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import {
  claimCallbackDelivery,
  classifiedCis,
  controlResultsFor,
  linkChangeIncident,
  markCallbackUndelivered,
  recordAmendment,
  recordCallbackAttempt,
  recordChangeDecision,
  recordChangeRequest,
  recordEvidence,
  recordImplementation,
  recordVerification,
  type AmendmentInput,
  type ChangeDecisionInput,
} from '../db/changes';
import { callbackAllowed } from '../domain/callbacks';
import type { ChangeGateInput } from '../domain/change';
import { evaluateBaseline, type BaselineVerification, type ChangeEvidence, type ChangeStatus } from '../domain/change-risk';
import { baselineInForce } from '../db/baseline';
import type { ActivityDeps } from './deps';
import { isOutboundRefused, type OutboundResponse } from './outbound';

export interface CallbackDelivery {
  changeId: string;
  /** Unique per change and event (`3-decision`): retries update one delivery row. */
  eventKey: string;
  url: string;
  payload: Record<string, unknown>;
}

export const signatureHeader = 'x-warden-signature';
export const timestampHeader = 'x-warden-timestamp';

/** HMAC-SHA256 over `<timestamp>.<raw body>`: the timestamp is signed too, so a replay can be refused by age. */
export function signCallback(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

// Receivers answering these may succeed on a later attempt; every other 4xx never will.
const retryableClientErrors = new Set([408, 425, 429]);
// A receiver that has not answered by then is treated as down; the retry policy tries again.
const callbackTimeoutMs = 10_000;

/** The change security gate's records and checks; each write's idempotency is documented in db/changes.ts. */
export function createChangeActivities({ db, callbacks, outbound }: ActivityDeps) {
  return {
    /** Safe to retry: the change id is the primary key and a second insert does nothing. */
    async recordChangeRequest(input: { workflowId: string; gate: ChangeGateInput; status: ChangeStatus }): Promise<void> {
      await recordChangeRequest(db, input);
    },

    /** Safe to retry: the decision key is unique per change; the status moves only with the first insert. */
    async recordChangeDecision(input: ChangeDecisionInput): Promise<void> {
      await recordChangeDecision(db, input);
    },

    /** Safe to retry: the amendment applies only to the revision before it. */
    async recordAmendment(input: AmendmentInput): Promise<void> {
      await recordAmendment(db, input);
    },

    /** Safe to retry: the whole list is written, and only when it differs from what is stored. */
    async recordEvidence(input: { changeId: string; actor: string; evidence: ChangeEvidence[]; added: ChangeEvidence[] }): Promise<void> {
      await recordEvidence(db, input);
    },

    /** Safe to retry: only an approved change moves to verifying. */
    async recordImplementation(input: { changeId: string; actor: string; implementedAt: string; notes: string | null }): Promise<void> {
      await recordImplementation(db, input);
    },

    /** The active controls protecting any of the CIs, whose tests the gate runs after implementation. Reads only, so safe to retry. */
    async controlsToTest(input: { ciIds: string[] }): Promise<string[]> {
      const controls = await controlResultsFor(db, input.ciIds);
      return (controls ?? []).map((control) => control.controlId);
    },

    /**
     * The post-implementation check: the baseline measures the affected CIs' classification requires,
     * against the latest results of the controls that implement them. Reads only, so safe to retry.
     */
    async verifyBaseline(input: { changeId: string; ciIds: string[] }): Promise<BaselineVerification> {
      const cis = await classifiedCis(db, input.ciIds);
      const controls = await controlResultsFor(db, input.ciIds);
      return evaluateBaseline(cis, controls, new Date().toISOString(), await baselineInForce(db));
    },

    /** Safe to retry: only a change being verified takes the result. */
    async recordVerification(input: { changeId: string; verification: BaselineVerification }): Promise<void> {
      await recordVerification(db, input);
    },

    /** Safe to retry: the incident is linked only while none is. */
    async linkChangeIncident(input: { changeId: string; incidentId: string }): Promise<void> {
      await linkChangeIncident(db, input);
    },

    /**
     * POSTs one gate event to the change's ITSM callback, signed. Safe to retry because the delivery
     * row is keyed by change and event, a delivered one is never sent again, and receivers get the
     * same `X-Warden-Delivery` id on every attempt to drop a duplicate.
     */
    async deliverChangeCallback(delivery: CallbackDelivery): Promise<{ statusCode: number }> {
      if (!callbackAllowed(delivery.url, callbacks.allowedOrigins)) {
        throw ApplicationFailure.nonRetryable(
          `callback origin of ${delivery.url} is not in WARDEN_CALLBACK_ALLOWED_ORIGINS`,
          'CallbackNotAllowed',
        );
      }
      if (!callbacks.secret) throw ApplicationFailure.nonRetryable('WARDEN_CALLBACK_SECRET is not set', 'CallbackNotConfigured');
      const row = await claimCallbackDelivery(db, delivery);
      if (row.status === 'delivered') return { statusCode: row.last_status_code ?? 200 };

      const body = JSON.stringify(delivery.payload);
      const timestamp = Math.floor(Date.now() / 1000).toString();
      let response: OutboundResponse;
      try {
        // Through the outbound guard, and redirects are never followed: an allowed origin must not
        // bounce the request to one that is not, nor resolve to an address the guard refuses.
        response = await outbound.request(delivery.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [signatureHeader]: signCallback(callbacks.secret, timestamp, body),
            [timestampHeader]: timestamp,
            'x-warden-event': String(delivery.payload.event),
            'x-warden-delivery': `${delivery.changeId}/${delivery.eventKey}`,
          },
          body,
          timeoutMs: callbackTimeoutMs,
        });
      } catch (error) {
        await recordCallbackAttempt(db, delivery, { last_error: error instanceof Error ? error.message : String(error) });
        if (isOutboundRefused(error)) throw ApplicationFailure.nonRetryable((error as Error).message, 'CallbackNotAllowed');
        throw error;
      }
      if (response.status >= 200 && response.status < 300) {
        await recordCallbackAttempt(db, delivery, { status: 'delivered', last_status_code: response.status, last_error: null });
        return { statusCode: response.status };
      }
      const message = `callback answered ${response.status}`;
      await recordCallbackAttempt(db, delivery, { last_status_code: response.status, last_error: message });
      if (response.status < 500 && !retryableClientErrors.has(response.status))
        throw ApplicationFailure.nonRetryable(message, 'CallbackRefused');
      throw ApplicationFailure.retryable(message, 'CallbackFailed');
    },

    /** Safe to retry: only a pending delivery is given up. */
    async markCallbackUndelivered(input: { changeId: string; eventKey: string; reason: string }): Promise<void> {
      await markCallbackUndelivered(db, input);
    },
  };
}

export type ChangeActivities = ReturnType<typeof createChangeActivities>;
