import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { findPlaybook, latestPlaybooks, publishPlaybook } from '../../db/playbooks';
import { incidentCategories } from '../../domain/classification';
import type { PlaybookStep } from '../../domain/playbook';
import { responses } from '../../schemas/common';
import { playbookBody, playbookView } from '../../schemas/playbook';
import { notFound } from '../../http/problem';
import { everyone, securityManagement } from '../../http/roles';

type PlaybookRow = NonNullable<Awaited<ReturnType<typeof findPlaybook>>>;

const toView = (row: PlaybookRow) => ({
  category: row.category,
  version: row.version,
  title: row.definition.title,
  description: row.definition.description,
  steps: row.definition.steps as unknown as Record<string, unknown>[],
  publishedBy: row.published_by,
  publishedAt: row.published_at.toISOString(),
});

const categoryParam = z.strictObject({ category: z.enum(incidentCategories) });

export async function playbookRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.get('/playbooks', {
    config: { roles: everyone },
    schema: {
      tags: ['playbooks'],
      operationId: 'listPlaybooks',
      summary: 'List current playbooks',
      description: 'The current playbook of every incident category',
      response: responses({ 200: z.object({ items: z.array(playbookView) }) }),
    },
    handler: async () => ({ items: (await latestPlaybooks(app.db)).map(toView) }),
  });

  routes.get('/playbooks/:category', {
    config: { roles: everyone },
    schema: {
      tags: ['playbooks'],
      operationId: 'getPlaybook',
      summary: "Read a category's playbook",
      description: 'One category’s playbook, the current version or `?version=`',
      params: categoryParam,
      querystring: z.strictObject({ version: z.coerce.number().int().min(1).optional() }),
      response: responses({ 200: playbookView }),
    },
    handler: async (request) => {
      const row = await findPlaybook(app.db, request.params.category, request.query.version);
      if (!row) throw notFound('playbook', `${request.params.category}${request.query.version ? ` v${request.query.version}` : ''}`);
      return toView(row);
    },
  });

  routes.put('/playbooks/:category', {
    config: { roles: securityManagement },
    schema: {
      tags: ['playbooks'],
      operationId: 'publishPlaybook',
      summary: 'Publish a playbook version',
      description: 'Publish a new version of a category’s playbook; running incidents keep theirs',
      params: categoryParam,
      body: playbookBody,
      response: responses({ 201: playbookView }),
    },
    handler: async (request, reply) => {
      await publishPlaybook(
        app.db,
        { ...request.body, category: request.params.category, steps: request.body.steps as PlaybookStep[] },
        request.actor.principalId,
      );
      return reply.code(201).send(toView((await findPlaybook(app.db, request.params.category)) as PlaybookRow));
    },
  });
}
