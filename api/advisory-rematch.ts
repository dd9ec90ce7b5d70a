import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { advisoriesRemediatingCi } from '../db/advisories';
import type { Database } from '../db/database';
import type { RemediationEvidence, WithdrawAdvisoryRequest } from '../domain/advisory';
import { rematchSignal, remediationEvidenceSignal, withdrawSignal } from '../workflows/advisory/definitions';

/**
 * Tells an advisory's running workflow to match again (the advisory was revised, or a CI's
 * components changed); a closed one has nothing left to tell.
 */
export async function requestRematch(client: Client, workflowId: string, reason: string): Promise<void> {
  try {
    await client.workflow.getHandle(workflowId).signal(rematchSignal, { reason });
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  }
}

/**
 * Tells an advisory's running workflow that its source withdrew it: its running remediations close
 * as not applicable. A workflow that has ended has nothing left to close.
 */
export async function withdraw(client: Client, workflowId: string, request: WithdrawAdvisoryRequest): Promise<void> {
  try {
    await client.workflow.getHandle(workflowId).signal(withdrawSignal, request);
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  }
}

/**
 * Tells every open advisory with a running or patched remediation on the CI of a new scanner import
 * or SBOM, so each weighs it: a fix proven closes the remediation as verified, a CI vulnerable again
 * reopens it. Answers the advisories told. One whose workflow has just ended has nothing to weigh.
 */
export async function announceRemediationEvidence(client: Client, db: Kysely<Database>, evidence: RemediationEvidence): Promise<string[]> {
  const advisories = await advisoriesRemediatingCi(db, evidence.ciId);
  await Promise.all(
    advisories.map(async (advisory) => {
      try {
        await client.workflow.getHandle(advisory.workflow_id).signal(remediationEvidenceSignal, evidence);
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError)) throw error;
      }
    }),
  );
  return advisories.map((a) => a.id);
}
