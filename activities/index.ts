import { createAccessActivities } from './access';
import { createAdvisoryActivities } from './advisories';
import { createAuditCheckpointActivities } from './audit-checkpoints';
import { createBaselineActivities } from './baseline';
import { createChangeActivities } from './changes';
import type { ActivityDeps } from './deps';
import { createDiagnosticsActivities } from './diagnostics';
import { createIncidentActivities } from './incidents';
import { createNotificationActivities } from './notifications';
import { withPermanentFailures } from './permanent-failures';
import { createProblemActivities } from './problems';
import { createProcessFailureActivities } from './process-failures';
import { createSecurityTestActivities } from './security-tests';
import { createSecurityAlertActivities } from './security-alerts';
import { createReviewActivities } from './reviews';
import { createTaskActivities } from './tasks';
import { createTrainingActivities } from './training';

/** Every activity, with PostgreSQL's permanent refusals made non-retryable (see withPermanentFailures). */
export function createActivities(deps: ActivityDeps) {
  return withPermanentFailures({
    ...createAccessActivities(deps),
    ...createAdvisoryActivities(deps),
    ...createAuditCheckpointActivities(deps),
    ...createDiagnosticsActivities(deps),
    ...createIncidentActivities(deps),
    ...createNotificationActivities(deps),
    ...createSecurityAlertActivities(deps),
    ...createReviewActivities(deps),
    ...createTaskActivities(deps),
    ...createSecurityTestActivities(deps),
    ...createChangeActivities(deps),
    ...createProcessFailureActivities(deps),
    ...createTrainingActivities(deps),
    ...createBaselineActivities(deps),
    ...createProblemActivities(deps),
  });
}

export type Activities = ReturnType<typeof createActivities>;
