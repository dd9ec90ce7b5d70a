import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { listComponents, openAdvisoriesNaming, replaceComponents } from '../../db/advisories';
import { findConfigurationItem } from '../../db/cis';
import { mayChangeRecord } from '../../domain/cmdb';
import { componentsBody } from '../../schemas/advisories';
import { responses, uuidParam } from '../../schemas/common';
import { forbidden, notFound } from '../../http/problem';
import { componentEditors, everyone } from '../../http/roles';
import { requestRematch } from '../advisory-rematch';

const componentsView = z.object({
  ciId: z.string(),
  components: z.array(z.object({ product: z.string(), version: z.string(), updatedBy: z.string(), updatedAt: z.string() })),
  /** Open advisories told to match this CI again. */
  rematched: z.array(z.string()),
});

export async function ciComponentRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  const view = async (ciId: string, rematched: string[]) => ({
    ciId,
    components: (await listComponents(app.db, ciId)).map((c) => ({
      product: c.product,
      version: c.version,
      updatedBy: c.updated_by,
      updatedAt: c.updated_at.toISOString(),
    })),
    rematched,
  });

  routes.put('/cis/:id/components', {
    config: { roles: componentEditors },
    schema: {
      tags: ['cmdb'],
      operationId: 'putCiComponents',
      summary: "Replace a CI's software components",
      description: 'Replace the software components (product, version) of a CI; open advisories naming one of them match it again',
      params: uuidParam,
      body: componentsBody,
      response: responses({ 200: componentsView }),
    },
    handler: async (request) => {
      const ci = await findConfigurationItem(app.db, request.params.id);
      if (!ci) throw notFound('configuration item', request.params.id);
      // The CI's owner, or those who keep the whole CMDB; unlike other CI fields, not the service's owner.
      if (!mayChangeRecord(request.actor, [ci.owner])) throw forbidden('only the CI owner or security management may set its components');
      await replaceComponents(app.db, { ciId: ci.id, components: request.body.components, actor: request.actor.principalId });
      // No silent gap: every open advisory that names one of these products hears of the change.
      const advisories = await openAdvisoriesNaming(
        app.db,
        request.body.components.map((c) => c.product),
      );
      await Promise.all(
        advisories.map((advisory) => requestRematch(app.temporal.client, advisory.workflow_id, `components of CI ${ci.id} changed`)),
      );
      return view(
        ci.id,
        advisories.map((a) => a.id),
      );
    },
  });

  routes.get('/cis/:id/components', {
    config: { roles: everyone },
    schema: {
      tags: ['cmdb'],
      operationId: 'listCiComponents',
      summary: "List a CI's software components",
      description: 'The software components of a CI',
      params: uuidParam,
      response: responses({ 200: componentsView }),
    },
    handler: async (request) => {
      const ci = await findConfigurationItem(app.db, request.params.id);
      if (!ci) throw notFound('configuration item', request.params.id);
      return view(ci.id, []);
    },
  });
}
