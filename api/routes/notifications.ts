import { iso } from '../views';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { listNotifications, setNotificationChannels } from '../../db/notifications';
import { pageOf } from '../../db/pagination';
import { responses } from '../../schemas/common';
import { notificationChannelsBody, notificationListQuery, notificationPage, principalParam } from '../../schemas/notifications';
import { channelChangeRefusal } from '../../domain/notifications';
import { forbidden, notFound } from '../../http/problem';
import { everyone, payloadReaders } from '../../http/roles';
import { cursorFrom } from '../../http/paging';

export async function notificationRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.get('/notifications', {
    config: { roles: payloadReaders },
    schema: {
      tags: ['notifications'],
      operationId: 'listNotifications',
      summary: 'List notifications',
      description: 'Every notification recorded (oldest first) with each delivery: channel, target, status, attempts, last error',
      querystring: notificationListQuery,
      response: responses({ 200: notificationPage }),
    },
    handler: async (request) => {
      const { limit, cursor, subject, subjectType } = request.query;
      const rows = await listNotifications(app.db, { subjectId: subject, subjectType, limit, after: cursorFrom(cursor) });
      const { items, nextCursor } = pageOf(rows, limit);
      return {
        items: items.map((n) => ({
          id: n.id,
          dedupKey: n.dedup_key,
          subject: { type: n.subject_type, id: n.subject_id },
          title: n.title,
          body: n.body,
          recipientRoles: n.recipient_roles,
          recipients: n.recipients,
          taskId: n.task_id,
          suppressedReason: n.suppressed_reason,
          createdAt: n.created_at.toISOString(),
          deliveries: n.deliveries.map((d) => ({
            id: d.id,
            channel: d.channel,
            target: d.target,
            recipient: d.recipient,
            status: d.status,
            attempts: d.attempts,
            lastError: d.last_error,
            deliveredAt: iso(d.delivered_at),
          })),
        })),
        nextCursor,
      };
    },
  });

  routes.put('/principals/:id/notification-channels', {
    // 403 for anyone else's channels but an administrator's.
    config: { roles: everyone, alsoAnswers: [403] },
    schema: {
      tags: ['notifications'],
      operationId: 'putNotificationChannels',
      summary: "Set a principal's notification channels",
      description: 'Where a principal is notified (yourself, or anyone for an admin); an empty list means e-mail to the recorded address',
      params: principalParam,
      body: notificationChannelsBody,
      response: responses({ 200: notificationChannelsBody }),
    },
    handler: async (request) => {
      const { id } = request.params;
      const refusal = channelChangeRefusal(request.actor, id, request.body.channels);
      if (refusal) throw forbidden(refusal);
      const channels = request.body.channels.map((c) => ({ channel: c.channel, target: c.target ?? '' }));
      const updated = await setNotificationChannels(app.db, { principalId: id, channels, actor: request.actor.principalId });
      if (!updated) throw notFound('principal', id);
      return request.body;
    },
  });
}
