import type { FastifyInstance } from 'fastify';
import { incidentPlaybookWorkflowType, makeIncidentWorkflowId, type IncidentPlaybookInput } from '../domain/incident';
import { startOnce } from '../temporal/start';

/**
 * Starts an incident's playbook, for every way an incident is reported (a person, a SIEM alert);
 * the incident id is the workflow's business key, so this runs once.
 */
export async function startIncident(app: FastifyInstance, input: IncidentPlaybookInput) {
  await startOnce(app.temporal.client, incidentPlaybookWorkflowType, {
    workflowId: makeIncidentWorkflowId(input.incidentId),
    taskQueue: app.temporal.taskQueue,
    args: [input],
  });
}
