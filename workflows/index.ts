// The workflow bundle's entry: every workflow function the worker can run.
export { diagnosticPingWorkflow } from './diagnostics/workflow';
export { incidentPlaybook } from './incident/workflow';
export { policyApprovalWorkflow as policyApproval } from './policy/workflow';
export { scheduledSecurityReviewWorkflow as scheduledSecurityReview, securityReviewWorkflow as securityReview } from './review/workflow';
export { accessRequest } from './access/access-request';
export { accessReviewCampaign } from './access/access-review';
export { securityTestWorkflow as securityTest } from './security-test/workflow';
export { advisoryResponse } from './advisory/workflow';
export { securityAlert } from './security-alert/workflow';
export { changeSecurityGateWorkflow as changeSecurityGate } from './change/workflow';
