import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { DecisionRequest, DecisionResult, OpenTaskView } from '../domain/human-task';

/** A person's decision on one of the workflow's open tasks; the validator refuses without history. */
export const decideUpdate = defineUpdate<DecisionResult, [DecisionRequest]>('decide');
export const openTasksQuery = defineQuery<OpenTaskView[]>('openTasksQuery');
