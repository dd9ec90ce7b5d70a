// The workflow bundle's entry: every workflow function the worker can run.
export { diagnosticPingWorkflow } from './diagnostics/workflow';
export { incidentPlaybook } from './incident/workflow';
export { changeSecurityGateWorkflow as changeSecurityGate } from './change/workflow';
