import { randomUUID } from 'node:crypto';
import { type Compilable, type Kysely, type RawBuilder, sql, type Transaction } from 'kysely';
import type { IncidentCategory, Severity } from '../domain/classification';
import type { ConfigurationItemType } from '../domain/cmdb';
import type { NormalisedAlert } from '../domain/incident';
import { higherSeverity, type CorrelationRules, type Observable } from '../domain/observable';
import { type AuditedTransaction, auditedTransaction, auditEventInsert } from './audit';
import { json, lastInTransaction, prepared } from './create-db';
import type { Database } from './database';
import { assessmentAgainst, type CiClassification, ciClassifications, incidentLock, incidentSightings } from './incidents';
import { newestFirstPage, type PageRequest } from './pagination';

// The reads of an alert's intake and correlation are SQL rather than built: building and compiling them
// with Kysely took about 0.25 ms of CPU per alert on an idle core. The statements every alert runs are
// prepared (`prepared`): PostgreSQL planned them anew for each alert.

/** An active CI named `name` (of one of `types`, when given), as a JSON object, or null. */
function activeCiNamed(name: string | null, types?: ConfigurationItemType[]) {
  return sql<ActiveCi | null>`(select json_build_object('id', id, 'type', type, 'name', name, 'attributes', attributes)
                                 from configuration_items
                                where name = ${name} and status = 'active' ${types ? sql`and type = any(${types}::text[])` : sql``})`;
}

interface ActiveCi {
  id: string;
  type: ConfigurationItemType;
  name: string;
  attributes: Record<string, unknown>;
}

/** The known IOCs among the observables. */
function iocsAmong(observables: Observable[]) {
  return sql<{ type: string; value: string; reason: string }>`
    select iocs.type, iocs.value, iocs.reason
      from iocs
      join unnest(${observables.map((o) => o.type)}::text[], ${observables.map((o) => o.value)}::text[]) as seen (type, value)
        on iocs.type = seen.type and iocs.value = seen.value`;
}

/**
 * What intake reads before it judges an alert, in one round trip: the active CIs it names (an
 * account CI of `accountTypes`, a host) and the known IOCs among the alert's own observables.
 */
export async function intakeLookups(
  db: Kysely<Database>,
  alert: Pick<NormalisedAlert, 'account' | 'host' | 'observables'>,
  accountTypes: ConfigurationItemType[],
) {
  const { rows } = await prepared(
    sql<{ account: ActiveCi | null; host: ActiveCi | null; iocs: { type: string; value: string; reason: string }[] }>`
    select ${activeCiNamed(alert.account, accountTypes)} as account,
           ${activeCiNamed(alert.host)} as host,
           coalesce((select json_agg(found) from (${iocsAmong(alert.observables)}) as found), '[]') as iocs`,
  ).execute(db);
  const row = rows[0];
  if (!row) throw new Error('the intake look-up returned no row');
  return { account: row.account ?? undefined, host: row.host ?? undefined, iocs: row.iocs };
}

/** An observable as an incident records it: where Warden learned it. */
export interface SourcedObservable extends Observable {
  origin: 'alert' | 'cmdb';
}

/** A received alert with what intake made of it, ready to record. */
export interface AlertIntake {
  alert: NormalisedAlert;
  raw: unknown;
  receivedBy: string;
  observables: SourcedObservable[];
  /** The CIs it named (account, host): an incident it opens or joins adds them. */
  ciIds: string[];
  /** ATT&CK technique ids the catalogue knows. */
  techniques: string[];
  /** The least severity its incident gets: the SIEM's, raised to high by a known IOC or an unexpected account. */
  severityFloor: Severity;
}

/** A claim an incident never registered for (its start failed, or the process died) stops counting after this. */
const unregisteredClaimLifetime = sql`interval '5 minutes'`;

/**
 * Keys locked while an alert correlates, in one statement and in the order of their lock ids, so two
 * alerts sharing one never both open an incident and no two wait on each other in a cycle.
 */
