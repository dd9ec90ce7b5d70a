import { sql, type Kysely } from 'kysely';
import { incidentSeverity, type Classification, type IncidentCategory, type SecurityAspect, type Severity } from '../domain/classification';
import { assessSecurityRelevance, strictest } from '../domain/incident';
import { defaultSla, type ServiceSla } from '../domain/sla';
import type { Database, Incident } from './database';
import type { Actor } from '../domain/roles';
import { tasksOfSubject } from './tasks';

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

export function incidentVisibleTo(actor: Actor) {
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
  if (filter.after)
    query = query.where(sql<boolean>`(created_at, id) < (${filter.after.createdAt}::timestamptz, ${filter.after.id}::uuid)`);
  return query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(filter.limit + 1)
    .execute();
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
