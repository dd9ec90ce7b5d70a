import { systemActor } from '../domain/roles';
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { durationMs } from '../domain/duration';
import { quartersUpTo } from '../domain/review-period';
import type { OwnerReview, ReviewedService, SecurityReport, SignOffRecord } from '../domain/security-report/model';
import { planActions } from '../domain/security-report/plan';
import { auditedWrite, type AuditInput } from './audit';
import { json } from './create-db';
import type { Database, SecurityReviewRow } from './database';
import { actionsOfReview, toPlannedAction } from './improvement-actions';
import { computeMeasures, measurePeriod, measures } from './measures/index';
import { loadAssets } from './measures/assets';

type Status = SecurityReviewRow['status'];

const makeReviewSubject = (reviewId: string) => ({ type: 'security_review', id: reviewId });

export function findReview(db: Kysely<Database>, id: string) {
  return db.selectFrom('security_reviews').selectAll().where('id', '=', id).executeTakeFirst();
}

export function listReviews(db: Kysely<Database>, limit: number) {
  return db.selectFrom('security_reviews').selectAll().orderBy('period_from', 'desc').orderBy('id').limit(limit).execute();
}

/** The audit event of a step of the review. */
const reviewEvent = (reviewId: string, actor: string, action: string, details: Record<string, unknown>): AuditInput => ({
  actor,
  action,
  subjectType: makeReviewSubject(reviewId).type,
  subjectId: reviewId,
  details,
});

