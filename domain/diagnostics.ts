// The contract of a diagnostic ping, shared by the workflow and the API that starts it.

export const diagnosticPingWorkflowType = 'diagnosticPingWorkflow';
export const makeDiagnosticPingWorkflowId = (pingId: string) => `diagnostic-ping/${pingId}`;

export interface DiagnosticPingInput {
  pingId: string;
  requestedBy: string;
}

export interface DiagnosticPingResult {
  pingId: string;
  workerIdentity: string;
}
