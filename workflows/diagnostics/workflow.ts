import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { DiagnosticsActivities } from '../../activities/diagnostics';
import type { DiagnosticPingInput, DiagnosticPingResult } from '../../domain/diagnostics';
import { publishSearchFields } from '../search-attributes';

// A ping proves the chain works; if PostgreSQL is down for longer than this, the ping should fail.
const { recordDiagnosticPing } = proxyActivities<DiagnosticsActivities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3 },
});

/** API → Temporal → worker → activity → PostgreSQL, and back: the smallest proof the stack is wired. */
export async function diagnosticPingWorkflow(input: DiagnosticPingInput): Promise<DiagnosticPingResult> {
  publishSearchFields({ process: 'diagnostics', subjectId: input.pingId });
  const { workerIdentity } = await recordDiagnosticPing({ ...input, workflowId: workflowInfo().workflowId });
  return { pingId: input.pingId, workerIdentity };
}
