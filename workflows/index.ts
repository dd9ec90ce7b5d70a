// The workflow bundle's entry: every workflow function the worker can run.
export { diagnosticPingWorkflow } from './diagnostics/workflow';
export { incidentPlaybookWorkflow as incidentPlaybook } from './incident/workflow';
export { policyApprovalWorkflow as policyApproval } from './policy/workflow';
export { scheduledSecurityReviewWorkflow as scheduledSecurityReview, securityReviewWorkflow as securityReview } from './review/workflow';
export { accessRequestWorkflow as accessRequest } from './access-request/workflow';
export { accessReviewCampaignWorkflow as accessReviewCampaign } from './access-review/workflow';
export { securityTestWorkflow as securityTest } from './security-test/workflow';
export { advisoryResponseWorkflow as advisoryResponse } from './advisory/workflow';
export { securityAlertWorkflow as securityAlert } from './security-alert/workflow';
export { changeSecurityGateWorkflow as changeSecurityGate } from './change/workflow';
export { auditCheckpointWorkflow as auditCheckpoint } from './audit-checkpoint/workflow';
export { problemSecurityCheckWorkflow as problemSecurityCheck } from './problem-check/workflow';
export { scheduledIncidentDrillWorkflow as scheduledIncidentDrill } from './drill/workflow';
export { trainingCampaignWorkflow as trainingCampaign } from './training/workflow';
export { baselineApprovalWorkflow as baselineApproval } from './baseline/workflow';
