import { sql, type Kysely } from 'kysely';
import {
  patchedVersion,
  type AdvisoryContent,
  type AdvisoryFormat,
  type RemediationAssignment,
  type RemediationDecision,
  type RemediationStatus,
} from '../domain/advisory';
import { namesAnyProduct, type AffectedComponent } from '../domain/advisory-matching';
import { durationMs, type DurationText } from '../domain/duration';
import { systemActor } from '../domain/roles';
import { auditedWrite } from './audit';
import { json } from './create-db';
import type { Advisory, Database } from './database';

/** Stores an advisory, or revises the stored one: the id is the natural key, never duplicated. */
export async function upsertAdvisory(
  db: Kysely<Database>,
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
  // Every post is a revision (or the first one), so every post is audited.
  let revision = 0;
  await auditedWrite(db, async (trx) => {
    const row = await trx
      .insertInto('advisories')
      .values({ id: content.id, workflow_id: input.workflowId, received_by: input.actor, ...fields })
      .onConflict((oc) =>
        oc.column('id').doUpdateSet((eb) => ({ ...fields, revision: eb('advisories.revision', '+', 1), updated_at: sql`now()` })),
      )
      .returning(['revision'])
      .executeTakeFirstOrThrow();
    revision = row.revision;
    return {
      actor: input.actor,
      action: revision === 1 ? 'advisory.received' : 'advisory.revised',
      subjectType: 'advisory',
      subjectId: content.id,
      details: {
        format: input.format,
        revision,
        cvssScore: content.cvssScore,
        exploited: content.exploited,
        affected: content.affected,
      },
    };
  });
  return { revision, created: revision === 1 };
}

