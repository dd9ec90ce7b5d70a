import { systemActor } from '../domain/roles';
import type { Kysely } from 'kysely';
import { appendAudit } from '../db/audit';
import { json } from '../db/create-db';
import type { Database } from '../db/database';
import { assessIncident } from '../db/incidents';
import { findPlaybook } from '../db/playbooks';
import type { Severity } from '../domain/classification';
import type { Playbook, PlaybookAction } from '../domain/playbook';
import type { IncidentPlaybookInput, IncidentTimestamp, RegisteredIncident } from '../domain/incident';
import type { ActivityDeps } from './deps';
import { createNotificationActivities } from './notifications';
import { postSignedAction } from './signed-webhook';

async function audited(
  db: Kysely<Database>,
  event: { actor: string; action: string; incidentId: string; details?: Record<string, unknown> },
  change: (trx: Kysely<Database>) => Promise<boolean>,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    if (!(await change(trx))) return false;
    await appendAudit(trx, {
      actor: event.actor,
      action: event.action,
      subjectType: 'incident',
      subjectId: event.incidentId,
      details: event.details,
    });
    return true;
  });
}

export function createIncidentActivities(deps: ActivityDeps) {
  const { db, logger, responderUrl, responderSecret } = deps;
  const notifications = createNotificationActivities(deps);
  return {
    /**
     * Safe to retry: the incident id is the primary key; a retry finds the row and answers from it
     * with the playbook version recorded at the first attempt.
     */
    async registerIncident(input: IncidentPlaybookInput & { workflowId: string }): Promise<RegisteredIncident> {
      const existing = await db.selectFrom('incidents').selectAll().where('id', '=', input.incidentId).executeTakeFirst();
      if (existing) {
        const playbook = await findPlaybook(db, existing.playbook_category, existing.playbook_version);
        return {
          severity: existing.severity as Severity,
          securityIncident: existing.security_incident,
          reason: existing.classification_reason,
          acknowledgeTarget: existing.acknowledge_target,
          resolveTarget: existing.resolve_target,
          playbook: playbook?.definition as Playbook,
        };
      }
      const assessment = await assessIncident(db, input);
      const playbookRow = await findPlaybook(db, input.category);
      if (!playbookRow) throw new Error(`no playbook published for category ${input.category}`);
      await audited(
        db,
        {
          actor: input.reportedBy,
          action: 'incident.registered',
          incidentId: input.incidentId,
          details: {
            title: input.title,
            category: input.category,
            severity: assessment.severity,
            securityIncident: assessment.securityIncident,
            reason: assessment.reason,
            drill: input.drill ?? false,
            playbookVersion: playbookRow.version,
            links: input.links ?? [],
          },
        },
        async (trx) => {
          const inserted = await trx
            .insertInto('incidents')
            .values({
              id: input.incidentId,
              workflow_id: input.workflowId,
              title: input.title,
              description: input.description,
              category: input.category,
              severity: assessment.severity,
              security_incident: assessment.securityIncident,
              classification_reason: assessment.reason,
              status: 'registered',
              affected_cis: input.affectedCis.filter((id) => !assessment.unknownCis.includes(id)),
              source: input.source,
              drill: input.drill ?? false,
              reported_by: input.reportedBy,
              playbook_category: input.category,
              playbook_version: playbookRow.version,
              fingerprint: input.fingerprint ?? null,
              links: json(input.links ?? []),
              acknowledge_target: assessment.acknowledgeTarget,
              resolve_target: assessment.resolveTarget,
              occurred_at: input.occurredAt ?? null,
              detected_at: input.detectedAt ?? null,
              reported_at: input.reportedAt,
            })
            .onConflict((oc) => oc.column('id').doNothing())
            .returning('id')
            .executeTakeFirst();
          return inserted !== undefined;
        },
      );
      return { ...assessment, playbook: playbookRow.definition };
    },

    /** Safe to retry: a status is written only when it changes and a timestamp only once. */
    async updateIncidentStatus(input: {
      incidentId: string;
      status: string;
      actor: string;
      stamp?: IncidentTimestamp;
      details?: Record<string, unknown>;
    }) {
      const action = `incident.${input.stamp ? input.stamp.replace(/_at$/, '') : input.status}`;
      await audited(
        db,
        { actor: input.actor, action, incidentId: input.incidentId, details: { status: input.status, ...input.details } },
        async (trx) => {
          const stamp = input.stamp;
          const updated = await trx
            .updateTable('incidents')
            .set((eb) => ({ status: input.status, ...(stamp ? { [stamp]: eb.fn.coalesce(eb.ref(stamp), eb.val(new Date())) } : {}) }))
            .where('id', '=', input.incidentId)
            .where((eb) => eb.or([eb('status', '!=', input.status), ...(stamp ? [eb(stamp, 'is', null)] : [])]))
            .returning('id')
            .executeTakeFirst();
          if (updated && input.status.startsWith('closed')) {
            // The fingerprint is free again: a later alert with it is a new incident.
            await trx.deleteFrom('open_alert_fingerprints').where('incident_id', '=', input.incidentId).execute();
          }
          return updated !== undefined;
        },
      );
    },

    /** Safe to retry: the triage result overwrites the same fields with the same values. */
    async applyTriage(input: {
      incidentId: string;
      actor: string;
      scope?: string;
      category?: IncidentPlaybookInput['category'];
      affectedCis?: string[];
    }): Promise<{ severity: Severity }> {
      const incident = await db.selectFrom('incidents').selectAll().where('id', '=', input.incidentId).executeTakeFirstOrThrow();
      const category = (input.category ?? incident.category) as IncidentPlaybookInput['category'];
      const affectedCis = input.affectedCis ?? incident.affected_cis;
      const assessment = await assessIncident(db, { category, affectedCis });
      await audited(
        db,
        {
          actor: input.actor,
          action: 'incident.triaged',
          incidentId: input.incidentId,
          details: { scope: input.scope, category, affectedCis, severity: assessment.severity, previousSeverity: incident.severity },
        },
        async (trx) => {
          const updated = await trx
            .updateTable('incidents')
            .set({
              status: 'triaged',
              scope: input.scope ?? incident.scope,
              category,
              affected_cis: affectedCis.filter((id) => !assessment.unknownCis.includes(id)),
              severity: assessment.severity,
            })
            .where('id', '=', input.incidentId)
            .where('status', '!=', 'triaged')
            .returning('id')
            .executeTakeFirst();
          return updated !== undefined;
        },
      );
      return { severity: assessment.severity };
    },

    /** Safe to retry: one row per incident and step, updated in place. */
    async recordIncidentStep(input: {
      incidentId: string;
      stepId: string;
      type: string;
      phase: string;
      title: string;
      status: 'started' | 'completed' | 'skipped';
      taskId?: string;
      result?: Record<string, unknown>;
    }) {
      const now = new Date();
      await db
        .insertInto('incident_steps')
        .values({
          incident_id: input.incidentId,
          step_id: input.stepId,
          type: input.type,
          phase: input.phase,
          title: input.title,
          status: input.status,
          task_id: input.taskId ?? null,
          result: input.result ? json(input.result) : null,
          started_at: now,
          finished_at: input.status === 'started' ? null : now,
        })
        .onConflict((oc) =>
          oc.columns(['incident_id', 'step_id']).doUpdateSet((eb) => ({
            status: eb.ref('excluded.status'),
            task_id: eb.fn.coalesce(eb.ref('excluded.task_id'), eb.ref('incident_steps.task_id')),
            result: eb.fn.coalesce(eb.ref('excluded.result'), eb.ref('incident_steps.result')),
            finished_at: eb.ref('excluded.finished_at'),
          })),
        )
        .execute();
    },

    /**
     * Runs an automated responder once: the action id is derived from the incident and step, so a
     * retry finds the recorded execution instead of acting twice.
     */
    async runIncidentAction(input: { actionId: string; incidentId: string; action: PlaybookAction; approvedBy: string[]; drill: boolean }) {
      const done = await db.selectFrom('incident_actions').select(['status', 'detail']).where('id', '=', input.actionId).executeTakeFirst();
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
          const answer = await postSignedAction(url, { actionId: input.actionId, payload, secret: responderSecret, receiver: 'responder' });
          status = answer.ok ? 'executed' : 'failed';
          detail = answer.detail;
        }
      }
      const name = action.kind === 'containment' ? action.name : action.kind;
      await audited(
        db,
        {
          actor: systemActor.principalId,
          action: 'incident.action_run',
          incidentId: input.incidentId,
          details: { actionId: input.actionId, name, status, detail, approvedBy: input.approvedBy },
        },
        async (trx) => {
          const inserted = await trx
            .insertInto('incident_actions')
            .values({
              id: input.actionId,
              incident_id: input.incidentId,
              kind: action.kind,
              name,
              params: json(action.kind === 'containment' ? (action.params ?? {}) : {}),
              status,
              detail,
              approved_by: input.approvedBy,
            })
            .onConflict((oc) => oc.column('id').doNothing())
            .returning('id')
            .executeTakeFirst();
          return inserted !== undefined;
        },
      );
      logger.info({ incidentId: input.incidentId, action: name, status }, 'incident action');
      return { status, detail };
    },

    /** Safe to retry: action and problem ids come from the workflow; repeats insert nothing. */
    async recordPostIncidentReview(input: {
      incidentId: string;
      actor: string;
      lessons: { id: string; title: string; owner: string; dueAt: string | null }[];
      problem: { id: string; title: string; reason: string } | null;
    }) {
      await audited(
        db,
        {
          actor: input.actor,
          action: 'incident.reviewed',
          incidentId: input.incidentId,
          details: { lessons: input.lessons.map((l) => l.title), problem: input.problem?.reason ?? null },
        },
        async (trx) => {
          const actions = input.lessons.length
            ? await trx
                .insertInto('improvement_actions')
                .values(
                  input.lessons.map((l) => ({
                    id: l.id,
                    title: l.title,
                    source_type: 'incident',
                    source_id: input.incidentId,
                    owner: l.owner,
                    due_at: l.dueAt,
                  })),
                )
                .onConflict((oc) => oc.column('id').doNothing())
                .returning('id')
                .execute()
            : [];
          const problem = input.problem
            ? await trx
                .insertInto('problems')
                .values({ ...input.problem, source_type: 'incident', source_id: input.incidentId })
                .onConflict((oc) => oc.column('id').doNothing())
                .returning('id')
                .executeTakeFirst()
            : undefined;
          return actions.length > 0 || problem !== undefined || (input.lessons.length === 0 && !input.problem);
        },
      );
    },

    /** Safe to retry: the communication id comes from the API and is the primary key. */
    async recordCommunicationRequest(input: {
      communicationId: string;
      incidentId: string;
      audience: string;
      message: string;
      requestedBy: string;
    }) {
      await audited(
        db,
        {
          actor: input.requestedBy,
          action: 'incident.communication_requested',
          incidentId: input.incidentId,
          details: { communicationId: input.communicationId, audience: input.audience },
        },
        async (trx) => {
          const inserted = await trx
            .insertInto('incident_communications')
            .values({
              id: input.communicationId,
              incident_id: input.incidentId,
              audience: input.audience,
              message: input.message,
              status: 'pending_approval',
              requested_by: input.requestedBy,
            })
            .onConflict((oc) => oc.column('id').doNothing())
            .returning('id')
            .executeTakeFirst();
          return inserted !== undefined;
        },
      );
    },

    /** Safe to retry: only a pending communication is settled. */
    async settleCommunication(input: {
      communicationId: string;
      incidentId: string;
      approved: boolean;
      decidedBy: string;
      taskId: string;
      drill: boolean;
    }) {
      await audited(
        db,
        {
          actor: input.decidedBy,
          action: input.approved ? 'incident.communication_sent' : 'incident.communication_rejected',
          incidentId: input.incidentId,
          details: { communicationId: input.communicationId, drill: input.drill },
        },
        async (trx) => {
          const updated = await trx
            .updateTable('incident_communications')
            .set({
              status: input.approved ? 'sent' : 'rejected',
              decided_by: input.decidedBy,
              task_id: input.taskId,
              sent_at: input.approved ? new Date() : null,
            })
            .where('id', '=', input.communicationId)
            .where('status', '=', 'pending_approval')
            .returning(['audience', 'message'])
            .executeTakeFirst();
          if (updated && input.approved) {
            await trx
              .insertInto('notifications')
              .values({
                dedup_key: `communication:${input.communicationId}`,
                recipient_roles: [],
                recipients: [updated.audience],
                subject_type: 'incident',
                subject_id: input.incidentId,
                title: 'Security incident communication',
                body: updated.message,
                task_id: null,
                suppressed_reason: input.drill ? 'drill: exercises notify nobody outside' : null,
              })
              .onConflict((oc) => oc.column('dedup_key').doNothing())
              .execute();
          }
          return updated !== undefined;
        },
      );
    },
  };
}

export type IncidentActivities = ReturnType<typeof createIncidentActivities>;
