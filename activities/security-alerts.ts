import { recordAlertAcknowledgement, registerSecurityAlert } from '../db/security-alerts';
import type { SecurityAlertInput } from '../domain/security-alert';
import type { ActivityDeps } from './deps';

/** The security alert process; each write's idempotency is documented in db/security-alerts.ts. */
export function createSecurityAlertActivities({ db }: ActivityDeps) {
  return {
    /** Safe to retry: the alert id and (alert, recipient) are keys, and the recipients are read back. */
    registerSecurityAlert(input: SecurityAlertInput & { workflowId: string }) {
      return registerSecurityAlert(db, input);
    },
    /** Safe to retry: only an unacknowledged recipient is updated. */
    async recordAlertAcknowledgement(input: { alertId: string; recipient: string; taskId: string; by: string; at: string }): Promise<void> {
      await recordAlertAcknowledgement(db, input);
    },
  };
}

export type SecurityAlertActivities = ReturnType<typeof createSecurityAlertActivities>;
