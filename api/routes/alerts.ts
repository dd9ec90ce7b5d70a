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
import type { Severity } from '../../domain/classification';
import type { ConfigurationItemType } from '../../domain/cmdb';
import { durationMs } from '../../domain/duration';
import { burstVerdict, checkExpectedActivity } from '../../domain/expected-activity';
import { incidentFromAlert } from '../../domain/incident';
import { canonicalObservable, cmdbObservables, higherSeverity, iocSeverityFloor, type Observable } from '../../domain/observable';
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

  routes.post('/alerts', {
    config: { roles: alertSources },
    schema: {
      tags: ['incidents'],
      summary: 'Receive a SIEM alert: Warden’s generic JSON, Wazuh, a Splunk webhook, an Elastic Security alert or a Sentinel incident',
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

      const reasons = [`${alert.source} alert: ${alert.rule}`];
      let severityFloor: Severity = alert.severity;
      if (iocs.length) {
        severityFloor = higherSeverity(severityFloor, iocSeverityFloor);
        reasons.push(`carries known IOC ${iocs.map((ioc) => `${ioc.type} ${ioc.value}`).join(', ')}: at least ${iocSeverityFloor}`);
      }
      if (techniques.unknown.length) reasons.push(`ATT&CK ids not in the catalogue, ignored: ${techniques.unknown.join(', ')}`);

      const expected = expectedActivitySchema.safeParse(account?.attributes.expectedActivity);
      const accountObservable = account && canonicalObservable('account', account.name);
      if (account && accountObservable && expected.success) {
        const check = checkExpectedActivity(expected.data, { at: alert.time, systems: alert.host ? [alert.host] : [] });
        const earlier = await countAccountAlerts(app.db, {
          account: accountObservable.value,
          at: alert.time,
          windowMs: burstRule.windowMs,
        });
        const burst = burstVerdict(earlier + 1, burstRule);
        if (check.expected && !burst.burst && iocs.length === 0) {
          const intake = intakeOf({ observables, techniques: techniques.known.map((t) => t.id), severityFloor });
          const reason = `${check.reason}; ${burst.reason}`;
          const alertId = await recordAlert(app.db, intake, { verdict: 'benign', reason, incidentId: null });
          return reply.code(202).send({ alertId, verdict: 'benign' as const, reason, incidentId: null });
        }
        // The account acting outside what it is documented to do is the finding: the incident is at least high.
        severityFloor = higherSeverity(severityFloor, 'high');
        reasons.push(`escalated to at least high: ${check.expected ? burst.reason : check.reason}`);
      }

      const intake = intakeOf({ observables, techniques: techniques.known.map((t) => t.id), severityFloor });
      const correlated = await correlateAlert(app.db, intake, { ...correlation, newIncidentId: randomUUID() });
      if (correlated.attached) {
        const { alertId, incidentId, reason } = correlated;
        return reply.code(202).send({ alertId, verdict: 'attached' as const, reason, incidentId });
      }
      const reason = reasons.join('; ');
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
