import { sql, type Kysely } from 'kysely';
import { incidentSeverity, type Classification, type IncidentCategory, type SecurityAspect, type Severity } from '../domain/classification';
import {
  assessSecurityRelevance,
  strictest,
  type IncidentPlaybookInput,
  type IncidentTimestamp,
  type RegisteredIncident,
} from '../domain/incident';
import { sanitiseText, type ProcessFailure } from '../domain/failure';
import type { Playbook, PlaybookAction } from '../domain/playbook';
import { systemActor, type Actor } from '../domain/roles';
import { defaultSla, type ServiceSla } from '../domain/sla';
import { auditedWrite } from './audit';
import { json } from './create-db';
import { newestFirstPage } from './pagination';
import type { Database, Incident } from './database';
import { findPlaybook } from './playbooks';
import { tasksOfSubject } from './tasks';

const subjectType = 'incident';

export interface IncidentAssessment {
  severity: Severity;
  securityIncident: boolean;
  reason: string;
  acknowledgeTarget: string;
  resolveTarget: string;
  unknownCis: string[];
}

/**
 * Classification of an incident against its affected CIs: the severity rule, the security
 * relevance rule, and the strictest acknowledge/resolve targets of the services those CIs serve.
 */
export async function assessIncident(
  db: Kysely<Database>,
  input: { category: IncidentCategory; affectedCis: string[]; threatens?: SecurityAspect[] },
): Promise<IncidentAssessment> {
  const cis = input.affectedCis.length
    ? await db
        .selectFrom('configuration_items as ci')
        .leftJoin('services as s', 's.id', 'ci.service_id')
        .select(['ci.id', 'ci.confidentiality', 'ci.integrity', 'ci.availability', 's.sla'])
        .where('ci.id', 'in', input.affectedCis)
        .execute()
    : [];
  const known = new Set(cis.map((ci) => ci.id));
  const classifications: Classification[] = cis.map((ci) => ({
    confidentiality: ci.confidentiality,
    integrity: ci.integrity,
    availability: ci.availability,
  }));
  const severity = incidentSeverity(input.category, classifications);
  const slas = cis.map((ci) => ({ ...defaultSla, ...((ci.sla as ServiceSla | null) ?? {}) }));
  const relevance = assessSecurityRelevance(input.category, input.threatens ?? [], cis.length);
  return {
    severity,
    ...relevance,
    acknowledgeTarget: strictest(
      slas.map((sla) => sla.acknowledgeTargets[severity]),
      defaultSla.acknowledgeTargets[severity],
    ),
    resolveTarget: strictest(
      slas.map((sla) => sla.resolveTargets[severity]),
      defaultSla.resolveTargets[severity],
    ),
    unknownCis: input.affectedCis.filter((id) => !known.has(id)),
  };
}

/** Incident details are confidential: the process roles see all; others their own reports and their CIs'. */
const incidentReaders = ['admin', 'security_manager', 'security_analyst', 'auditor'];

function incidentVisibleTo(actor: Actor) {
  if (actor.roles.some((role) => incidentReaders.includes(role))) return sql<boolean>`true`;
  return sql<boolean>`(incidents.reported_by = ${actor.principalId} or exists (
    select 1 from configuration_items ci where ci.id = any(incidents.affected_cis) and ci.owner = ${actor.principalId}))`;
}

export interface IncidentFilter {
  status?: string;
  severity?: string;
  category?: string;
  drill?: boolean;
  limit: number;
  after?: { createdAt: string; id: string };
}

export async function listIncidents(db: Kysely<Database>, actor: Actor, filter: IncidentFilter): Promise<Incident[]> {
  let query = db.selectFrom('incidents').selectAll().where(incidentVisibleTo(actor));
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.severity) query = query.where('severity', '=', filter.severity);
  if (filter.category) query = query.where('category', '=', filter.category);
  if (filter.drill !== undefined) query = query.where('drill', '=', filter.drill);
  return newestFirstPage(query, filter).execute();
}

export async function findVisibleIncident(db: Kysely<Database>, actor: Actor, id: string): Promise<Incident | undefined> {
  return db.selectFrom('incidents').selectAll().where('id', '=', id).where(incidentVisibleTo(actor)).executeTakeFirst();
}

