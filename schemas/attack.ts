import { z } from 'zod';
import { techniqueIdPattern, type AttackTechnique } from '../domain/attack';

const attackPattern = z.looseObject({
  type: z.literal('attack-pattern'),
  name: z.string().trim().min(1).max(500),
  revoked: z.boolean().optional(),
  x_mitre_deprecated: z.boolean().optional(),
  external_references: z.array(z.looseObject({ source_name: z.string().max(200), external_id: z.string().max(100).optional() })).max(100),
  kill_chain_phases: z
    .array(z.looseObject({ kill_chain_name: z.string().max(200), phase_name: z.string().max(200) }))
    .max(50)
    .optional(),
});

/** A STIX 2.1 bundle of enterprise ATT&CK (enterprise-attack.json from mitre-attack/attack-stix-data). */
export const stixBundle = z
  .looseObject({
    type: z.literal('bundle'),
    id: z.string().regex(/^bundle--[0-9a-f-]{36}$/i, 'a STIX bundle id: bundle--<uuid>'),
    objects: z.array(z.looseObject({ type: z.string().max(200) })).max(100_000),
  })
  .meta({
    id: 'StixBundle',
    examples: [
      {
        type: 'bundle',
        id: 'bundle--0f2b3c4d-1111-4222-8333-944455566677',
        objects: [
          {
            type: 'attack-pattern',
            id: 'attack-pattern--a93494bb-4b80-4ea1-8695-3236a49916fd',
            name: 'Brute Force',
            external_references: [{ source_name: 'mitre-attack', external_id: 'T1110' }],
            kill_chain_phases: [{ kill_chain_name: 'mitre-attack', phase_name: 'credential-access' }],
          },
        ],
      },
    ],
  });

/**
 * The techniques of a bundle: its current attack-patterns (revoked and deprecated ones left out)
 * with their ATT&CK id and tactics; or the errors of the attack-patterns that are malformed.
 */
export function techniquesOfBundle(
  bundle: z.infer<typeof stixBundle>,
): { techniques: AttackTechnique[] } | { errors: { path: string; message: string }[] } {
  const techniques: AttackTechnique[] = [];
  const errors: { path: string; message: string }[] = [];
  bundle.objects.forEach((object, index) => {
    if (object.type !== 'attack-pattern') return;
    const parsed = attackPattern.safeParse(object);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        errors.push({ path: ['body', 'objects', index, ...issue.path].join('.'), message: issue.message });
      return;
    }
    const pattern = parsed.data;
    if (pattern.revoked || pattern.x_mitre_deprecated) return;
    const id = pattern.external_references.find((ref) => ref.source_name === 'mitre-attack')?.external_id;
    if (!id || !techniqueIdPattern.test(id)) return;
    const tactics = (pattern.kill_chain_phases ?? [])
      .filter((phase) => phase.kill_chain_name === 'mitre-attack')
      .map((phase) => phase.phase_name);
    techniques.push({ id, name: pattern.name, tactics });
  });
  if (errors.length) return { errors: errors.slice(0, 50) };
  if (techniques.length === 0)
    return { errors: [{ path: 'body.objects', message: 'no current attack-pattern with a mitre-attack external id' }] };
  return { techniques };
}

export const attackCatalogueView = z
  .object({
    source: z.enum(['imported', 'built-in']),
    bundleId: z.string().nullable(),
    count: z.number().int(),
  })
  .meta({ id: 'AttackCatalogue' });
