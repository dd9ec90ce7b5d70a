import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { claimFingerprint, findActiveCiByName, recordAlert, releaseFingerprint } from '../../db/alerts';
import type { ConfigurationItemType } from '../../domain/cmdb';
import { checkExpectedActivity } from '../../domain/expected-activity';
import { incidentFromAlert } from '../../domain/incident';
import { alertSources } from '../../http/roles';
import { alertBody, alertVerdict, expectedActivitySchema, normaliseAlert } from '../../schemas/alerts';
import { responses } from '../../schemas/common';
import { startIncident } from '../incident-start';

const accountTypes: ConfigurationItemType[] = ['service_account', 'user_account'];

/** SIEM intake: an alert becomes an incident, attaches to the open one with its fingerprint, or is benign. */
export async function alertRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.post('/alerts', {
    config: { roles: alertSources },
    schema: {
      tags: ['incidents'],
      operationId: 'receiveAlert',
      summary: 'Receive a SIEM alert',
      description: 'Receive a SIEM alert (Warden’s generic JSON or a Wazuh alert)',
      body: alertBody,
      response: responses({ 202: alertVerdict }),
    },
    handler: async (request, reply) => {
      const alert = normaliseAlert(request.body);
      const receivedBy = request.actor.principalId;
      const account = alert.account ? await findActiveCiByName(app.db, alert.account, accountTypes) : undefined;
      const host = alert.host ? await findActiveCiByName(app.db, alert.host) : undefined;

      let reason = `${alert.source} alert: ${alert.rule}`;
      const expected = expectedActivitySchema.safeParse(account?.attributes.expectedActivity);
      if (account && expected.success) {
        const check = checkExpectedActivity(expected.data, { at: alert.time, systems: alert.host ? [alert.host] : [] });
        if (check.expected) {
          const alertId = await recordAlert(app.db, alert, {
            verdict: 'benign',
            reason: check.reason,
            incidentId: null,
            receivedBy,
            raw: request.body,
          });
          return reply.code(202).send({ alertId, verdict: 'benign' as const, reason: check.reason, incidentId: null });
        }
        reason = `${reason}; ${check.reason}`;
      }

      const claim = await claimFingerprint(app.db, alert.fingerprint, randomUUID());
      if (!claim.claimed) {
        const alertId = await recordAlert(app.db, alert, {
          verdict: 'attached',
          reason: `same fingerprint as the open incident`,
          incidentId: claim.incidentId,
          receivedBy,
          raw: request.body,
        });
        return reply
          .code(202)
          .send({ alertId, verdict: 'attached' as const, reason: 'same fingerprint as the open incident', incidentId: claim.incidentId });
      }
      try {
        await startIncident(
          app,
          incidentFromAlert(alert, {
            incidentId: claim.incidentId,
            reason,
            accountCiId: account?.id,
            hostCiId: host?.id,
            receivedBy,
            receivedAt: new Date(),
          }),
        );
      } catch (error) {
        await releaseFingerprint(app.db, alert.fingerprint, claim.incidentId);
        throw error;
      }
      const alertId = await recordAlert(app.db, alert, {
        verdict: 'incident',
        reason,
        incidentId: claim.incidentId,
        receivedBy,
        raw: request.body,
      });
      return reply.code(202).send({ alertId, verdict: 'incident' as const, reason, incidentId: claim.incidentId });
    },
  });
}
