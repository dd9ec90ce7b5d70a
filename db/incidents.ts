import { type Kysely, type RawBuilder, sql, type Transaction } from 'kysely';
import { incidentSeverity, type Classification, type IncidentCategory, type SecurityAspect, type Severity } from '../domain/classification';
import {
  assessSecurityRelevance,
  movedTaskKinds,
  strictest,
  type IncidentPlaybookInput,
  type MovedTask,
  type IncidentTimestamp,
  type RegisteredIncident,
} from '../domain/incident';
import { sanitiseText, type ProcessFailure } from '../domain/failure';
import { cmdbObservables, higherSeverity, type Observable } from '../domain/observable';
import type { Playbook, PlaybookAction } from '../domain/playbook';
import { systemActor, type Actor, type Role } from '../domain/roles';
import { stopSlaClocks } from './incident-sla';
import { completeSla, defaultSla, type ServiceSla } from '../domain/sla';
import { appendAudit, auditedTransaction, type AuditedTransaction, auditedWrite, subjectAuditTrail } from './audit';
import { json } from './create-db';
import { compiledPerShape, everyColumn } from './compiled-statements';
import { keysetRows } from './pagination';
import type { Database, HumanTask, Incident, IncidentsTable } from './database';
import { knownTechniques } from './attack';
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
 * What assessing an incident reads of its CIs, those whose ids `ids` yields (a uuid[] expression):
 * their classification and their service's SLA.
 */
export function ciClassifications(ids: RawBuilder<string[]>) {
  return sql<CiClassification>`
    select ci.id, ci.confidentiality, ci.integrity, ci.availability, s.sla
      from configuration_items as ci
      left join services as s on s.id = ci.service_id
     where ci.id = any(${ids})`;
}

export type CiClassification = Classification & { id: string; sla: unknown };

/**
 * Classification of an incident against its affected CIs: the severity rule, the security
 * relevance rule, and the strictest acknowledge/resolve targets of the services those CIs serve.
 */
export async function assessIncident(
  db: Kysely<Database>,
  input: { category: IncidentCategory; affectedCis: string[]; threatens?: SecurityAspect[]; severityFloor?: Severity },
): Promise<IncidentAssessment> {
  const cis = input.affectedCis.length ? (await ciClassifications(sql`${input.affectedCis}::uuid[]`).execute(db)).rows : [];
  return assessmentAgainst(input, cis);
}

