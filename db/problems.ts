import { sql, type Kysely, type Selectable } from 'kysely';
import {
  parentLinkProblem,
  problemChecklist,
  type ChecklistItem,
  type ItemResult,
  type ProblemStatus,
  type ProposalKind,
  type ProposalStatus,
} from '../domain/problem';
import type { ProblemContext } from '../domain/change-risk';
import { systemActor, type Actor } from '../domain/roles';
import { auditedWrite, canonicalJson } from './audit';
import type { FieldProblem } from './controls';
import { json } from './create-db';
import type { Database, ProblemsTable } from './database';
import { keysetPage, type PageRequest } from './pagination';
import { baselineInForce } from './baseline';

/**
 * Problem management: problems are records people write through the API (each write audited); the
 * security check of a proposed workaround or solution is a workflow (problemSecurityCheck) whose
 * activities write the proposal and, when a workaround is accepted, make the problem a known error.
 */

export type Problem = Selectable<ProblemsTable>;

export interface ProblemFields {
  title: string;
  description: string;
  serviceIds: string[];
  ciIds: string[];
  incidentIds: string[];
  securityRisk: boolean;
  rootCause: string | null;
  parentId: string | null;
}

export interface ProblemFilter {
  status?: ProblemStatus;
  serviceId?: string;
  ciId?: string;
  incidentId?: string;
  securityRisk?: boolean;
}

export async function findProblem(db: Kysely<Database>, id: string): Promise<Problem | undefined> {
  return db.selectFrom('problems').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Problems name weaknesses of services before they are fixed: the process roles, auditors, and
 * change managers (changes implement problems) see all; others those they recorded and those of
 * the services and CIs they own.
 */
const problemBroadReaders = ['admin', 'security_manager', 'security_analyst', 'auditor', 'change_manager'];

export function problemVisibleTo(actor: Actor) {
  if (actor.roles.some((role) => problemBroadReaders.includes(role))) return sql<boolean>`true`;
  return sql<boolean>`(problems.created_by = ${actor.principalId}
    or exists (select 1 from services s where s.id = any(problems.affected_service_ids) and s.owner = ${actor.principalId})
    or exists (select 1 from configuration_items ci where ci.id = any(problems.affected_ci_ids) and ci.owner = ${actor.principalId}))`;
}

/** One problem if the actor may see it; a problem they may not see is as unknown as one that does not exist. */
export async function findVisibleProblem(db: Kysely<Database>, actor: Actor, id: string): Promise<Problem | undefined> {
  return db.selectFrom('problems').selectAll().where('id', '=', id).where(problemVisibleTo(actor)).executeTakeFirst();
}

export async function listProblems(db: Kysely<Database>, actor: Actor, filter: ProblemFilter, page: PageRequest): Promise<Problem[]> {
  let query = db.selectFrom('problems').selectAll().where(problemVisibleTo(actor));
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.serviceId) query = query.where(sql<boolean>`affected_service_ids @> array[${filter.serviceId}]::uuid[]`);
  if (filter.ciId) query = query.where(sql<boolean>`affected_ci_ids @> array[${filter.ciId}]::uuid[]`);
  if (filter.incidentId)
    query = query.where('id', 'in', (eb) =>
      eb
        .selectFrom('problem_incidents')
        .select('problem_id')
        .where('incident_id', '=', filter.incidentId as string),
    );
  if (filter.securityRisk !== undefined) query = query.where('security_risk', '=', filter.securityRisk);
  return keysetPage(query, page).execute();
}

