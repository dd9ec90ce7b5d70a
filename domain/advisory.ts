import type { CarriedTasks } from './human-task';
import { classificationLevels, type ClassificationLevel } from './classification';
import { durationMs, type DurationText } from './duration';

/** One product an advisory names: the versions affected (semver ranges or exact versions) and the fixes. */
export interface AffectedProduct {
  product: string;
  /**
   * The package as its purl names it, without version (`pkg:maven/org.apache.logging.log4j/log4j-core`):
   * when set, only components with the same purl package match, whatever their names.
   */
  purl?: string;
  /** A CPE 2.3 name whose part, vendor and product identify the product (the version fields are ignored). */
  cpe?: string;
  /** Each entry is a semver range (">=1.2.0 <1.4.3", "<2", "1.x || 3.x") or an exact version ("2019-R2"). */
  ranges: string[];
  fixed: string[];
  /** The OSV ecosystem the source named ("PyPI", "Maven", "Debian:12"): which version order its intervals use. */
  ecosystem?: string;
  /**
   * The ranges an OSV document gave as events, kept with its own version spellings so they are
   * ordered by the ecosystem's rules; each names the `ranges` entry it was also written as (semver,
   * which advisories stored before intervals existed and hand-typed ones still match by).
   */
  intervals?: VersionInterval[];
}

/** One OSV interval: from `introduced` (absent or "0": from the first version) up to `fixed` (excluded) or `lastAffected` (included). */
export interface VersionInterval {
  /** The `ranges` entry this interval was written as. */
  range: string;
  /** OSV's range type: SEMVER orders by semver whatever the package; ECOSYSTEM by the package's ecosystem. */
  type: 'SEMVER' | 'ECOSYSTEM';
  introduced?: string;
  fixed?: string;
  lastAffected?: string;
}

/** An advisory as Warden keeps it, whatever format it arrived in. */
export interface AdvisoryContent {
  id: string;
  aliases: string[];
  title: string;
  supplier: string | null;
  affected: AffectedProduct[];
  cvssScore: number | null;
  cvssVector: string | null;
  preventiveMeasures: string | null;
  published: string | null;
  exploited: boolean;
  /** When the source withdrew the advisory (OSV `withdrawn`): it no longer applies to anything. */
  withdrawn: string | null;
}

export const advisoryFormats = ['generic', 'osv', 'csaf'] as const;
export type AdvisoryFormat = (typeof advisoryFormats)[number];

export const remediationOutcomes = ['patched', 'mitigated', 'exception_requested'] as const;
/** `not_applicable`: the advisory was withdrawn by its source while the remediation was running. */
export const remediationStatuses = ['open', 'patched', 'mitigated', 'exception_requested', 'exception', 'not_applicable'] as const;
export type RemediationStatus = (typeof remediationStatuses)[number];

/** The advisory response process: its wire name and id are fixed for running workflows. */
export const advisoryResponseWorkflowType = 'advisoryResponse';
export const makeAdvisoryWorkflowId = (advisoryId: string) => `advisory/${advisoryId}`;

export interface AdvisoryResponseInput {
  advisoryId: string;
  /** Set only by the workflow itself when it continues as new; never by a caller. */
  continuation?: AdvisoryContinuation;
}

/** Where one CI's remediation stands, enough for the next run to go on from there. */
export interface RemediationProgress {
  assignment: RemediationAssignment;
  title: string;
  preventiveMeasures: string | null;
  /** What the owner's next task says about why it is back (still affected, exception rejected or lapsed). */
  note: string | null;
  /** Waiting for the owner's report, for the Security Manager's word on an exception, or for an exception to lapse. */
  phase: 'report' | 'exception' | 'excepted';
  exceptionRequest?: { requestedBy: string | null; reason: string | null; expiresIn: string | null };
  exception?: { expiry: string; lapsesAt: string };
}

/** What the alert proposal task shows the Security Manager. */
export interface AlertProposalFacts {
  title: string;
  cvssScore: number | null;
  exploited: boolean;
  preventiveMeasures: string | null;
  affectedCis: string[];
}

/**
 * What an advisory hands its next run when it continues as new: the CIs it tracks, every running
 * remediation where it stands, a pending alert proposal, re-matches not yet done, and the open tasks
 * (decided under the same ids in the next run).
 */
export interface AdvisoryContinuation {
  rematches: number;
  alertProposal: AdvisoryState['alertProposal'];
  pendingAlert: AlertProposalFacts | null;
  tracked: string[];
  remediations: RemediationProgress[];
  rematchReasons: string[];
  tasks: CarriedTasks;
  /** How many runs came before this one. */
  runs: number;
}

export interface AdvisoryResponseResult {
  status: 'closed' | 'withdrawn';
}

