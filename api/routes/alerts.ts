import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import {
  correlateAlert,
  countAccountAlerts,
  intakeLookups,
  knownIocs,
  recordAlert,
  listReceivedAlerts,
  releaseClaim,
  type AlertIntake,
  type SourcedObservable,
} from '../../db/alerts';
import { knownTechniques } from '../../db/attack';
import { categoryFromTechniques } from '../../domain/attack';
import type { ConfigurationItemType } from '../../domain/cmdb';
import { durationMs } from '../../domain/duration';
import { burstVerdict, checkExpectedActivity } from '../../domain/expected-activity';
import { incidentFromAlert, makeIncidentWorkflowId, type NormalisedAlert } from '../../domain/incident';
import type { Severity } from '../../domain/classification';
import { severityRaisedSignal } from '../../workflows/incident/definitions';
import { canonicalObservable, cmdbObservables, type Observable } from '../../domain/observable';
import { judgeAlert } from '../../domain/alert-intake';
import { pageOf } from '../../db/pagination';
import { pageRequest } from '../../http/paging';
import { alertSources, siemAlertReaders } from '../../http/roles';
import { alertBody, alertVerdict, expectedActivitySchema, receivedAlertListQuery, receivedAlertPage } from '../../schemas/alerts';
import { responses } from '../../schemas/common';
import { startIncident } from '../incident-start';

const accountTypes: ConfigurationItemType[] = ['service_account', 'user_account'];

/**
 * SIEM intake: an alert is benign (expected activity), attaches to the open incident it shares a
 * fingerprint or an observable with, or opens an incident. The rules are in docs/incidents.md.
 */
