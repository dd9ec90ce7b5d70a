import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { listComponents, openAdvisoriesNaming, replaceComponents } from '../../db/advisories';
import { componentsBody } from '../../schemas/advisories';
import { responses, uuidParam } from '../../schemas/common';
import { forbidden, notFound } from '../../http/problem';
import { componentEditors, everyone } from '../../http/roles';
import { requestRematch } from './advisories';

const componentsView = z.object({
  ciId: z.string(),
  components: z.array(z.object({ product: z.string(), version: z.string(), updatedBy: z.string(), updatedAt: z.string() })),
  /** Open advisories told to match this CI again. */
  rematched: z.array(z.string()),
});

/** Those who run the process edit any CI's components; a service owner only the CIs they own. */
const editsAnyCi = ['admin', 'security_manager'];

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
      summary: 'Replace the software components (product, version) of a CI; open advisories naming one of them match it again',
      params: uuidParam,
      body: componentsBody,
      response: responses({ 200: componentsView }),
    },
    handler: async (request) => {
      const ci = await app.db
        .selectFrom('configuration_items')
        .select(['id', 'owner'])
        .where('id', '=', request.params.id)
        .executeTakeFirst();
      if (!ci) throw notFound('configuration item', request.params.id);
      if (ci.owner !== request.actor.principalId && !request.actor.roles.some((role) => editsAnyCi.includes(role)))
        throw forbidden('only the CI owner or security management may set its components');
      await app.db
        .transaction()
        .execute((trx) => replaceComponents(trx, { ciId: ci.id, components: request.body.components, actor: request.actor.principalId }));
      // No silent gap: every open advisory that names one of these products hears of the change.
      const advisories = await openAdvisoriesNaming(
        app.db,
        request.body.components.map((c) => c.product),
      );
      await Promise.all(advisories.map((advisory) => requestRematch(app, advisory.workflow_id, `components of CI ${ci.id} changed`)));
      return view(
        ci.id,
        advisories.map((a) => a.id),
      );
    },
  });

  routes.get('/cis/:id/components', {
    config: { roles: everyone },
    schema: { tags: ['cmdb'], summary: 'The software components of a CI', params: uuidParam, response: responses({ 200: componentsView }) },
    handler: async (request) => {
      const ci = await app.db.selectFrom('configuration_items').select('id').where('id', '=', request.params.id).executeTakeFirst();
      if (!ci) throw notFound('configuration item', request.params.id);
      return view(ci.id, []);
    },
  });
}