/** assessIncident's rules, for a caller that read the CIs (`ciClassifications`) along with something else. */
export function assessmentAgainst(
  input: { category: IncidentCategory; affectedCis: string[]; threatens?: SecurityAspect[]; severityFloor?: Severity },
  cis: readonly CiClassification[],
): IncidentAssessment {
  const known = new Set(cis.map((ci) => ci.id));
  const classifications: Classification[] = cis.map((ci) => ({
    confidentiality: ci.confidentiality,
    integrity: ci.integrity,
    availability: ci.availability,
  }));
  // The SIEM's own severity, or high for a known IOC, is a floor the CIs can only raise.
  const severity = higherSeverity(incidentSeverity(input.category, classifications), input.severityFloor ?? 'low');
  const slas = cis.map((ci) => completeSla(ci.sla as Partial<ServiceSla> | null));
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

const readsEveryIncident = (actor: Actor) => actor.roles.some((role) => incidentReaders.includes(role));

/** The visibility rule with the principal as a value or a placeholder (`compiledPerShape`). */
function visibleTo(everyIncident: boolean, principalId: string) {
  if (everyIncident) return sql<boolean>`true`;
  return sql<boolean>`(incidents.reported_by = ${principalId} or exists (
    select 1 from configuration_items ci where ci.id = any(incidents.affected_cis) and ci.owner = ${principalId}))`;
}

export function incidentVisibleTo(actor: Actor) {
  return visibleTo(readsEveryIncident(actor), actor.principalId);
}

export interface IncidentFilter {
  status?: string;
  severity?: string;
  category?: string;
  drill?: boolean;
  /** An ATT&CK technique; a technique matches its sub-techniques too (T1110 finds T1110.003). */
  technique?: string;
  slaBreached?: boolean;
  /** `newest` (the default) by registration; `slaDue` by the earliest unmet SLA target, none last. */
  sort?: 'newest' | 'slaDue';
  limit: number;
  /** The keyset position: for `slaDue` the due time (in `createdAt`, as the cursor carries it) and id. */
  after?: { createdAt: string; id: string };
}

/** Where an incident with no unmet SLA target sorts among those due: after all of them. */
const neverDue = new Date('9999-12-31T00:00:00.000Z');
const dueOrder = sql<Date>`coalesce(incidents.sla_next_due_at, ${neverDue}::timestamptz)`;

/** Which of the list's conditions a request has: what its statement's text depends on. */
interface IncidentListShape {
  everyIncident: boolean;
  status: boolean;
  severity: boolean;
  category: boolean;
  drill: boolean;
  technique: boolean;
  slaBreached: boolean;
  slaDue: boolean;
  after: boolean;
}

/** The values that go into the list's statement. */
interface IncidentListValues {
  principalId: string;
  status?: string;
  severity?: string;
  category?: string;
  drill?: boolean;
  technique?: string;
  /** The technique's sub-techniques, as a LIKE pattern. */
  subTechniques?: string;
  slaBreached?: boolean;
  afterPosition?: string;
  afterId?: string;
  /** The page and one row beyond it. */
  rows: number;
}

const incidentColumns = everyColumn<IncidentsTable>({
  id: true,
  number: true,
  workflow_id: true,
  title: true,
  description: true,
  category: true,
  severity: true,
  security_incident: true,
  classification_reason: true,
  status: true,
  affected_cis: true,
  source: true,
  drill: true,
  reported_by: true,
  playbook_category: true,
  playbook_version: true,
  fingerprint: true,
  links: true,
  scope: true,
  acknowledge_target: true,
  resolve_target: true,
  occurred_at: true,
  detected_at: true,
  reported_at: true,
  acknowledged_at: true,
  contained_at: true,
  resolved_at: true,
  closed_at: true,
  sla_next_due_at: true,
  sla_breached: true,
  false_positive_reason: true,
  created_at: true,
  attack_techniques: true,
  severity_floor: true,
  merged_into: true,
});

const incidentListStatement = compiledPerShape<IncidentListShape, IncidentListValues, Incident>((db, shape, value) => {
  let query = db
    .selectFrom('incidents')
    .select(incidentColumns)
    .where(visibleTo(shape.everyIncident, value('principalId')));
  if (shape.status) query = query.where('status', '=', value('status'));
  if (shape.severity) query = query.where('severity', '=', value('severity'));
  if (shape.category) query = query.where('category', '=', value('category'));
  if (shape.drill) query = query.where('drill', '=', value('drill'));
  if (shape.technique) {
    query = query.where(
      sql<boolean>`exists (select 1 from unnest(incidents.attack_techniques) t where t = ${value('technique')} or t like ${value('subTechniques')})`,
    );
  }
  if (shape.slaBreached) query = query.where('sla_breached', '=', value('slaBreached'));
  const after = shape.after ? { createdAt: value('afterPosition'), id: value('afterId') } : undefined;
  if (!shape.slaDue) return keysetRows(query, 'desc', value('rows'), after);
  if (after) query = query.where(sql<boolean>`(${dueOrder}, incidents.id) > (${after.createdAt}::timestamptz, ${after.id}::uuid)`);
  return query.orderBy(dueOrder).orderBy('id').limit(value('rows'));
});

/** The incidents the actor may see that match `filter`: the page and one beyond it. */
export function listIncidents(db: Kysely<Database>, actor: Actor, filter: IncidentFilter): Promise<Incident[]> {
  const { technique, after } = filter;
  const shape: IncidentListShape = {
    everyIncident: readsEveryIncident(actor),
    status: Boolean(filter.status),
    severity: Boolean(filter.severity),
    category: Boolean(filter.category),
    drill: filter.drill !== undefined,
    technique: Boolean(technique),
    slaBreached: filter.slaBreached !== undefined,
    slaDue: filter.sort === 'slaDue',
    after: after !== undefined,
  };
  return incidentListStatement(db, shape, {
    principalId: actor.principalId,
    status: filter.status,
    severity: filter.severity,
    category: filter.category,
    drill: filter.drill,
    technique,
    subTechniques: technique ? `${technique}.%` : undefined,
    slaBreached: filter.slaBreached,
    afterPosition: after?.createdAt,
    afterId: after?.id,
    rows: filter.limit + 1,
  });
}

/** The keyset position of an incident in the `slaDue` order, in the shape the page cursor carries. */
export function slaDuePosition(incident: Incident): { created_at: Date; id: string } {
  return { created_at: incident.sla_next_due_at ?? neverDue, id: incident.id };
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
    subjectAuditTrail(db, 'incident', id),
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
  const playbookRow = await findPlaybook(db, input.category);
  if (!playbookRow) throw new Error(`no playbook published for category ${input.category}`);
  let assessment: IncidentAssessment | undefined;
  await auditedWrite(db, async (trx) => {
    // Alerts may have attached before the workflow got here: their CIs and severity floors count too.
    // The lock keeps an alert from attaching between this read and the insert (db/alerts.ts takes it too).
    await lockIncident(trx, input.incidentId);
    const attached = await trx
      .selectFrom('security_alerts_received')
      .select(['ci_ids', 'severity_floor'])
      .where('incident_id', '=', input.incidentId)
      .execute();
    const affectedCis = [...new Set([...input.affectedCis, ...attached.flatMap((alert) => alert.ci_ids)])];
    const severityFloor = attached
      .map((alert) => alert.severity_floor as Severity | null)
      .reduce<Severity | undefined>((floor, next) => (next ? higherSeverity(next, floor ?? 'low') : floor), input.severityFloor);
    const assessed = await assessIncident(trx, { ...input, affectedCis, severityFloor });
    assessment = assessed;
    const inserted = await trx
      .insertInto('incidents')
      .values({
        id: input.incidentId,
        workflow_id: input.workflowId,
        title: input.title,
        description: input.description,
        category: input.category,
        severity: assessed.severity,
        security_incident: assessed.securityIncident,
        classification_reason: assessed.reason,
        status: 'registered',
        affected_cis: affectedCis.filter((id) => !assessed.unknownCis.includes(id)),
        source: input.source,
        drill: input.drill ?? false,
        reported_by: input.reportedBy,
        playbook_category: input.category,
        playbook_version: playbookRow.version,
        fingerprint: input.fingerprint ?? null,
        links: json(input.links ?? []),
        acknowledge_target: assessed.acknowledgeTarget,
        resolve_target: assessed.resolveTarget,
        occurred_at: input.occurredAt ?? null,
        detected_at: input.detectedAt ?? null,
        reported_at: input.reportedAt,
        attack_techniques: input.attackTechniques ?? [],
        severity_floor: severityFloor ?? null,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) return undefined;
    // What the CMDB knows the affected CIs by (the account, the hosts) are the incident's observables too.
    const cis = affectedCis.length
      ? await trx.selectFrom('configuration_items').select(['type', 'name', 'attributes']).where('id', 'in', affectedCis).execute()
      : [];
    const seenAt = new Date(input.occurredAt ?? input.reportedAt);
    await upsertIncidentObservables(
      trx,
      input.incidentId,
      cis.flatMap((ci) => cmdbObservables(ci)).map((o) => ({ ...o, origin: 'cmdb' as const })),
      seenAt,
    );
    return {
      actor: input.reportedBy,
      action: 'incident.registered',
      subjectType,
      subjectId: input.incidentId,
      details: {
        title: input.title,
        category: input.category,
        severity: assessed.severity,
        severityFloor: severityFloor ?? null,
        securityIncident: assessed.securityIncident,
        reason: assessed.reason,
        drill: input.drill ?? false,
        playbookVersion: playbookRow.version,
        links: input.links ?? [],
        attackTechniques: input.attackTechniques ?? [],
      },
    };
  });
  if (!assessment) throw new Error('the incident was not assessed');
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
    if (input.status === 'closed_not_security') {
      // A storm on a host the CMDB does not know would otherwise open an incident per alert, each
      // closing the same way: the fingerprint stays claimed, and the rest of the storm is
      // suppressed onto this incident for the correlation window (correlateAlert).
      await trx.updateTable('open_alert_fingerprints').set({ closed_at: new Date() }).where('incident_id', '=', input.incidentId).execute();
    } else if (input.status.startsWith('closed')) {
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
  input: {
    incidentId: string;
    actor: string;
    scope?: string;
    category?: IncidentCategory;
    affectedCis?: string[];
    attackTechniques?: string[];
  },
): Promise<{ severity: Severity; owners: string[] }> {
  const incident = await db.selectFrom('incidents').selectAll().where('id', '=', input.incidentId).executeTakeFirstOrThrow();
  const category = (input.category ?? incident.category) as IncidentCategory;
  const affectedCis = input.affectedCis ?? incident.affected_cis;
  const severityFloor = (incident.severity_floor as Severity | null) ?? undefined;
  const assessment = await assessIncident(db, { category, affectedCis, severityFloor });
  // Techniques set at triage replace the alert's; ids the catalogue does not know are recorded as refused.
  const techniques = input.attackTechniques ? await knownTechniques(db, input.attackTechniques) : undefined;
  await auditedWrite(db, async (trx) => {
    const updated = await trx
      .updateTable('incidents')
      .set({
        status: 'triaged',
        scope: input.scope ?? incident.scope,
        category,
        affected_cis: affectedCis.filter((id) => !assessment.unknownCis.includes(id)),
        severity: assessment.severity,
        ...(techniques ? { attack_techniques: techniques.known.map((technique) => technique.id) } : {}),
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
          details: {
            scope: input.scope,
            category,
            affectedCis,
            severity: assessment.severity,
            previousSeverity: incident.severity,
            ...(techniques
              ? { attackTechniques: techniques.known.map((technique) => technique.id), unknownAttackTechniques: techniques.unknown }
              : {}),
          },
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

/**
 * The lock an incident's registration and an alert attaching to it both take, so no CI slips between
 * them: registration and merging take it exclusively, alerts joining the incident shared, so they do
 * not wait on one another. As an expression, so that a statement that finds the incident can take it
 * (a null id locks nothing).
 */
export function incidentLock(incidentId: string | RawBuilder<string | null>, { shared = false } = {}) {
  const key = sql`hashtextextended('incident:' || (${incidentId})::text, 0)`;
  return shared ? sql`pg_advisory_xact_lock_shared(${key})` : sql`pg_advisory_xact_lock(${key})`;
}

/** Takes the incident's lock exclusively, as registration and merging do. */
export async function lockIncident(trx: Transaction<Database>, incidentId: string) {
  await sql`select ${incidentLock(incidentId)}`.execute(trx);
}

type SightedObservable = Observable & { origin: 'alert' | 'cmdb' | 'merge' };

/**
 * The statement recording what an incident saw, widening first and last seen; safe to repeat.
 * Undefined when there is nothing to record. SQL with the indicators as arrays rather than built:
 * every alert joining an incident runs it, and its text stays one whatever the alert holds.
 */
export function incidentSightings(incidentId: string, observables: SightedObservable[], seenAt: Date) {
  // One row per indicator: ON CONFLICT cannot update the same row twice in one statement. In one
  // order, so that alerts joining one incident at once take its rows' locks in the same order.
  const unique = [...new Map(observables.map((o) => [`${o.type}\u0000${o.value}`, o])).entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, o]) => o);
  if (unique.length === 0) return undefined;
  // WITH ORDINALITY and ORDER BY keep that order through the insert.
  return sql`
    insert into incident_observables (incident_id, type, value, origin, first_seen_at, last_seen_at)
    select ${incidentId}::uuid, type, value, origin, ${seenAt}::timestamptz, ${seenAt}::timestamptz
      from unnest(${unique.map((o) => o.type)}::text[], ${unique.map((o) => o.value)}::text[], ${unique.map((o) => o.origin)}::text[])
           with ordinality as seen (type, value, origin, position)
     order by position
        on conflict (incident_id, type, value) do update
       set first_seen_at = least(incident_observables.first_seen_at, excluded.first_seen_at),
           last_seen_at = greatest(incident_observables.last_seen_at, excluded.last_seen_at)`;
}

/** Records what an incident saw (`incidentSightings`). */
export async function upsertIncidentObservables(
  trx: Transaction<Database>,
  incidentId: string,
  observables: SightedObservable[],
  seenAt: Date,
) {
  await incidentSightings(incidentId, observables, seenAt)?.execute(trx);
}

/** What a merge hands the duplicate's workflow: to tell the survivor's workflow about the moved tasks and severity. */
export interface MergeOutcome {
  severity: Severity;
  survivor: { workflowId: string; number: number; severity: Severity };
  movedTasks: MovedTask[];
}

/**
 * Closes an incident as a duplicate of another: its alerts, observables and open fingerprints move
 * to the surviving incident, which gains its CIs and keeps the higher severity; its SLA clocks stop
 * (the survivor's go on); both incidents record the merge (a relation each way, an audit event
 * each). Its open tasks: with `moveTasks`, work tasks (movedTaskKinds) are re-pointed to the
 * survivor's workflow under the same id, pending communications with them, and the rest (its own
 * procedure: acknowledge, triage, approvals, review) is cancelled as superseded; without it (a
 * history recorded before tasks moved) every open task is cancelled. Safe to retry: a duplicate
 * already merged is left as it is and answers with what the merge moved.
 */
export async function mergeIncident(
  db: Kysely<Database>,
  input: { incidentId: string; workflowId: string; into: string; reason: string; requestedBy: string; moveTasks?: boolean },
): Promise<MergeOutcome> {
  await auditedTransaction(db, async (trx) => {
    for (const id of [input.incidentId, input.into].sort()) await lockIncident(trx, id);
    const duplicate = await trx.selectFrom('incidents').selectAll().where('id', '=', input.incidentId).executeTakeFirstOrThrow();
    if (duplicate.merged_into) return;
    const survivor = await trx.selectFrom('incidents').selectAll().where('id', '=', input.into).executeTakeFirstOrThrow();
    const movedAlerts = await trx
      .updateTable('security_alerts_received')
      .set({ incident_id: input.into })
      .where('incident_id', '=', input.incidentId)
      .returning('id')
      .execute();
    await trx.updateTable('open_alert_fingerprints').set({ incident_id: input.into }).where('incident_id', '=', input.incidentId).execute();
    const observables = await trx.deleteFrom('incident_observables').where('incident_id', '=', input.incidentId).returningAll().execute();
    for (const o of observables) {
      await trx
        .insertInto('incident_observables')
        .values({
          incident_id: input.into,
          type: o.type,
          value: o.value,
          origin: 'merge',
          first_seen_at: o.first_seen_at,
          last_seen_at: o.last_seen_at,
        })
        .onConflict((oc) =>
          oc.columns(['incident_id', 'type', 'value']).doUpdateSet({
            first_seen_at: sql`least(incident_observables.first_seen_at, excluded.first_seen_at)`,
            last_seen_at: sql`greatest(incident_observables.last_seen_at, excluded.last_seen_at)`,
          }),
        )
        .execute();
    }
    const affectedCis = [...new Set([...survivor.affected_cis, ...duplicate.affected_cis])];
    const severity = higherSeverity(survivor.severity as Severity, duplicate.severity as Severity);
    const attackTechniques = [...new Set([...survivor.attack_techniques, ...duplicate.attack_techniques])];
    await trx
      .updateTable('incidents')
      .set({ affected_cis: affectedCis, severity, attack_techniques: attackTechniques })
      .where('id', '=', input.into)
      .execute();
    await trx
      .updateTable('incidents')
      .set({ status: 'closed_duplicate', closed_at: new Date(), merged_into: input.into })
      .where('id', '=', input.incidentId)
      .execute();
    const stoppedClocks = await stopSlaClocks(trx, input.incidentId, 'merged');
    const movedTasks = input.moveTasks ? await moveOpenTasks(trx, { ...input, duplicate, survivor }) : [];
    const cancelled = await trx
      .updateTable('human_tasks')
      .set({ status: 'cancelled', closed_at: new Date() })
      .where('workflow_id', '=', input.workflowId)
      .where('status', '=', 'open')
      .returning(['id', 'kind'])
      .execute();
    await trx
      .insertInto('incident_relations')
      .values([
        { incident_id: input.incidentId, related_id: input.into, kind: 'merged_into', note: input.reason, created_by: input.requestedBy },
        { incident_id: input.into, related_id: input.incidentId, kind: 'merged_from', note: input.reason, created_by: input.requestedBy },
      ])
      .onConflict((oc) => oc.doNothing())
      .execute();
    for (const task of cancelled) {
      await appendAudit(trx, {
        actor: input.requestedBy,
        action: 'task.cancelled',
        subjectType,
        subjectId: input.incidentId,
        details: {
          taskId: task.id,
          kind: task.kind,
          outcome: null,
          reason: input.moveTasks
            ? `superseded: the incident was merged into #${survivor.number}, which runs its own procedure`
            : `the incident was merged into #${survivor.number}`,
        },
      });
    }
    const moved = {
      alerts: movedAlerts.length,
      observables: observables.length,
      cancelledTasks: cancelled.map((task) => task.id),
      ...(input.moveTasks ? { movedTasks } : {}),
      stoppedClocks,
    };
    await appendAudit(trx, {
      actor: input.requestedBy,
      action: 'incident.merged_into',
      subjectType,
      subjectId: input.incidentId,
      details: { into: input.into, intoNumber: survivor.number, reason: input.reason, ...moved },
    });
    await appendAudit(trx, {
      actor: input.requestedBy,
      action: 'incident.merged_from',
      subjectType,
      subjectId: input.into,
      details: {
        from: input.incidentId,
        fromNumber: duplicate.number,
        reason: input.reason,
        ...moved,
        severity,
        previousSeverity: survivor.severity,
      },
    });
  });
  const recorded = (id: string) =>
    db.selectFrom('incidents').select(['severity', 'number', 'workflow_id']).where('id', '=', id).executeTakeFirstOrThrow();
  const [merged, survivor] = await Promise.all([recorded(input.incidentId), recorded(input.into)]);
  // Read back rather than carried out of the transaction, so a retry after the commit answers the same.
  const movedRows = input.moveTasks
    ? await db
        .selectFrom('human_tasks')
        .selectAll()
        .where('workflow_id', '=', survivor.workflow_id)
        .where('status', '=', 'open')
        .where(sql<boolean>`details->'movedFrom'->>'incidentId' = ${input.incidentId}`)
        .orderBy('created_at')
        .execute()
    : [];
  return {
    severity: merged.severity as Severity,
    survivor: { workflowId: survivor.workflow_id, number: survivor.number, severity: survivor.severity as Severity },
    movedTasks: movedRows.map(toMovedTask),
  };
}

/**
 * Re-points the duplicate's open work tasks to the survivor's workflow, keeping their ids, deciders,
 * decisions and deadlines (what TheHive does when it merges cases: the tasks carry on in the
 * merged case), and moves the pending communications they approve with them. Each move is audited
 * on both incidents. The survivor's workflow is told by a Signal and waits on them from then on.
 */
async function moveOpenTasks(
  trx: AuditedTransaction,
  merge: { incidentId: string; workflowId: string; into: string; requestedBy: string; duplicate: Incident; survivor: Incident },
): Promise<string[]> {
  const moved = await trx
    .updateTable('human_tasks')
    .set({
      workflow_id: merge.survivor.workflow_id,
      subject_id: merge.into,
      details: sql`details || ${json({ movedFrom: { incidentId: merge.incidentId, number: merge.duplicate.number } })}::jsonb`,
    })
    .where('workflow_id', '=', merge.workflowId)
    .where('status', '=', 'open')
    .where('kind', 'in', [...movedTaskKinds])
    .returning(['id', 'kind', 'details'])
    .execute();
  const communicationIds = moved.flatMap((task) =>
    task.kind === 'incident.communication' && typeof task.details.communicationId === 'string' ? [task.details.communicationId] : [],
  );
  if (communicationIds.length > 0) {
    await trx
      .updateTable('incident_communications')
      .set({ incident_id: merge.into })
      .where('id', 'in', communicationIds)
      .where('status', '=', 'pending_approval')
      .execute();
  }
  for (const task of moved) {
    for (const [subjectId, details] of [
      [merge.incidentId, { to: merge.into, toNumber: merge.survivor.number }],
      [merge.into, { from: merge.incidentId, fromNumber: merge.duplicate.number }],
    ] as const) {
      await appendAudit(trx, {
        actor: merge.requestedBy,
        action: 'task.moved',
        subjectType,
        subjectId,
        details: { taskId: task.id, kind: task.kind, ...details },
      });
    }
  }
  return moved.map((task) => task.id);
}

function toMovedTask(row: HumanTask): MovedTask {
  return {
    taskId: row.id,
    kind: row.kind as MovedTask['kind'],
    title: row.title,
    details: row.details,
    allowedRoles: row.allowed_roles as Role[],
    assignees: row.assignees,
    excluded: row.forbid_self_decision && row.requester ? [row.requester] : [],
    outcomes: row.allowed_outcomes,
    requester: row.requester,
    forbidSelfDecision: row.forbid_self_decision,
    approvals: [],
    decisions: row.decisions,
    escalationLevel: row.escalation_level,
    deadlineAt: row.deadline_at?.toISOString() ?? null,
  };
}

/** Records two incidents as related, both ways; linking them again changes nothing. Audited on both. */
export async function linkIncidents(
  db: Kysely<Database>,
  input: { incidentId: string; relatedId: string; note: string | null; actor: string },
): Promise<boolean> {
  return auditedTransaction(db, async (trx) => {
    const inserted = await trx
      .insertInto('incident_relations')
      .values([
        { incident_id: input.incidentId, related_id: input.relatedId, kind: 'related', note: input.note, created_by: input.actor },
        { incident_id: input.relatedId, related_id: input.incidentId, kind: 'related', note: input.note, created_by: input.actor },
      ])
      .onConflict((oc) => oc.doNothing())
      .returning('incident_id')
      .execute();
    if (inserted.length === 0) return false;
    for (const [subject, other] of [
      [input.incidentId, input.relatedId],
      [input.relatedId, input.incidentId],
    ] as const) {
      await appendAudit(trx, {
        actor: input.actor,
        action: 'incident.linked',
        subjectType,
        subjectId: subject,
        details: { related: other, note: input.note },
      });
    }
    return true;
  });
}

/** The incidents related to one (linked, merged into or from), with what the detail view shows of each. */
export function incidentRelations(db: Kysely<Database>, incidentId: string) {
  return db
    .selectFrom('incident_relations as r')
    .innerJoin('incidents as i', 'i.id', 'r.related_id')
    .select(['r.kind', 'r.note', 'r.created_by', 'r.created_at', 'i.id', 'i.number', 'i.title', 'i.status'])
    .where('r.incident_id', '=', incidentId)
    .orderBy('r.created_at')
    .execute();
}

/** The open, real incident a control's failing test opened, if one is still open: a repeated failure joins it. */
export async function findOpenControlIncident(db: Kysely<Database>, controlId: string): Promise<string | null> {
  const row = await db
    .selectFrom('incidents')
    .select('id')
    .where(sql<boolean>`links @> ${json([{ type: 'control', id: controlId }])}::jsonb`)
    .where('drill', '=', false)
    .where('status', 'not like', 'closed%')
    .where('status', 'not in', ['failed', 'registration_failed'])
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.id ?? null;
}

/**
 * Records a repeated failure of a control on its open incident: the run joins the incident's links
 * and its timeline. Safe to retry: a run already linked is not linked or audited again.
 */
export async function attachRepeatedFailure(
  db: Kysely<Database>,
  input: { incidentId: string; runId: string; summary: string },
): Promise<void> {
  const link = [{ type: 'test-run', id: input.runId }];
  await auditedWrite(db, async (trx) => {
    const updated = await trx
      .updateTable('incidents')
      .set({ links: sql`links || ${json(link)}::jsonb` })
      .where('id', '=', input.incidentId)
      .where(sql<boolean>`not links @> ${json(link)}::jsonb`)
      .returning('id')
      .executeTakeFirst();
    return updated
      ? {
          actor: systemActor.principalId,
          action: 'incident.repeated_failure',
          subjectType,
          subjectId: input.incidentId,
          details: { runId: input.runId, summary: input.summary },
        }
      : undefined;
  });
}

/**
 * Triage found no incident: closes it as a false positive with the reason, frees its alert
 * fingerprint. Safe to retry: only an incident not closed yet is closed, and audited once.
 */
export async function closeAsFalsePositive(
  db: Kysely<Database>,
  input: { incidentId: string; actor: string; reason: string },
): Promise<void> {
  await auditedWrite(db, async (trx) => {
    const closed = await trx
      .updateTable('incidents')
      .set({ status: 'closed_false_positive', false_positive_reason: input.reason, closed_at: new Date() })
      .where('id', '=', input.incidentId)
      .where('status', 'not like', 'closed%')
      .returning('id')
      .executeTakeFirst();
    if (!closed) return undefined;
    await trx.deleteFrom('open_alert_fingerprints').where('incident_id', '=', input.incidentId).execute();
    return {
      actor: input.actor,
      action: 'incident.closed_false_positive',
      subjectType,
      subjectId: input.incidentId,
      details: { status: 'closed_false_positive', reason: input.reason },
    };
  });
}

/**
 * A person confirms, with evidence, an action no responder carried out. Safe to retry: only an
 * unconfirmed action is confirmed, and audited once.
 */
export async function confirmIncidentAction(
  db: Kysely<Database>,
  input: { actionId: string; incidentId: string; confirmedBy: string; evidence: string; links: string[] },
): Promise<void> {
  await auditedWrite(db, async (trx) => {
    const confirmed = await trx
      .updateTable('incident_actions')
      .set({
        status: 'confirmed',
        confirmed_by: input.confirmedBy,
        confirmed_at: new Date(),
        evidence: json({ evidence: input.evidence, links: input.links }),
      })
      .where('id', '=', input.actionId)
      .where('confirmed_at', 'is', null)
      .returning(['name', 'status'])
      .executeTakeFirst();
    return confirmed
      ? {
          actor: input.confirmedBy,
          action: 'incident.action_confirmed',
          subjectType,
          subjectId: input.incidentId,
          details: { actionId: input.actionId, name: confirmed.name, evidence: input.evidence, links: input.links },
        }
      : undefined;
  });
}

/**
 * An action its responder accepted (202) ends as the responder's callback (or its silence) says.
 * Safe to retry: only a pending action is settled, and audited once.
 */
export async function settleIncidentAction(
  db: Kysely<Database>,
  input: { actionId: string; incidentId: string; status: string; detail: string },
): Promise<void> {
  await auditedWrite(db, async (trx) => {
    const settled = await trx
      .updateTable('incident_actions')
      .set({ status: input.status, detail: input.detail })
      .where('id', '=', input.actionId)
      .where('status', '=', 'pending')
      .returning('name')
      .executeTakeFirst();
    return settled
      ? {
          actor: systemActor.principalId,
          action: 'incident.action_settled',
          subjectType,
          subjectId: input.incidentId,
          details: { actionId: input.actionId, name: settled.name, status: input.status, detail: input.detail },
        }
      : undefined;
  });
}

/** The incident action with this id, if the incident has it: what a responder's callback settles. */
export function findActionOfIncident(db: Kysely<Database>, incidentId: string, actionId: string) {
  return db
    .selectFrom('incident_actions')
    .select(['id', 'status'])
    .where('id', '=', actionId)
    .where('incident_id', '=', incidentId)
    .executeTakeFirst();
}
