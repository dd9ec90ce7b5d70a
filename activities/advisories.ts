import {
  cisWithComponents,
  closeAdvisory,
  confirmReportedPatch,
  findAdvisory,
  openRemediation,
  recordAdvisoryAlert,
  recordRemediation,
  recordVerifiedFix,
  remediatedComponent,
  reopenRemediation,
  sbomComponents,
  scanVerdict,
  withdrawAdvisory,
  remediationAssignments,
} from '../db/advisories';
import {
  patchedVersion,
  remediationDeadline,
  warrantsAlert,
  type AdvisoryMatch,
  type EvidenceVerdict,
  type RemediationDecision,
  type RemediationEvidence,
} from '../domain/advisory';
import { maxLevel } from '../domain/classification';
import { completeSla, type ServiceSla } from '../domain/sla';
import { affectedComponents, stillAffected } from './advisory-matching';
import type { ActivityDeps } from './deps';

/** The advisory response; each write's idempotency is documented in db/advisories.ts. */
export function createAdvisoryActivities({ db }: ActivityDeps) {
  return {
    /** Safe to retry: links the advisory to the alert its proposal raised, once. */
    async recordAdvisoryAlert(input: { advisoryId: string; alertId: string; actor: string }): Promise<void> {
      await recordAdvisoryAlert(db, input);
    },
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
        const sla = completeSla(ci.sla as Partial<ServiceSla> | null);
        const deadline = remediationDeadline(sla.patchDeadlines, maxLevel([ci.confidentiality, ci.integrity, ci.availability]), severity);
        await openRemediation(db, {
          advisoryId: advisory.id,
          ciId: ci.id,
          serviceId: ci.service_id,
          owner: ci.owner,
          component: hit,
          deadline,
        });
      }
      return {
        title: advisory.title,
        cvssScore: advisory.cvss_score,
        exploited: advisory.exploited,
        warrantsAlert: warrantsAlert(severity),
        preventiveMeasures: advisory.preventive_measures,
        remediations: await remediationAssignments(db, advisory),
      };
    },

    /**
     * Records the owner's or the Security Manager's word on a remediation; the answer says whether a
     * patched version is still affected. Safe to retry: the row moves only from a different status
     * (or the same status with another task), and the CMDB gets the same version again.
     */
    async recordRemediation(input: RemediationDecision): Promise<{ stillAffected: boolean }> {
      const version = patchedVersion(input);
      let affected = false;
      if (version) {
        const remediation = await remediatedComponent(db, input);
        affected = stillAffected(remediation.affected, remediation.component, version);
      }
      await recordRemediation(db, { ...input, stillAffected: affected });
      return { stillAffected: affected };
    },

    /**
     * What new evidence about a CI says of this advisory there (see EvidenceVerdict): a scanner
     * import by its findings tied to the advisory, an SBOM by whether the CI's components as it now
     * lists them still fall in an affected range. Reads only, so safe to retry.
     */
    async weighRemediationEvidence(input: { advisoryId: string; evidence: RemediationEvidence }): Promise<EvidenceVerdict> {
      const { evidence } = input;
      if (evidence.source === 'scan')
        return scanVerdict(db, { advisoryId: input.advisoryId, ciId: evidence.ciId, importId: evidence.importId });
      const advisory = await findAdvisory(db, input.advisoryId);
      if (!advisory) throw new Error(`advisory ${input.advisoryId} is not recorded`);
      return affectedComponents(advisory.affected, await sbomComponents(db, evidence.ciId)).length > 0 ? 'affected' : 'fixed';
    },

    /** Safe to retry: only a remediation still running closes (db/advisories.ts). */
    async recordVerifiedFix(input: {
      advisoryId: string;
      ciId: string;
      evidence: RemediationEvidence;
      taskId: string | null;
      escalations: number;
    }): Promise<void> {
      await recordVerifiedFix(db, input);
    },

    /** Safe to retry: a patch already confirmed is left as it is (db/advisories.ts). */
    async confirmReportedPatch(input: { advisoryId: string; evidence: RemediationEvidence }): Promise<{ confirmed: boolean }> {
      return { confirmed: await confirmReportedPatch(db, input) };
    },

    /** Safe to retry: a remediation this evidence reopened answers the same again (db/advisories.ts). */
    async reopenRemediation(input: { advisoryId: string; evidence: RemediationEvidence }) {
      return (await reopenRemediation(db, input)) ?? null;
    },

    /**
     * The source withdrew the advisory: every running remediation closes as not applicable, each
     * audited. Safe to retry: only remediations still running and an advisory still open change.
     */
    async withdrawAdvisory(input: { advisoryId: string; actor: string; withdrawnAt: string }): Promise<{ notApplicable: string[] }> {
      return withdrawAdvisory(db, input);
    },

    /** Safe to retry: only an open advisory closes. */
    async closeAdvisory(input: { advisoryId: string; actor: string; reason: string }): Promise<void> {
      await closeAdvisory(db, input);
    },
  };
}

export type AdvisoryActivities = ReturnType<typeof createAdvisoryActivities>;
