/**
 * Access management rules (ISO/IEC 27001:2022 A.5.15–A.5.18): what an access review flags before
 * anyone looks, and which review decisions a reviewer may give. Pure: workflows call these too.
 */
import type { Actor, Role } from './roles';

export const accountKinds = ['person', 'service', 'shared'] as const;
export type AccountKind = (typeof accountKinds)[number];

export const employmentStatuses = ['active', 'leaver', 'unknown'] as const;
export type EmploymentStatus = (typeof employmentStatuses)[number];

export const privilegeLevels = ['standard', 'privileged'] as const;
export type PrivilegeLevel = (typeof privilegeLevels)[number];

export interface Entitlement {
  name: string;
  privilege: PrivilegeLevel;
}

export type AccessRequestStatus =
  | 'pending_owner'
  | 'pending_security'
  | 'rejected'
  | 'provisioning'
  | 'active'
  | 'provisioning_failed'
  | 'revoked'
  /** Ended by a permanent failure (domain/failure.ts). */
  | 'failed';

/** Roles that see every system's accounts, requests and campaigns. */
const accessOversight: readonly Role[] = ['admin', 'security_manager', 'auditor'];
export const oversees = (actor: Actor) => actor.roles.some((role) => accessOversight.includes(role));

/** May this actor read (and, for owners, import) this system's access records? */
export function ownsOrOversees(actor: Actor, system: { owner: string }) {
  return oversees(actor) || system.owner === actor.principalId;
}

/** An account's employment status, from the people list by owner. */
export const employmentStatus = (status: string | null): EmploymentStatus =>
  status === 'active' || status === 'leaver' ? status : 'unknown';

/** One account as a system's import lists it. */
export interface ImportedAccount {
  accountId: string;
  kind: AccountKind;
  owner: string | null;
  entitlements: Entitlement[];
  lastUsedAt: string | null;
}

/** One person as the people list (the source of truth for leavers) names them. */
export interface ImportedPerson {
  principalId: string;
  displayName: string | null;
  status: 'active' | 'leaver';
  manager: string | null;
}

export const accountFlags = [
  'orphaned',
  'unused',
  'privileged_without_approval',
  'shared_without_owner',
  'revocation_not_applied',
  /** The owner holds, across their accounts, every entitlement of a separation-of-duties rule, without an exception. */
  'sod_conflict',
] as const;
export type AccountFlag = (typeof accountFlags)[number];

export interface AccountUnderReview {
  kind: AccountKind;
  owner: string | null;
  /** From the people list by owner; `unknown` when the owner is not on it. */
  employmentStatus: EmploymentStatus;
  entitlements: Entitlement[];
  lastUsedAt: string | null;
  /** Entitlement names an approved access request granted this account. */
  approvedEntitlements: string[];
  /** A revocation was recorded, yet the latest import still lists the account. */
  revocationNotApplied: boolean;
}

export const defaultUnusedAfterDays = 90;
const dayMs = 86_400_000;

/** The findings on one account; `now` and the unused threshold come from the caller. */
export function flagAccount(account: AccountUnderReview, options: { now: number; unusedAfterDays: number }): AccountFlag[] {
  const flags: AccountFlag[] = [];
  if (account.owner === null) {
    flags.push(account.kind === 'shared' ? 'shared_without_owner' : 'orphaned');
  } else if (account.employmentStatus !== 'active') {
    flags.push('orphaned');
  }
  // Never used counts as unused: an account nobody has logged into is as idle as a forgotten one.
  const lastUsed = account.lastUsedAt === null ? Number.NEGATIVE_INFINITY : Date.parse(account.lastUsedAt);
  if (options.now - lastUsed > options.unusedAfterDays * dayMs) flags.push('unused');
  if (unapprovedPrivileges(account).length > 0) flags.push('privileged_without_approval');
  if (account.revocationNotApplied) flags.push('revocation_not_applied');
  return flags;
}

export function unapprovedPrivileges(account: Pick<AccountUnderReview, 'entitlements' | 'approvedEntitlements'>): string[] {
  return account.entitlements
    .filter((e) => e.privilege === 'privileged' && !account.approvedEntitlements.includes(e.name))
    .map((e) => e.name);
}

