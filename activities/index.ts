import { createAccessActivities } from './access';
import type { ActivityDeps } from './deps';
import { createDiagnosticsActivities } from './diagnostics';
import { createIncidentActivities } from './incidents';
import { createNotificationActivities } from './notifications';
import { createReviewActivities } from './reviews';
import { createTaskActivities } from './tasks';

export function createActivities(deps: ActivityDeps) {
  return {
    ...createAccessActivities(deps),
    ...createDiagnosticsActivities(deps),
    ...createIncidentActivities(deps),
    ...createNotificationActivities(deps),
    ...createReviewActivities(deps),
    ...createTaskActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
