import type { Kysely } from 'kysely';
import type { ConfigurationItemType } from '../domain/cmdb';
import type { NormalisedAlert } from '../domain/incident';
import { auditedWrite } from './audit';
import { json } from './create-db';
import type { Database } from './database';
import { newestFirstPage, type PageRequest } from './pagination';

export async function findActiveCiByName(db: Kysely<Database>, name: string, types?: ConfigurationItemType[]) {
  let query = db
    .selectFrom('configuration_items')
    .select(['id', 'type', 'attributes'])
    .where('name', '=', name)
    .where('status', '=', 'active');
  if (types) query = query.where('type', 'in', types);
  return query.executeTakeFirst();
}

/**
 * Claims a fingerprint for a new incident. The insert that wins creates the incident; a concurrent
 * or later alert with the same fingerprint gets the open incident to attach to.
 */
export async function claimFingerprint(
  db: Kysely<Database>,
  fingerprint: string,
  incidentId: string,
): Promise<{ incidentId: string; claimed: boolean }> {
  const inserted = await db
    .insertInto('open_alert_fingerprints')
    .values({ fingerprint, incident_id: incidentId })
    .onConflict((oc) => oc.column('fingerprint').doNothing())
    .returning('incident_id')
    .executeTakeFirst();
  if (inserted) return { incidentId, claimed: true };
  const open = await db
    .selectFrom('open_alert_fingerprints')
    .select('incident_id')
    .where('fingerprint', '=', fingerprint)
    .executeTakeFirstOrThrow();
  return { incidentId: open.incident_id, claimed: false };
}

export async function releaseFingerprint(db: Kysely<Database>, fingerprint: string, incidentId: string): Promise<void> {
  await db.deleteFrom('open_alert_fingerprints').where('fingerprint', '=', fingerprint).where('incident_id', '=', incidentId).execute();
}

/** Records a received alert with its verdict, and audits it on the incident it opened or joined. */
export async function recordAlert(
  db: Kysely<Database>,
  alert: NormalisedAlert,
  outcome: { verdict: 'incident' | 'attached' | 'benign'; reason: string; incidentId: string | null; receivedBy: string; raw: unknown },
): Promise<string> {
  let alertId: string | undefined;
  await auditedWrite(db, async (trx) => {
    const row = await trx
      .insertInto('security_alerts_received')
      .values({
        format: alert.format,
        source: alert.source,
        rule: alert.rule,
        severity: alert.severity,
        host: alert.host,
        account: alert.account,
        fingerprint: alert.fingerprint,
        observed_at: alert.time,
        verdict: outcome.verdict,
        reason: outcome.reason,
        incident_id: outcome.incidentId,
        raw: json(outcome.raw),
        received_by: outcome.receivedBy,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    alertId = row.id;
    return {
      actor: outcome.receivedBy,
      action: `alert.${outcome.verdict}`,
      subjectType: outcome.incidentId ? 'incident' : 'alert',
      subjectId: outcome.incidentId ?? row.id,
      details: {
        alertId: row.id,
        source: alert.source,
        rule: alert.rule,
        host: alert.host,
        account: alert.account,
        fingerprint: alert.fingerprint,
        reason: outcome.reason,
      },
    };
  });
  if (alertId === undefined) throw new Error('the received alert was not recorded');
  return alertId;
}

export interface ReceivedAlertFilter extends PageRequest {
  verdict?: 'incident' | 'attached' | 'benign';
  source?: string;
  severity?: string;
  incidentId?: string;
  host?: string;
  since?: string;
  until?: string;
}

/** SIEM alerts as received, newest first, with the incident each opened or joined. */
export async function listReceivedAlerts(db: Kysely<Database>, filter: ReceivedAlertFilter) {
  let query = db.selectFrom('security_alerts_received').selectAll();
  if (filter.verdict) query = query.where('verdict', '=', filter.verdict);
  if (filter.source) query = query.where('source', '=', filter.source);
  if (filter.severity) query = query.where('severity', '=', filter.severity);
  if (filter.incidentId) query = query.where('incident_id', '=', filter.incidentId);
  if (filter.host) query = query.where('host', '=', filter.host);
  if (filter.since) query = query.where('observed_at', '>=', new Date(filter.since));
  if (filter.until) query = query.where('observed_at', '<', new Date(filter.until));
  const rows = await newestFirstPage(query, filter).execute();
  const incidentIds = [...new Set(rows.flatMap((r) => (r.incident_id ? [r.incident_id] : [])))];
  const incidents = incidentIds.length
    ? await db.selectFrom('incidents').select(['id', 'number', 'title', 'status', 'severity']).where('id', 'in', incidentIds).execute()
    : [];
  return { rows, incidents: new Map(incidents.map((i) => [i.id, i])) };
}
