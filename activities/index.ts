import { createAccessActivities } from './access';
import { createChangeActivities } from './changes';
import type { ActivityDeps } from './deps';
import { createDiagnosticsActivities } from './diagnostics';
import { createIncidentActivities } from './incidents';
import { createNotificationActivities } from './notifications';
import { createTaskActivities } from './tasks';

export function createActivities(deps: ActivityDeps) {
  return {
    ...createAccessActivities(deps),
    ...createDiagnosticsActivities(deps),
    ...createIncidentActivities(deps),
    ...createNotificationActivities(deps),
    ...createTaskActivities(deps),
    ...createChangeActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