/** Safe to retry: the period is the primary key. */
export async function openReview(
  db: Kysely<Database>,
  input: { reviewId: string; workflowId: string; from: string; to: string; scope: string[] | null; requestedBy: string },
) {
  await auditedWrite(db, async (trx) => {
    const inserted = await trx
      .insertInto('security_reviews')
      .values({
        id: input.reviewId,
        workflow_id: input.workflowId,
        period_from: input.from,
        period_to: input.to,
        scope: input.scope,
        status: 'measuring',
        requested_by: input.requestedBy,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    return (
      inserted && reviewEvent(input.reviewId, input.requestedBy, 'review.started', { from: input.from, to: input.to, scope: input.scope })
    );
  });
}

/**
 * Step 1: every measure over the period, and the trend measures over the quarters before it.
 * Safe to retry: the first stored result stands, so a retry reports the same figures.
 */
export async function measureReview(db: Kysely<Database>, reviewId: string): Promise<{ services: ReviewedService[]; deviations: number }> {
  let review = await findReviewOrThrow(db, reviewId);
  if (!review.measures) {
    const now = new Date();
    const kpis = await computeMeasures(db, measurePeriod(review.period_from, review.period_to, now), review.scope);
    const trendMeasures = measures.filter((m) => m.trend);
    const history = await Promise.all(
      quartersUpTo(new Date(review.period_to.getTime() - 1), 4).map(async (quarter) => ({
        period: quarter.label,
        values: Object.fromEntries(
          (await computeMeasures(db, measurePeriod(quarter.from, quarter.to, now), review.scope, trendMeasures)).map((k) => [
            k.id,
            k.result.value,
          ]),
        ),
      })),
    );
    const deviations = kpis.reduce((n, k) => n + (k.result.misses?.length ?? 0), 0);
    await auditedWrite(db, async (trx) => {
      const updated = await trx
        .updateTable('security_reviews')
        .set({ measures: json(kpis), history: json(history), status: 'owner_review', updated_at: new Date() })
        .where('id', '=', reviewId)
        .where('measures', 'is', null)
        .returning('id')
        .executeTakeFirst();
      return (
        updated &&
        reviewEvent(reviewId, systemActor.principalId, 'review.measured', {
          deviations,
          measures: kpis.map((k) => ({ id: k.id, value: k.result.value, status: k.result.status })),
        })
      );
    });
    review = await findReviewOrThrow(db, reviewId);
  }
  const assets = await loadAssets(db, review.scope);
  const services = [...assets.services.values()]
    .filter((s) => assets.inScope(s.id))
    .map((s) => ({ serviceId: s.id, serviceName: s.name, owner: s.owner, level: s.level }));
  return { services, deviations: (review.measures ?? []).reduce((n, k) => n + (k.result.misses?.length ?? 0), 0) };
}

/** Safe to retry: the answers are written once, while the review waits for them. */
export async function recordOwnerReviews(db: Kysely<Database>, reviewId: string, reviews: OwnerReview[]) {
  await auditedWrite(db, async (trx) => {
    const updated = await trx
      .updateTable('security_reviews')
      .set({ owner_reviews: json(reviews), status: 'planning', updated_at: new Date() })
      .where('id', '=', reviewId)
      .where('status', '=', 'owner_review')
      .returning('id')
      .executeTakeFirst();
    return (
      updated &&
      reviewEvent(reviewId, systemActor.principalId, 'review.owners_answered', {
        answers: reviews.map((r) => ({ service: r.serviceName, outcome: r.outcome })),
      })
    );
  });
}

/**
 * Step 3: deviations, owner feedback and sign-off comments become improvement actions. Safe to
 * retry: each action's natural key is (review, deviation key), so a retry or a re-plan after a
 * send-back inserts only what is new.
 */
export async function planReview(db: Kysely<Database>, reviewId: string, securityManager: string): Promise<{ raised: number }> {
  const review = await findReviewOrThrow(db, reviewId);
  const candidates = planActions({
    deviations: (review.measures ?? []).flatMap((k) => k.result.misses ?? []),
    ownerReviews: review.owner_reviews,
    revisions: review.revisions,
    securityManager,
  });
  const now = Date.now();
  let raised = 0;
  await auditedWrite(db, async (trx) => {
    const inserted = candidates.length
      ? await trx
          .insertInto('improvement_actions')
          .values(
            candidates.map((c) => ({
              id: randomUUID(),
              title: c.title,
              description: c.description,
              source_type: makeReviewSubject(reviewId).type,
              source_id: reviewId,
              deviation_key: c.key,
              service_id: c.serviceId,
              owner: c.owner,
              risk_score: c.riskScore,
              due_at: new Date(now + durationMs(c.dueWithin)),
            })),
          )
          .onConflict((oc) => oc.columns(['source_type', 'source_id', 'deviation_key']).where('deviation_key', 'is not', null).doNothing())
          .returning('id')
          .execute()
      : [];
    raised = inserted.length;
    await trx
      .updateTable('security_reviews')
      .set({ status: 'sign_off', updated_at: new Date() })
      .where('id', '=', reviewId)
      .where('status', '=', 'planning')
      .execute();
    // Every planning round is recorded, a round that found nothing new to raise included.
    return reviewEvent(reviewId, systemActor.principalId, 'review.planned', { candidates: candidates.length });
  });
  await publishReport(db, reviewId);
  return { raised };
}

/** Step 4: approved closes the review; sent back reopens planning. Safe to retry: a decision is recorded once, keyed by its time and decider. */
export async function recordSignOff(db: Kysely<Database>, reviewId: string, decision: SignOffRecord) {
  const approved = decision.outcome === 'approved';
  await auditedWrite(db, async (trx) => {
    const review = await trx
      .selectFrom('security_reviews')
      .select(['status', 'revisions'])
      .where('id', '=', reviewId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (review.status !== 'sign_off') return undefined;
    const next: Status = approved ? 'signed_off' : 'planning';
    await trx
      .updateTable('security_reviews')
      .set(
        approved
          ? { status: next, sign_off: json(decision), updated_at: new Date() }
          : { status: next, revisions: json([...review.revisions, decision]), updated_at: new Date() },
      )
      .where('id', '=', reviewId)
      .execute();
    return reviewEvent(reviewId, decision.by, approved ? 'review.signed_off' : 'review.sent_back', {
      comment: decision.comment,
      additions: decision.additions ?? [],
    });
  });
  await publishReport(db, reviewId);
}

/** Stores the report as it stands, so GET serves what the Security Manager saw. */
async function publishReport(db: Kysely<Database>, reviewId: string): Promise<void> {
  const report = await composeReport(db, await findReviewOrThrow(db, reviewId));
  await db
    .updateTable('security_reviews')
    .set({ report: json(report) })
    .where('id', '=', reviewId)
    .execute();
}

/** The report as published at sign-off, or as it stands while the review runs. */
export async function currentReport(db: Kysely<Database>, review: SecurityReviewRow): Promise<SecurityReport> {
  return review.report ?? composeReport(db, review);
}

async function composeReport(db: Kysely<Database>, review: SecurityReviewRow): Promise<SecurityReport> {
  const kpis = review.measures ?? [];
  const scope = review.scope?.length
    ? await db.selectFrom('services').select(['id', 'name']).where('id', 'in', review.scope).execute()
    : null;
  return {
    id: review.id,
    period: { label: review.id, from: review.period_from.toISOString(), to: review.period_to.toISOString() },
    scope,
    status: review.status,
    requestedBy: review.requested_by,
    generatedAt: new Date().toISOString(),
    measures: kpis,
    trend: review.history ?? [],
    deviations: kpis.flatMap((k) => (k.result.misses ?? []).map((miss) => ({ ...miss, measureId: k.id }))),
    ownerReviews: review.owner_reviews,
    improvementActions: (await actionsOfReview(db, review.id)).map(toPlannedAction),
    revisions: review.revisions,
    signOff: review.sign_off,
  };
}

async function findReviewOrThrow(db: Kysely<Database>, reviewId: string) {
  const review = await findReview(db, reviewId);
  if (!review) throw new Error(`security review ${reviewId} is not recorded`);
  return review;
}