export async function alertRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const correlation = { types: app.config.WARDEN_CORRELATION_TYPES, windowMs: durationMs(app.config.WARDEN_CORRELATION_WINDOW) };
  const burstRule = {
    threshold: app.config.WARDEN_ALERT_BURST_THRESHOLD,
    windowMs: durationMs(app.config.WARDEN_ALERT_BURST_WINDOW),
    window: app.config.WARDEN_ALERT_BURST_WINDOW,
  };

  /** The account's documented activity set against the alert, when the account CI documents any. */
  async function expectedActivityOf(account: { name: string; attributes: Record<string, unknown> }, alert: NormalisedAlert) {
    const expected = expectedActivitySchema.safeParse(account.attributes.expectedActivity);
    const observable = canonicalObservable('account', account.name);
    if (!expected.success || !observable) return undefined;
    const earlier = await countAccountAlerts(app.db, { account: observable.value, at: alert.time, windowMs: burstRule.windowMs });
    return {
      check: checkExpectedActivity(expected.data, { at: alert.time, systems: alert.host ? [alert.host] : [] }),
      burst: burstVerdict(earlier + 1, burstRule),
    };
  }

  routes.get('/alerts', {
    config: { roles: siemAlertReaders },
    schema: {
      tags: ['incidents'],
      operationId: 'listSiemAlerts',
      summary: 'SIEM alerts received, with their incident',
      description:
        'The SIEM alerts Warden received, newest first, each with its verdict and the incident it opened or joined; filtered by verdict, source, severity, incident, host and observation time, paged with `cursor`',
      querystring: receivedAlertListQuery,
      response: responses({ 200: receivedAlertPage }),
    },
    handler: async (request) => {
      const { limit, cursor: _cursor, ...filter } = request.query;
      const { rows, incidents } = await listReceivedAlerts(app.db, { ...filter, ...pageRequest(request.query) });
      const page = pageOf(rows, limit);
      return {
        items: page.items.map((a) => ({
          id: a.id,
          format: a.format,
          source: a.source,
          rule: a.rule,
          severity: a.severity,
          host: a.host,
          account: a.account,
          observedAt: a.observed_at.toISOString(),
          verdict: a.verdict,
          reason: a.reason,
          receivedBy: a.received_by,
          receivedAt: a.created_at.toISOString(),
          incident: (a.incident_id && incidents.get(a.incident_id)) || null,
        })),
        nextCursor: page.nextCursor,
      };
    },
  });

  routes.post('/alerts', {
    config: { roles: alertSources },
    schema: {
      tags: ['incidents'],
      operationId: 'receiveAlert',
      summary: 'Receive a SIEM alert',
      description: 'Receive a SIEM alert: Warden’s generic JSON, Wazuh, a Splunk webhook, an Elastic Security alert or a Sentinel incident',
      body: alertBody,
      response: responses({ 202: alertVerdict }),
    },
    handler: async (request, reply) => {
      const { alert, raw } = request.body;
      const receivedBy = request.actor.principalId;
      const { account, host, iocs: alertIocs } = await intakeLookups(app.db, alert, accountTypes);
      const fromCmdb = [account, host].flatMap((ci) => (ci ? cmdbObservables(ci) : []));
      const observables = sourced(alert.observables, fromCmdb);
      const techniques = await knownTechniques(app.db, alert.techniques);
      // The alert's own observables were looked up with the CIs; what the CMDB added is looked up now.
      const addedByCmdb = observables.filter((o) => o.origin === 'cmdb');
      const iocs = [...alertIocs, ...(await knownIocs(app.db, addedByCmdb))];

      const judgement = judgeAlert({
        alert,
        iocs,
        unknownTechniques: techniques.unknown,
        expectedActivity: account ? await expectedActivityOf(account, alert) : undefined,
      });
      const { severityFloor, reason } = judgement;
      if (judgement.benign) {
        const intake = intakeOf({ observables, techniques: techniques.known.map((t) => t.id), severityFloor });
        const alertId = await recordAlert(app.db, intake, { verdict: 'benign', reason, incidentId: null });
        return reply.code(202).send({ alertId, verdict: 'benign' as const, reason, incidentId: null });
      }

      const intake = intakeOf({ observables, techniques: techniques.known.map((t) => t.id), severityFloor });
      const correlated = await correlateAlert(app.db, intake, { ...correlation, newIncidentId: randomUUID() });
      if (correlated.attached) {
        const { alertId, incidentId } = correlated;
        if (correlated.severityRaisedTo) await retimeRaisedIncident(app, request.log, incidentId, correlated.severityRaisedTo, alertId);
        return reply.code(202).send({ alertId, verdict: 'attached' as const, reason: correlated.reason, incidentId });
      }
      try {
        await startIncident(
          app,
          incidentFromAlert(alert, {
            incidentId: correlated.incidentId,
            reason,
            accountCiId: account?.id,
            hostCiId: host?.id,
            receivedBy,
            receivedAt: new Date(),
            category: categoryFromTechniques(techniques.known),
            severityFloor,
            attackTechniques: intake.techniques,
          }),
        );
      } catch (error) {
        await releaseClaim(app.db, alert.fingerprint, correlated.incidentId);
        throw error;
      }
      const alertId = await recordAlert(app.db, intake, { verdict: 'incident', reason, incidentId: correlated.incidentId });
      return reply.code(202).send({ alertId, verdict: 'incident' as const, reason, incidentId: correlated.incidentId });

      function intakeOf(found: Pick<AlertIntake, 'observables' | 'techniques' | 'severityFloor'>): AlertIntake {
        return {
          alert,
          raw,
          receivedBy,
          ciIds: [account?.id, host?.id].filter((id): id is string => id !== undefined),
          ...found,
        };
      }
    },
  });
}

/**
 * An attached alert raised its incident's recorded severity: the incident's workflow re-times its
 * open SLA targets, as a severity change at triage does. An incident not started yet reads the
 * raised severity when it registers, and one that ended has no targets open, so "not found" is no
 * error. The alert is attached already whatever happens here: any other failure is logged rather
 * than answered, since a SIEM retrying would attach the alert twice; triage re-times from the
 * recorded severity anyway.
 */
async function retimeRaisedIncident(app: FastifyInstance, log: FastifyBaseLogger, incidentId: string, severity: Severity, alertId: string) {
  try {
    await app.temporal.client.workflow
      .getHandle(makeIncidentWorkflowId(incidentId))
      .signal(severityRaisedSignal, { severity, cause: `alert:${alertId}` });
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return;
    log.warn({ err: error, incidentId, alertId }, 'the incident could not be told that an alert raised its severity');
  }
}

/** The alert's own indicators, then what only the CMDB added. */
function sourced(fromAlert: Observable[], fromCmdb: Observable[]): SourcedObservable[] {
  const key = (o: Observable) => `${o.type}\u0000${o.value}`;
  const seen = new Set(fromAlert.map(key));
  return [
    ...fromAlert.map((o) => ({ ...o, origin: 'alert' as const })),
    ...fromCmdb.filter((o) => !seen.has(key(o))).map((o) => ({ ...o, origin: 'cmdb' as const })),
  ];
}
