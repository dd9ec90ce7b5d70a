import { z } from 'zod';
import { incidentCategories } from '../domain/classification';
import { containmentActions, playbookPhases } from '../domain/playbook';
import { roles } from '../domain/roles';
import { duration } from './common';

const stepBase = {
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lowercase letters, digits and dashes'),
  title: z.string().min(1).max(200),
  phase: z.enum(playbookPhases),
  instructions: z.string().max(5000).optional(),
};
const deciderRoles = z.array(z.enum(roles)).min(1);
/** The affected CIs' owners decide this step too, whatever their roles (they are its assignees). */
const ownersTakePart = z.boolean().optional();

const action = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('notify'), roles: deciderRoles, message: z.string().min(1).max(2000) }),
  z.strictObject({ kind: z.literal('webhook'), url: z.url({ protocol: /^https?$/ }) }),
  z.strictObject({ kind: z.literal('containment'), name: z.enum(containmentActions), params: z.record(z.string(), z.string()).optional() }),
]);

const step = z.discriminatedUnion('type', [
  z.strictObject({ ...stepBase, type: z.literal('task'), roles: deciderRoles, ownersTakePart, deadline: duration.optional() }),
  z.strictObject({
    ...stepBase,
    type: z.literal('approval'),
    roles: deciderRoles,
    ownersTakePart,
    action: action.optional(),
    deadline: duration.optional(),
  }),
  z.strictObject({ ...stepBase, type: z.literal('action'), action }),
  z.strictObject({ ...stepBase, type: z.literal('timer'), duration }),
]);

/** A playbook as published: the version is assigned by Warden, never by the author. */
export const playbookBody = z
  .strictObject({
    title: z.string().min(1).max(200),
    description: z.string().max(5000).optional(),
    steps: z
      .array(step)
      .min(1)
      .max(50)
      .refine((steps) => new Set(steps.map((s) => s.id)).size === steps.length, 'step ids must be unique'),
  })
  .meta({ id: 'PlaybookDefinition' });

export const playbookFile = playbookBody.extend({ category: z.enum(incidentCategories) });

export const playbookView = z
  .object({
    category: z.string(),
    version: z.number(),
    title: z.string(),
    description: z.string().optional(),
    steps: z.array(z.record(z.string(), z.unknown())),
    publishedBy: z.string(),
    publishedAt: z.string(),
  })
  .meta({ id: 'Playbook' });
