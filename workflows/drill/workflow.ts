import { ParentClosePolicy, startChild, uuid4 } from '@temporalio/workflow';
import { securityAspects } from '../../domain/classification';
import type { ScheduledDrillInput, ScheduledDrillResult } from '../../domain/drill';
import { incidentPlaybookWorkflowType, makeIncidentWorkflowId, type IncidentPlaybookInput } from '../../domain/incident';
import { publishSearchFields } from '../search-attributes';

/**
 * One run of a category's drill Schedule: starts a drill incident, which runs the category's real
 * playbook marked as an exercise (notifications suppressed, responders never called, outside the
 * KPIs), and lets it run on its own. The incident id comes from the workflow's deterministic uuid.
 */
export async function scheduledIncidentDrillWorkflow(input: ScheduledDrillInput): Promise<ScheduledDrillResult> {
  // The Schedule's runs have timestamped ids: operators find a category's runs by its name.
  publishSearchFields({ process: 'incident', subjectId: input.category, drill: true, status: 'scheduled' });
  const incidentId = uuid4();
  await startChild(incidentPlaybookWorkflowType, {
    workflowId: makeIncidentWorkflowId(incidentId),
    args: [
      {
        incidentId,
        title: `Drill: ${input.category}`,
        description: `Scheduled exercise of the ${input.category} playbook.`,
        category: input.category,
        affectedCis: input.affectedCis,
        // A category-`other` drill must still be a security incident to exercise anything.
        threatens: [...securityAspects],
        source: 'drill-schedule',
        reportedBy: input.requestedBy,
        reportedAt: new Date(Date.now()).toISOString(),
        drill: true,
      } satisfies IncidentPlaybookInput,
    ],
    // The drill runs for as long as people take; this run is over once it has started.
    parentClosePolicy: ParentClosePolicy.ABANDON,
  });
  return { incidentId };
}