/** Everything recorded about one incident, for its detail view and timeline. */
export async function incidentRecords(db: Kysely<Database>, id: string) {
  const [steps, tasks, actions, alerts, communications, timeline] = await Promise.all([
    db.selectFrom('incident_steps').selectAll().where('incident_id', '=', id).orderBy('started_at').execute(),
    tasksOfSubject(db, { type: 'incident', id }),
    db.selectFrom('incident_actions').selectAll().where('incident_id', '=', id).orderBy('executed_at').execute(),
    db.selectFrom('security_alerts_received').selectAll().where('incident_id', '=', id).orderBy('observed_at').execute(),
    db.selectFrom('incident_communications').selectAll().where('incident_id', '=', id).orderBy('created_at').execute(),
    db.selectFrom('audit_events').selectAll().where('subject_type', '=', 'incident').where('subject_id', '=', id).orderBy('id').execute(),
  ]);
  return { steps, tasks, actions, alerts, communications, timeline };
}

/** The incident ids among `ids` the actor may see, with what the inbox shows of each. */
export function visibleIncidentLabels(db: Kysely<Database>, actor: Actor, ids: string[]) {
  return db.selectFrom('incidents').select(['id', 'number', 'title']).where('id', 'in', ids).where(incidentVisibleTo(actor)).execute();
}

/**
 * Registers and classifies the incident once. Safe to retry: the incident id is the primary key; a
 * retry finds the row and answers from it with the playbook version recorded at the first attempt.
 */
export async function registerIncident(
  db: Kysely<Database>,
  input: IncidentPlaybookInput & { workflowId: string },
): Promise<RegisteredIncident> {
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
  await auditedWrite(db, async (trx) => {
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
    return inserted
      ? {
          actor: input.reportedBy,
          action: 'incident.registered',
          subjectType,
          subjectId: input.incidentId,
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
        }
      : undefined;
  });
  return { ...assessment, playbook: playbookRow.definition };
}

/** Strings the failed-registration row may hold whatever was sent: PostgreSQL refused the original. */
const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Records an incident whose registration PostgreSQL refused, so the id the API accepted answers
 * with what happened instead of 404: a minimal row of sanitised values (NUL and lone surrogates
 * replaced, long text cut), status `registration_failed`, unclassified, not counted as a security
 * incident (so no SLA measure judges it), the failure as its classification reason, and an
 * `incident.registration_failed` audit event with the failure. Safe to retry: the incident id is
 * the primary key and a second insert does nothing; an incident that was registered after all is
 * left as it is.
 */
