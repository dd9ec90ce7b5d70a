import { sql, type Kysely, type Selectable } from 'kysely';
import type { ChannelTarget, NotificationRequest } from '../domain/notifications';
import { auditedWrite } from './audit';
import { prepared } from './create-db';
import type { Database, NotificationDeliveriesTable, NotificationsTable } from './database';

export type Notification = Selectable<NotificationsTable>;
export type NotificationDelivery = Selectable<NotificationDeliveriesTable>;

export interface ResolvedTarget extends ChannelTarget {
  recipient: string;
}

/**
 * Records a notification once per dedup key and returns it as stored, with whether this call
 * recorded it: a retry finds the row the first attempt wrote. One round trip: the insert and the
 * read of the row a retry finds. A concurrent attempt's row, committed after this statement began,
 * is not in its snapshot and is read after.
 */
export async function recordNotification(db: Kysely<Database>, request: NotificationRequest) {
  const key = request.dedupKey;
  const { rows } = await prepared(
    sql<StoredNotification & { recorded: boolean }>`
    with inserted as (
      insert into notifications (dedup_key, recipient_roles, recipients, subject_type, subject_id, title, body, task_id, suppressed_reason)
      values (${key}, ${request.recipientRoles}, ${request.recipients}, ${request.subject.type}, ${request.subject.id},
              ${request.title}, ${request.body}, ${request.taskId ?? null},
              ${request.drill ? 'drill: exercises notify nobody outside' : null})
      on conflict (dedup_key) do nothing
      returning id, suppressed_reason, created_at)
    select id, suppressed_reason, created_at, true as recorded from inserted
    union all
    select id, suppressed_reason, created_at, false from notifications where dedup_key = ${key} and not exists (select from inserted)`,
  ).execute(db);
  return (
    rows[0] ??
    (await db
      .selectFrom('notifications')
      .select(['id', 'suppressed_reason', 'created_at'])
      .select(sql<boolean>`false`.as('recorded'))
      .where('dedup_key', '=', key)
      .executeTakeFirstOrThrow())
  );
}

type StoredNotification = Pick<Notification, 'id' | 'suppressed_reason' | 'created_at'>;

/** Principals' own channels; with none chosen, e-mail to their recorded address. */
export async function principalTargets(db: Kysely<Database>, principalIds: string[]): Promise<ResolvedTarget[]> {
  if (principalIds.length === 0) return [];
  const principals = await db
    .selectFrom('principals')
    .select(['id', 'email', 'notification_channels'])
    .where('id', 'in', principalIds)
    .execute();
  return principals.flatMap((principal) => {
    const recipient = `principal:${principal.id}`;
    const chosen = principal.notification_channels;
    if (chosen.length === 0) return principal.email ? [{ channel: 'email' as const, target: principal.email, recipient }] : [];
    return chosen.flatMap((c) => {
      const target = c.target || (c.channel === 'email' ? principal.email : null);
      return target ? [{ channel: c.channel, target, recipient }] : [];
    });
  });
}

/** Adds the delivery rows not there yet; the unique key makes a retry add nothing. */
export async function ensureDeliveries(db: Kysely<Database>, notificationId: string, targets: ResolvedTarget[]): Promise<void> {
  if (targets.length === 0) return;
  await db
    .insertInto('notification_deliveries')
    .values(targets.map((t) => ({ notification_id: notificationId, channel: t.channel, target: t.target, recipient: t.recipient })))
    .onConflict((oc) => oc.columns(['notification_id', 'channel', 'target']).doNothing())
    .execute();
}

/**
 * Takes the deliveries still owed, marking each `sending` so a concurrent attempt of the same
 * activity (a timed-out attempt still running) skips them. A `sending` row older than the lease is
 * owed again: its sender crashed.
 */
export async function claimDeliveries(db: Kysely<Database>, notificationId: string, leaseSeconds: number): Promise<NotificationDelivery[]> {
  return db
    .updateTable('notification_deliveries')
    .set((eb) => ({ status: 'sending', attempts: eb('attempts', '+', 1), claimed_at: sql`now()` }))
    .where('notification_id', '=', notificationId)
    .where((eb) =>
      eb.or([
        eb('status', '=', 'pending'),
        eb.and([eb('status', '=', 'sending'), eb('claimed_at', '<', sql<Date>`now() - make_interval(secs => ${leaseSeconds})`)]),
      ]),
    )
    .returningAll()
    .execute();
}

export async function settleDelivery(
  db: Kysely<Database>,
  id: string,
  outcome: { delivered: true } | { delivered: false; error: string; final: boolean },
) {
  await db
    .updateTable('notification_deliveries')
    .set(
      outcome.delivered
        ? { status: 'delivered', delivered_at: new Date(), last_error: null }
        : { status: outcome.final ? 'failed' : 'pending', last_error: outcome.error.slice(0, 1000) },
    )
    .where('id', '=', id)
    .where('status', '=', 'sending')
    .execute();
}

export interface NotificationFilter {
  subjectId?: string;
  subjectType?: string;
  limit: number;
  after?: { createdAt: string; id: string };
}

export async function listNotifications(db: Kysely<Database>, filter: NotificationFilter) {
  let query = db.selectFrom('notifications').selectAll();
  if (filter.subjectId) query = query.where('subject_id', '=', filter.subjectId);
  if (filter.subjectType) query = query.where('subject_type', '=', filter.subjectType);
  if (filter.after)
    query = query.where(sql<boolean>`(created_at, id) > (${filter.after.createdAt}::timestamptz, ${filter.after.id}::uuid)`);
  const notifications = await query
    .orderBy('created_at')
    .orderBy('id')
    .limit(filter.limit + 1)
    .execute();
  const deliveries = notifications.length
    ? await db
        .selectFrom('notification_deliveries')
        .selectAll()
        .where(
          'notification_id',
          'in',
          notifications.map((n) => n.id),
        )
        .orderBy('created_at')
        .execute()
    : [];
  return notifications.map((notification) => ({
    ...notification,
    deliveries: deliveries.filter((d) => d.notification_id === notification.id),
  }));
}

/** Sets where a principal is notified, audited; false when there is no such principal. */
export async function setNotificationChannels(
  db: Kysely<Database>,
  input: { principalId: string; channels: ChannelTarget[]; actor: string },
): Promise<boolean> {
  return auditedWrite(db, async (trx) => {
    const updated = await trx
      .updateTable('principals')
      .set({ notification_channels: JSON.stringify(input.channels) })
      .where('id', '=', input.principalId)
      .returning('id')
      .executeTakeFirst();
    return (
      updated && {
        actor: input.actor,
        action: 'principal.notification_channels_set',
        subjectType: 'principal',
        subjectId: input.principalId,
        details: { channels: input.channels },
      }
    );
  });
}
