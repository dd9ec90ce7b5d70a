import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { CommunicationRequest, IncidentState } from '../../domain/incident';

export const incidentStateQuery = defineQuery<IncidentState>('incidentStateQuery');
/** Opens the Security Manager's approval of an external communication; nothing is sent before it. */
export const requestCommunicationUpdate = defineUpdate<{ communicationId: string }, [CommunicationRequest]>('requestCommunication');
