// The contract of a policy version's approval, shared by the workflow and the API that starts it.

export const policyApprovalWorkflowType = 'policyApproval';
export const makePolicyApprovalWorkflowId = (policyId: string, version: number) => `policy/${policyId}/v${version}`;

export interface PolicyApprovalInput {
  policyId: string;
  version: number;
  title: string;
  proposedBy: string;
}

export interface PolicyApprovalResult {
  approved: boolean;
}
