import { systemActor } from '../domain/roles';
import { createHmac } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { sql } from 'kysely';
import { auditedWrite, canonicalJson, type AuditInput } from '../db/audit';
import { changeDetailColumns, changeDetailsOf, classifiedCis, controlResultsFor } from '../db/changes';
import { json } from '../db/create-db';
import { callbackAllowed } from '../domain/callbacks';
import {
  evaluateBaseline,
  verifiedStatus,
  type BaselineVerification,
  type ChangeAssessment,
  type ChangeDetails,
  type ChangeEvidence,
  type ChangeStatus,
} from '../domain/change-risk';
import type { ChangeGateInput } from '../workflows/change/definitions';
import type { ActivityDeps } from './deps';

const system = systemActor.principalId;

export type GateOutcome = Extract<ChangeStatus, 'approved' | 'rejected' | 'changes_requested' | 'not_implemented'>;

export interface ChangeDecisionInput {
  changeId: string;
  /** The workflow's key for the decision (`review:<taskId>`, `auto:<revision>`): recorded once. */
  decisionKey: string;
  revision: number;
  outcome: GateOutcome;
  decidedBy: string[];
  reason: string;
  taskId: string | null;
}

export interface AmendmentInput {
  changeId: string;
  actor: string;
  /** The revision the amendment creates. */
  revision: number;
  changes: Partial<ChangeDetails>;
  evidence: ChangeEvidence[];
  assessment: ChangeAssessment;
}

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

const baselineActions: Record<BaselineVerification['outcome'], string> = {
  holds: 'change.baseline_verified',
  fails: 'change.baseline_failed',
  no_controls: 'change.baseline_unverified',
};

// Receivers answering these may succeed on a later attempt; every other 4xx never will.
const retryableClientErrors = new Set([408, 425, 429]);
// A receiver that has not answered by then is treated as down; the retry policy tries again.
const callbackTimeoutMs = 10_000;