/** Incidents, proposals and changes of one problem, for its detail view. */
export async function problemLinks(db: Kysely<Database>, id: string) {
  const [incidents, proposals, changes] = await Promise.all([
    db.selectFrom('problem_incidents').select('incident_id').where('problem_id', '=', id).orderBy('incident_id').execute(),
    db.selectFrom('problem_proposals').selectAll().where('problem_id', '=', id).orderBy('created_at').execute(),
    db.selectFrom('changes').select(['id', 'title', 'status', 'risk']).where('problem_id', '=', id).orderBy('created_at').execute(),
  ]);
  return { incidentIds: incidents.map((row) => row.incident_id), proposals, changes };
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The problem a change names, for the gate: undefined when the reference is not in Warden's form
 * (an ITSM tool's own problem number), null when it is but names no problem.
 */
export async function problemContext(db: Kysely<Database>, ref: string): Promise<ProblemContext | null | undefined> {
  if (!uuidPattern.test(ref)) return undefined;
  const problem = await findProblem(db, ref);
  if (!problem) return null;
  return { id: problem.id, title: problem.title, status: problem.status, securityRisk: await involvesSecurityManagement(db, problem) };
}

/**
 * Security Management takes part when a problem carries a security risk: flagged by a person, or
 * linked to a security incident (every incident Warden handles is one).
 */
export async function involvesSecurityManagement(db: Kysely<Database>, problem: Pick<Problem, 'id' | 'security_risk'>) {
  if (problem.security_risk) return true;
  const linked = await db.selectFrom('problem_incidents').select('incident_id').where('problem_id', '=', problem.id).executeTakeFirst();
  return linked !== undefined;
}

/**
 * What the database must confirm about a problem's links, by field: its services, CIs, incidents
 * and parent exist, and the parent chain does not loop back to it.
 */
export async function problemReferenceProblems(
  db: Kysely<Database>,
  problemId: string,
  fields: Partial<Pick<ProblemFields, 'serviceIds' | 'ciIds' | 'incidentIds' | 'parentId'>>,
): Promise<FieldProblem[]> {
  const problems: FieldProblem[] = [];
  const check = async (ids: string[] | undefined, table: 'services' | 'configuration_items' | 'incidents', field: string, what: string) => {
    if (!ids?.length) return;
    const found = new Set((await db.selectFrom(table).select('id').where('id', 'in', ids).execute()).map((row) => row.id));
    ids.forEach((id, index) => {
      if (!found.has(id)) problems.push({ path: `body.${field}.${index}`, message: `no ${what} ${id}` });
    });
  };
  await check(fields.serviceIds, 'services', 'serviceIds', 'service');
  await check(fields.ciIds, 'configuration_items', 'ciIds', 'configuration item');
  await check(fields.incidentIds, 'incidents', 'incidentIds', 'incident');
  if (fields.parentId) {
    const { rows } = await sql<{ id: string; parent_id: string | null }>`
      with recursive chain(id, parent_id, depth) as (
        select id, parent_id, 1 from problems where id = ${fields.parentId}
        union all
        select p.id, p.parent_id, c.depth + 1 from problems p join chain c on p.id = c.parent_id where c.depth < 1000
      ) select id, parent_id from chain`.execute(db);
    if (rows.length === 0) problems.push({ path: 'body.parentId', message: `no problem ${fields.parentId}` });
    else {
      const loop = parentLinkProblem(problemId, fields.parentId, new Map(rows.map((row) => [row.id, row.parent_id])));
      if (loop) problems.push({ path: 'body.parentId', message: loop });
    }
  }
  return problems;
}

const problemEvent = (actor: string, action: string, id: string, details: Record<string, unknown>) => ({
  actor,
  action,
  subjectType: 'problem',
  subjectId: id,
  details,
});

/** Records a problem and its incident links, audited; involving Security Management is part of the event. */
export async function createProblem(db: Kysely<Database>, input: { id: string; fields: ProblemFields; actor: string }): Promise<void> {
  const { fields } = input;
  await auditedWrite(db, async (trx) => {
    await trx
      .insertInto('problems')
      .values({
        id: input.id,
        title: fields.title,
        reason: fields.description,
        description: fields.description,
        source_type: 'api',
        source_id: input.id,
        affected_service_ids: fields.serviceIds,
        affected_ci_ids: fields.ciIds,
        security_risk: fields.securityRisk,
        root_cause: fields.rootCause,
        parent_id: fields.parentId,
        created_by: input.actor,
        created_at: new Date(),
      })
      .execute();
    if (fields.incidentIds.length)
      await trx
        .insertInto('problem_incidents')
        .values(fields.incidentIds.map((incidentId) => ({ problem_id: input.id, incident_id: incidentId })))
        .execute();
    return problemEvent(input.actor, 'problem.created', input.id, {
      ...fields,
      securityManagementInvolved: fields.securityRisk || fields.incidentIds.length > 0,
    });
  });
}

export interface ProblemPatch extends Partial<ProblemFields> {
  status?: ProblemStatus;
  workaround?: string | null;
  solution?: string | null;
}

/** Applies a person's changes to a problem, audited with what changed; nothing is written when nothing changed. */
export async function updateProblem(db: Kysely<Database>, input: { id: string; patch: ProblemPatch; actor: string }): Promise<void> {
  const { patch } = input;
  await auditedWrite(db, async (trx) => {
    const before = await trx.selectFrom('problems').selectAll().where('id', '=', input.id).forUpdate().executeTakeFirstOrThrow();
    const linked = (await trx.selectFrom('problem_incidents').select('incident_id').where('problem_id', '=', input.id).execute()).map(
      (row) => row.incident_id,
    );
    const current: Record<string, unknown> = {
      title: before.title,
      description: before.description,
      serviceIds: before.affected_service_ids,
      ciIds: before.affected_ci_ids,
      incidentIds: linked,
      securityRisk: before.security_risk,
      rootCause: before.root_cause,
      parentId: before.parent_id,
      status: before.status,
      workaround: before.workaround,
      solution: before.solution,
    };
    const changed = Object.fromEntries(
      Object.entries(patch)
        .filter(([field, value]) => value !== undefined && canonicalJson(value) !== canonicalJson(current[field]))
        .map(([field, value]) => [field, { from: current[field], to: value }]),
    );
    if (Object.keys(changed).length === 0) return undefined;
    await trx
      .updateTable('problems')
      .set({
        ...(patch.title !== undefined && { title: patch.title }),
        ...(patch.description !== undefined && { description: patch.description }),
        ...(patch.serviceIds !== undefined && { affected_service_ids: patch.serviceIds }),
        ...(patch.ciIds !== undefined && { affected_ci_ids: patch.ciIds }),
        ...(patch.securityRisk !== undefined && { security_risk: patch.securityRisk }),
        ...(patch.rootCause !== undefined && { root_cause: patch.rootCause }),
        ...(patch.parentId !== undefined && { parent_id: patch.parentId }),
        ...(patch.status !== undefined && { status: patch.status }),
        ...(patch.workaround !== undefined && { workaround: patch.workaround }),
        ...(patch.solution !== undefined && { solution: patch.solution }),
        updated_at: new Date(),
      })
      .where('id', '=', input.id)
      .execute();
    if (patch.incidentIds !== undefined) {
      await trx.deleteFrom('problem_incidents').where('problem_id', '=', input.id).execute();
      if (patch.incidentIds.length)
        await trx
          .insertInto('problem_incidents')
          .values(patch.incidentIds.map((incidentId) => ({ problem_id: input.id, incident_id: incidentId })))
          .execute();
    }
    const involvedNow = (patch.securityRisk ?? before.security_risk) || (patch.incidentIds ?? linked).length > 0;
    const involvedBefore = before.security_risk || linked.length > 0;
    return problemEvent(input.actor, 'problem.updated', input.id, {
      changed,
      ...(involvedNow && !involvedBefore ? { securityManagementInvolved: true } : {}),
    });
  });
}

// The security check's writes, each keyed so a retried activity changes nothing twice.

/**
 * The checklist for a problem as it stands: the SLA security requirements of its services (those it
 * names and those of its CIs) and the baseline measures its CIs' classification requires.
 */
export async function checklistFor(db: Kysely<Database>, problemId: string): Promise<ChecklistItem[]> {
  const problem = await db.selectFrom('problems').selectAll().where('id', '=', problemId).executeTakeFirstOrThrow();
  const cis = problem.affected_ci_ids.length
    ? await db
        .selectFrom('configuration_items')
        .select(['id', 'name', 'service_id', 'confidentiality', 'integrity', 'availability'])
        .where('id', 'in', problem.affected_ci_ids)
        .orderBy('name')
        .execute()
    : [];
  const serviceIds = [...new Set([...problem.affected_service_ids, ...cis.flatMap((ci) => (ci.service_id ? [ci.service_id] : []))])];
  const services = serviceIds.length
    ? await db.selectFrom('services').select(['id', 'name', 'sla']).where('id', 'in', serviceIds).orderBy('name').execute()
    : [];
  return problemChecklist({
    services: services.map((service) => ({
      id: service.id,
      name: service.name,
      availabilityTarget: service.sla.availabilityTarget,
      requirements: service.sla.additionalRequirements,
    })),
    cis,
    baseline: await baselineInForce(db),
  });
}

export interface ProposalRecord {
  proposalId: string;
  problemId: string;
  workflowId: string;
  kind: ProposalKind;
  text: string;
  changeId: string | null;
  proposedBy: string;
  checklist: ChecklistItem[];
}

/**
 * Safe to retry: the proposal id is the primary key and a second insert does nothing. Returns the
 * checklist recorded with the proposal, the first one when retried.
 */
export async function recordProposal(db: Kysely<Database>, input: ProposalRecord): Promise<ChecklistItem[]> {
  await auditedWrite(db, async (trx) => {
    const inserted = await trx
      .insertInto('problem_proposals')
      .values({
        id: input.proposalId,
        problem_id: input.problemId,
        workflow_id: input.workflowId,
        kind: input.kind,
        text: input.text,
        change_id: input.changeId,
        proposed_by: input.proposedBy,
        status: 'in_check',
        checklist: json(input.checklist),
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    return inserted
      ? problemEvent(input.proposedBy, `problem.${input.kind}_proposed`, input.problemId, {
          proposalId: input.proposalId,
          text: input.text,
          changeId: input.changeId,
          checklist: input.checklist.map((item) => item.id),
        })
      : undefined;
  });
  const recorded = await db
    .selectFrom('problem_proposals')
    .select('checklist')
    .where('id', '=', input.proposalId)
    .executeTakeFirstOrThrow();
  return recorded.checklist;
}

export interface CheckOutcome {
  proposalId: string;
  status: Extract<ProposalStatus, 'accepted' | 'rejected'>;
  results: ItemResult[];
  reasons: string[];
  checkedBy: string[];
}

/**
 * Safe to retry: only a proposal still in check takes the outcome. An accepted workaround becomes
 * the problem's workaround and an open problem a known error; an accepted solution becomes its
 * solution (its change, if any, goes through the gate on its own).
 */
export async function recordCheckOutcome(db: Kysely<Database>, input: CheckOutcome): Promise<void> {
  await auditedWrite(db, async (trx) => {
    const proposal = await trx
      .updateTable('problem_proposals')
      .set({
        status: input.status,
        results: json(input.results),
        reasons: input.reasons,
        checked_by: input.checkedBy,
        decided_at: new Date(),
      })
      .where('id', '=', input.proposalId)
      .where('status', '=', 'in_check')
      .returning(['problem_id', 'kind', 'text', 'change_id'])
      .executeTakeFirst();
    if (!proposal) return undefined;
    let knownError = false;
    if (input.status === 'accepted' && proposal.kind === 'workaround') {
      const updated = await trx
        .updateTable('problems')
        .set({
          workaround: proposal.text,
          // Only an open problem becomes a known error; a resolved or closed one keeps its status.
          status: sql<ProblemStatus>`case when status = 'open' then 'known_error' else status end`,
          updated_at: new Date(),
        })
        .where('id', '=', proposal.problem_id)
        .returning('status')
        .executeTakeFirst();
      knownError = updated?.status === 'known_error';
    }
    if (input.status === 'accepted' && proposal.kind === 'solution')
      await trx
        .updateTable('problems')
        .set({ solution: proposal.text, updated_at: new Date() })
        .where('id', '=', proposal.problem_id)
        .execute();
    const actor = input.checkedBy.length === 1 ? (input.checkedBy[0] as string) : systemActor.principalId;
    return problemEvent(actor, `problem.${proposal.kind}_${input.status}`, proposal.problem_id, {
      proposalId: input.proposalId,
      results: input.results,
      reasons: input.reasons,
      changeId: proposal.change_id,
      ...(knownError ? { status: { to: 'known_error' } } : {}),
    });
  });
}
