import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { patchCompliance } from '../../db/advisories';
import { patchComplianceQuery, patchComplianceView } from '../../schemas/advisories';
import { responses } from '../../schemas/common';
import { invalid } from '../../http/problem';
import { kpiReaders } from '../../http/roles';

const defaultPeriodMs = 30 * 86_400_000;

export async function kpiRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.get('/kpis/patch-compliance', {
    config: { roles: kpiReaders },
    schema: {
      tags: ['kpis'],
      operationId: 'getPatchComplianceKpi',
      summary: 'Patch compliance per service',
      description:
        'Per service: advisory remediations due in [from, to) (default the last 30 days), how many were patched or mitigated on time, and the percentage',
      querystring: patchComplianceQuery,
      response: responses({ 200: patchComplianceView }),
    },
    handler: async (request) => {
      const to = request.query.to ? new Date(request.query.to) : new Date();
      const from = request.query.from ? new Date(request.query.from) : new Date(to.getTime() - defaultPeriodMs);
      if (from >= to) throw invalid([{ path: 'querystring.from', message: 'must be before to' }]);
      return { from: from.toISOString(), to: to.toISOString(), services: await patchCompliance(app.db, { from, to }) };
    },
  });
}
