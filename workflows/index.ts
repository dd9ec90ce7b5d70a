// The workflow bundle's entry: every workflow function the worker can run.
export { diagnosticPingWorkflow } from './diagnostics/workflow';
export { incidentPlaybook } from './incident/workflow';
export { advisoryResponse } from './advisory/workflow';
export { securityAlert } from './security-alert/workflow';
