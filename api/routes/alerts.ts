import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import {
  correlateAlert,
  countAccountAlerts,
  findActiveCiByName,
  knownIocs,
  recordAlert,
  releaseClaim,
  type AlertIntake,
  type SourcedObservable,
} from '../../db/alerts';
import { knownTechniques } from '../../db/attack';
import { categoryFromTechniques } from '../../domain/attack';
import type { ConfigurationItemType } from '../../domain/cmdb';
import { durationMs } from '../../domain/duration';
import { burstVerdict, checkExpectedActivity } from '../../domain/expected-activity';
import { incidentFromAlert, type NormalisedAlert } from '../../domain/incident';
import { canonicalObservable, cmdbObservables, type Observable } from '../../domain/observable';
import { judgeAlert } from '../../domain/alert-intake';
import { alertSources } from '../../http/roles';
import { alertBody, alertVerdict, expectedActivitySchema, normaliseAlert } from '../../schemas/alerts';
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
      const alert = normaliseAlert(request.body);
      const receivedBy = request.actor.principalId;
      const account = alert.account ? await findActiveCiByName(app.db, alert.account, accountTypes) : undefined;
      const host = alert.host ? await findActiveCiByName(app.db, alert.host) : undefined;
      const fromCmdb = [account, host].flatMap((ci) => (ci ? cmdbObservables(ci) : []));
      const observables = sourced(alert.observables, fromCmdb);
      const techniques = await knownTechniques(app.db, alert.techniques);
      const iocs = await knownIocs(app.db, observables);

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
          raw: request.body,
          receivedBy,
          ciIds: [account?.id, host?.id].filter((id): id is string => id !== undefined),
          ...found,
        };
      }
    },
  });
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
