import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ProblemActivities } from '../../activities/problems';
import {
  checklistDecisionProblem,
  itemResults,
  problemCheckOutcomes,
  problemCheckTaskKind,
  type ProblemCheckInput,
  type ProblemCheckResult,
} from '../../domain/problem';
import type { Role } from '../../domain/roles';
import { HumanTasks } from '../human-task';
import { endingVisibly } from '../permanent-failure';
import { publishSearchFields } from '../search-attributes';

// Recording the proposal and its outcome are small PostgreSQL writes; retried until the database is
// back rather than lost. What PostgreSQL refuses for good fails at once (activities/permanent-failures.ts).
const records = proxyActivities<ProblemActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

/** A problem carrying a security risk is checked by Security Management itself; any other by a security reviewer or them. */
const checkerRoles = (securityRisk: boolean): Role[] => (securityRisk ? ['security_manager'] : ['security_reviewer', 'security_manager']);

/**
 * The security check of a problem's workaround or solution (ITIL problem management: a workaround
 * must introduce no new security problem). The checklist is the SLA security requirements of the
 * affected services and the baseline measures of the affected CIs; the reviewer records pass or fail
 * with a note per item; any failed item rejects the proposal with the notes as reasons, and an
 * accepted workaround makes the problem a known error.
 */
export async function problemSecurityCheckWorkflow(input: ProblemCheckInput): Promise<ProblemCheckResult> {
  return endingVisibly(
    {
      record: { process: 'problem_check', problemId: input.problemId, proposalId: input.proposalId },
      label: `Security check of a ${input.kind} for problem ${input.problemId}`,
      subject: { type: 'problem', id: input.problemId },
    },
    () => checkProposal(input),
  );
}

async function checkProposal(input: ProblemCheckInput): Promise<ProblemCheckResult> {
  const tasks = new HumanTasks();
  const subject = { type: 'problem', id: input.problemId };
  publishSearchFields({ process: 'problem-check', subjectId: input.problemId, status: 'in_check' }, { title: input.problemTitle });

  // Record the proposal with the checklist it is checked against.
  const checklist = await records.openProblemCheck({
    proposalId: input.proposalId,
    problemId: input.problemId,
    workflowId: workflowInfo().workflowId,
    kind: input.kind,
    text: input.text,
    changeId: input.changeId,
    proposedBy: input.proposedBy,
  });

  // The reviewer checks each item; Security Management is reminded when the deadline passes.
  const result = await tasks.run({
    kind: problemCheckTaskKind,
    title: `Security check of the proposed ${input.kind}: ${input.problemTitle}`,
    details: {
      problemId: input.problemId,
      proposalId: input.proposalId,
      kind: input.kind,
      text: input.text,
      changeId: input.changeId,
      securityRisk: input.securityRisk,
      checklist,
    },
    subject,
    allowedRoles: checkerRoles(input.securityRisk),
    outcomes: [...problemCheckOutcomes],
    requester: input.proposedBy,
    deadline: input.reviewDeadline,
    escalations: [{ notifyRoles: ['security_manager'], addRoles: ['security_manager'], extendBy: input.reviewDeadline }],
    guard: (decision) => checklistDecisionProblem(checklist, decision.outcome, decision.data),
  });

  // Record the outcome: the failed items' notes are the reasons of a rejection.
  const results = itemResults(checklist, result.data);
  const status = result.outcome === 'accepted' ? 'accepted' : 'rejected';
  const reasons = results
    .filter((r) => r.result === 'fail')
    .map((r) => `${checklist.find((item) => item.id === r.itemId)?.title ?? r.itemId}: ${r.note}`);
  await records.recordProblemCheckOutcome({ proposalId: input.proposalId, status, results, reasons, checkedBy: result.decidedBy });
  publishSearchFields({ status });
  return { proposalId: input.proposalId, status, reasons };
}
