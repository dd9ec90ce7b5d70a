export const policyApprovalWorkflowType = 'policyApproval';
export const makePolicyApprovalWorkflowId = (policyId: string, version: number) => `policy/${policyId}/v${version}`;

export interface PolicyApprovalInput {
  policyId: string;
  version: number;
  title: string;
  proposedBy: string;
}
