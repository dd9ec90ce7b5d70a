import type { Kysely } from 'kysely';
import type { MeasuredKpi } from '../../domain/security-report/model';
import type { Database } from '../database';
import { accessReviewsOnSchedule } from './access-reviews-on-schedule';
import { autoApprovedChanges } from './auto-approved-changes';
import { attackTechniquesCovered } from './attack-techniques-covered';
import { changesThroughGate } from './changes-through-gate';
import { controlsPassed } from './controls-passed';
import { controlsTestedOnSchedule } from './controls-tested-on-schedule';
import { drillCoverage } from './drill-coverage';
import { expiredExceptions } from './expired-exceptions';
import { falsePositiveRate } from './false-positive-rate';
import { improvementActions } from './improvement-actions';
import { incidentSla } from './incident-sla';
import { incidentsPerCategory } from './incidents-per-category';
import type { Measure, MeasurePeriod, MeasureScope } from './measure';
import { measuresWithoutControl } from './measures-without-control';
import { mtta } from './mtta';
import { mttd } from './mttd';
import { mttr } from './mttr';
import { patchCompliance } from './patch-compliance';
import { problemWorkaroundsChecked } from './problem-workarounds-checked';
import { sodConflictsHeld } from './sod-conflicts';
import { policiesPastReview } from './policies-past-review';
import { risksPastReview } from './risks-past-review';
import { selfApprovalsRefused } from './self-approvals-refused';
import { systemsPatched } from './systems-patched';
import { trainingCompletion } from './training-completion';

/** Every KPI of the IT Security Report, in report order. A new data source is one more line here. */
export const measures: readonly Measure[] = [
  mttd,
  mtta,
  mttr,
  incidentsPerCategory,
  incidentSla,
  attackTechniquesCovered,
  falsePositiveRate,
  drillCoverage,
  risksPastReview,
  expiredExceptions,
  policiesPastReview,
  improvementActions,
  accessReviewsOnSchedule,
  controlsTestedOnSchedule,
  controlsPassed,
  measuresWithoutControl,
  changesThroughGate,
  autoApprovedChanges,
  selfApprovalsRefused,
  patchCompliance,
  problemWorkaroundsChecked,
  sodConflictsHeld,
  systemsPatched,
  trainingCompletion,
];

export async function computeMeasures(
  db: Kysely<Database>,
  period: MeasurePeriod,
  scope: MeasureScope,
  only: readonly Measure[] = measures,
): Promise<MeasuredKpi[]> {
  return Promise.all(
    only.map(async (m) => ({ id: m.id, title: m.title, definition: m.definition, result: await m.compute(db, period, scope) })),
  );
}

export { measurePeriod, type MeasurePeriod, type MeasureScope } from './measure';
