import { sql, type Kysely, type Transaction } from 'kysely';
import type { AdvisoryContent, AdvisoryFormat } from '../domain/advisory';
import { namesAnyProduct } from '../domain/advisory-matching';
import { appendAudit } from './audit';
import { json } from './create-db';
import type { Advisory, Database } from './database';

/** Stores an advisory, or revises the stored one: the id is the natural key, never duplicated. */
export async function upsertAdvisory(
  trx: Transaction<Database>,
  input: { content: AdvisoryContent; format: AdvisoryFormat; raw: unknown; workflowId: string; actor: string },
): Promise<{ revision: number; created: boolean }> {
  const { content } = input;
  const fields = {
    format: input.format,
    title: content.title,
    supplier: content.supplier,
    aliases: content.aliases,
    affected: json(content.affected),
    cvss_score: content.cvssScore,
    cvss_vector: content.cvssVector,
    preventive_measures: content.preventiveMeasures,
    published_at: content.published,
    exploited: content.exploited,
    raw: json(input.raw),
  };
  const row = await trx
    .insertInto('advisories')
    .values({ id: content.id, workflow_id: input.workflowId, received_by: input.actor, ...fields })
    .onConflict((oc) =>
      oc.column('id').doUpdateSet((eb) => ({ ...fields, revision: eb('advisories.revision', '+', 1), updated_at: sql`now()` })),
    )
    .returning(['revision'])
    .executeTakeFirstOrThrow();
  const created = row.revision === 1;
  await appendAudit(trx, {
    actor: input.actor,
    action: created ? 'advisory.received' : 'advisory.revised',
    subjectType: 'advisory',
    subjectId: content.id,
    details: {
      format: input.format,
      revision: row.revision,
      cvssScore: content.cvssScore,
      exploited: content.exploited,
      affected: content.affected,
    },
  });
  return { revision: row.revision, created };
}

export async function findAdvisory(db: Kysely<Database>, id: string): Promise<Advisory | undefined> {
  return db.selectFrom('advisories').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listAdvisories(db: Kysely<Database>, filter: { status?: 'open' | 'closed'; limit: number }): Promise<Advisory[]> {
  let query = db.selectFrom('advisories').selectAll();
  if (filter.status) query = query.where('status', '=', filter.status);
  return query.orderBy('created_at', 'desc').limit(filter.limit).execute();
}

export async function remediationCounts(db: Kysely<Database>, advisoryIds: string[]): Promise<Map<string, Record<string, number>>> {
  const counts = new Map<string, Record<string, number>>();
  if (advisoryIds.length === 0) return counts;
  const rows = await db
    .selectFrom('advisory_remediations')
    .select(['advisory_id', 'status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('advisory_id', 'in', advisoryIds)
    .groupBy(['advisory_id', 'status'])
    .execute();
  for (const row of rows) counts.set(row.advisory_id, { ...counts.get(row.advisory_id), [row.status]: row.n });
  return counts;
}

export async function listRemediations(db: Kysely<Database>, advisoryId: string) {
  return db
    .selectFrom('advisory_remediations as r')
    .innerJoin('configuration_items as ci', 'ci.id', 'r.ci_id')
    .selectAll('r')
    .select('ci.name as ci_name')
    .where('r.advisory_id', '=', advisoryId)
    .orderBy('r.created_at')
    .orderBy('ci.name')
    .execute();
}

/** Active CIs with their components and the level and SLA that set their patch deadline. */
export async function cisWithComponents(db: Kysely<Database>, ciIds?: string[]) {
  let query = db
    .selectFrom('configuration_items as ci')
    .innerJoin('ci_components as c', 'c.ci_id', 'ci.id')
    .leftJoin('services as s', 's.id', 'ci.service_id')
    .select([
      'ci.id',
      'ci.name',
      'ci.owner',
      'ci.service_id',
      'ci.confidentiality',
      'ci.integrity',
      'ci.availability',
      's.sla',
      'c.product',
      'c.version',
    ])
    .where('ci.status', '=', 'active');
  if (ciIds) query = query.where('ci.id', 'in', ciIds);
  const rows = await query.orderBy('ci.name').execute();
  const byCi = new Map<string, (typeof rows)[number] & { components: { product: string; version: string }[] }>();
  for (const row of rows) {
    let ci = byCi.get(row.id);
    if (!ci) {
      ci = { ...row, components: [] };
      byCi.set(row.id, ci);
    }
    ci.components.push({ product: row.product, version: row.version });
  }
  return [...byCi.values()];
}

/** Open advisories that name one of these products: those a CI's new components may concern. */
export async function openAdvisoriesNaming(db: Kysely<Database>, products: string[]): Promise<Advisory[]> {
  if (products.length === 0) return [];
  const open = await db.selectFrom('advisories').selectAll().where('status', '=', 'open').execute();
  return open.filter((advisory) => namesAnyProduct(advisory.affected, products));
}

export async function listComponents(db: Kysely<Database>, ciId: string) {
  return db
    .selectFrom('ci_components')
    .select(['product', 'version', 'updated_by', 'updated_at'])
    .where('ci_id', '=', ciId)
    .orderBy('product')
    .execute();
}

/** Replaces a CI's component list, audited in the same transaction. */
export async function replaceComponents(
  trx: Transaction<Database>,
  input: { ciId: string; components: { product: string; version: string }[]; actor: string },
) {
  await trx.deleteFrom('ci_components').where('ci_id', '=', input.ciId).execute();
  if (input.components.length) {
    await trx
      .insertInto('ci_components')
      .values(input.components.map((c) => ({ ci_id: input.ciId, product: c.product, version: c.version, updated_by: input.actor })))
      .execute();
  }
  await appendAudit(trx, {
    actor: input.actor,
    action: 'ci.components_set',
    subjectType: 'configuration_item',
    subjectId: input.ciId,
    details: { components: input.components },
  });
}

export interface ServicePatchCompliance {
  serviceId: string | null;
  serviceName: string | null;
  /** Remediations whose deadline fell in the period. */
  due: number;
  /** Of those, patched or mitigated by the deadline. */
  doneOnTime: number;
  /** doneOnTime / due × 100, one decimal; null when nothing was due. */
  percentage: number | null;
}

/**
 * Patch compliance per service over [from, to): of the remediations due in the period, how many were
 * patched or mitigated by their deadline. An approved exception is not compliance.
 */
export async function patchCompliance(db: Kysely<Database>, period: { from: Date; to: Date }): Promise<ServicePatchCompliance[]> {
  const rows = await db
    .selectFrom('advisory_remediations as r')
    .leftJoin('services as s', 's.id', 'r.service_id')
    .select((eb) => [
      'r.service_id',
      's.name as service_name',
      eb.fn.countAll<number>().as('due'),
      eb.fn.count<number>(sql`case when r.status in ('patched', 'mitigated') and r.resolved_at <= r.due_at then 1 end`).as('done_on_time'),
    ])
    .where('r.due_at', '>=', period.from)
    .where('r.due_at', '<', period.to)
    .groupBy(['r.service_id', 's.name'])
    .orderBy('s.name')
    .execute();
  return rows.map((row) => ({
    serviceId: row.service_id,
    serviceName: row.service_name,
    due: row.due,
    doneOnTime: row.done_on_time,
    percentage: row.due ? Math.round((row.done_on_time / row.due) * 1000) / 10 : null,
  }));
}
