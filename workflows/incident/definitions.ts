import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ActionResult, CommunicationRequest, IncidentState, MergeRequest } from '../../domain/incident';

export const incidentStateQuery = defineQuery<IncidentState>('incidentStateQuery');
/** Opens the Security Manager's approval of an external communication; nothing is sent before it. */
export const requestCommunicationUpdate = defineUpdate<{ communicationId: string }, [CommunicationRequest]>('requestCommunication');
/** Closes the incident as a duplicate of another, to which its alerts and observables move. */
export const mergeIntoUpdate = defineUpdate<{ mergedInto: string }, [MergeRequest]>('mergeInto');
/** An automated responder's asynchronous result for an action it accepted; refused unless the action waits for it. */
export const actionResultUpdate = defineUpdate<{ actionId: string; status: ActionResult['status'] }, [ActionResult]>('actionResult');
