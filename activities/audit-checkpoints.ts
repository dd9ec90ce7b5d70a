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
      // Retryable: the retry may land on another worker of the queue that holds the key. The
      // workflow bounds the attempts, so a queue where none does fails the run visibly.
      if (!auditSigningKey) {
        throw ApplicationFailure.retryable('this worker holds no WARDEN_AUDIT_SIGNING_KEY', 'AuditSigningKeyMissing');
      }
      return writeAuditCheckpoint(db, auditSigningKey);
    },
  };
}

export type AuditCheckpointActivities = ReturnType<typeof createAuditCheckpointActivities>;
