import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ChangeEvidence } from '../../domain/change-risk';
import type { AmendmentRequest, ChangeGateState, ChangeUpdateResult, EvidenceRequest, ImplementationReport } from '../../domain/change';

// The change gate's messages; their types and the refusals their validators throw are in domain/change.ts.

/** The requester amends a change a reviewer sent back; the review restarts on the amended change. */
export const amendChangeUpdate = defineUpdate<ChangeUpdateResult, [AmendmentRequest]>('amendChange');
/** Evidence (a penetration test, a configuration review) attached while the review is open. */
export const addEvidenceUpdate = defineUpdate<ChangeEvidence[], [EvidenceRequest]>('addEvidence');
/** The requester reports an approved change implemented; the gate then verifies the baseline. */
export const reportImplementedUpdate = defineUpdate<ChangeUpdateResult, [ImplementationReport]>('reportImplemented');
export const changeStateQuery = defineQuery<ChangeGateState>('changeStateQuery');
