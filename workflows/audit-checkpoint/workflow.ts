import { proxyActivities } from '@temporalio/workflow';
import type { AuditCheckpointActivities } from '../../activities/audit-checkpoints';
import type { AuditCheckpointInput, AuditCheckpointResult } from '../../domain/audit-checkpoint';
import { publishSearchFields } from '../search-attributes';

// One signature and two small queries: 30 s is ample. Five attempts ride out a PostgreSQL restart;
// beyond that the run fails visibly and the Schedule's next run signs the head instead.
const { signAuditCheckpoint } = proxyActivities<AuditCheckpointActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 5, initialInterval: '1s', backoffCoefficient: 2 },
});

/**
 * Started by the Schedule `audit-checkpoint` once an interval: signs the head of the audit hash
 * chain, so rows rewritten later (hashes recomputed or not) no longer match a signed checkpoint.
 */
export async function auditCheckpointWorkflow(_input: AuditCheckpointInput = {}): Promise<AuditCheckpointResult> {
  publishSearchFields({ process: 'audit-checkpoint' });
  return signAuditCheckpoint();
}
