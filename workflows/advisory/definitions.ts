import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  AdvisoryResponseResult,
  AdvisoryState,
  CloseAdvisoryRequest,
  RematchRequest,
  RemediationEvidence,
  WithdrawAdvisoryRequest,
} from '../../domain/advisory';

/** The advisory was revised, or a CI's components changed: match again and pick up new CIs. */
export const rematchSignal = defineSignal<[RematchRequest]>('rematchSignal');
/** The source withdrew the advisory (OSV `withdrawn`): running remediations close as not applicable and the advisory ends. */
export const withdrawSignal = defineSignal<[WithdrawAdvisoryRequest]>('withdrawSignal');
/**
 * A scanner import or a new SBOM for a CI with a remediation of this advisory: a running remediation
 * the evidence proves fixed closes as verified; a patched one it shows still vulnerable reopens.
 */
export const remediationEvidenceSignal = defineSignal<[RemediationEvidence]>('remediationEvidenceSignal');
export const advisoryStateQuery = defineQuery<AdvisoryState>('advisoryStateQuery');
/** Closes the advisory; refused while a remediation is still running. */
export const closeAdvisoryUpdate = defineUpdate<AdvisoryResponseResult, [CloseAdvisoryRequest]>('closeAdvisoryUpdate');
