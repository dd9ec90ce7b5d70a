import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { updateRefusal } from '../../http/update-refusal';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Incident } from '../../db/database';
import { remainingSupportSeconds, slaClocksOf, type RecordedSlaClock } from '../../db/incident-sla';
import {
  assessIncident,
  findActionOfIncident,
  findVisibleIncident,
  incidentRecords,
  incidentRelations,
  linkIncidents,
  listIncidents,
  slaDuePosition,
  type IncidentAssessment,
} from '../../db/incidents';
import { incidentObservables } from '../../db/observables';
import { pageOf } from '../../db/pagination';
import { responses, uuidParam } from '../../schemas/common';
import {
  actionResultBody,
  actionResultHeaders,
  communicationRequestBody,
  incidentAccepted,
  incidentDetail,
  incidentListQuery,
  incidentPage,
  incidentReport,
  linkBody,
  mergeBody,
} from '../../schemas/incidents';
import { callbackSigningString, incidentIsOpen, makeIncidentWorkflowId, type IncidentPlaybookInput } from '../../domain/incident';
import type { ObservableType } from '../../domain/observable';
import { actionResultUpdate, incidentStateQuery, mergeIntoUpdate, requestCommunicationUpdate } from '../../workflows/incident/definitions';
import { idempotencyKey, idempotent } from '../idempotency';
import { startIncident } from '../incident-start';
import { conflict, forbidden, invalid, notFound } from '../../http/problem';
import { everyone, incidentCommunicators, incidentCurators, incidentReporters, responderCallers } from '../../http/roles';
import { cursorFrom } from '../../http/paging';
import { iso, toTaskView } from '../views';

/**
 * An incident's SLA as people read it: per target due at, what remains, and whether it was breached.
 * Lists show it for every incident on a page: the fields are copied by name rather than spread past
 * `supportHours`, and `now` is one Date for the whole response (a fifth of the time, docs/performance.md).
 */
function toSlaView(incident: Incident, clocks: RecordedSlaClock[] | undefined, now: Date) {
  if (!clocks?.length) return null;
  const nowMs = now.getTime();
  return {
    breached: incident.sla_breached,
    nextDueAt: iso(incident.sla_next_due_at),
    targets: clocks.map((clock) => {
      const endedAt = clock.metAt ?? clock.stoppedAt;
      return {
        target: clock.target,
        duration: clock.duration,
        dueAt: clock.dueAt,
        metAt: clock.metAt,
        breachedAt: clock.breachedAt,
        stoppedAt: clock.stoppedAt,
        stopReason: clock.stopReason,
        remainingSeconds: remainingSupportSeconds(clock, now),
        breached: clock.breachedAt !== null || (endedAt === null ? nowMs : Date.parse(endedAt)) > Date.parse(clock.dueAt),
      };
    }),
  };
}

function toIncidentSummary(incident: Incident, clocks: RecordedSlaClock[] | undefined, now = new Date()) {
  return {
    id: incident.id,
    number: incident.number,
    title: incident.title,
    category: incident.category,
    severity: incident.severity,
    securityIncident: incident.security_incident,
    status: incident.status,
    drill: incident.drill,
    affectedCis: incident.affected_cis,
    reportedBy: incident.reported_by,
    source: incident.source,
    workflowId: incident.workflow_id,
    playbook: { category: incident.playbook_category, version: incident.playbook_version },
    links: incident.links,
    attackTechniques: incident.attack_techniques,
    mergedInto: incident.merged_into,
    timestamps: {
      occurredAt: iso(incident.occurred_at),
      detectedAt: iso(incident.detected_at),
      reportedAt: incident.reported_at.toISOString(),
      acknowledgedAt: iso(incident.acknowledged_at),
      containedAt: iso(incident.contained_at),
      resolvedAt: iso(incident.resolved_at),
      closedAt: iso(incident.closed_at),
    },
    sla: toSlaView(incident, clocks, now),
    falsePositiveReason: incident.false_positive_reason,
  };
}

/** A signed callback older (or newer) than this is refused: a captured one cannot be replayed later. */
const callbackToleranceSeconds = 300;

/** Whether `signature` is the responder secret's HMAC of what the callback says, compared in constant time. */
function validCallbackSignature(secret: string, signature: string, signed: string): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(signed).digest('hex')}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function unknownCiErrors(assessment: IncidentAssessment, affectedCis: string[], path = 'body.affectedCis') {
  return assessment.unknownCis.map((id) => ({ path: `${path}.${affectedCis.indexOf(id)}`, message: `no configuration item ${id}` }));
}

