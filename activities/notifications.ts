import type { ActivityDeps } from './deps';

export interface NotificationRequest {
  /** Same key, same notification: a retried activity never notifies twice. */
  dedupKey: string;
  recipientRoles: string[];
  recipients: string[];
  subject: { type: string; id: string };
  title: string;
  body: string;
  taskId?: string;
  /** Drills notify nobody outside: the notification is recorded as suppressed. */
  drill?: boolean;
}

export function createNotificationActivities({ db }: ActivityDeps) {
  return {
    /** Safe to retry: the dedup key is unique and a repeat insert does nothing. */
    async notify(request: NotificationRequest): Promise<{ recorded: boolean }> {
      const inserted = await db
        .insertInto('notifications')
        .values({
          dedup_key: request.dedupKey,
          recipient_roles: request.recipientRoles,
          recipients: request.recipients,
          subject_type: request.subject.type,
          subject_id: request.subject.id,
          title: request.title,
          body: request.body,
          task_id: request.taskId ?? null,
          suppressed_reason: request.drill ? 'drill: exercises notify nobody outside' : null,
        })
        .onConflict((oc) => oc.column('dedup_key').doNothing())
        .returning('id')
        .executeTakeFirst();
      return { recorded: inserted !== undefined };
    },
  };
}

export type NotificationActivities = ReturnType<typeof createNotificationActivities>;
