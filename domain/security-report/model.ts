import type { ClassificationLevel } from '../classification';

/**
 * One deviation a measure found: an SLA target missed, a review date passed, an exception expired.
 * It carries what the plan needs to raise an improvement action: who acts and how big the risk is.
 */
export interface Deviation {
  /** Stable within a review: `<measure>:<record>[:<aspect>]`, the natural key of the action it raises. */
  key: string;
  title: string;
  detail: string;
  /** Who should act; null leaves it to the Security Manager of the review. */
  owner: string | null;
  serviceId: string | null;
  likelihood: number;
  impact: number;
  level: ClassificationLevel;
}

export interface BreakdownEntry {
  label: string;
  value: number | null;
  /** How many records the value was computed from. */
  count?: number;
}

export interface MeasureResult {
  /** `not_measured` when the data source does not exist yet; `note` says why. */
  status: 'measured' | 'not_measured';
  value: number | null;
  unit: string;
  breakdown?: BreakdownEntry[];
  misses?: Deviation[];
  note?: string;
  /** Records the review lists for checking after the fact (not deviations: nothing is known to be wrong with them). */
  records?: CheckedRecord[];
}

export interface CheckedRecord {
  key: string;
  title: string;
  detail: string;
  /** Drawn into the sample the reviewer checks. */
  sampled: boolean;
}

export interface MeasuredKpi {
  id: string;
  title: string;
  definition: string;
  result: MeasureResult;
}

export interface KpiTrendPoint {
  period: string;
  values: Record<string, number | null>;
}

export interface ReviewedService {
  serviceId: string;
  serviceName: string;
  owner: string;
  level: ClassificationLevel;
}

export interface OwnerReview extends ReviewedService {
  outcome: string;
  comment: string | null;
  riskChanges: ProposedRiskChange[];
  decidedBy: string[];
  expired: boolean;
}

export interface ProposedRiskChange {
  title: string;
  likelihood: number;
  impact: number;
  riskId?: string;
  detail?: string;
}

export interface PlannedAction {
  id: string;
  title: string;
  owner: string;
  dueAt: string | null;
  riskScore: number | null;
  status: string;
  progress: string | null;
  deviationKey: string | null;
}

export interface SignOffRecord {
  outcome: string;
  by: string;
  at: string;
  comment: string | null;
  /** Actions the Security Manager asks for when sending the report back. */
  additions?: ProposedRiskChange[];
}

/** The IT Security Report: how far the SLA security requirements were met, and what follows. */
export interface SecurityReport {
  id: string;
  period: { label: string; from: string; to: string };
  scope: { id: string; name: string }[] | null;
  status: string;
  requestedBy: string;
  generatedAt: string;
  measures: MeasuredKpi[];
  trend: KpiTrendPoint[];
  deviations: (Deviation & { measureId: string })[];
  ownerReviews: OwnerReview[];
  improvementActions: PlannedAction[];
  revisions: SignOffRecord[];
  signOff: SignOffRecord | null;
}