export async function incidentRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.post('/incidents', {
    config: { roles: incidentReporters },
    schema: {
      tags: ['incidents'],
      operationId: 'reportIncident',
      summary: 'Report an incident',
      description: 'Report an incident; it is classified and its playbook starts (send Idempotency-Key to retry safely)',
      body: incidentReport,
      headers: z.object({ 'idempotency-key': z.string().max(200).optional() }),
      response: responses({ 202: incidentAccepted }),
    },
    handler: async (request, reply) => {
      const body = request.body;
      const assessment = await assessIncident(app.db, body);
      const errors = unknownCiErrors(assessment, body.affectedCis);
      if (errors.length) throw invalid(errors);
      const work = await idempotent(
        app.db,
        { scope: 'incidents', principalId: request.actor.principalId, key: idempotencyKey(request) },
        () => {
          const incidentId = randomUUID();
          const input: IncidentPlaybookInput = {
            ...body,
            incidentId,
            reportedBy: request.actor.principalId,
            reportedAt: new Date().toISOString(),
          };
          const accepted = {
            id: incidentId,
            workflowId: makeIncidentWorkflowId(incidentId),
            severity: assessment.severity,
            securityIncident: assessment.securityIncident,
            classificationReason: assessment.reason,
          };
          return { resourceId: incidentId, request: { input, accepted } };
        },
      );
      await startIncident(app, work.request.input);
      return reply.code(202).send(work.request.accepted);
    },
  });

  routes.get('/incidents', {
    config: { roles: everyone },
    schema: {
      tags: ['incidents'],
      operationId: 'listIncidents',
      summary: 'List incidents',
      description:
        'Incidents you may see, newest first or by SLA due time (`sort=slaDue`), filtered by SLA breach (`slaBreached`) or ATT&CK technique (`technique`)',
      querystring: incidentListQuery,
      response: responses({ 200: incidentPage }),
    },
    handler: async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const rows = await listIncidents(app.db, request.actor, { ...filter, limit, after: cursorFrom(cursor) });
      const { items, nextCursor } = pageOf(rows, limit, filter.sort === 'slaDue' ? slaDuePosition : undefined);
      const clocks = await slaClocksOf(
        app.db,
        items.map((incident) => incident.id),
      );
      const now = new Date();
      return { items: items.map((incident) => toIncidentSummary(incident, clocks.get(incident.id), now)), nextCursor };
    },
  });

  routes.get('/incidents/:id', {
    config: { roles: everyone },
    schema: {
      tags: ['incidents'],
      operationId: 'getIncident',
      summary: 'Read an incident',
      description: 'One incident: its record, steps, tasks, actions, alerts, communications, timeline and live state',
      params: uuidParam,
      response: responses({ 200: incidentDetail }),
    },
    handler: async (request) => {
      const incident = await findVisibleIncident(app.db, request.actor, request.params.id);
      if (!incident) throw notFound('incident', request.params.id);
      const [records, observables, related, clocks] = await Promise.all([
        incidentRecords(app.db, incident.id),
        incidentObservables(app.db, incident.id),
        incidentRelations(app.db, incident.id),
        slaClocksOf(app.db, [incident.id]),
      ]);
      const live = await app.temporal.client.workflow
        .getHandle(incident.workflow_id)
        .query(incidentStateQuery)
        .catch(() => null);
      return {
        ...toIncidentSummary(incident, clocks.get(incident.id)),
        description: incident.description,
        classificationReason: incident.classification_reason,
        scope: incident.scope,
        severityFloor: incident.severity_floor,
        targets: { acknowledge: incident.acknowledge_target, resolve: incident.resolve_target },
        observables: observables.map((o) => ({
          type: o.type as ObservableType,
          value: o.value,
          origin: o.origin,
          ioc: o.marked_at !== null,
          firstSeenAt: o.first_seen_at.toISOString(),
          lastSeenAt: o.last_seen_at.toISOString(),
        })),
        related: related.map((r) => ({
          id: r.id,
          number: r.number,
          title: r.title,
          status: r.status,
          kind: r.kind,
          note: r.note,
          by: r.created_by,
          at: r.created_at.toISOString(),
        })),
        steps: records.steps.map((s) => ({
          stepId: s.step_id,
          type: s.type,
          phase: s.phase,
          title: s.title,
          status: s.status,
          taskId: s.task_id,
          result: s.result,
          startedAt: s.started_at.toISOString(),
          finishedAt: iso(s.finished_at),
        })),
        tasks: records.tasks.map(toTaskView),
        actions: records.actions.map((a) => ({
          id: a.id,
          kind: a.kind,
          name: a.name,
          status: a.status,
          detail: a.detail,
          approvedBy: a.approved_by,
          executedAt: a.executed_at.toISOString(),
          confirmedBy: a.confirmed_by,
          confirmedAt: iso(a.confirmed_at),
          evidence: a.evidence,
        })),
        alerts: records.alerts.map((a) => ({
          id: a.id,
          source: a.source,
          rule: a.rule,
          host: a.host,
          account: a.account,
          verdict: a.verdict,
          observedAt: a.observed_at.toISOString(),
        })),
        communications: records.communications.map((c) => ({
          id: c.id,
          audience: c.audience,
          status: c.status,
          requestedBy: c.requested_by,
          decidedBy: c.decided_by,
          sentAt: iso(c.sent_at),
        })),
        timeline: records.timeline.map((e) => ({ at: e.occurred_at.toISOString(), actor: e.actor, action: e.action, details: e.details })),
        live: live && {
          status: live.status,
          severity: live.severity,
          currentStep: live.currentStep,
          openTaskIds: live.openTaskIds,
          acknowledgeEscalations: live.acknowledgeEscalations,
          pendingCommunications: live.pendingCommunications,
          ...(live.sla ? { sla: live.sla } : {}),
        },
      };
    },
  });

  routes.post('/incidents/:id/actions/:stepId/result', {
    config: { roles: responderCallers },
    schema: {
      operationId: 'reportIncidentActionResult',
      tags: ['incidents'],
      summary: "Report an automated responder's result for an action",
      description:
        'Signed and replay-safe. The responder that answered 202 to a containment action calls back with its result, with a bearer token and ' +
        '`X-Warden-Signature: sha256=<HMAC-SHA256 of "<timestamp>.<actionId>.<status>.<detail>" with WARDEN_RESPONDER_SECRET>` ' +
        'and `X-Warden-Timestamp` (unix seconds, within 5 minutes). The action id is `<incidentId>:<stepId>`, as sent to the ' +
        'responder. An action settles once: a repeated callback is 409. A failed action escalates to the Security Manager ' +
        'and opens a task to carry it out by hand and confirm it with evidence.',
      params: z.object({ id: z.uuid(), stepId: z.string().min(1).max(100) }),
      headers: actionResultHeaders,
      body: actionResultBody,
      response: responses({ 202: z.object({ actionId: z.string(), status: z.enum(['executed', 'failed']) }) }),
    },
    handler: async (request, reply) => {
      const secret = app.config.WARDEN_RESPONDER_SECRET;
      if (!secret) throw forbidden('responder callbacks need WARDEN_RESPONDER_SECRET to be configured');
      const timestamp = request.headers['x-warden-timestamp'];
      if (Math.abs(Date.now() / 1000 - Number(timestamp)) > callbackToleranceSeconds) {
        throw invalid([{ path: 'headers.x-warden-timestamp', message: `more than ${callbackToleranceSeconds} s from the server's clock` }]);
      }
      const actionId = `${request.params.id}:${request.params.stepId}`;
      if (
        !validCallbackSignature(secret, request.headers['x-warden-signature'], callbackSigningString(timestamp, actionId, request.body))
      ) {
        throw forbidden('the signature does not match the callback');
      }
      const incident = await findVisibleIncident(app.db, request.actor, request.params.id);
      if (!incident) throw notFound('incident', request.params.id);
      const action = await findActionOfIncident(app.db, incident.id, actionId);
      if (!action) throw notFound('action', actionId);
      if (action.status !== 'pending') throw conflict(`action ${actionId} is settled already (${action.status})`);
      try {
        // The action id is the Update id: a replay racing the first callback is the same Update.
        await app.temporal.client.workflow.getHandle(incident.workflow_id).executeUpdate(actionResultUpdate, {
          args: [{ actionId, ...request.body }],
          updateId: `action-result:${actionId}`,
        });
      } catch (error) {
        throw updateRefusal(error, 'the incident is over')?.problem ?? error;
      }
      return reply.code(202).send({ actionId, status: request.body.status });
    },
  });

  routes.post('/incidents/:id/communications', {
    config: { roles: incidentCommunicators },
    schema: {
      tags: ['incidents'],
      operationId: 'proposeIncidentCommunication',
      summary: 'Propose an external communication',
      description: 'Propose an external communication; it is sent only after the Security Manager approves it',
      params: uuidParam,
      body: communicationRequestBody,
      response: responses({ 202: z.object({ communicationId: z.string(), status: z.literal('pending_approval') }) }),
    },
    handler: async (request, reply) => {
      const incident = await findVisibleIncident(app.db, request.actor, request.params.id);
      if (!incident) throw notFound('incident', request.params.id);
      const communicationId = randomUUID();
      try {
        await app.temporal.client.workflow.getHandle(incident.workflow_id).executeUpdate(requestCommunicationUpdate, {
          args: [{ communicationId, ...request.body, requestedBy: request.actor.principalId }],
        });
      } catch (error) {
        throw updateRefusal(error, 'the incident no longer accepts communications')?.problem ?? error;
      }
      return reply.code(202).send({ communicationId, status: 'pending_approval' as const });
    },
  });

  routes.post('/incidents/:id/merge', {
    config: { roles: incidentCurators },
    schema: {
      operationId: 'mergeIncident',
      tags: ['incidents'],
      summary: 'Merge this incident into another as a duplicate',
      description:
        'The incident closes as closed_duplicate and its SLA clocks stop; its alerts, observables, open fingerprints, CIs and ATT&CK techniques move to the other, which keeps the higher severity (re-timing its open SLA targets); its open work tasks (work steps, containment confirmations, communications awaiting approval) move to the other under the same ids, and its own procedure tasks are cancelled as superseded. Both incidents audit the merge and list each other as related. Both must be open and both drills or both real.',
      params: uuidParam,
      body: mergeBody,
      response: responses({ 202: z.object({ id: z.string(), mergedInto: z.string() }) }),
    },
    handler: async (request, reply) => {
      const { into, reason } = request.body;
      if (into === request.params.id) throw invalid([{ path: 'body.into', message: 'an incident cannot be merged into itself' }]);
      const [incident, survivor] = await Promise.all([
        findVisibleIncident(app.db, request.actor, request.params.id),
        findVisibleIncident(app.db, request.actor, into),
      ]);
      if (!incident) throw notFound('incident', request.params.id);
      if (!survivor) throw invalid([{ path: 'body.into', message: `no incident ${into}` }]);
      if (!incidentIsOpen(survivor.status))
        throw conflict(`incident #${survivor.number} is ${survivor.status}: merge into an open incident`);
      if (survivor.drill !== incident.drill) throw conflict('a drill and a real incident cannot be merged');
      try {
        await app.temporal.client.workflow.getHandle(incident.workflow_id).executeUpdate(mergeIntoUpdate, {
          args: [{ into, reason, requestedBy: request.actor.principalId }],
        });
      } catch (error) {
        throw updateRefusal(error, 'the incident is closed')?.problem ?? error;
      }
      return reply.code(202).send({ id: incident.id, mergedInto: into });
    },
  });

  routes.post('/incidents/:id/related', {
    config: { roles: incidentCurators },
    schema: {
      operationId: 'linkIncidents',
      tags: ['incidents'],
      summary: 'Record another incident as related to this one',
      description:
        'The link shows on both incidents and is audited on both; linking the same pair again changes nothing (200 instead of 201).',
      params: uuidParam,
      body: linkBody,
      response: responses({ 201: z.object({ linked: z.literal(true) }), 200: z.object({ linked: z.literal(false) }) }),
    },
    handler: async (request, reply) => {
      const { incidentId, note } = request.body;
      if (incidentId === request.params.id) throw invalid([{ path: 'body.incidentId', message: 'an incident is not related to itself' }]);
      const [incident, related] = await Promise.all([
        findVisibleIncident(app.db, request.actor, request.params.id),
        findVisibleIncident(app.db, request.actor, incidentId),
      ]);
      if (!incident) throw notFound('incident', request.params.id);
      if (!related) throw invalid([{ path: 'body.incidentId', message: `no incident ${incidentId}` }]);
      const linked = await linkIncidents(app.db, {
        incidentId: incident.id,
        relatedId: related.id,
        note: note ?? null,
        actor: request.actor.principalId,
      });
      return linked ? reply.code(201).send({ linked: true as const }) : reply.code(200).send({ linked: false as const });
    },
  });
}
