import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

export const advisoryResponseWorkflowType = 'advisoryResponse';
export const makeAdvisoryWorkflowId = (advisoryId: string) => `advisory/${advisoryId}`;

export interface AdvisoryResponseInput {
  advisoryId: string;
}

export interface AdvisoryState {
  advisoryId: string;
  status: 'open' | 'closing' | 'closed';
  /** CIs whose remediation is still running (open, awaiting an exception decision, or under an exception). */
  activeRemediations: string[];
  rematches: number;
  alertProposal: 'none' | 'pending' | 'sent' | 'dismissed';
}

/** The advisory was revised, or a CI's components changed: match again and pick up new CIs. */
export const rematchSignal = defineSignal<[{ reason: string }]>('rematchSignal');
export const advisoryStateQuery = defineQuery<AdvisoryState>('advisoryStateQuery');
/** Closes the advisory; refused while a remediation is still running. */
export const closeAdvisoryUpdate = defineUpdate<{ status: 'closed' }, [{ actor: string; reason: string }]>('closeAdvisoryUpdate');
