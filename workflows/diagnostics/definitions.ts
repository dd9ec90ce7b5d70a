export const diagnosticPingWorkflowType = 'diagnosticPingWorkflow';

export interface DiagnosticPingInput {
  pingId: string;
  requestedBy: string;
}

export interface DiagnosticPingResult {
  pingId: string;
  workerIdentity: string;
}

export const makeDiagnosticPingWorkflowId = (pingId: string) => `diagnostic-ping/${pingId}`;
