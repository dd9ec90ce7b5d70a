import type { ActivityDeps } from './deps';
import { createDiagnosticsActivities } from './diagnostics';

export function createActivities(deps: ActivityDeps) {
  return {
    ...createDiagnosticsActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
