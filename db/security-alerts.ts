import { type Kysely, sql } from 'kysely';
import { alertRecipients, toAlertRecipient, type AlertRecipient, type SecurityAlertInput } from '../domain/security-alert';
import { auditedWrite } from './audit';
import { json } from './create-db';
import type { Database } from './database';
import { newestFirstPage, type PageRequest } from './pagination';

const subjectType = 'security-alert';

/**
 * Records the alert and who must acknowledge it: the owners of the affected CIs and services, and
 * each audience role. Safe to retry because the alert id and (alert, recipient) are keys: a second
 * run inserts nothing and reads the same recipients back.
 */
export async function registerSecurityAlert(
  db: Kysely<Database>,
  input: SecurityAlertInput & { workflowId: string },
): Promise<{ recipients: AlertRecipient[] }> {
  await auditedWrite(db, async (trx) => {
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
    if (!inserted) return undefined;
    const ciOwners = input.affectedCis.length
      ? await trx.selectFrom('configuration_items').select(['owner', 'name']).where('id', 'in', input.affectedCis).execute()
      : [];
    const serviceOwners = input.affectedServices.length
      ? await trx.selectFrom('services').select(['owner', 'name']).where('id', 'in', input.affectedServices).execute()
      : [];
    const rows = alertRecipients({ ciOwners, serviceOwners, audience: input.audience });
    if (rows.size) {
      await trx
        .insertInto('security_alert_recipients')
        .values([...rows].map(([recipient, reason]) => ({ alert_id: input.alertId, recipient, reason })))
        .execute();
    }
    return {
      actor: input.raisedBy,
      action: 'security_alert.raised',
      subjectType,
      subjectId: input.alertId,
      details: {
        title: input.title,
        audience: input.audience,
        affectedCis: input.affectedCis,
        affectedServices: input.affectedServices,
        recipients: [...rows.keys()],
        links: input.links ?? [],
      },
    };
  });
  const recipients = await db
    .selectFrom('security_alert_recipients')
    .select('recipient')
    .where('alert_id', '=', input.alertId)
    .orderBy('recipient')
    .execute();
  return { recipients: recipients.map(({ recipient }) => toAlertRecipient(recipient)) };
}

/** Safe to retry: only an unacknowledged recipient is updated. */
export async function recordAlertAcknowledgement(
  db: Kysely<Database>,
  input: { alertId: string; recipient: string; taskId: string; by: string; at: string },
): Promise<void> {
  await auditedWrite(db, async (trx) => {
    const updated = await trx
      .updateTable('security_alert_recipients')
      .set({ task_id: input.taskId, acknowledged_by: input.by, acknowledged_at: input.at })
      .where('alert_id', '=', input.alertId)
      .where('recipient', '=', input.recipient)
      .where('acknowledged_at', 'is', null)
      .returning('recipient')
      .executeTakeFirst();
    return updated
      ? {
          actor: input.by,
          action: 'security_alert.acknowledged',
          subjectType,
          subjectId: input.alertId,
          details: { recipient: input.recipient, taskId: input.taskId },
        }
      : undefined;
  });
}

/** The affected CIs and services given that name none recorded. */
export async function unknownAlertTargets(
  db: Kysely<Database>,
  input: { affectedCis: string[]; affectedServices: string[] },
): Promise<{ cis: string[]; services: string[] }> {
  return {
    cis: await unknownIds(db, 'configuration_items', input.affectedCis),
    services: await unknownIds(db, 'services', input.affectedServices),
  };
}

async function unknownIds(db: Kysely<Database>, table: 'configuration_items' | 'services', ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const known = new Set((await db.selectFrom(table).select('id').where('id', 'in', ids).execute()).map((row) => row.id));
  return ids.filter((id) => !known.has(id));
}

/** One security alert and its recipients, acknowledged or not. */
export async function findSecurityAlert(db: Kysely<Database>, id: string) {
  const alert = await db.selectFrom('security_alerts').selectAll().where('id', '=', id).executeTakeFirst();
  if (!alert) return undefined;
  const recipients = await db
    .selectFrom('security_alert_recipients')
    .selectAll()
    .where('alert_id', '=', alert.id)
    .orderBy('recipient')
    .execute();
  return { alert, recipients };
}

export interface SecurityAlertFilter extends PageRequest {
  raisedBy?: string;
  affectedService?: string;
  affectedCi?: string;
  /** true: some recipient has not acknowledged yet; false: everyone has. */
  pending?: boolean;
  since?: string;
  until?: string;
}

/** Security alerts, newest first, each with how many recipients acknowledged it and how many have not. */
export async function listSecurityAlerts(db: Kysely<Database>, filter: SecurityAlertFilter) {
  const pendingOf = sql<boolean>`exists (select 1 from security_alert_recipients r where r.alert_id = security_alerts.id and r.acknowledged_at is null)`;
  let query = db.selectFrom('security_alerts').selectAll();
  if (filter.raisedBy) query = query.where('raised_by', '=', filter.raisedBy);
  if (filter.affectedService) query = query.where(sql<boolean>`${filter.affectedService} = any(affected_services)`);
  if (filter.affectedCi) query = query.where(sql<boolean>`${filter.affectedCi} = any(affected_cis)`);
  if (filter.pending !== undefined) query = query.where(filter.pending ? pendingOf : sql<boolean>`not ${pendingOf}`);
  if (filter.since) query = query.where('created_at', '>=', new Date(filter.since));
  if (filter.until) query = query.where('created_at', '<', new Date(filter.until));
  const rows = await newestFirstPage(query, filter).execute();
  const counts = rows.length
    ? await db
        .selectFrom('security_alert_recipients')
        .select((eb) => ['alert_id', eb.fn.countAll<string>().as('recipients'), eb.fn.count<string>('acknowledged_at').as('acknowledged')])
        .where(
          'alert_id',
          'in',
          rows.map((r) => r.id),
        )
        .groupBy('alert_id')
        .execute()
    : [];
  return {
    rows,
    counts: new Map(counts.map((c) => [c.alert_id, { recipients: Number(c.recipients), acknowledged: Number(c.acknowledged) }])),
  };
}
