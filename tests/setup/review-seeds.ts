import { durationMs } from '../../domain/duration';
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { json } from '../../db/create-db';
import type { Database } from '../../db/database';

let number = 0;

/** One incident row with the KPI timestamps given; the columns a review ignores get plain values. */
export async function seedIncident(
  db: Kysely<Database>,
  fields: {
    severity: string;
    category: string;
    affectedCis: string[];
    reportedAt: string;
    occurredAt?: string;
    detectedAt?: string;
    acknowledgedAt?: string;
    resolvedAt?: string;
    acknowledgeTarget: string;
    resolveTarget: string;
    drill?: boolean;
  },
) {
  const id = randomUUID();
  number += 1;
  await db
    .insertInto('incidents')
    .values({
      id,
      workflow_id: `incident/${id}`,
      title: `seeded incident ${number}`,
      description: 'seeded for a review test',
      category: fields.category,
      severity: fields.severity,
      security_incident: true,
      classification_reason: 'seeded',
      status: fields.resolvedAt ? 'closed' : 'containment',
      affected_cis: fields.affectedCis,
      source: 'test',
      drill: fields.drill ?? false,
      reported_by: 'rita',
      playbook_category: fields.category,
      playbook_version: 1,
      acknowledge_target: fields.acknowledgeTarget,
      resolve_target: fields.resolveTarget,
      occurred_at: fields.occurredAt ?? null,
      detected_at: fields.detectedAt ?? null,
      reported_at: fields.reportedAt,
      acknowledged_at: fields.acknowledgedAt ?? null,
      resolved_at: fields.resolvedAt ?? null,
      links: json([]),
    })
    .execute();
  // The SLA clocks the workflow would have kept (the review's incident-sla KPI reads them), 24x7.
  const clock = (target: 'acknowledge' | 'resolve', duration: string, metAt: string | undefined) => ({
    incident_id: id,
    target,
    severity: fields.severity,
    duration,
    started_at: fields.reportedAt,
    due_at: new Date(Date.parse(fields.reportedAt) + durationMs(duration)),
    met_at: metAt ?? null,
  });
  await db
    .insertInto('incident_sla_clocks')
    .values([
      clock('acknowledge', fields.acknowledgeTarget, fields.acknowledgedAt),
      clock('resolve', fields.resolveTarget, fields.resolvedAt),
    ])
    .execute();
  return id;
}

