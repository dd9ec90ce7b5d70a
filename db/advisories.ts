import { sql, type Kysely } from 'kysely';
import {
  patchedVersion,
  type AdvisoryContent,
  type AdvisoryFormat,
  type EvidenceVerdict,
  type RemediationAssignment,
  type RemediationEvidence,
  type RemediationProgress,
  type RemediationDecision,
  type RemediationStatus,
} from '../domain/advisory';
import { identifies, mayConcern, type AffectedComponent, type Component } from '../domain/advisory-matching';
import { durationMs, type DurationText } from '../domain/duration';
import { systemActor } from '../domain/roles';
import { appendAudit, auditedTransaction, auditedWrite } from './audit';
import { json } from './create-db';
import type { Advisory, Database } from './database';

/** Stores an advisory, or revises the stored one: the id is the natural key, never duplicated. */
export async function upsertAdvisory(
  db: Kysely<Database>,
  input: { content: AdvisoryContent; format: AdvisoryFormat; raw: unknown; workflowId: string; actor: string },
): Promise<{ revision: number; created: boolean; status: Advisory['status'] }> {
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
    withdrawn_at: content.withdrawn,
    raw: json(input.raw),
  };
  // Every post is a revision (or the first one), so every post is audited.
  let revision = 0;
  let status: Advisory['status'] = 'open';
  await auditedWrite(db, async (trx) => {
    const row = await trx
      .insertInto('advisories')
      // Withdrawn before Warden ever saw it: kept for the record, matched against nothing.
      .values({
        id: content.id,
        workflow_id: input.workflowId,
        received_by: input.actor,
        ...fields,
        ...(content.withdrawn ? { status: 'withdrawn' as const } : {}),
      })
      .onConflict((oc) =>
        oc.column('id').doUpdateSet((eb) => ({ ...fields, revision: eb('advisories.revision', '+', 1), updated_at: sql`now()` })),
      )
      .returning(['revision', 'status'])
      .executeTakeFirstOrThrow();
    revision = row.revision;
    status = row.status;
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
        withdrawn: content.withdrawn,
      },
    };
  });
  return { revision, created: revision === 1, status };
}

