import type { Actor } from '../domain/roles';
import { forbidden } from '../http/problem';
import { securityManagement } from '../http/roles';

/**
 * Security management writes any control; a service owner writes only controls they own, and only
 * as their owner (they cannot hand a control to someone else).
 */
export function assertMayWriteControl(actor: Actor, owner: string, newOwner?: string): void {
  if (actor.roles.some((role) => securityManagement.includes(role))) return;
  if (owner !== actor.principalId) throw forbidden('a service owner may change only the controls they own');
  if (newOwner !== undefined && newOwner !== actor.principalId) throw forbidden('a service owner may not hand a control to someone else');
}
