import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { attackCatalogueSource, replaceAttackCatalogue } from '../../db/attack';
import { invalid } from '../../http/problem';
import { attackCatalogueEditors, everyone } from '../../http/roles';
import { attackCatalogueView, stixBundle, techniquesOfBundle } from '../../schemas/attack';
import { responses } from '../../schemas/common';

/** The ATT&CK catalogue incidents' techniques are validated against. */
export async function attackRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.get('/attack/catalogue', {
    config: { roles: everyone },
    schema: {
      operationId: 'getAttackCatalogue',
      tags: ['incidents'],
      summary: 'Show the ATT&CK catalogue techniques are validated against',
      description:
        'The imported bundle, or the built-in fallback. The built-in fallback holds the few dozen techniques SOCs meet most; import the enterprise bundle to validate against all of them.',
      response: responses({ 200: attackCatalogueView }),
    },
    handler: () => attackCatalogueSource(app.db),
  });

  routes.put('/attack/catalogue', {
    config: { roles: attackCatalogueEditors },
    // The enterprise bundle is about 45 MB; every other route keeps WARDEN_BODY_LIMIT_BYTES.
    bodyLimit: app.config.WARDEN_ATTACK_BUNDLE_LIMIT_BYTES,
    schema: {
      operationId: 'importAttackCatalogue',
      tags: ['incidents'],
      summary: 'Replace the ATT&CK catalogue with a STIX 2.1 bundle',
      description:
        'Takes a STIX 2.1 bundle such as enterprise-attack.json. Keeps each current attack-pattern (revoked and deprecated ones are left out) with its mitre-attack id and tactics. The catalogue is replaced whole, in one audited transaction; a bundle with a malformed attack-pattern changes nothing.',
      body: stixBundle,
      response: responses({ 200: attackCatalogueView }),
    },
    handler: async (request) => {
      const read = techniquesOfBundle(request.body);
      if ('errors' in read) throw invalid(read.errors);
      await replaceAttackCatalogue(app.db, { bundleId: request.body.id, techniques: read.techniques, actor: request.actor.principalId });
      return attackCatalogueSource(app.db);
    },
  });
}