export async function seedRisk(
  db: Kysely<Database>,
  fields: {
    title: string;
    likelihood: number;
    impact: number;
    owner: string;
    treatment: 'mitigate' | 'accept';
    reviewAt: string;
    acceptedUntil?: string;
    affectedServices?: string[];
  },
) {
  return db
    .insertInto('risks')
    .values({
      title: fields.title,
      threat: 'seeded',
      affected_cis: [],
      affected_services: fields.affectedServices ?? [],
      likelihood: fields.likelihood,
      impact: fields.impact,
      owner: fields.owner,
      treatment: fields.treatment,
      controls: fields.treatment === 'mitigate' ? ['CTRL-1'] : [],
      accepted_until: fields.acceptedUntil ?? null,
      review_at: fields.reviewAt,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
}

export async function seedApprovedPolicy(db: Kysely<Database>, fields: { title: string; owner: string; nextReviewAt: string }) {
  const policy = await db
    .insertInto('policies')
    .values({ title: fields.title, owner: fields.owner, current_version: 1 })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('policy_versions')
    .values({
      policy_id: policy.id,
      version: 1,
      body: '# Policy',
      next_review_at: fields.nextReviewAt,
      status: 'approved',
      proposed_by: 'max',
      decided_by: 'mia',
      decided_at: new Date(),
    })
    .execute();
  return policy;
}

export async function seedImprovementAction(
  db: Kysely<Database>,
  fields: { title: string; owner: string; status: string; dueAt: string; createdAt: string },
) {
  await db
    .insertInto('improvement_actions')
    .values({
      id: randomUUID(),
      title: fields.title,
      source_type: 'incident',
      source_id: randomUUID(),
      owner: fields.owner,
      status: fields.status,
      due_at: fields.dueAt,
      created_at: fields.createdAt,
    })
    .execute();
}

/** An access review campaign with its deadline and, if it finished, when. */
export async function seedAccessReviewCampaign(db: Kysely<Database>, fields: { deadlineAt: string; completedAt: string | null }) {
  const id = randomUUID();
  await db
    .insertInto('access_review_campaigns')
    .values({
      id,
      workflow_id: `access-review/${id}`,
      scope: json({}),
      ci_ids: [],
      started_by: 'max',
      unused_after_days: 90,
      status: fields.completedAt ? 'completed' : 'open',
      deadline_at: fields.deadlineAt,
      completed_at: fields.completedAt,
    })
    .execute();
}

/** An active control created before the period, with finished test runs `[finishedAt, result]`. */
export async function seedControl(
  db: Kysely<Database>,
  fields: {
    name: string;
    owner: string;
    ciIds?: string[];
    baselineMeasures?: string[];
    slaRequirements?: { serviceId: string; requirementId: string }[];
    cadenceDays?: number;
    scheduledSince?: string;
    runs: [string, 'passed' | 'failed' | 'error' | 'missed'][];
  },
) {
  const control = await db
    .insertInto('controls')
    .values({
      name: fields.name,
      owner: fields.owner,
      kind: 'technical',
      process: 'security',
      ci_ids: fields.ciIds ?? [],
      iso27001: [],
      mitre_attack: [],
      baseline_measures: fields.baselineMeasures ?? [],
      sla_requirements: json(fields.slaRequirements ?? []),
      incident_category: 'other',
      procedure: json({ type: 'manual', instructions: 'check it', deadline: '1d' }),
      cadence_ms: fields.cadenceDays === undefined ? null : fields.cadenceDays * 86_400_000,
      scheduled_since: fields.cadenceDays === undefined ? null : (fields.scheduledSince ?? '2026-01-01T00:00:00Z'),
      created_at: '2026-01-01T00:00:00Z',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  for (const [finishedAt, result] of fields.runs) {
    const id = randomUUID();
    await db
      .insertInto('test_runs')
      .values({
        id,
        control_id: control.id,
        workflow_id: `control-test/${id}`,
        method: 'manual',
        requested_by: 'schedule',
        scheduled_at: finishedAt,
        started_at: finishedAt,
        finished_at: finishedAt,
        status: 'finished',
        result,
      })
      .execute();
  }
  return control.id;
}

/** A change submitted at `createdAt` with its gate decisions `[decisionKey, outcome, decidedBy, decidedAt]`. */
export async function seedChange(
  db: Kysely<Database>,
  fields: {
    title: string;
    ciIds: string[];
    securityImpact: boolean;
    /** The gate derived a low-risk impact from a content rule, whatever was declared. */
    derivedImpact?: boolean;
    createdAt: string;
    decisions: [string, string, string, string][];
  },
) {
  const derived = fields.derivedImpact
    ? {
        impact: {
          declaredRisk: fields.securityImpact ? 'medium' : 'none',
          derivedRisk: 'low',
          declaredLower: !fields.securityImpact,
          ruleHits: [],
          ciFloor: [],
          rulesEvaluated: [],
        },
      }
    : {};
  const id = randomUUID();
  await db
    .insertInto('changes')
    .values({
      id,
      workflow_id: `change/${id}`,
      title: fields.title,
      description: fields.title,
      affected_cis: fields.ciIds,
      security_impact: json({ accessControls: fields.securityImpact, networkConfiguration: false, dataHandling: false }),
      planned_start: '2026-12-01T00:00:00Z',
      planned_end: '2026-12-01T01:00:00Z',
      rollback_plan: 'revert',
      evidence: json([]),
      problem_id: null,
      known_error_id: null,
      external_ref: null,
      callback_url: null,
      verification: null,
      incident_id: null,
      requester: 'rita',
      source: 'api',
      status: fields.decisions.length ? 'approved' : 'in_review',
      risk: fields.securityImpact ? 'medium' : 'none',
      assessment: json(derived),
      created_at: fields.createdAt,
    })
    .execute();
  for (const [decisionKey, outcome, decidedBy, decidedAt] of fields.decisions) {
    await db
      .insertInto('change_decisions')
      .values({
        change_id: id,
        decision_key: decisionKey,
        revision: 1,
        outcome,
        decided_by: [decidedBy],
        reason: outcome,
        task_id: null,
        decided_at: decidedAt,
      })
      .execute();
  }
  return id;
}

/** An advisory remediation on a CI due at `dueAt`, resolved at `resolvedAt` (or still open). */
export async function seedRemediation(
  db: Kysely<Database>,
  fields: { ciId: string; serviceId: string; dueAt: string; resolvedAt: string | null },
) {
  const advisoryId = `ADV-${randomUUID()}`;
  await db
    .insertInto('advisories')
    .values({
      id: advisoryId,
      workflow_id: `advisory/${advisoryId}`,
      format: 'csaf',
      title: advisoryId,
      aliases: [],
      affected: json([]),
      exploited: false,
      raw: json({}),
      received_by: 'feed',
    })
    .execute();
  await db
    .insertInto('advisory_remediations')
    .values({
      advisory_id: advisoryId,
      ci_id: fields.ciId,
      service_id: fields.serviceId,
      owner: 'sam',
      product: 'openssl',
      installed_version: '3.0.0',
      deadline: '7d',
      due_at: fields.dueAt,
      status: fields.resolvedAt ? 'patched' : 'open',
      resolved_at: fields.resolvedAt,
    })
    .execute();
}
