import {
  claimDeliveries,
  ensureDeliveries,
  principalTargets,
  recordNotification,
  settleDelivery,
  type ResolvedTarget,
} from '../db/notifications';
import { uniqueTargets, type NotificationRequest, type NotificationResult } from '../domain/notifications';
import type { ActivityDeps } from './deps';

/** A delivery is given up after this many attempts, so a dead receiver cannot stall a workflow forever. */
export const maxDeliveryAttempts = 5;
// Longer than one send can take (8 s timeout), so a live sender is never overtaken.
const claimLeaseSeconds = 60;

const subjectPaths: Record<string, string> = {
  incident: '/incidents',
  advisory: '/advisories',
  'security-alert': '/security-alerts',
  training_campaign: '/training-campaigns',
};

export function createNotificationActivities({ db, notifier, logger }: ActivityDeps) {
  function targetsFor(request: NotificationRequest, principals: ResolvedTarget[]): ResolvedTarget[] {
    const byRole = request.recipientRoles.flatMap((role) => notifier.routesFor(role).map((t) => ({ ...t, recipient: `role:${role}` })));
    return uniqueTargets([...principals, ...byRole]).filter((t) => notifier.canUse(t.channel));
  }

  return {
    /**
     * Records the notification once per dedup key, then delivers it on every channel its
     * recipients use. Safe to retry because the dedup key is unique and each (channel, target)
     * delivery is a row that is sent only while it is still owed: a retry re-sends only what failed.
     * Throws while a delivery failed and has attempts left, so the retry policy's backoff paces it.
     */
    async notify(request: NotificationRequest): Promise<NotificationResult> {
      const notification = await recordNotification(db, request);
      const result: NotificationResult = { recorded: notification.recorded, delivered: 0, failed: 0 };
      if (notification.suppressed_reason) return result;

      await ensureDeliveries(db, notification.id, targetsFor(request, await principalTargets(db, request.recipients)));
      const owed = await claimDeliveries(db, notification.id, claimLeaseSeconds);
      if (owed.length === 0) return result;

      const taskUrl = request.taskId ? notifier.linkTo(`/tasks/${request.taskId}`) : '';
      const subjectPath = subjectPaths[request.subject.type];
      const link = taskUrl || notifier.linkTo(subjectPath ? `${subjectPath}/${request.subject.id}` : '/');
      const text = notifier.render(request.template ?? (request.taskId ? 'task' : 'notice'), {
        title: request.title,
        body: request.body,
        taskUrl,
        taskId: request.taskId ?? '',
        link,
        subjectType: request.subject.type,
        subjectId: request.subject.id,
      });
      let retryable = 0;
      await Promise.all(
        owed.map(async (delivery) => {
          try {
            await notifier.deliver(delivery, {
              deliveryId: delivery.id,
              notificationId: notification.id,
              subject: request.subject,
              taskId: request.taskId ?? null,
              link,
              text,
            });
            await settleDelivery(db, delivery.id, { delivered: true });
            result.delivered += 1;
          } catch (error) {
            const final = delivery.attempts >= maxDeliveryAttempts;
            const message = error instanceof Error ? error.message : String(error);
            await settleDelivery(db, delivery.id, { delivered: false, error: message, final });
            logger.warn(
              { deliveryId: delivery.id, channel: delivery.channel, attempt: delivery.attempts, final, err: message },
              'notification delivery failed',
            );
            if (final) result.failed += 1;
            else retryable += 1;
          }
        }),
      );
      if (retryable > 0) throw new Error(`${retryable} notification deliveries failed and will be retried (${request.dedupKey})`);
      return result;
    },
  };
}

export type NotificationActivities = ReturnType<typeof createNotificationActivities>;
