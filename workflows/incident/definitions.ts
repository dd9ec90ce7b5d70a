import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { IncidentCategory, Severity } from '../../domain/classification';
import type { IncidentLink } from '../../domain/incident';

export const incidentPlaybookWorkflowType = 'incidentPlaybook';
export const makeIncidentWorkflowId = (incidentId: string) => `incident/${incidentId}`;

export interface IncidentPlaybookInput {
  incidentId: string;
  title: string;
  description: string;
  category: IncidentCategory;
  affectedCis: string[];
  source: string;
  reportedBy: string;
  reportedAt: string;
  occurredAt?: string;
  detectedAt?: string;
  drill?: boolean;
  /** Aspects a category-`other` incident threatens; other categories threaten theirs by definition. */
  threatens?: ('confidentiality' | 'integrity' | 'availability')[];
  links?: IncidentLink[];
  fingerprint?: string;
}

export interface IncidentState {
  incidentId: string;
  status: string;
  severity: Severity | null;
  securityIncident: boolean | null;
  currentStep: string | null;
  openTaskIds: string[];
  acknowledgeEscalations: number;
  pendingCommunications: number;
}

export interface CommunicationRequest {
  communicationId: string;
  audience: string;
  message: string;
  requestedBy: string;
}

export const incidentStateQuery = defineQuery<IncidentState>('incidentStateQuery');
/** Opens the Security Manager's approval of an external communication; nothing is sent before it. */
export const requestCommunication = defineUpdate<{ communicationId: string }, [CommunicationRequest]>('requestCommunication');