export async function findAdvisory(db: Kysely<Database>, id: string): Promise<Advisory | undefined> {
  return db.selectFrom('advisories').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listAdvisories(db: Kysely<Database>, filter: { status?: Advisory['status']; limit: number }): Promise<Advisory[]> {
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
        purl: component.purl ?? null,
        cpe: component.cpe ?? null,
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
          purl: component.purl ?? null,
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
    .select(['r.ci_id', 'ci.name', 'r.owner', 'r.product', 'r.purl', 'r.cpe', 'r.installed_version', 'r.deadline', 'r.status'])
    .where('r.advisory_id', '=', advisory.id)
    .orderBy('ci.name')
    .execute();
  // The entries about the remediated component, by the same identity rules the match used.
  const fixedFor = (component: Component) => [
    ...new Set(advisory.affected.filter((entry) => identifies(entry, component)).flatMap((entry) => entry.fixed)),
  ];
  return rows.map((r) => ({
    ciId: r.ci_id,
    ciName: r.name,
    owner: r.owner,
    product: r.product,
    installedVersion: r.installed_version,
    fixed: fixedFor({ product: r.product, version: r.installed_version, purl: r.purl, cpe: r.cpe }),
    deadline: r.deadline,
    status: r.status,
  }));
}

/** The component a remediation is about and what the advisory says affects it now, to check a reported patch against. */
export async function remediatedComponent(
  db: Kysely<Database>,
  key: { advisoryId: string; ciId: string },
): Promise<{ component: Component; affected: Advisory['affected'] }> {
  const row = await db
    .selectFrom('advisory_remediations as r')
    .innerJoin('advisories as a', 'a.id', 'r.advisory_id')
    .select(['r.product', 'r.purl', 'r.cpe', 'r.installed_version', 'a.affected'])
    .where('r.advisory_id', '=', key.advisoryId)
    .where('r.ci_id', '=', key.ciId)
    .executeTakeFirstOrThrow();
  return { component: { product: row.product, version: row.installed_version, purl: row.purl, cpe: row.cpe }, affected: row.affected };
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
    // Hand-entered components follow the owner's word; SBOM components change only with the next SBOM.
    if (version) {
      await trx
        .updateTable('ci_components')
        .set({ version, updated_by: input.actor, updated_at: new Date() })
        .where('ci_id', '=', input.ciId)
        .where('source', '=', 'manual')
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

/** Remediation states that still ask something of someone; a withdrawal closes them. */
const runningRemediation: RemediationStatus[] = ['open', 'exception_requested', 'exception'];

/**
 * What one scanner import says of an advisory on a CI. A finding is tied to the remediation when its
 * vulnerability id, or an id the scanner relates to it (Grype's relatedVulnerabilities: the CVE of a
 * GHSA match), is the advisory's id or one of its aliases (compared case-insensitively: GHSA ids
 * come in both cases) and, when both name a package, it is the remediated package. `affected`: the
 * import contains a tied finding; `fixed`: scanners have reported tied findings and every one is
 * closed now (by this import or an earlier one: an import whose signal was lost is proved again by
 * the next); `silent` otherwise (no scanner ever reported this vulnerability here, which proves nothing).
 */
export async function scanVerdict(
  db: Kysely<Database>,
  key: { advisoryId: string; ciId: string; importId: string },
): Promise<EvidenceVerdict> {
  // Findings hold only their latest state. Once a later import of the same scanner exists, this
  // import's verdict can no longer be read from them (it would credit this import with the later
  // one's fix); the later import's own evidence, weighed after this, speaks for the CI.
  const later = await db
    .selectFrom('scan_imports as this')
    .innerJoin('scan_imports as later', (join) => join.onRef('later.ci_id', '=', 'this.ci_id').onRef('later.scanner', '=', 'this.scanner'))
    .select('later.id')
    .where('this.id', '=', key.importId)
    .whereRef('later.imported_at', '>', 'this.imported_at')
    .limit(1)
    .executeTakeFirst();
  if (later) return 'silent';
  const tied = await db
    .selectFrom('vulnerability_findings as f')
    .innerJoin('advisory_remediations as r', (join) => join.onRef('r.ci_id', '=', 'f.ci_id'))
    .innerJoin('advisories as a', 'a.id', 'r.advisory_id')
    .select(['f.status', 'f.last_import_id'])
    .where('r.advisory_id', '=', key.advisoryId)
    .where('r.ci_id', '=', key.ciId)
    .where(
      sql<boolean>`exists (select 1 from unnest(array_prepend(f.vulnerability_id, f.related_ids)) as named(id)
                     where lower(named.id) in (select lower(alias) from unnest(array_append(a.aliases, a.id)) as alias))`,
    )
    .where(sql<boolean>`(r.purl is null or f.purl is null or lower(f.purl) = lower(r.purl))`)
    .execute();
  if (tied.some((f) => f.status === 'open' && f.last_import_id === key.importId)) return 'affected';
  if (tied.length > 0 && tied.every((f) => f.status === 'fixed')) return 'fixed';
  return 'silent';
}

/** The CI's components as its last SBOM listed them (none when its list was typed by hand). */
export async function sbomComponents(db: Kysely<Database>, ciId: string): Promise<Component[]> {
  const rows = await db
    .selectFrom('ci_components')
    .select(['product', 'version', 'purl', 'cpe'])
    .where('ci_id', '=', ciId)
    .where('source', '=', 'sbom')
    .execute();
  return rows.map((r) => ({ product: r.product, version: r.version, purl: r.purl, cpe: r.cpe }));
}

/**
 * A rescan or a new SBOM proved a running remediation fixed: it closes as `patched`, its resolution
 * naming the evidence, audited. Safe to retry because only a remediation still running moves.
 */
export async function recordVerifiedFix(
  db: Kysely<Database>,
  input: { advisoryId: string; ciId: string; evidence: RemediationEvidence; taskId: string | null; escalations: number },
): Promise<void> {
  await auditedWrite(db, async (trx) => {
    const closed = await trx
      .updateTable('advisory_remediations')
      .set((eb) => ({
        status: 'patched',
        task_id: input.taskId,
        escalations: eb('escalations', '+', input.escalations),
        resolution: json({ verifiedFix: input.evidence }),
        resolved_at: new Date(),
        updated_at: new Date(),
      }))
      .where('advisory_id', '=', input.advisoryId)
      .where('ci_id', '=', input.ciId)
      .where('status', 'in', runningRemediation)
      .returning('ci_id')
      .executeTakeFirst();
    return (
      closed && {
        actor: systemActor.principalId,
        action: 'advisory.remediation_verified_fixed',
        subjectType: 'advisory',
        subjectId: input.advisoryId,
        details: { ciId: input.ciId, evidence: input.evidence, cancelledTaskId: input.taskId },
      }
    );
  });
}

/**
 * A rescan or a new SBOM shows fixed a CI whose owner reported the patch (`patched` with a version):
 * the evidence is recorded on the remediation as `resolution.confirmedBy`, audited, so the record
 * says the patch was seen, not only reported. Safe to retry because a remediation already confirmed,
 * verified by evidence in the first place, or no longer patched is left as it is.
 */
export async function confirmReportedPatch(
  db: Kysely<Database>,
  input: { advisoryId: string; evidence: RemediationEvidence },
): Promise<boolean> {
  const { ciId } = input.evidence;
  let confirmed = false;
  await auditedWrite(db, async (trx) => {
    const row = await trx
      .selectFrom('advisory_remediations')
      .select(['status', 'resolution', 'installed_version'])
      .where('advisory_id', '=', input.advisoryId)
      .where('ci_id', '=', ciId)
      .forUpdate()
      .executeTakeFirst();
    const resolution = row?.resolution ?? null;
    const reported = row?.status === 'patched' && typeof resolution?.version === 'string';
    if (!reported || resolution?.confirmedBy) return undefined;
    const confirmedBy = { ...input.evidence, confirmedAt: new Date().toISOString() };
    await trx
      .updateTable('advisory_remediations')
      .set({ resolution: json({ ...resolution, confirmedBy }), updated_at: new Date() })
      .where('advisory_id', '=', input.advisoryId)
      .where('ci_id', '=', ciId)
      .execute();
    confirmed = true;
    return {
      actor: systemActor.principalId,
      action: 'advisory.remediation_patch_confirmed',
      subjectType: 'advisory',
      subjectId: input.advisoryId,
      details: { ciId, version: resolution?.version, evidence: input.evidence },
    };
  });
  return confirmed;
}

const sameEvidence = (a: unknown, b: RemediationEvidence) => JSON.stringify(a) === JSON.stringify(b);

/**
 * A rescan or a new SBOM shows a patched CI vulnerable again (the fix was rolled back, or the
 * reported patch never held): the remediation reopens, audited, under its original due date, and
 * the answer is what the workflow needs to track it again. Safe to retry because a remediation this
 * evidence already reopened answers the same without a second write; undefined when there is nothing
 * to reopen (mitigated, under an exception, or open already for another reason).
 */
export async function reopenRemediation(
  db: Kysely<Database>,
  input: { advisoryId: string; evidence: RemediationEvidence },
): Promise<Pick<RemediationProgress, 'assignment' | 'title' | 'preventiveMeasures'> | undefined> {
  const { ciId } = input.evidence;
  let reopened = false;
  await auditedWrite(db, async (trx) => {
    const row = await trx
      .selectFrom('advisory_remediations')
      .select(['status', 'resolution'])
      .where('advisory_id', '=', input.advisoryId)
      .where('ci_id', '=', ciId)
      .forUpdate()
      .executeTakeFirst();
    if (row?.status === 'open' && sameEvidence(row.resolution?.reopenedBy, input.evidence)) reopened = true;
    if (row?.status !== 'patched') return undefined;
    await trx
      .updateTable('advisory_remediations')
      .set({
        status: 'open',
        resolution: json({ reopenedBy: input.evidence, previously: row.resolution }),
        resolved_at: null,
        updated_at: new Date(),
      })
      .where('advisory_id', '=', input.advisoryId)
      .where('ci_id', '=', ciId)
      .execute();
    reopened = true;
    return {
      actor: systemActor.principalId,
      action: 'advisory.remediation_reopened',
      subjectType: 'advisory',
      subjectId: input.advisoryId,
      details: { ciId, evidence: input.evidence, previously: row.resolution },
    };
  });
  if (!reopened) return undefined;
  const advisory = await findAdvisory(db, input.advisoryId);
  if (!advisory) return undefined;
  const assignment = (await remediationAssignments(db, advisory)).find((a) => a.ciId === ciId);
  return assignment && { assignment, title: advisory.title, preventiveMeasures: advisory.preventive_measures };
}

/** Open advisories with a remediation on this CI that new evidence may close or reopen: running or patched ones. */
export async function advisoriesRemediatingCi(db: Kysely<Database>, ciId: string): Promise<{ id: string; workflow_id: string }[]> {
  return db
    .selectFrom('advisory_remediations as r')
    .innerJoin('advisories as a', 'a.id', 'r.advisory_id')
    .select(['a.id', 'a.workflow_id'])
    .where('r.ci_id', '=', ciId)
    .where('r.status', 'in', [...runningRemediation, 'patched'])
    .where('a.status', '=', 'open')
    .orderBy('a.id')
    .execute();
}

/**
 * The source withdrew the advisory: it becomes `withdrawn` and every running remediation
 * `not_applicable`, each with its own audit event, in one transaction. Safe to retry because only
 * remediations still running and an advisory still open change; a second run finds nothing to do.
 */
export async function withdrawAdvisory(
  db: Kysely<Database>,
  input: { advisoryId: string; actor: string; withdrawnAt: string },
): Promise<{ notApplicable: string[] }> {
  return auditedTransaction(db, async (trx) => {
    const closed = await trx
      .updateTable('advisory_remediations')
      .set({
        status: 'not_applicable',
        resolution: json({ withdrawnAt: input.withdrawnAt }),
        resolved_at: new Date(),
        updated_at: new Date(),
      })
      .where('advisory_id', '=', input.advisoryId)
      .where('status', 'in', runningRemediation)
      .returning(['ci_id', 'status'])
      .execute();
    for (const remediation of closed) {
      await appendAudit(trx, {
        actor: input.actor,
        action: 'advisory.remediation_not_applicable',
        subjectType: 'advisory',
        subjectId: input.advisoryId,
        details: { ciId: remediation.ci_id, reason: 'the advisory was withdrawn by its source', withdrawnAt: input.withdrawnAt },
      });
    }
    const withdrawn = await trx
      .updateTable('advisories')
      .set({ status: 'withdrawn', withdrawn_at: input.withdrawnAt, updated_at: new Date() })
      .where('id', '=', input.advisoryId)
      .where('status', '=', 'open')
      .returning('id')
      .executeTakeFirst();
    if (withdrawn) {
      await appendAudit(trx, {
        actor: input.actor,
        action: 'advisory.withdrawn',
        subjectType: 'advisory',
        subjectId: input.advisoryId,
        details: { withdrawnAt: input.withdrawnAt, remediationsNotApplicable: closed.map((r) => r.ci_id) },
      });
    }
    return { notApplicable: closed.map((r) => r.ci_id) };
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
      'c.purl',
      'c.cpe',
    ])
    .where('ci.status', '=', 'active');
  if (ciIds) query = query.where('ci.id', 'in', ciIds);
  const rows = await query.orderBy('ci.name').execute();
  const byCi = new Map<string, (typeof rows)[number] & { components: Component[] }>();
  for (const row of rows) {
    let ci = byCi.get(row.id);
    if (!ci) {
      ci = { ...row, components: [] };
      byCi.set(row.id, ci);
    }
    ci.components.push({ product: row.product, version: row.version, purl: row.purl, cpe: row.cpe });
  }
  return [...byCi.values()];
}

/** Open advisories a CI's new components may concern (by name, purl package or CPE product): those to match again. */
export async function openAdvisoriesConcerning(db: Kysely<Database>, components: readonly Component[]): Promise<Advisory[]> {
  if (components.length === 0) return [];
  const open = await db.selectFrom('advisories').selectAll().where('status', '=', 'open').execute();
  return open.filter((advisory) => mayConcern(advisory.affected, components));
}

export async function listComponents(db: Kysely<Database>, ciId: string) {
  return db
    .selectFrom('ci_components')
    .select(['product', 'version', 'purl', 'cpe', 'source', 'updated_by', 'updated_at'])
    .where('ci_id', '=', ciId)
    .orderBy('product')
    .orderBy('version')
    .execute();
}

/** Rows per insert: keeps a large SBOM's insert under PostgreSQL's 65,535 bind parameters. */
const componentBatch = 1000;

/**
 * Replaces a CI's component list, hand-entered or from an SBOM, audited in the same transaction.
 * An SBOM's audit event records where the list came from and how long it is (the document can list
 * thousands of components); a hand-entered list is recorded whole.
 */
export async function replaceComponents(
  db: Kysely<Database>,
  input: {
    ciId: string;
    components: Component[];
    actor: string;
    sbom?: { format: string; specVersion: string; serialNumber: string | null };
  },
): Promise<void> {
  const source = input.sbom ? 'sbom' : 'manual';
  await auditedWrite(db, async (trx) => {
    await trx.deleteFrom('ci_components').where('ci_id', '=', input.ciId).execute();
    for (let start = 0; start < input.components.length; start += componentBatch) {
      await trx
        .insertInto('ci_components')
        .values(
          input.components.slice(start, start + componentBatch).map((c) => ({
            ci_id: input.ciId,
            product: c.product,
            version: c.version,
            purl: c.purl ?? null,
            cpe: c.cpe ?? null,
            source,
            updated_by: input.actor,
          })),
        )
        .execute();
    }
    return {
      actor: input.actor,
      action: input.sbom ? 'ci.sbom_imported' : 'ci.components_set',
      subjectType: 'configuration_item',
      subjectId: input.ciId,
      details: input.sbom ? { ...input.sbom, components: input.components.length } : { components: input.components },
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
 * Remediations on time per service over [from, to): of the remediations due in the period, how many
 * were patched or mitigated by their deadline. An approved exception is not compliance. A
 * remediation counts once it is due by `asOf` (the period's end, or now if that is earlier) or
 * already resolved: one not yet due is not held against the period. A remediation closed as not
 * applicable (its advisory withdrawn) is no obligation at all.
 */
export async function patchCompliance(
  db: Kysely<Database>,
  period: { from: Date; to: Date; asOf?: Date },
): Promise<ServicePatchCompliance[]> {
  const asOf = period.asOf ?? new Date(Math.min(period.to.getTime(), Date.now()));
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
    .where('r.status', '!=', 'not_applicable')
    .where((eb) => eb.or([eb('r.due_at', '<=', asOf), eb.and([eb('r.resolved_at', 'is not', null), eb('r.resolved_at', '<=', asOf)])]))
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

export interface ServicePatchedSystems {
  serviceId: string | null;
  serviceName: string | null;
  /** Active CIs of the service. */
  systems: number;
  /** Of those, with no open scanner finding and no remediation past its deadline at `asOf`. */
  patched: number;
  /** The CIs that were not, for the deviation list. */
  unpatched: { ciId: string; ciName: string; openFindings: number; overdueRemediations: number }[];
}

/**
 * "% systems currently patched" per service, as of a moment: an active CI is patched when no scanner
 * finding was open on it then and no remediation of it was past its deadline unresolved then. A
 * finding reopened since counts from its reopening; a remediation under an exception past its
 * deadline is not patched; one closed as not applicable never counts.
 */
export async function patchedSystems(db: Kysely<Database>, asOf: Date): Promise<ServicePatchedSystems[]> {
  const rows = await db
    .selectFrom('configuration_items as ci')
    .leftJoin('services as s', 's.id', 'ci.service_id')
    .select((eb) => [
      'ci.id',
      'ci.name',
      'ci.service_id',
      's.name as service_name',
      eb
        .selectFrom('vulnerability_findings as f')
        .select((f) => f.fn.countAll<number>().as('n'))
        .whereRef('f.ci_id', '=', 'ci.id')
        .where('f.opened_at', '<=', asOf)
        .where((f) => f.or([f('f.status', '=', 'open'), f('f.fixed_at', '>', asOf)]))
        .as('open_findings'),
      eb
        .selectFrom('advisory_remediations as r')
        .select((r) => r.fn.countAll<number>().as('n'))
        .whereRef('r.ci_id', '=', 'ci.id')
        .where('r.due_at', '<', asOf)
        .where('r.created_at', '<=', asOf)
        .where('r.status', '!=', 'not_applicable')
        .where((r) => r.or([r('r.resolved_at', 'is', null), r('r.resolved_at', '>', asOf)]))
        .as('overdue_remediations'),
    ])
    .where('ci.status', '=', 'active')
    .where('ci.created_at', '<=', asOf)
    .orderBy('s.name')
    .orderBy('ci.name')
    .execute();
  const byService = new Map<string | null, ServicePatchedSystems>();
  for (const row of rows) {
    let service = byService.get(row.service_id);
    if (!service) {
      service = { serviceId: row.service_id, serviceName: row.service_name, systems: 0, patched: 0, unpatched: [] };
      byService.set(row.service_id, service);
    }
    service.systems += 1;
    const openFindings = Number(row.open_findings ?? 0);
    const overdueRemediations = Number(row.overdue_remediations ?? 0);
    if (openFindings === 0 && overdueRemediations === 0) service.patched += 1;
    else service.unpatched.push({ ciId: row.id, ciName: row.name, openFindings, overdueRemediations });
  }
  return [...byService.values()];
}