export const reviewActions = ['keep', 'revoke', 'reduce'] as const;
export type ReviewAction = (typeof reviewActions)[number];

export interface ReviewDecision {
  accountId: string;
  /** Needed only when the reviewer's systems hold two accounts with the same id. */
  ciId?: string;
  action: ReviewAction;
  /** For `reduce`: the entitlements the account keeps. */
  entitlements?: string[];
}

/** One account on a reviewer's list, as the campaign workflow holds it. */
export interface ReviewItem {
  ciId: string;
  accountId: string;
  owner: string | null;
  entitlements: string[];
}

export type ParsedReviewDecisions = { decisions: (ReviewDecision & { ciId: string })[] } | { refusal: string };

/**
 * Reads a reviewer's `data.decisions` against their list: every account decided exactly once, a
 * reduction keeps a non-empty subset of what the account has, and nobody keeps or reduces (that is,
 * certifies) an account they own themselves — that needs someone else's eyes.
 */
export function parseReviewDecisions(data: unknown, items: ReviewItem[], decider: string): ParsedReviewDecisions {
  const raw = (data as { decisions?: unknown } | null | undefined)?.decisions;
  if (!Array.isArray(raw))
    return { refusal: 'data.decisions must list a decision for every account: [{accountId, action, entitlements?}]' };
  const decisions: (ReviewDecision & { ciId: string })[] = [];
  const seen = new Set<string>();
  for (const [index, entry] of raw.entries()) {
    const at = `data.decisions.${index}`;
    if (typeof entry !== 'object' || entry === null) return { refusal: `${at} must be an object` };
    const { accountId, ciId, action, entitlements } = entry as Record<string, unknown>;
    if (typeof accountId !== 'string') return { refusal: `${at}.accountId must be a string` };
    if (!reviewActions.includes(action as ReviewAction)) return { refusal: `${at}.action must be one of: ${reviewActions.join(', ')}` };
    const matches = items.filter((item) => item.accountId === accountId && (ciId === undefined || item.ciId === ciId));
    if (matches.length === 0) return { refusal: `${at}: account ${accountId} is not on your review list` };
    if (matches.length > 1) return { refusal: `${at}: account ${accountId} exists on several of your systems; add its ciId` };
    const item = matches[0] as ReviewItem;
    const key = `${item.ciId}/${item.accountId}`;
    if (seen.has(key)) return { refusal: `${at}: account ${accountId} is decided twice` };
    seen.add(key);
    if (action !== 'revoke' && item.owner === decider) {
      return { refusal: `${at}: you may not certify your own account ${accountId}; revoke it or leave it to the Security Manager` };
    }
    let kept: string[] | undefined;
    if (action === 'reduce') {
      if (!Array.isArray(entitlements) || entitlements.length === 0 || !entitlements.every((e) => typeof e === 'string')) {
        return { refusal: `${at}.entitlements must list the entitlements the account keeps` };
      }
      const unknown = (entitlements as string[]).filter((e) => !item.entitlements.includes(e));
      if (unknown.length)
        return { refusal: `${at}.entitlements: ${unknown.join(', ')} not held by ${accountId}; a reduction only removes` };
      kept = entitlements as string[];
    }
    decisions.push({ accountId, ciId: item.ciId, action: action as ReviewAction, ...(kept ? { entitlements: kept } : {}) });
  }
  const missing = items.filter((item) => !seen.has(`${item.ciId}/${item.accountId}`));
  if (missing.length) return { refusal: `no decision for: ${missing.map((m) => m.accountId).join(', ')}` };
  return { decisions };
}

export interface CampaignOutcome {
  deadlineAt: string;
  /** When the last reviewer answered; null while (or because) someone has not. */
  completedAt: string | null;
}

/** "Access reviews completed on schedule": every reviewer answered, the last one by the deadline. */
export function completedOnTime(outcome: CampaignOutcome): boolean {
  return outcome.completedAt !== null && Date.parse(outcome.completedAt) <= Date.parse(outcome.deadlineAt);
}

/** The KPI's percentage; null when no campaign was due (no schedule to keep). */
export function onTimePercentage(due: number, onTime: number): number | null {
  return due === 0 ? null : Math.round((onTime / due) * 1000) / 10;
}
