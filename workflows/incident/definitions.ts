import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ActionResult, CommunicationRequest, IncidentState, MergeRequest, SeverityRaised, TasksMoved } from '../../domain/incident';

export const incidentStateQuery = defineQuery<IncidentState>('incidentStateQuery');
/** Opens the Security Manager's approval of an external communication; nothing is sent before it. */
export const requestCommunicationUpdate = defineUpdate<{ communicationId: string }, [CommunicationRequest]>('requestCommunication');
/** Closes the incident as a duplicate of another, to which its alerts, observables and open work tasks move. */
export const mergeIntoUpdate = defineUpdate<{ mergedInto: string }, [MergeRequest]>('mergeInto');
/** An automated responder's asynchronous result for an action it accepted; refused unless the action waits for it. */
export const actionResultUpdate = defineUpdate<{ actionId: string; status: ActionResult['status'] }, [ActionResult]>('actionResult');
/**
 * Sent by a duplicate's workflow once a merge re-pointed its open work tasks here: this workflow
 * waits on them from then on. A Signal, not an Update: the duplicate's workflow sends it, and a
 * workflow can only signal another.
 */
export const tasksMovedSignal = defineSignal<[TasksMoved]>('tasksMoved');
/** The recorded severity rose (an alert attached, a duplicate merged in): the open SLA targets are re-timed. */
export const severityRaisedSignal = defineSignal<[SeverityRaised]>('severityRaised');
