// The workflow bundle's entry: every workflow function the worker can run.
export { diagnosticPingWorkflow } from './diagnostics/workflow';
export { securityTestWorkflow as securityTest } from './security-test/workflow';
