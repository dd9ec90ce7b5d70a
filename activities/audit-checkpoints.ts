import { ApplicationFailure } from '@temporalio/common';
import { writeAuditCheckpoint } from '../db/audit-checkpoints';
import type { AuditCheckpointResult } from '../domain/audit-checkpoint';
import type { ActivityDeps } from './deps';

export function createAuditCheckpointActivities({ db, auditSigningKey }: ActivityDeps) {
  return {
    /**
     * Signs the head of the audit chain with the worker's key. Safe to retry: a head is signed once
     * (unique event id), and a retry after the commit finds it signed and writes nothing.
     */
    async signAuditCheckpoint(): Promise<AuditCheckpointResult> {
      // Every retry would meet the same missing key; the next scheduled run tries again.
      if (!auditSigningKey) {
        throw ApplicationFailure.nonRetryable('this worker holds no WARDEN_AUDIT_SIGNING_KEY', 'AuditSigningKeyMissing');
      }
      return writeAuditCheckpoint(db, auditSigningKey);
    },
  };
}

export type AuditCheckpointActivities = ReturnType<typeof createAuditCheckpointActivities>;
