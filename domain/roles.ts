export const roles = [
  'admin',
  'security_manager',
  'security_analyst',
  'change_manager',
  'security_reviewer',
  'service_owner',
  'tester',
  'auditor',
  'reporter',
] as const;

export type Role = (typeof roles)[number];

export function isRole(value: string): value is Role {
  return (roles as readonly string[]).includes(value);
}

/** Who is acting: a stable principal id (never a display name) and the roles their token carries. */
export interface Actor {
  principalId: string;
  displayName: string;
  roles: Role[];
}

/** The actor for work the system does on its own (timers, schedules, automated checks). */
export const systemActor: Actor = { principalId: 'system:warden', displayName: 'Warden', roles: [] };