async function lockCorrelationKeys(trx: Transaction<Database>, keys: string[]) {
  // The ordered subquery is not flattened into the outer select: the locks are taken in its order.
  await sql`select pg_advisory_xact_lock(lock_id)
              from (select distinct hashtextextended(key, 0) as lock_id from unnest(${keys}::text[]) as key order by lock_id) as ordered`.execute(
    trx,
  );
}

type Statement = Compilable | RawBuilder<unknown>;

/**
 * Ends an alert's transaction with its writes as one statement, the others as data-modifying CTEs of
 * `main`: one round trip, with the commit, where an alert's rows took one each and the commit one
 * more. They share one snapshot, so none may read what another writes.
 */
async function writeTogetherLast(trx: Transaction<Database>, main: Statement, ...others: (Statement | undefined)[]) {
  const ctes = others.flatMap((write, i) => (write ? [sql`${sql.id(`write_${i}`)} as (${write})`] : []));
  await lastInTransaction(prepared(ctes.length ? sql`with ${sql.join(ctes)} ${main}` : sql`${main}`)).execute(trx);
}

/**
 * How many alerts about the account were received with observation times within `windowMs` before
 * `at`, for the burst rule.
 */
export async function countAccountAlerts(db: Kysely<Database>, input: { account: string; at: Date; windowMs: number }): Promise<number> {
  const row = await db
    .selectFrom('alert_observables as o')
    .innerJoin('security_alerts_received as a', 'a.id', 'o.alert_id')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('o.type', '=', 'account')
    .where('o.value', '=', input.account)
    .where('a.observed_at', '>', new Date(input.at.getTime() - input.windowMs))
    .where('a.observed_at', '<=', input.at)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The IOCs among the observables. */
export async function knownIocs(db: Kysely<Database>, observables: Observable[]) {
  if (observables.length === 0) return [];
  return (await iocsAmong(observables).execute(db)).rows;
}

/**
 * Inserts the alert with its observables, its audit event (with `auditDetails` added) and, when it
 * joins `sightingsOf`, that incident's sightings of them, in one statement. The id is made in Node so
 * that no write waits for another's RETURNING. SQL rather than built, with the observables as arrays,
 * so that its text is one of a few whatever the alert holds.
 */
async function insertAlert(
  trx: AuditedTransaction,
  intake: AlertIntake,
  outcome: { verdict: 'incident' | 'attached' | 'benign'; reason: string; incidentId: string | null },
  { id = randomUUID(), sightingsOf, auditDetails }: { id?: string; sightingsOf?: string; auditDetails?: Record<string, unknown> } = {},
): Promise<string> {
  const { alert, observables } = intake;
  const event = alertAudit(intake, id, outcome);
  await writeTogetherLast(
    trx,
    sql`insert into security_alerts_received (id, format, source, rule, severity, host, account, fingerprint, observed_at, verdict,
                                              reason, incident_id, raw, received_by, attack_techniques, ci_ids, severity_floor)
        values (${id}, ${alert.format}, ${alert.source}, ${alert.rule}, ${alert.severity}, ${alert.host}, ${alert.account},
                ${alert.fingerprint}, ${alert.time}, ${outcome.verdict}, ${outcome.reason}, ${outcome.incidentId},
                ${json(intake.raw)}, ${intake.receivedBy}, ${intake.techniques}, ${intake.ciIds}, ${intake.severityFloor})`,
    // The foreign key to the alert is checked at the end of the statement, when its row is there.
    sql`insert into alert_observables (alert_id, type, value)
        select ${id}::uuid, type, value
          from unnest(${observables.map((o) => o.type)}::text[], ${observables.map((o) => o.value)}::text[]) as seen (type, value)`,
    auditEventInsert(trx, auditDetails ? { ...event, details: { ...event.details, ...auditDetails } } : event),
    sightingsOf ? incidentSightings(sightingsOf, observables, alert.time) : undefined,
  );
  return id;
}

function alertAudit(intake: AlertIntake, alertId: string, outcome: { verdict: string; reason: string; incidentId: string | null }) {
  const { alert } = intake;
  return {
    actor: intake.receivedBy,
    action: `alert.${outcome.verdict}`,
    subjectType: outcome.incidentId ? 'incident' : 'alert',
    subjectId: outcome.incidentId ?? alertId,
    details: {
      alertId,
      format: alert.format,
      source: alert.source,
      rule: alert.rule,
      host: alert.host,
      account: alert.account,
      fingerprint: alert.fingerprint,
      severity: alert.severity,
      severityFloor: intake.severityFloor,
      observables: intake.observables,
      techniques: intake.techniques,
      reason: outcome.reason,
    },
  };
}

/** Records a received alert with its verdict, and audits it on the incident it opened (or on itself). */
export async function recordAlert(
  db: Kysely<Database>,
  intake: AlertIntake,
  outcome: { verdict: 'incident' | 'benign'; reason: string; incidentId: string | null },
): Promise<string> {
  return auditedTransaction(db, (trx) => insertAlert(trx, intake, outcome));
}

type Correlation =
  | { attached: true; incidentId: string; alertId: string; reason: string; severityRaisedTo?: Severity }
  | { attached: false; incidentId: string; reason: string };

/**
 * The open incident an alert belongs to, by the rules in docs/incidents.md: the same fingerprint
 * first, then a shared observable of a correlating type seen by an open incident within the window.
 * An alert that belongs attaches in the same transaction (its observables and CIs join the
 * incident, whose severity only rises); one that does not claims its fingerprint and observables
 * for `newIncidentId`, so the next alert finds it before the workflow has registered the incident.
 *
 * Most alerts of a storm join an incident that exists, and read without the correlation keys'
 * locks, so that they do not queue behind one another; only an alert that may open an incident
 * takes the keys and reads again, so two alerts sharing a key never both open one. An alert joining
 * an incident holds that incident's lock shared: registration and merging hold it exclusively.
 */
export async function correlateAlert(
  db: Kysely<Database>,
  intake: AlertIntake,
  rules: CorrelationRules & { newIncidentId: string },
): Promise<Correlation> {
  const { alert } = intake;
  const correlating = intake.observables.filter((o) => rules.types.includes(o.type));
  // A fingerprint whose incident closed as not a security incident since then suppresses the alert.
  const window = { windowMs: rules.windowMs, suppressingSince: new Date(Date.now() - rules.windowMs) };
  return auditedTransaction(db, async (trx) => {
    let found = await findCorrelation(trx, alert, correlating, intake.ciIds, { ...window, keysLocked: false });
    if (!found.decided) {
      await lockCorrelationKeys(trx, [`fingerprint:${alert.fingerprint}`, ...correlating.map((o) => `observable:${o.type}:${o.value}`)]);
      found = await findCorrelation(trx, alert, correlating, intake.ciIds, { ...window, keysLocked: true });
    }
    if (found.suppressedBy) {
      return suppressOnto(trx, intake, found.suppressedBy);
    }
    if (found.staleClaim) {
      // The storm is over: this alert is judged afresh, under the keys' locks (a stale claim decides nothing without them).
      await trx.deleteFrom('open_alert_fingerprints').where('fingerprint', '=', alert.fingerprint).execute();
    }
    if (!found.joins) {
      await writeTogetherLast(
        trx,
        trx.insertInto('open_alert_fingerprints').values({ fingerprint: alert.fingerprint, incident_id: rules.newIncidentId }),
        incidentSightings(rules.newIncidentId, intake.observables, alert.time),
      );
      // The alert itself is recorded, and audited, once its incident has started.
      return { attached: false, incidentId: rules.newIncidentId, reason: 'no open incident shares its fingerprint or observables' };
    }
    const { incidentId, reason, registered } = found.joins;
    const raised = await addToIncident(trx, incidentId, intake, registered);
    // Last: other alerts joining the incident wait on its sightings' rows from this write to the commit.
    const alertId = await insertAlert(
      trx,
      intake,
      { verdict: 'attached', reason, incidentId },
      { sightingsOf: incidentId, auditDetails: raised },
    );
    return {
      attached: true,
      incidentId,
      alertId,
      reason,
      ...(raised.severity && raised.severity !== raised.previousSeverity ? { severityRaisedTo: raised.severity } : {}),
    };
  });
}

/**
 * What an alert correlates with: the claim on its fingerprint and, unless an open claim or a
 * suppressing close decides, the open incident that saw one of its correlating observables within
 * the window (the latest sighting). Without the keys' locks it decides only when no claim is stale
 * (closed before the window): an alert that may open an incident, or drop a claim, reads again under
 * them. The incident it joins is locked, shared, in the same statement: before anything reads that
 * incident, and never before the keys' locks, which are taken first or not at all. The same
 * statement reads that incident (`registered`) when it was registered before the statement began:
 * registration was over before the lock, so what it read stands until someone changes the row.
 */
async function findCorrelation(
  trx: Transaction<Database>,
  alert: NormalisedAlert,
  correlating: Observable[],
  ciIds: string[],
  window: { windowMs: number; suppressingSince: Date; keysLocked: boolean },
) {
  const shared = sql`
    select io.incident_id, io.type, io.value
      from incident_observables as io
      join unnest(${correlating.map((o) => o.type)}::text[], ${correlating.map((o) => o.value)}::text[]) as seen (type, value)
        on io.type = seen.type and io.value = seen.value
      left join incidents as i on i.id = io.incident_id
     where io.last_seen_at >= ${new Date(alert.time.getTime() - window.windowMs)}
       and io.first_seen_at <= ${new Date(alert.time.getTime() + window.windowMs)}
       and ((i.id is null and io.recorded_at > now() - ${unregisteredClaimLifetime})
            or (i.status not like 'closed%' and i.status not in ('failed', 'registration_failed')))
       and not exists (select from claim where closed_at is null or closed_at >= ${window.suppressingSince})
     order by io.last_seen_at desc
     limit 1`;
  // The incident the alert joins, as decided below: an open claim's, else the shared one's when no claim is stale.
  const joined = sql<string | null>`coalesce(case when claim.closed_at is null then claim.incident_id end,
                                             case when claim.incident_id is null or ${window.keysLocked} then shared.incident_id end)`;
  const { rows } = await prepared(sql<{
    claimed_by: string | null;
    closed_at: Date | null;
    shared_with: string | null;
    shared_type: string | null;
    shared_value: string | null;
    registered: JoinedIncident | null;
  }>`with claim as (select incident_id, closed_at from open_alert_fingerprints where fingerprint = ${alert.fingerprint}),
          shared as (${shared})
     select claim.incident_id as claimed_by, claim.closed_at,
            shared.incident_id as shared_with, shared.type as shared_type, shared.value as shared_value,
            ${incidentLock(joined, { shared: true })},
            (select to_json(incident) from (${joinedIncident(joined, ciIds)}) as incident) as registered
       from (select) as one left join claim on true left join shared on true`).execute(trx);
  const found = rows[0];
  if (!found) throw new Error('the correlation read returned no row');
  const { claimed_by: claimedBy, closed_at: closedAt } = found;
  if (claimedBy && closedAt && closedAt.getTime() >= window.suppressingSince.getTime()) return { decided: true, suppressedBy: claimedBy };
  const staleClaim = closedAt !== null;
  const registered = found.registered ?? undefined;
  const joins =
    claimedBy && !closedAt
      ? { incidentId: claimedBy, reason: 'same fingerprint as the open incident', registered }
      : found.shared_with && (!staleClaim || window.keysLocked)
        ? { incidentId: found.shared_with, reason: `shares ${found.shared_type} ${found.shared_value} with the open incident`, registered }
        : undefined;
  return { decided: window.keysLocked || (joins !== undefined && !staleClaim), staleClaim, joins };
}

/**
 * The rest of a storm whose incident closed as not a security incident: recorded as attached to
 * it, as a duplicate, so the incident counts them and nothing reopens. Its observables do not join
 * the closed incident: they correlate nothing there.
 */
async function suppressOnto(trx: AuditedTransaction, intake: AlertIntake, incidentId: string) {
  const reason = 'suppressed: same fingerprint as an incident closed as not a security incident within the correlation window';
  const alertId = await insertAlert(trx, intake, { verdict: 'attached', reason, incidentId }, { auditDetails: { suppressed: true } });
  return { attached: true as const, incidentId, alertId, reason };
}

/**
 * An attached alert's CIs join the incident and its severity only rises: to what the wider set of
 * CIs implies, and to the alert's floor. An incident not registered yet picks both up when it
 * registers (registerIncident reads its attached alerts under the incident's lock, held
 * exclusively). Alerts joining at once hold that lock shared, so one that changes the row reads it
 * again locked (FOR UPDATE) and decides on what it finds, and one that changes nothing locks nothing.
 * `registered` is the incident as the correlation read found it, when it was registered by then.
 */
async function addToIncident(trx: Transaction<Database>, incidentId: string, intake: AlertIntake, registered?: JoinedIncident) {
  const read = async (forUpdate: boolean) => (await joinedIncident(incidentId, intake.ciIds, { forUpdate }).execute(trx)).rows[0];
  const change = changeOf(registered ?? (await read(false)), intake);
  const locked = change && changeOf(await read(true), intake);
  if (!locked) return {};
  const { affectedCis, severity, floor, previousSeverity, addedCis } = locked;
  await trx
    .updateTable('incidents')
    .set({ affected_cis: affectedCis, severity, severity_floor: floor })
    .where('id', '=', incidentId)
    .execute();
  return { addedCis, severity, previousSeverity };
}

/** What an alert joining it may change of an incident, with the classifications of its CIs and the alert's. */
function joinedIncident(incidentId: string | RawBuilder<string | null>, ciIds: string[], { forUpdate = false } = {}) {
  return sql<JoinedIncident>`
    select category, severity, severity_floor, affected_cis, security_incident,
           coalesce((select json_agg(ci) from (${ciClassifications(sql`incidents.affected_cis || ${ciIds}::uuid[]`)}) as ci), '[]') as cis
      from incidents
     where id = ${incidentId}
     ${forUpdate ? sql`for update` : sql``}`;
}

interface JoinedIncident {
  category: string;
  severity: string;
  severity_floor: string | null;
  affected_cis: string[];
  security_incident: boolean;
  cis: CiClassification[];
}

/** What the alert changes of the incident's CIs and severity; undefined when nothing. */
function changeOf(incident: JoinedIncident | undefined, intake: AlertIntake) {
  if (!incident?.security_incident) return undefined;
  const affectedCis = [...new Set([...incident.affected_cis, ...intake.ciIds])];
  const assessed = assessmentAgainst({ category: incident.category as IncidentCategory, affectedCis }, incident.cis);
  const floor = higherSeverity(intake.severityFloor, (incident.severity_floor as Severity | null) ?? 'low');
  const severity = [assessed.severity, floor].reduce(higherSeverity, incident.severity as Severity);
  const addedCis = affectedCis.filter((id) => !incident.affected_cis.includes(id) && !assessed.unknownCis.includes(id));
  if (addedCis.length === 0 && severity === incident.severity && floor === incident.severity_floor) return undefined;
  return { affectedCis: [...incident.affected_cis, ...addedCis], addedCis, severity, floor, previousSeverity: incident.severity };
}

/** Gives up a claim whose incident could not be started: the next alert may open one. */
export async function releaseClaim(db: Kysely<Database>, fingerprint: string, incidentId: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('open_alert_fingerprints').where('fingerprint', '=', fingerprint).where('incident_id', '=', incidentId).execute();
    await trx.deleteFrom('incident_observables').where('incident_id', '=', incidentId).execute();
  });
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
