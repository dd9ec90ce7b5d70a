import { isRole, roles, type Role } from './roles';

/** Which value of the identity provider's role claim (a group name) grants which Warden roles. */
export type RoleMapping = ReadonlyMap<string, readonly Role[]>;

/**
 * Parses `group=role[,group=role…]` (a group may appear more than once to grant several roles).
 * Returns the problem in words for a malformed pair or an unknown role.
 */
export function parseRoleMapping(text: string): { mapping: RoleMapping } | { problem: string } {
  const mapping = new Map<string, Role[]>();
  for (const pair of text.split(',').map((entry) => entry.trim())) {
    const separator = pair.lastIndexOf('=');
    const group = pair.slice(0, separator).trim();
    const role = pair.slice(separator + 1).trim();
    if (separator <= 0 || !group || !role) return { problem: `"${pair}" is not group=role` };
    if (!isRole(role)) return { problem: `"${role}" is not a Warden role` };
    mapping.set(group, [...new Set([...(mapping.get(group) ?? []), role])]);
  }
  return { mapping };
}

/**
 * The Warden roles a person's claims grant: the role claim may be one string, an array of strings
 * (the usual `groups`), or absent. Values no mapping names grant nothing; the order is Warden's.
 */
export function rolesFromClaims(claims: Record<string, unknown>, roleClaim: string, mapping: RoleMapping): Role[] {
  const value = claims[roleClaim];
  const groups = typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  const granted = new Set(groups.flatMap((group) => mapping.get(group) ?? []));
  return roles.filter((role) => granted.has(role));
}

/** The principal a person from the identity provider acts as: stable across sign-ins, never their name. */
export const identityPrincipalId = (subject: string) => `oidc:${subject}`;
