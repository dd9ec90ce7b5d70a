// The contract of problem management (ITIL): problems as records, and the security check every
// workaround or solution passes before it is accepted. Shared by the check's workflow, the
// activities that record it and the servers that start it and read it.
import { type BaselineMeasure, combinedBaseline, type Classification } from './classification';
import type { AdditionalRequirement } from './sla';

export const problemStatuses = ['open', 'known_error', 'resolved', 'closed'] as const;
export type ProblemStatus = (typeof problemStatuses)[number];

export const proposalKinds = ['workaround', 'solution'] as const;
export type ProposalKind = (typeof proposalKinds)[number];

export const proposalStatuses = ['in_check', 'accepted', 'rejected', 'failed'] as const;
export type ProposalStatus = (typeof proposalStatuses)[number];

/** Statuses a person may set through PATCH; `known_error` is reached only by an accepted workaround. */
export const settableProblemStatuses = ['open', 'resolved', 'closed'] as const satisfies readonly ProblemStatus[];

/** The registered workflow type (workflows/index.ts exports the function under this name). */
export const problemSecurityCheckWorkflowType = 'problemSecurityCheck';
export const makeProblemCheckWorkflowId = (proposalId: string) => `problem-check/${proposalId}`;

/** How long the reviewer has before Security Management is reminded and may decide too. */
export const problemCheckDeadline = '3d';

/** The reviewer's task: a checklist, one result per item (its form: domain/task-forms.ts). */
export const problemCheckTaskKind = 'problem_security_check';
export const problemCheckOutcomes = ['accepted', 'rejected'] as const;
export const checkItemResults = ['pass', 'fail'] as const;
export type CheckItemResult = (typeof checkItemResults)[number];

/** One thing the reviewer checks a workaround or solution against. */
export interface ChecklistItem {
  /** `sla:<serviceId>:<requirementId>`, `availability:<serviceId>` or `baseline:<measureId>`. */
  id: string;
  source: 'sla' | 'baseline';
  title: string;
  detail: string;
}

export interface ItemResult {
  itemId: string;
  result: CheckItemResult;
  note: string;
}

/** The services and CIs a problem affects, as the checklist needs them. */
export interface ChecklistInput {
  services: { id: string; name: string; availabilityTarget: number; requirements: AdditionalRequirement[] }[];
  cis: (Classification & { id: string; name: string })[];
  /** The baseline version in force. */
  baseline: readonly BaselineMeasure[];
}

/**
 * The SLA security requirements of the affected services and the baseline measures the affected
 * CIs' classification requires: what a workaround or solution must not weaken.
 */
export function problemChecklist({ services, cis, baseline: measures }: ChecklistInput): ChecklistItem[] {
  const sla = services.flatMap((service): ChecklistItem[] => [
    {
      id: `availability:${service.id}`,
      source: 'sla',
      title: `Availability target ${service.availabilityTarget}% of ${service.name}`,
      detail: 'the SLA availability target still holds with it in place',
    },
    ...service.requirements.map((requirement) => ({
      id: `sla:${service.id}:${requirement.id}`,
      source: 'sla' as const,
      title: `${requirement.id} ${requirement.title} (${service.name})`,
      detail: requirement.description ?? 'SLA security requirement',
    })),
  ]);
  const baseline = combinedBaseline(cis, measures).map(
    (measure): ChecklistItem => ({
      id: `baseline:${measure.id}`,
      source: 'baseline',
      title: `${measure.id} ${measure.title}`,
      detail: `baseline measure (${measure.aspect}) required on ${cis
        .filter((ci) => combinedBaseline([ci], measures).some((m) => m.id === measure.id))
        .map((ci) => ci.name)
        .join(', ')}`,
    }),
  );
  return [...sla, ...baseline];
}

/** Why a checklist decision cannot be taken as it stands, or undefined when it can. */
export function checklistDecisionProblem(
  checklist: readonly ChecklistItem[],
  outcome: string,
  data: Record<string, unknown> | undefined,
): string | undefined {
  const raw = data?.results;
  if (!Array.isArray(raw)) return 'data.results must list a result (pass or fail, with a note) for every checklist item';
  const results = new Map<string, ItemResult>();
  for (const entry of raw) {
    if (typeof entry !== 'object' || entry === null) return 'each of data.results is { itemId, result, note }';
    const { itemId, result, note } = entry as Record<string, unknown>;
    if (typeof itemId !== 'string' || !checklist.some((item) => item.id === itemId))
      return `data.results names ${String(itemId)}, which is not on the checklist`;
    if (result !== 'pass' && result !== 'fail') return `data.results ${itemId}: result must be pass or fail`;
    if (note !== undefined && typeof note !== 'string') return `data.results ${itemId}: note must be text`;
    if (result === 'fail' && !note?.trim()) return `data.results ${itemId}: a failed item needs a note saying why`;
    results.set(itemId, { itemId, result, note: note ?? '' });
  }
  const missing = checklist.filter((item) => !results.has(item.id));
  if (missing.length) return `data.results has no result for ${missing.map((item) => item.id).join(', ')}`;
  const failed = [...results.values()].some((r) => r.result === 'fail');
  if (outcome === 'accepted' && failed) return 'a failed checklist item rejects the proposal: decide rejected';
  if (outcome === 'rejected' && !failed) return 'every item passed: a rejection needs at least one failed item';
  return undefined;
}

/** The results as the decision sent them, in checklist order. */
export function itemResults(checklist: readonly ChecklistItem[], data: Record<string, unknown> | null): ItemResult[] {
  const raw = (Array.isArray(data?.results) ? data.results : []) as ItemResult[];
  return checklist.flatMap((item) => {
    const found = raw.find((r) => r.itemId === item.id);
    return found ? [{ itemId: item.id, result: found.result, note: found.note ?? '' }] : [];
  });
}

export interface ProblemCheckInput {
  proposalId: string;
  problemId: string;
  problemTitle: string;
  kind: ProposalKind;
  text: string;
  /** A solution that needs a change names it; the change goes through the gate with the problem's context. */
  changeId: string | null;
  proposedBy: string;
  /** The problem carries a security risk (its flag or a linked security incident): Security Management checks it. */
  securityRisk: boolean;
  /** How long the reviewer has before Security Management is reminded. */
  reviewDeadline: string;
}

export interface ProblemCheckResult {
  proposalId: string;
  status: ProposalStatus;
  reasons: string[];
}

/**
 * Links between problems (`parentId`: this problem is part of that one) must not loop back:
 * the chain of parents from `parentId` may not reach `problemId`. `parentOf` answers each step.
 */
export function parentLinkProblem(problemId: string, parentId: string, parentOf: ReadonlyMap<string, string | null>): string | undefined {
  const seen = new Set<string>([problemId]);
  let current: string | null | undefined = parentId;
  while (current) {
    if (seen.has(current)) return `linking ${problemId} under ${parentId} would make a cycle`;
    seen.add(current);
    current = parentOf.get(current);
  }
  return undefined;
}