export async function recordFailedRegistration(
  db: Kysely<Database>,
  input: IncidentPlaybookInput & { workflowId: string; failure: ProcessFailure },
): Promise<void> {
  const { failure } = input;
  const reportedAt = new Date(input.reportedAt);
  await auditedWrite(db, async (trx) => {
    const inserted = await trx
      .insertInto('incidents')
      .values({
        id: input.incidentId,
        workflow_id: input.workflowId,
        title: sanitiseText(input.title, 300),
        description: sanitiseText(input.description, 2000),
        category: sanitiseText(input.category, 60),
        severity: 'unclassified',
        security_incident: false,
        classification_reason: `Registration failed (${failure.type} in ${failure.step}): ${failure.message}`,
        status: 'registration_failed',
        affected_cis: (Array.isArray(input.affectedCis) ? input.affectedCis : []).filter(
          (id): id is string => typeof id === 'string' && uuidShape.test(id),
        ),
        source: sanitiseText(input.source, 60),
        drill: input.drill === true,
        reported_by: sanitiseText(input.reportedBy, 200),
        playbook_category: sanitiseText(input.category, 60),
        playbook_version: 0,
        links: json([]),
        acknowledge_target: 'n/a',
        resolve_target: 'n/a',
        reported_at: Number.isNaN(reportedAt.getTime()) ? new Date() : reportedAt,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    return inserted
      ? {
          actor: systemActor.principalId,
          action: 'incident.registration_failed',
          subjectType,
          subjectId: input.incidentId,
          details: { failure, reportedBy: sanitiseText(input.reportedBy, 200) },
        }
      : undefined;
  });
}

/**
 * Moves the incident to `status`, stamping a milestone; closing frees its alert fingerprint. Safe
 * to retry: a status is written only when it changes and a timestamp only once.
 */
export async function updateIncidentStatus(
  db: Kysely<Database>,
  input: { incidentId: string; status: string; actor: string; stamp?: IncidentTimestamp; details?: Record<string, unknown> },
): Promise<void> {
  const { stamp } = input;
  await auditedWrite(db, async (trx) => {
    const updated = await trx
      .updateTable('incidents')
      .set((eb) => ({ status: input.status, ...(stamp ? { [stamp]: eb.fn.coalesce(eb.ref(stamp), eb.val(new Date())) } : {}) }))
      .where('id', '=', input.incidentId)
      .where((eb) => eb.or([eb('status', '!=', input.status), ...(stamp ? [eb(stamp, 'is', null)] : [])]))
      .returning('id')
      .executeTakeFirst();
    if (!updated) return undefined;
    if (input.status.startsWith('closed')) {
      // The fingerprint is free again: a later alert with it is a new incident.
      await trx.deleteFrom('open_alert_fingerprints').where('incident_id', '=', input.incidentId).execute();
    }
    return {
      actor: input.actor,
      action: `incident.${stamp ? stamp.replace(/_at$/, '') : input.status}`,
      subjectType,
      subjectId: input.incidentId,
      details: { status: input.status, ...input.details },
    };
  });
}

/**
 * Records the triage (scope, category, affected CIs) and the severity it implies. Safe to retry:
 * the triage result overwrites the same fields with the same values, once.
 */
export async function applyTriage(
  db: Kysely<Database>,
  input: { incidentId: string; actor: string; scope?: string; category?: IncidentCategory; affectedCis?: string[] },
): Promise<{ severity: Severity; owners: string[] }> {
  const incident = await db.selectFrom('incidents').selectAll().where('id', '=', input.incidentId).executeTakeFirstOrThrow();
  const category = (input.category ?? incident.category) as IncidentCategory;
  const affectedCis = input.affectedCis ?? incident.affected_cis;
  const assessment = await assessIncident(db, { category, affectedCis });
  await auditedWrite(db, async (trx) => {
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
    return updated
      ? {
          actor: input.actor,
          action: 'incident.triaged',
          subjectType,
          subjectId: input.incidentId,
          details: { scope: input.scope, category, affectedCis, severity: assessment.severity, previousSeverity: incident.severity },
        }
      : undefined;
  });
  return { severity: assessment.severity, owners: await ciOwners(db, input.incidentId) };
}

/** The owners of an incident's affected CIs, for playbook steps they take part in. */
async function ciOwners(db: Kysely<Database>, incidentId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('incidents')
    .innerJoin('configuration_items as ci', (join) => join.on(sql<boolean>`ci.id = any(incidents.affected_cis)`))
    .select('ci.owner')
    .distinct()
    .where('incidents.id', '=', incidentId)
    .orderBy('ci.owner')
    .execute();
  return rows.map((row) => row.owner);
}

/** A playbook step as the incident's record keeps it. */
export interface IncidentStepRecord {
  incidentId: string;
  stepId: string;
  type: string;
  phase: string;
  title: string;
  status: 'started' | 'completed' | 'skipped';
  taskId?: string;
  result?: Record<string, unknown>;
}

/** Safe to retry: one row per incident and step, updated in place. */
export async function recordIncidentStep(db: Kysely<Database>, input: IncidentStepRecord): Promise<void> {
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
}

/** The recorded execution of a responder action, if it ran already. */
export function findIncidentAction(db: Kysely<Database>, actionId: string) {
  return db.selectFrom('incident_actions').select(['status', 'detail']).where('id', '=', actionId).executeTakeFirst();
}

/** Safe to retry: the action id is the primary key, so an execution is recorded once. */
export async function recordIncidentAction(
  db: Kysely<Database>,
  input: {
    actionId: string;
    incidentId: string;
    action: PlaybookAction;
    name: string;
    status: string;
    detail: string;
    approvedBy: string[];
  },
): Promise<void> {
  const { action } = input;
  await auditedWrite(db, async (trx) => {
    const inserted = await trx
      .insertInto('incident_actions')
      .values({
        id: input.actionId,
        incident_id: input.incidentId,
        kind: action.kind,
        name: input.name,
        params: json(action.kind === 'containment' ? (action.params ?? {}) : {}),
        status: input.status,
        detail: input.detail,
        approved_by: input.approvedBy,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    return inserted
      ? {
          actor: systemActor.principalId,
          action: 'incident.action_run',
          subjectType,
          subjectId: input.incidentId,
          details: { actionId: input.actionId, name: input.name, status: input.status, detail: input.detail, approvedBy: input.approvedBy },
        }
      : undefined;
  });
}

/**
 * Lessons become improvement actions; a recurring or unexplained cause becomes a problem record.
 * Safe to retry: action and problem ids come from the workflow, so repeats insert nothing.
 */
export async function recordPostIncidentReview(
  db: Kysely<Database>,
  input: {
    incidentId: string;
    actor: string;
    lessons: { id: string; title: string; owner: string; dueAt: string | null }[];
    problem: { id: string; title: string; reason: string } | null;
  },
): Promise<void> {
  await auditedWrite(db, async (trx) => {
    const actions = input.lessons.length
      ? await trx
          .insertInto('improvement_actions')
          .values(
            input.lessons.map((l) => ({
              id: l.id,
              title: l.title,
              source_type: subjectType,
              source_id: input.incidentId,
              owner: l.owner,
              due_at: l.dueAt,
            })),
          )
          .onConflict((oc) => oc.column('id').doNothing())
          .returning('id')
          .execute()
      : [];
    // The review's problem is a problem record (db/problems.ts): it affects the incident's CIs, is
    // linked to it, and carries a security risk because a security incident raised it.
    const incident = input.problem
      ? await trx.selectFrom('incidents').select('affected_cis').where('id', '=', input.incidentId).executeTakeFirst()
      : undefined;
    const ciIds = incident?.affected_cis ?? [];
    const services = ciIds.length
      ? await trx.selectFrom('configuration_items').select('service_id').distinct().where('id', 'in', ciIds).execute()
      : [];
    const problem = input.problem
      ? await trx
          .insertInto('problems')
          .values({
            ...input.problem,
            source_type: subjectType,
            source_id: input.incidentId,
            description: input.problem.reason,
            affected_ci_ids: ciIds,
            affected_service_ids: services.flatMap((row) => (row.service_id ? [row.service_id] : [])),
            security_risk: true,
            created_by: input.actor,
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .returning('id')
          .executeTakeFirst()
      : undefined;
    if (problem) await trx.insertInto('problem_incidents').values({ problem_id: problem.id, incident_id: input.incidentId }).execute();
    // A review with no findings is recorded too, once: its audit event is the review.
    const recorded = actions.length > 0 || problem !== undefined || (input.lessons.length === 0 && !input.problem);
    return recorded
      ? {
          actor: input.actor,
          action: 'incident.reviewed',
          subjectType,
          subjectId: input.incidentId,
          details: { lessons: input.lessons.map((l) => l.title), problem: input.problem?.reason ?? null },
        }
      : undefined;
  });
}

/** Safe to retry: the communication id comes from the API and is the primary key. */
export async function recordCommunicationRequest(
  db: Kysely<Database>,
  input: { communicationId: string; incidentId: string; audience: string; message: string; requestedBy: string },
): Promise<void> {
  await auditedWrite(db, async (trx) => {
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
    return inserted
      ? {
          actor: input.requestedBy,
          action: 'incident.communication_requested',
          subjectType,
          subjectId: input.incidentId,
          details: { communicationId: input.communicationId, audience: input.audience },
        }
      : undefined;
  });
}

/**
 * Settles a communication as the Security Manager decided; an approved one is queued for delivery
 * in the same transaction. Safe to retry: only a pending communication is settled, and the
 * notification's dedup key is the communication's.
 */
export async function settleCommunication(
  db: Kysely<Database>,
  input: { communicationId: string; incidentId: string; approved: boolean; decidedBy: string; taskId: string; drill: boolean },
): Promise<void> {
  await auditedWrite(db, async (trx) => {
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
    if (!updated) return undefined;
    if (input.approved) {
      await trx
        .insertInto('notifications')
        .values({
          dedup_key: `communication:${input.communicationId}`,
          recipient_roles: [],
          recipients: [updated.audience],
          subject_type: subjectType,
          subject_id: input.incidentId,
          title: 'Security incident communication',
          body: updated.message,
          task_id: null,
          suppressed_reason: input.drill ? 'drill: exercises notify nobody outside' : null,
        })
        .onConflict((oc) => oc.column('dedup_key').doNothing())
        .execute();
    }
    return {
      actor: input.decidedBy,
      action: input.approved ? 'incident.communication_sent' : 'incident.communication_rejected',
      subjectType,
      subjectId: input.incidentId,
      details: { communicationId: input.communicationId, drill: input.drill },
    };
  });
}