export async function findAdvisory(db: Kysely<Database>, id: string): Promise<Advisory | undefined> {
  return db.selectFrom('advisories').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listAdvisories(
  db: Kysely<Database>,
  filter: { status?: 'open' | 'closed' | 'failed'; limit: number },
): Promise<Advisory[]> {
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

/**
 * Opens a CI's remediation of an advisory, due by its patch deadline. Safe to retry: (advisory, CI)
 * is the key, so a second insert does nothing and records nothing.
 */
export async function openRemediation(
  db: Kysely<Database>,
  input: {
    advisoryId: string;
    ciId: string;
    serviceId: string | null;
    owner: string;
    component: AffectedComponent;
    deadline: DurationText;
  },
): Promise<void> {
  const { component } = input;
  await auditedWrite(db, async (trx) => {
    const inserted = await trx
      .insertInto('advisory_remediations')
      .values({
        advisory_id: input.advisoryId,
        ci_id: input.ciId,
        service_id: input.serviceId,
        owner: input.owner,
        product: component.product,
        installed_version: component.version,
        deadline: input.deadline,
        due_at: new Date(Date.now() + durationMs(input.deadline)),
        status: 'open',
      })
      .onConflict((oc) => oc.columns(['advisory_id', 'ci_id']).doNothing())
      .returning('ci_id')
      .executeTakeFirst();
    return (
      inserted && {
        actor: systemActor.principalId,
        action: 'advisory.remediation_opened',
        subjectType: 'advisory',
        subjectId: input.advisoryId,
        details: {
          ciId: input.ciId,
          owner: input.owner,
          product: component.product,
          version: component.version,
          range: component.range,
          deadline: input.deadline,
        },
      }
    );
  });
}

/** Every remediation of an advisory in CI-name order (the order the workflow opens their tasks in), with the fixes for its product. */
export async function remediationAssignments(db: Kysely<Database>, advisory: Advisory): Promise<RemediationAssignment[]> {
  const rows = await db
    .selectFrom('advisory_remediations as r')
    .innerJoin('configuration_items as ci', 'ci.id', 'r.ci_id')
    .select(['r.ci_id', 'ci.name', 'r.owner', 'r.product', 'r.installed_version', 'r.deadline', 'r.status'])
    .where('r.advisory_id', '=', advisory.id)
    .orderBy('ci.name')
    .execute();
  const fixedFor = (product: string) =>
    advisory.affected.filter((a) => a.product.toLowerCase() === product.toLowerCase()).flatMap((a) => a.fixed);
  return rows.map((r) => ({
    ciId: r.ci_id,
    ciName: r.name,
    owner: r.owner,
    product: r.product,
    installedVersion: r.installed_version,
    fixed: fixedFor(r.product),
    deadline: r.deadline,
    status: r.status,
  }));
}

/** The product a remediation is about and what the advisory says affects it now, to check a reported patch against. */
export async function remediatedProduct(db: Kysely<Database>, key: { advisoryId: string; ciId: string }) {
  return db
    .selectFrom('advisory_remediations as r')
    .innerJoin('advisories as a', 'a.id', 'r.advisory_id')
    .select(['r.product', 'a.affected'])
    .where('r.advisory_id', '=', key.advisoryId)
    .where('r.ci_id', '=', key.ciId)
    .executeTakeFirstOrThrow();
}

/**
 * Records the owner's or the Security Manager's word on a remediation; a patch also sets the CI's
 * component in the CMDB to the version now installed, and a patch still in an affected range leaves
 * the remediation open. Safe to retry because the row moves only from a different status (or the
 * same status with another task), and the component update writes the same version again.
 */
export async function recordRemediation(db: Kysely<Database>, input: RemediationDecision & { stillAffected: boolean }): Promise<void> {
  const { stillAffected } = input;
  const version = patchedVersion(input);
  await auditedWrite(db, async (trx) => {
    const remediation = await trx
      .selectFrom('advisory_remediations')
      .selectAll()
      .where('advisory_id', '=', input.advisoryId)
      .where('ci_id', '=', input.ciId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (version) {
      await trx
        .updateTable('ci_components')
        .set({ version, updated_by: input.actor, updated_at: new Date() })
        .where('ci_id', '=', input.ciId)
        .where(sql<boolean>`lower(product) = lower(${remediation.product})`)
        .execute();
    }
    const status: RemediationStatus = stillAffected ? 'open' : input.status;
    if (remediation.status === status && remediation.task_id === input.taskId) return undefined;
    const resolves = status === 'patched' || status === 'mitigated';
    await trx
      .updateTable('advisory_remediations')
      .set((eb) => ({
        status,
        task_id: input.taskId,
        // Summed over the tasks this remediation went through: a late first attempt stays on record.
        escalations: eb('escalations', '+', input.escalations),
        resolution: input.resolution ? json({ ...input.resolution, ...(stillAffected ? { stillAffected: true } : {}) }) : null,
        exception_expires_at: input.exceptionExpiresAt ?? null,
        resolved_at: resolves ? new Date() : null,
        ...(version ? { installed_version: version } : {}),
        updated_at: new Date(),
      }))
      .where('advisory_id', '=', input.advisoryId)
      .where('ci_id', '=', input.ciId)
      .execute();
    return {
      actor: input.actor,
      action: `advisory.remediation_${stillAffected ? 'still_affected' : status}`,
      subjectType: 'advisory',
      subjectId: input.advisoryId,
      details: {
        ciId: input.ciId,
        taskId: input.taskId,
        resolution: input.resolution ?? null,
        exceptionExpiresAt: input.exceptionExpiresAt ?? null,
      },
    };
  });
}

/** Safe to retry: only an open advisory closes. */
export async function closeAdvisory(db: Kysely<Database>, input: { advisoryId: string; actor: string; reason: string }): Promise<void> {
  await auditedWrite(db, async (trx) => {
    const closed = await trx
      .updateTable('advisories')
      .set({ status: 'closed', updated_at: new Date() })
      .where('id', '=', input.advisoryId)
      .where('status', '=', 'open')
      .returning('id')
      .executeTakeFirst();
    return (
      closed && {
        actor: input.actor,
        action: 'advisory.closed',
        subjectType: 'advisory',
        subjectId: input.advisoryId,
        details: { reason: input.reason },
      }
    );
  });
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
  db: Kysely<Database>,
  input: { ciId: string; components: { product: string; version: string }[]; actor: string },
): Promise<void> {
  await auditedWrite(db, async (trx) => {
    await trx.deleteFrom('ci_components').where('ci_id', '=', input.ciId).execute();
    if (input.components.length) {
      await trx
        .insertInto('ci_components')
        .values(input.components.map((c) => ({ ci_id: input.ciId, product: c.product, version: c.version, updated_by: input.actor })))
        .execute();
    }
    return {
      actor: input.actor,
      action: 'ci.components_set',
      subjectType: 'configuration_item',
      subjectId: input.ciId,
      details: { components: input.components },
    };
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

/** Remediations still open (or awaiting an exception decision) past their due date, per service. */
export async function overdueRemediations(db: Kysely<Database>, now: Date): Promise<{ serviceName: string | null; n: number }[]> {
  return db
    .selectFrom('advisory_remediations as r')
    .leftJoin('services as s', 's.id', 'r.service_id')
    .select((eb) => ['s.name as serviceName', eb.fn.countAll<number>().as('n')])
    .where('r.status', 'in', ['open', 'exception_requested'])
    .where('r.due_at', '<', now)
    .groupBy('s.name')
    .execute();
}

/**
 * Links an advisory to the security alert its proposal raised. Safe to retry: an advisory is linked once.
 */
export async function recordAdvisoryAlert(
  db: Kysely<Database>,
  input: { advisoryId: string; alertId: string; actor: string },
): Promise<void> {
  await auditedWrite(db, async (trx) => {
    const updated = await trx
      .updateTable('advisories')
      .set({ alert_id: input.alertId })
      .where('id', '=', input.advisoryId)
      .where('alert_id', 'is', null)
      .returning('id')
      .executeTakeFirst();
    return updated
      ? {
          actor: input.actor,
          action: 'advisory.alert_raised',
          subjectType: 'advisory',
          subjectId: input.advisoryId,
          details: { alertId: input.alertId },
        }
      : undefined;
  });
}
