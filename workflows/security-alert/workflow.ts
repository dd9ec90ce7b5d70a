import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { SecurityAlertActivities } from '../../activities/security-alerts';
import { systemActor } from '../../domain/roles';
import type { AlertRecipient, SecurityAlertInput, SecurityAlertResult } from '../../domain/security-alert';
import { HumanTasks } from '../human-task';
import { endingVisibly } from '../permanent-failure';
import { publishSearchFields } from '../search-attributes';

// Alert records are small PostgreSQL writes: retry until the database is back, never drop one.
// No attempt limit on purpose: what PostgreSQL refuses for good fails at once, non-retryable
// (activities/permanent-failures.ts), so only unavailability (and a bug, until a fix is deployed) retries.
const alerts = proxyActivities<SecurityAlertActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

/**
 * ITIL Security Management's security alert: tell the owners of the affected CIs and services and
 * the audience roles what threatens and what to do, and have each acknowledge it. A role's
 * acknowledgement is given by whoever of that role reads it first.
 */
export async function securityAlertWorkflow(input: SecurityAlertInput): Promise<SecurityAlertResult> {
  // A permanent failure (PostgreSQL refusing the data for good) ends it visibly, not wedged.
  return endingVisibly(
    {
      record: { process: 'security_alert', alertId: input.alertId },
      label: `Security alert "${input.title}"`,
      subject: { type: 'security-alert', id: input.alertId },
    },
    () => runSecurityAlert(input),
  );
}

async function runSecurityAlert(input: SecurityAlertInput): Promise<SecurityAlertResult> {
  const tasks = new HumanTasks();
  // The title is free text: it goes to the memo, which the codec encrypts, never to a Search Attribute.
  publishSearchFields({ process: 'security-alert', subjectId: input.alertId, status: 'open' }, { title: input.title });
  const { recipients } = await alerts.registerSecurityAlert({ ...input, workflowId: workflowInfo().workflowId });
  const message = [`Threat: ${input.threat}`, 'What to do:', ...input.actions.map((action) => `- ${action}`)].join('\n');

  async function acknowledge(recipient: AlertRecipient) {
    const ack = await tasks.run({
      kind: 'security-alert.acknowledge',
      title: `Security alert: ${input.title}`,
      details: { alertId: input.alertId, threat: input.threat, actions: input.actions, recipient: recipient.recipient },
      subject: { type: 'security-alert', id: input.alertId },
      allowedRoles: recipient.role ? [recipient.role] : [],
      assignees: recipient.principalId ? [recipient.principalId] : [],
      outcomes: ['acknowledged'],
      forbidSelfDecision: false,
      message,
    });
    await alerts.recordAlertAcknowledgement({
      alertId: input.alertId,
      recipient: recipient.recipient,
      taskId: ack.taskId,
      by: ack.decidedBy[0] ?? systemActor.principalId,
      at: ack.decisions.at(-1)?.at ?? new Date().toISOString(),
    });
  }

  await Promise.all(recipients.map(acknowledge));
  publishSearchFields({ status: 'acknowledged' });
  return { acknowledged: recipients.length };
}