export function createChangeActivities({ db, callbacks }: ActivityDeps) {
  const changeEvent = (actor: string, action: string, changeId: string, details: Record<string, unknown>): AuditInput => ({
    actor,
    action,
    subjectType: 'change',
    subjectId: changeId,
    details,
  });

  return {
    /** Safe to retry: the change id is the primary key and a second insert does nothing. */
    async recordChangeRequest(input: { workflowId: string; gate: ChangeGateInput; status: ChangeStatus }): Promise<void> {
      const { gate } = input;
      await auditedWrite(db, async (trx) => {
        const inserted = await trx
          .insertInto('changes')
          .values({
            id: gate.changeId,
            workflow_id: input.workflowId,
            title: gate.change.title,
            description: gate.change.description,
            affected_cis: gate.change.affectedCis,
            security_impact: json(gate.change.securityImpact),
            planned_start: gate.change.plannedStart,
            planned_end: gate.change.plannedEnd,
            rollback_plan: gate.change.rollbackPlan,
            evidence: json(gate.evidence),
            problem_id: gate.change.problemId,
            known_error_id: gate.change.knownErrorId,
            requester: gate.requester,
            source: gate.source,
            external_ref: gate.externalRef ? json(gate.externalRef) : null,
            callback_url: gate.callbackUrl,
            status: input.status,
            risk: gate.assessment.risk,
            assessment: json(gate.assessment),
            // Millisecond precision, like the keyset cursor: now()'s microseconds would repeat a row across pages.
            created_at: new Date(),
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .returning('id')
          .executeTakeFirst();
        return inserted
          ? changeEvent(gate.requester, 'change.requested', gate.changeId, {
              title: gate.change.title,
              source: gate.source,
              externalRef: gate.externalRef,
              risk: gate.assessment.risk,
              reasons: gate.assessment.reasons,
            })
          : undefined;
      });
    },

    /** Safe to retry: the decision key is unique per change; the status moves only with the first insert. */
    async recordChangeDecision(input: ChangeDecisionInput): Promise<void> {
      await auditedWrite(db, async (trx) => {
        const inserted = await trx
          .insertInto('change_decisions')
          .values({
            change_id: input.changeId,
            decision_key: input.decisionKey,
            revision: input.revision,
            outcome: input.outcome,
            decided_by: input.decidedBy,
            reason: input.reason,
            task_id: input.taskId,
            decided_at: new Date(),
          })
          .onConflict((oc) => oc.columns(['change_id', 'decision_key']).doNothing())
          .returning('change_id')
          .executeTakeFirst();
        if (!inserted) return undefined;
        await trx.updateTable('changes').set({ status: input.outcome, updated_at: new Date() }).where('id', '=', input.changeId).execute();
        const actor = input.decidedBy.length === 1 ? (input.decidedBy[0] as string) : system;
        return changeEvent(actor, `change.${input.outcome}`, input.changeId, {
          revision: input.revision,
          decidedBy: input.decidedBy,
          reason: input.reason,
          taskId: input.taskId,
        });
      });
    },

    /** Safe to retry: the amendment applies only to the revision before it. */
    async recordAmendment(input: AmendmentInput): Promise<void> {
      await auditedWrite(db, async (trx) => {
        const before = await trx.selectFrom('changes').selectAll().where('id', '=', input.changeId).forUpdate().executeTakeFirstOrThrow();
        if (before.revision !== input.revision - 1) return undefined;
        const previous = changeDetailsOf(before);
        const fields = Object.fromEntries(
          (Object.keys(input.changes) as (keyof ChangeDetails)[])
            .filter((field) => canonicalJson(input.changes[field]) !== canonicalJson(previous[field]))
            .map((field) => [field, { from: previous[field], to: input.changes[field] }]),
        );
        await trx
          .updateTable('changes')
          .set({
            ...changeDetailColumns(input.changes),
            evidence: json(input.evidence),
            assessment: json(input.assessment),
            risk: input.assessment.risk,
            revision: input.revision,
            status: 'in_review',
            updated_at: new Date(),
          })
          .where('id', '=', input.changeId)
          .execute();
        return changeEvent(input.actor, 'change.amended', input.changeId, {
          revision: input.revision,
          fields,
          risk: { from: before.risk, to: input.assessment.risk },
          reasons: input.assessment.reasons,
        });
      });
    },

    /** Safe to retry: the whole list is written, and only when it differs from what is stored. */
    async recordEvidence(input: { changeId: string; actor: string; evidence: ChangeEvidence[]; added: ChangeEvidence[] }): Promise<void> {
      await auditedWrite(db, async (trx) => {
        const updated = await trx
          .updateTable('changes')
          .set({ evidence: json(input.evidence), updated_at: new Date() })
          .where('id', '=', input.changeId)
          .where(sql<boolean>`evidence <> ${json(input.evidence)}::jsonb`)
          .returning('id')
          .executeTakeFirst();
        return updated ? changeEvent(input.actor, 'change.evidence_added', input.changeId, { added: input.added }) : undefined;
      });
    },

    /** Safe to retry: only an approved change moves to verifying. */
    async recordImplementation(input: { changeId: string; actor: string; implementedAt: string; notes: string | null }): Promise<void> {
      await auditedWrite(db, async (trx) => {
        const updated = await trx
          .updateTable('changes')
          .set({ status: 'verifying', updated_at: new Date() })
          .where('id', '=', input.changeId)
          .where('status', '=', 'approved')
          .returning('id')
          .executeTakeFirst();
        return updated
          ? changeEvent(input.actor, 'change.implemented', input.changeId, { implementedAt: input.implementedAt, notes: input.notes })
          : undefined;
      });
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
      return evaluateBaseline(cis, controls, new Date().toISOString());
    },

    /** Safe to retry: only a change being verified takes the result. */
    async recordVerification(input: { changeId: string; verification: BaselineVerification }): Promise<void> {
      const status = verifiedStatus(input.verification);
      await auditedWrite(db, async (trx) => {
        const updated = await trx
          .updateTable('changes')
          .set({ status, verification: json(input.verification), updated_at: new Date() })
          .where('id', '=', input.changeId)
          .where('status', '=', 'verifying')
          .returning('id')
          .executeTakeFirst();
        if (!updated) return undefined;
        const { outcome, summary, checks } = input.verification;
        return changeEvent(system, baselineActions[outcome], input.changeId, {
          outcome,
          summary,
          failing: checks.filter((check) => check.status === 'fails'),
        });
      });
    },

    /** Safe to retry: the incident is linked only while none is. */
    async linkChangeIncident(input: { changeId: string; incidentId: string }): Promise<void> {
      await auditedWrite(db, async (trx) => {
        const updated = await trx
          .updateTable('changes')
          .set({ incident_id: input.incidentId, updated_at: new Date() })
          .where('id', '=', input.changeId)
          .where('incident_id', 'is', null)
          .returning('id')
          .executeTakeFirst();
        return updated ? changeEvent(system, 'change.incident_opened', input.changeId, { incidentId: input.incidentId }) : undefined;
      });
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
      await db
        .insertInto('change_callback_deliveries')
        .values({
          change_id: delivery.changeId,
          event_key: delivery.eventKey,
          url: delivery.url,
          payload: json(delivery.payload),
          status: 'pending',
        })
        .onConflict((oc) => oc.columns(['change_id', 'event_key']).doNothing())
        .execute();
      const row = await db
        .selectFrom('change_callback_deliveries')
        .select(['status', 'last_status_code'])
        .where('change_id', '=', delivery.changeId)
        .where('event_key', '=', delivery.eventKey)
        .executeTakeFirstOrThrow();
      if (row.status === 'delivered') return { statusCode: row.last_status_code ?? 200 };

      const body = JSON.stringify(delivery.payload);
      const timestamp = Math.floor(Date.now() / 1000).toString();
      const recordAttempt = (update: { status?: 'delivered'; last_status_code?: number; last_error: string | null }) =>
        db
          .updateTable('change_callback_deliveries')
          .set((eb) => ({ ...update, attempts: eb('attempts', '+', 1), ...(update.status ? { delivered_at: new Date() } : {}) }))
          .where('change_id', '=', delivery.changeId)
          .where('event_key', '=', delivery.eventKey)
          .execute();
      let response: Response;
      try {
        response = await fetch(delivery.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [signatureHeader]: signCallback(callbacks.secret, timestamp, body),
            [timestampHeader]: timestamp,
            'x-warden-event': String(delivery.payload.event),
            'x-warden-delivery': `${delivery.changeId}/${delivery.eventKey}`,
          },
          body,
          // An allowed origin must not bounce the request to one that is not.
          redirect: 'manual',
          signal: AbortSignal.timeout(callbackTimeoutMs),
        });
        await response.body?.cancel();
      } catch (error) {
        await recordAttempt({ last_error: error instanceof Error ? error.message : String(error) });
        throw error;
      }
      if (response.ok) {
        await recordAttempt({ status: 'delivered', last_status_code: response.status, last_error: null });
        return { statusCode: response.status };
      }
      const message = `callback answered ${response.status}`;
      await recordAttempt({ last_status_code: response.status, last_error: message });
      if (response.status < 500 && !retryableClientErrors.has(response.status))
        throw ApplicationFailure.nonRetryable(message, 'CallbackRefused');
      throw ApplicationFailure.retryable(message, 'CallbackFailed');
    },

    /** Safe to retry: only a pending delivery is given up. */
    async markCallbackUndelivered(input: { changeId: string; eventKey: string; reason: string }): Promise<void> {
      await db
        .updateTable('change_callback_deliveries')
        .set({ status: 'failed', last_error: input.reason })
        .where('change_id', '=', input.changeId)
        .where('event_key', '=', input.eventKey)
        .where('status', '=', 'pending')
        .execute();
    },
  };
}

export type ChangeActivities = ReturnType<typeof createChangeActivities>;
