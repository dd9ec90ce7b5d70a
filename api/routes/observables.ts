import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { markIoc, sightings } from '../../db/observables';
import { canonicalObservable } from '../../domain/observable';
import { invalid } from '../../http/problem';
import { iocMarkers, observableReaders } from '../../http/roles';
import { responses } from '../../schemas/common';
import { iocBody, iocMarked, observableQuery, observableSightings } from '../../schemas/observables';

/** Indicators across cases: where one was seen, and marking one as an IOC. */
export async function observableRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.get('/observables', {
    config: { roles: observableReaders },
    schema: {
      operationId: 'findObservableSightings',
      tags: ['incidents'],
      summary: 'Find every alert and incident that saw an indicator',
      description:
        'Every alert and incident that saw an indicator, and whether it is an IOC. The value is compared in its canonical form (lower case except URLs, no trailing dot on names). Incidents and their alerts are listed only when the caller may see the incident; at most 500 of each, newest first.',
      querystring: observableQuery,
      response: responses({ 200: observableSightings }),
    },
    handler: async (request) => {
      const observable = canonicalObservable(request.query.type, request.query.value);
      if (!observable) throw invalid([{ path: 'querystring.value', message: `not a valid ${request.query.type}` }]);
      const found = await sightings(app.db, request.actor, observable);
      return {
        ...observable,
        ioc: found.ioc ? { reason: found.ioc.reason, markedBy: found.ioc.marked_by, markedAt: found.ioc.marked_at.toISOString() } : null,
        alerts: found.alerts.map((a) => ({
          id: a.id,
          source: a.source,
          rule: a.rule,
          verdict: a.verdict,
          incidentId: a.incident_id,
          observedAt: a.observed_at.toISOString(),
        })),
        incidents: found.incidents.map((i) => ({
          id: i.id,
          number: i.number,
          title: i.title,
          status: i.status,
          severity: i.severity,
          origin: i.origin,
          firstSeenAt: i.first_seen_at.toISOString(),
          lastSeenAt: i.last_seen_at.toISOString(),
        })),
      };
    },
  });

  routes.post('/observables/iocs', {
    config: { roles: iocMarkers },
    schema: {
      operationId: 'markIoc',
      tags: ['incidents'],
      summary: 'Mark an indicator as an IOC',
      description:
        'A later alert carrying it is raised to at least high. Idempotent: marking a known IOC again changes nothing and answers marked: false. The marking is audited.',
      body: iocBody,
      response: responses({ 201: iocMarked, 200: iocMarked }),
    },
    handler: async (request, reply) => {
      const observable = canonicalObservable(request.body.type, request.body.value);
      if (!observable) throw invalid([{ path: 'body.value', message: `not a valid ${request.body.type}` }]);
      const marked = await markIoc(app.db, { ...observable, reason: request.body.reason, actor: request.actor.principalId });
      return reply.code(marked ? 201 : 200).send({ ...observable, marked });
    },
  });
}
