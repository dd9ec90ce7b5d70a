import { appendAudit } from '../db/audit';
import { json } from '../db/create-db';
import { toAlertRecipient, type AlertRecipient, type SecurityAlertInput } from '../domain/security-alert';
import type { ActivityDeps } from './deps';

export function createSecurityAlertActivities({ db }: ActivityDeps) {
  return {
    /**
     * Records the alert and who must acknowledge it: the owners of the affected CIs and services, and
     * each audience role. Safe to retry because the alert id and (alert, recipient) are keys: a second
     * run inserts nothing and reads the same recipients back.
     */
    async registerSecurityAlert(input: SecurityAlertInput & { workflowId: string }): Promise<{ recipients: AlertRecipient[] }> {
      return db.transaction().execute(async (trx) => {
        const inserted = await trx
          .insertInto('security_alerts')
          .values({
            id: input.alertId,
            workflow_id: input.workflowId,
            title: input.title,
            threat: input.threat,
            actions: input.actions,
            affected_services: input.affectedServices,
            affected_cis: input.affectedCis,
            audience: input.audience,
            links: json(input.links ?? []),
            raised_by: input.raisedBy,
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .returning('id')
          .executeTakeFirst();
        if (inserted) {
          const ciOwners = input.affectedCis.length
            ? await trx.selectFrom('configuration_items').select(['owner', 'name']).where('id', 'in', input.affectedCis).execute()
            : [];
          const serviceOwners = input.affectedServices.length
            ? await trx.selectFrom('services').select(['owner', 'name']).where('id', 'in', input.affectedServices).execute()
            : [];
          const rows = new Map<string, string>();
          for (const ci of ciOwners) if (!rows.has(`principal:${ci.owner}`)) rows.set(`principal:${ci.owner}`, `owner of CI ${ci.name}`);
          for (const service of serviceOwners)
            if (!rows.has(`principal:${service.owner}`)) rows.set(`principal:${service.owner}`, `owner of service ${service.name}`);
          for (const role of input.audience) rows.set(`role:${role}`, 'audience');
          if (rows.size) {
            await trx
              .insertInto('security_alert_recipients')
              .values([...rows].map(([recipient, reason]) => ({ alert_id: input.alertId, recipient, reason })))
              .execute();
          }
          await appendAudit(trx, {
            actor: input.raisedBy,
            action: 'security_alert.raised',
            subjectType: 'security-alert',
            subjectId: input.alertId,
            details: {
              title: input.title,
              audience: input.audience,
              affectedCis: input.affectedCis,
              affectedServices: input.affectedServices,
              recipients: [...rows.keys()],
              links: input.links ?? [],
            },
          });
        }
        const recipients = await trx
          .selectFrom('security_alert_recipients')
          .select('recipient')
          .where('alert_id', '=', input.alertId)
          .orderBy('recipient')
          .execute();
        return {
          recipients: recipients.map(({ recipient }) => toAlertRecipient(recipient)),
        };
      });
    },

    /** Safe to retry: only an unacknowledged recipient is updated. */
    async recordAlertAcknowledgement(input: { alertId: string; recipient: string; taskId: string; by: string; at: string }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const updated = await trx
          .updateTable('security_alert_recipients')
          .set({ task_id: input.taskId, acknowledged_by: input.by, acknowledged_at: input.at })
          .where('alert_id', '=', input.alertId)
          .where('recipient', '=', input.recipient)
          .where('acknowledged_at', 'is', null)
          .returning('recipient')
          .executeTakeFirst();
        if (updated)
          await appendAudit(trx, {
            actor: input.by,
            action: 'security_alert.acknowledged',
            subjectType: 'security-alert',
            subjectId: input.alertId,
            details: { recipient: input.recipient, taskId: input.taskId },
          });
      });
    },

    /** Safe to retry: links the advisory to the alert its proposal raised, once. */
    async recordAdvisoryAlert(input: { advisoryId: string; alertId: string; actor: string }): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const updated = await trx
          .updateTable('advisories')
          .set({ alert_id: input.alertId })
          .where('id', '=', input.advisoryId)
          .where('alert_id', 'is', null)
          .returning('id')
          .executeTakeFirst();
        if (updated)
          await appendAudit(trx, {
            actor: input.actor,
            action: 'advisory.alert_raised',
            subjectType: 'advisory',
            subjectId: input.advisoryId,
            details: { alertId: input.alertId },
          });
      });
    },
  };
}

export type SecurityAlertActivities = ReturnType<typeof createSecurityAlertActivities>;
