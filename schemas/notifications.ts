import { z } from 'zod';
import { notificationChannels } from '../domain/notifications';
import { page, pageQuery } from './common';

export const notificationListQuery = z.strictObject({
  subject: z.string().min(1).max(200).optional().describe('The subject id (incident, advisory, security alert…)'),
  subjectType: z.string().min(1).max(50).optional(),
  ...pageQuery,
});

export const deliveryView = z.object({
  id: z.string(),
  channel: z.enum(notificationChannels),
  target: z.string(),
  recipient: z.string(),
  status: z.enum(['pending', 'sending', 'delivered', 'failed']),
  attempts: z.number(),
  lastError: z.string().nullable(),
  deliveredAt: z.string().nullable(),
});

export const notificationView = z
  .object({
    id: z.string(),
    dedupKey: z.string(),
    subject: z.object({ type: z.string(), id: z.string() }),
    title: z.string(),
    body: z.string(),
    recipientRoles: z.array(z.string()),
    recipients: z.array(z.string()),
    taskId: z.string().nullable(),
    suppressedReason: z.string().nullable(),
    createdAt: z.string(),
    deliveries: z.array(deliveryView),
  })
  .meta({ id: 'Notification' });

export const notificationPage = page(notificationView);

export const channelTarget = z.strictObject({
  channel: z.enum(notificationChannels),
  target: z
    .string()
    .min(1)
    .max(2000)
    .optional()
    .describe("An address or URL; an e-mail without one goes to the principal's recorded address"),
});

export const notificationChannelsBody = z.strictObject({ channels: z.array(channelTarget).max(10) });
export const principalParam = z.strictObject({ id: z.string().min(1).max(100) });
