/**
 * Separation of duties over entitlements (ISO/IEC 27001:2022 A.5.3): a conflict rule is a set of
 * entitlements, within one system or across systems, that one person may not hold together. Pure:
 * the API checks a request against the rules, and a campaign flags the conflicts people already hold.
 */

/** One entitlement of a rule: on one system (`ciId`), or on any system when `ciId` is null. */
export interface SodMember {
  ciId: string | null;
  entitlement: string;
}

export const sodRuleStatuses = ['active', 'retired'] as const;
export type SodRuleStatus = (typeof sodRuleStatuses)[number];

export interface SodRule {
  id: string;
  name: string;
  members: SodMember[];
  status: SodRuleStatus;
}

/** An entitlement a person holds (through an account they own) or asks for. */
export interface HeldEntitlement {
  ciId: string;
  accountId: string;
  entitlement: string;
}

export interface SodConflict {
  ruleId: string;
  ruleName: string;
  /** The holdings that together make up the rule, one per member. */
  holdings: HeldEntitlement[];
}

const satisfies = (member: SodMember, held: HeldEntitlement) =>
  held.entitlement === member.entitlement && (member.ciId === null || member.ciId === held.ciId);

/** The active rules whose every member the holdings satisfy. */
export function sodConflicts(rules: readonly SodRule[], holdings: readonly HeldEntitlement[]): SodConflict[] {
  return rules.flatMap((rule) => {
    if (rule.status !== 'active') return [];
    const matched = rule.members.map((member) => holdings.find((held) => satisfies(member, held)));
    if (matched.some((held) => held === undefined)) return [];
    return [{ ruleId: rule.id, ruleName: rule.name, holdings: matched as HeldEntitlement[] }];
  });
}

/** The conflicts a request would create: those the holdings plus the request make that the holdings alone do not. */
export function conflictsCreatedBy(rules: readonly SodRule[], holdings: readonly HeldEntitlement[], requested: readonly HeldEntitlement[]) {
  const existing = new Set(sodConflicts(rules, holdings).map((conflict) => conflict.ruleId));
  return sodConflicts(rules, [...holdings, ...requested]).filter((conflict) => !existing.has(conflict.ruleId));
}

/** Problems with a rule as written, by field: a rule needs two different members to conflict at all. */
export function sodRuleProblems(members: readonly SodMember[]): { field: string; message: string }[] {
  if (members.length < 2) return [{ field: 'members', message: 'a conflict needs at least two entitlements' }];
  const keys = members.map((m) => `${m.ciId ?? '*'}/${m.entitlement}`);
  const duplicate = keys.findIndex((key, index) => keys.indexOf(key) !== index);
  return duplicate >= 0 ? [{ field: `members.${duplicate}`, message: 'names the same entitlement twice' }] : [];
}

/** A Security Manager's exception to a conflict: a person may hold it, for a reason, until it expires. */
export interface SodExceptionRequest {
  reason: string;
  expiresAt: string;
}
