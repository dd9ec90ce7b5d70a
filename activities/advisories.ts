import { systemActor } from '../domain/roles';
import { sql } from 'kysely';
import { cisWithComponents, findAdvisory } from '../db/advisories';
import { appendAudit } from '../db/audit';
import { json } from '../db/create-db';
import { remediationDeadline, warrantsAlert, type RemediationStatus } from '../domain/advisory';
import { affectedComponents, affectedRange } from '../domain/advisory-matching';
import { maxLevel } from '../domain/classification';
import { durationMs } from '../domain/duration';
import { defaultSla, type ServiceSla } from '../domain/sla';
import type { ActivityDeps } from './deps';

export interface RemediationAssignment {
  ciId: string;
  ciName: string;
  owner: string;
  product: string;
  installedVersion: string;
  fixed: string[];
  deadline: string;
  status: RemediationStatus;
}

export interface AdvisoryMatch {
  title: string;
  cvssScore: number | null;
  exploited: boolean;
  warrantsAlert: boolean;
  preventiveMeasures: string | null;
  remediations: RemediationAssignment[];
}

export function createAdvisoryActivities({ db }: ActivityDeps) {
  return {
    /**
     * Matches the advisory against every active CI's components and opens a remediation for each CI
     * newly affected, with the deadline of its service's SLA. Safe to retry because a remediation's
     * key is (advisory, CI): a second insert does nothing, and the answer is read back from the table.
     */
    async matchAdvisory(input: { advisoryId: string }): Promise<AdvisoryMatch> {
      const advisory = await findAdvisory(db, input.advisoryId);
      if (!advisory) throw new Error(`advisory ${input.advisoryId} is not recorded`);
      const severity = { cvssScore: advisory.cvss_score, exploited: advisory.exploited };
      for (const ci of await cisWithComponents(db)) {
        const [hit] = affectedComponents(advisory.affected, ci.components);
        if (!hit) continue;
        const sla: ServiceSla = { ...defaultSla, ...((ci.sla as ServiceSla | null) ?? {}) };
        const deadline = remediationDeadline(sla.patchDeadlines, maxLevel([ci.confidentiality, ci.integrity, ci.availability]), severity);
        await db.transaction().execute(async (trx) => {
          const inserted = await trx
            .insertInto('advisory_remediations')
            .values({
              advisory_id: advisory.id,
              ci_id: ci.id,
              service_id: ci.service_id,
              owner: ci.owner,
              product: hit.product,
              installed_version: hit.version,
              deadline,
              due_at: new Date(Date.now() + durationMs(deadline)),
              status: 'open',
            })
            .onConflict((oc) => oc.columns(['advisory_id', 'ci_id']).doNothing())
            .returning('ci_id')
            .executeTakeFirst();
          if (!inserted) return;
          await appendAudit(trx, {
            actor: systemActor.principalId,
            action: 'advisory.remediation_opened',
            subjectType: 'advisory',
            subjectId: advisory.id,
            details: { ciId: ci.id, owner: ci.owner, product: hit.product, version: hit.version, range: hit.range, deadline },
          });
        });
      }
      const rows = await db
        .selectFrom('advisory_remediations as r')
        .innerJoin('configuration_items as ci', 'ci.id', 'r.ci_id')
        .select(['r.ci_id', 'ci.name', 'r.owner', 'r.product', 'r.installed_version', 'r.deadline', 'r.status'])
        .where('r.advisory_id', '=', advisory.id)
        .orderBy('ci.name')
        .execute();
      const fixedFor = (product: string) =>
        advisory.affected.filter((a) => a.product.toLowerCase() === product.toLowerCase()).flatMap((a) => a.fixed);
      return {
        title: advisory.title,
        cvssScore: advisory.cvss_score,
        exploited: advisory.exploited,
        warrantsAlert: warrantsAlert(severity),
        preventiveMeasures: advisory.preventive_measures,
        remediations: rows.map((r) => ({
          ciId: r.ci_id,
          ciName: r.name,
          owner: r.owner,
          product: r.product,
          installedVersion: r.installed_version,
          fixed: fixedFor(r.product),
          deadline: r.deadline,
          status: r.status,
        })),
      };
    },

    /**
     * Records the owner's or the Security Manager's word on a remediation. A patch also updates the
     * CI's component in the CMDB; the answer says whether the new version is still affected.
     * Safe to retry because the row moves only from a different status (or the same status with
     * another task), and the component update writes the same version again.
     */
    async recordRemediation(input: {
      advisoryId: string;
      ciId: string;
      status: RemediationStatus;
      actor: string;
      taskId: string | null;
      escalations: number;
      resolution?: Record<string, unknown>;
      exceptionExpiresAt?: string | null;
    }): Promise<{ stillAffected: boolean }> {
      return db.transaction().execute(async (trx) => {
        const remediation = await trx
          .selectFrom('advisory_remediations')
          .selectAll()
          .where('advisory_id', '=', input.advisoryId)
          .where('ci_id', '=', input.ciId)
          .forUpdate()
          .executeTakeFirstOrThrow();
        const version = typeof input.resolution?.version === 'string' ? input.resolution.version : undefined;
        let stillAffected = false;
        if (input.status === 'patched' && version) {
          await trx
            .updateTable('ci_components')
            .set({ version, updated_by: input.actor, updated_at: new Date() })
            .where('ci_id', '=', input.ciId)
            .where(sql<boolean>`lower(product) = lower(${remediation.product})`)
            .execute();
          const advisory = await trx
            .selectFrom('advisories')
            .select('affected')
            .where('id', '=', input.advisoryId)
            .executeTakeFirstOrThrow();
          stillAffected = advisory.affected.some(
            (a) => a.product.toLowerCase() === remediation.product.toLowerCase() && affectedRange(version, a.ranges) !== undefined,
          );
        }
        const status: RemediationStatus = stillAffected ? 'open' : input.status;
        if (remediation.status === status && remediation.task_id === input.taskId) return { stillAffected };
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
            ...(version && input.status === 'patched' ? { installed_version: version } : {}),
            updated_at: new Date(),
          }))
          .where('advisory_id', '=', input.advisoryId)
          .where('ci_id', '=', input.ciId)
          .execute();
        await appendAudit(trx, {
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
        });
        return { stillAffected };
      });
    },

    /** Safe to retry: only an open advisory closes. */
    async closeAdvisory(input: { advisoryId: string; actor: string; reason: string }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const closed = await trx
          .updateTable('advisories')
          .set({ status: 'closed', updated_at: new Date() })
          .where('id', '=', input.advisoryId)
          .where('status', '=', 'open')
          .returning('id')
          .executeTakeFirst();
        if (closed)
          await appendAudit(trx, {
            actor: input.actor,
            action: 'advisory.closed',
            subjectType: 'advisory',
            subjectId: input.advisoryId,
            details: { reason: input.reason },
          });
      });
    },
  };
}

export type AdvisoryActivities = ReturnType<typeof createAdvisoryActivities>;