export interface AdvisoryState {
  advisoryId: string;
  status: 'open' | 'closing' | 'closed' | 'withdrawn';
  /** CIs whose remediation is still running (open, awaiting an exception decision, or under an exception). */
  activeRemediations: string[];
  rematches: number;
  alertProposal: 'none' | 'pending' | 'sent' | 'dismissed';
}

export interface RematchRequest {
  reason: string;
}

/** The source withdrew the advisory: running remediations close as not applicable. */
export interface WithdrawAdvisoryRequest {
  actor: string;
  withdrawnAt: string;
}

/**
 * New evidence about a CI an advisory has a remediation on: a scanner import for it, or a new SBOM.
 * The workflow has the evidence weighed (activities) and closes the running remediation as verified
 * fixed, or reopens a patched one the evidence shows still vulnerable.
 */
export type RemediationEvidence =
  | { source: 'scan'; ciId: string; importId: string; scanner: string }
  | { source: 'sbom'; ciId: string; format: string; serialNumber: string | null };

/**
 * What the evidence says of one CI's remediation: `fixed` (every finding tied to it is gone from
 * the import, or the SBOM no longer lists an affected version), `affected` (the import or the SBOM
 * still shows it), or `silent` (it says nothing about this advisory: no finding tied to it ever).
 */
export type EvidenceVerdict = 'fixed' | 'affected' | 'silent';

/** The workflow's patch for closing and reopening remediations on scanner and SBOM evidence. */
export const verifiedFixPatch = 'warden-verified-fix';

/** The workflow's patch for recording scanner or SBOM evidence that confirms a patch the owner reported. */
export const patchConfirmedPatch = 'warden-patch-confirmed';

export interface CloseAdvisoryRequest {
  actor: string;
  reason: string;
}

/** ApplicationFailure types the close Update refuses with; each is a conflict with the advisory's state. */
export const advisoryRefusalTypes = {
  closed: 'AdvisoryClosed',
  alertProposalOpen: 'AlertProposalOpen',
  remediationsOpen: 'RemediationsOpen',
} as const;

/** One CI's remediation as the workflow drives it. */
export interface RemediationAssignment {
  ciId: string;
  ciName: string;
  owner: string;
  product: string;
  installedVersion: string;
  fixed: string[];
  deadline: string;
  status: RemediationStatus;
}

/** Someone's word on one CI's remediation, as the workflow records it. */
export interface RemediationDecision {
  advisoryId: string;
  ciId: string;
  status: RemediationStatus;
  actor: string;
  taskId: string | null;
  /** Escalations of the task that produced this decision, added to the remediation's total. */
  escalations: number;
  resolution?: Record<string, unknown>;
  exceptionExpiresAt?: string | null;
}

/** The version a `patched` decision says is now installed; other decisions install nothing. */
export function patchedVersion(decision: Pick<RemediationDecision, 'status' | 'resolution'>): string | undefined {
  const version = decision.resolution?.version;
  return decision.status === 'patched' && typeof version === 'string' && version ? version : undefined;
}

/** What matching an advisory found: enough for the workflow to propose an alert and open remediation tasks. */
export interface AdvisoryMatch {
  title: string;
  cvssScore: number | null;
  exploited: boolean;
  warrantsAlert: boolean;
  preventiveMeasures: string | null;
  remediations: RemediationAssignment[];
}

/** CVSS v3 "critical" starts here. */
export const criticalCvss = 9.0;

/** A critical or exploited advisory is worth an alert; the Security Manager decides whether to send one. */
export function warrantsAlert(advisory: { cvssScore: number | null; exploited: boolean }): boolean {
  return advisory.exploited || (advisory.cvssScore ?? 0) >= criticalCvss;
}

const units: [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];

/** The largest unit that divides `ms` exactly: 302400000 → "84h", 1500 → "1500ms". */
export function formatDuration(ms: number): DurationText {
  const [unit, size] = units.find(([, size]) => ms % size === 0 && ms >= size) ?? ['ms', 1];
  return `${Math.max(1, Math.round(ms / size))}${unit}`;
}

/**
 * The patch deadline for a CI: its service SLA's deadline for the CI's classification level, halved
 * when the advisory is critical (CVSS ≥ 9.0) or known to be exploited.
 */
export function remediationDeadline(
  patchDeadlines: Record<ClassificationLevel, DurationText>,
  level: ClassificationLevel,
  advisory: { cvssScore: number | null; exploited: boolean },
): DurationText {
  const base = patchDeadlines[level] ?? patchDeadlines[classificationLevels[classificationLevels.length - 1] as ClassificationLevel];
  return warrantsAlert(advisory) ? formatDuration(Math.floor(durationMs(base) / 2)) : base;
}
