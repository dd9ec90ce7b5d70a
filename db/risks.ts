import type { Kysely } from 'kysely';
import { Refusal } from '../domain/refusal';
import type { RiskTreatment } from '../domain/risk';
import type { Actor } from '../domain/roles';
import { appendAudit, auditedTransaction, changedFields } from './audit';
import type { Database, Risk } from './database';
import { keysetPage, pageOf, type PageRequest } from './pagination';

export interface RiskFields {
  title: string;
  threat: string;
  affectedCis: string[];
  affectedServices: string[];
  likelihood: number;
  impact: number;
  owner: string;
  treatment: RiskTreatment;
  controls: string[];
  acceptedUntil: string | null;
  reviewAt: string;
}

/** Roles that keep the whole register; a risk's owner may update their own risk. */
const registerKeepers = ['admin', 'security_manager'];
export const keepsRegister = (actor: Actor) => actor.roles.some((role) => registerKeepers.includes(role));

export function toRiskView(risk: Risk) {
  return {
    id: risk.id,
    title: risk.title,
    threat: risk.threat,
    affectedCis: risk.affected_cis,
    affectedServices: risk.affected_services,
    likelihood: risk.likelihood,
    impact: risk.impact,
    owner: risk.owner,
    treatment: risk.treatment,
    controls: risk.controls,
    acceptedUntil: risk.accepted_until?.toISOString() ?? null,
    reviewAt: risk.review_at.toISOString(),
    createdAt: risk.created_at.toISOString(),
    updatedAt: risk.updated_at.toISOString(),
  };
}

const fieldsOf = (risk: Risk): RiskFields => {
  const { createdAt: _c, updatedAt: _u, id: _i, ...fields } = toRiskView(risk);
  return fields;
};

const columnsOf = (f: RiskFields) => ({
  title: f.title,
  threat: f.threat,
  affected_cis: f.affectedCis,
  affected_services: f.affectedServices,
  likelihood: f.likelihood,
  impact: f.impact,
  owner: f.owner,
  treatment: f.treatment,
  controls: f.controls,
  accepted_until: f.acceptedUntil,
  review_at: f.reviewAt,
});

/** The treatment's own rule: an accepted risk is an exception with an expiry, a mitigated one names its controls. */
function checkTreatment(fields: RiskFields) {
  if (fields.treatment === 'accept' && !fields.acceptedUntil)
    throw new Refusal('invalid', 'an accepted risk needs acceptedUntil (the exception expires)', 'acceptedUntil');
  if (fields.treatment === 'mitigate' && fields.controls.length === 0)
    throw new Refusal('invalid', 'a mitigated risk names the controls that mitigate it', 'controls');
}

async function checkAssets(db: Kysely<Database>, fields: RiskFields) {
  for (const [table, ids, field] of [
    ['configuration_items', fields.affectedCis, 'affectedCis'],
    ['services', fields.affectedServices, 'affectedServices'],
  ] as const) {
    if (!ids.length) continue;
    const found = await db.selectFrom(table).select('id').where('id', 'in', ids).execute();
    const missing = ids.filter((id) => !found.some((row) => row.id === id));
    if (missing.length) throw new Refusal('invalid', `unknown ${field}: ${missing.join(', ')}`, field);
  }
}

export async function createRisk(db: Kysely<Database>, fields: RiskFields, actor: Actor): Promise<Risk> {
  checkTreatment(fields);
  await checkAssets(db, fields);
  return auditedTransaction(db, async (trx) => {
    const risk = await trx.insertInto('risks').values(columnsOf(fields)).returningAll().executeTakeFirstOrThrow();
    await appendAudit(trx, {
      actor: actor.principalId,
      action: 'risk.created',
      subjectType: 'risk',
      subjectId: risk.id,
      details: { ...fields },
    });
    return risk;
  });
}

export async function listRisks(
  db: Kysely<Database>,
  filter: { owner?: string; treatment?: RiskTreatment; reviewDue?: boolean },
  page: PageRequest,
) {
  let query = db.selectFrom('risks').selectAll();
  if (filter.owner) query = query.where('owner', '=', filter.owner);
  if (filter.treatment) query = query.where('treatment', '=', filter.treatment);
  if (filter.reviewDue) query = query.where('review_at', '<', new Date());
  return pageOf(await keysetPage(query, page).execute(), page.limit);
}

export function findRisk(db: Kysely<Database>, id: string) {
  return db.selectFrom('risks').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateRisk(db: Kysely<Database>, id: string, changes: Partial<RiskFields>, actor: Actor): Promise<Risk> {
  return auditedTransaction(db, async (trx) => {
    const current = await trx.selectFrom('risks').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
    if (!current) throw new Refusal('not_found', `risk ${id} does not exist`);
    const keeper = keepsRegister(actor);
    if (!keeper && current.owner !== actor.principalId)
      throw new Refusal('forbidden', 'only the risk owner or the Security Manager may update a risk');
    if (!keeper && changes.owner !== undefined && changes.owner !== current.owner)
      throw new Refusal('forbidden', 'only the Security Manager may hand a risk to another owner');
    const before = fieldsOf(current);
    const after = { ...before, ...changes };
    checkTreatment(after);
    await checkAssets(trx, after);
    const risk = await trx
      .updateTable('risks')
      .set({ ...columnsOf(after), updated_at: new Date() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await appendAudit(trx, {
      actor: actor.principalId,
      action: 'risk.updated',
      subjectType: 'risk',
      subjectId: id,
      details: { changes: changedFields(before, after) },
    });
    return risk;
  });
}

export async function deleteRisk(db: Kysely<Database>, id: string, actor: Actor): Promise<void> {
  await auditedTransaction(db, async (trx) => {
    const deleted = await trx.deleteFrom('risks').where('id', '=', id).returningAll().executeTakeFirst();
    if (!deleted) throw new Refusal('not_found', `risk ${id} does not exist`);
    await appendAudit(trx, {
      actor: actor.principalId,
      action: 'risk.deleted',
      subjectType: 'risk',
      subjectId: id,
      details: { title: deleted.title },
    });
  });
}
