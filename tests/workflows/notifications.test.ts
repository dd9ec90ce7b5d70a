import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createNotificationActivities, maxDeliveryAttempts } from '../../activities/notifications';
import { activityDeps } from '../../wiring';
import { signatureHeader } from '../../activities/signed-webhook';
import { startReceiver } from '../setup/fixtures';
import { startSmtpServer } from '../setup/smtp';
import { eventually, startStack, type Stack } from '../setup/stack';

let stack: Stack;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
const webhookSecret = 'webhook-secret-for-tests';
const tokens = {} as Record<'reporter' | 'manager' | 'sam' | 'admin', string>;
let firstHookFailed = false;

beforeAll(async () => {
  smtp = await startSmtpServer();
  // The first webhook call fails with 500: the notify activity must retry it and only it.
  receiver = await startReceiver((_index, request) => {
    if (request.path === '/dead') return 500;
    if (request.path === '/hook' && !firstHookFailed) {
      firstHookFailed = true;
      return 500;
    }
    return 200;
  });
  stack = await startStack({
    env: {
      WARDEN_SMTP_URL: smtp.url,
      WARDEN_MAIL_FROM: 'Warden <warden@example.org>',
      WARDEN_WEBHOOK_SECRET: webhookSecret,
      WARDEN_PUBLIC_URL: 'https://warden.example.org',
      WARDEN_NOTIFY_ROUTES: JSON.stringify({
        security_manager: [
          { channel: 'email', target: 'secman@example.org' },
          { channel: 'webhook', target: `${receiver.url}/hook` },
          { channel: 'slack', target: `${receiver.url}/slack` },
        ],
      }),
    },
  });
  tokens.reporter = await stack.token(['reporter'], 'rita');
  tokens.manager = await stack.token(['security_manager'], 'max');
  tokens.sam = await stack.token(['service_owner'], 'sam');
  tokens.admin = await stack.token(['admin'], 'ada');
});
afterAll(async () => {
  await stack?.close();
  await smtp?.close();
  await receiver?.close();
});

const mailsTitled = (fragment: string) => smtp.received.filter((mail) => mail.subject.includes(fragment));

describe('notifications', () => {
  it('delivers by e-mail, webhook and Slack exactly once each, retrying only the webhook that failed', async () => {
    const reported = await stack.request('POST', '/incidents', {
      token: tokens.reporter,
      body: { title: 'Ransom note on file server', description: 'x', category: 'malware', affectedCis: [], source: 'helpdesk' },
    });
    expect(reported.status).toBe(202);
    const id: string = reported.body.id;

    const notifications = await eventually(
      async () => {
        const items = (await stack.request('GET', `/notifications?subject=${id}`, { token: tokens.manager })).body.items;
        const settled =
          items.length >= 2 &&
          items.every(
            (n: { deliveries: { status: string }[] }) => n.deliveries.length === 3 && n.deliveries.every((d) => d.status === 'delivered'),
          );
        return settled && items;
      },
      30_000,
      'both notifications delivered on three channels',
    );
    const [registered, taskOpened] = notifications;
    expect(registered.dedupKey).toBe(`incident:${id}:registered`);
    const attempts = Object.fromEntries(registered.deliveries.map((d: { channel: string; attempts: number }) => [d.channel, d.attempts]));
    expect(attempts).toEqual({ email: 1, webhook: 2, slack: 1 });
    expect(registered.deliveries.find((d: { channel: string }) => d.channel === 'webhook').lastError).toBeNull();

    // Exactly once each, although the activity ran twice.
    expect(mailsTitled('Ransom note')).toHaveLength(2);
    const registeredMail = mailsTitled('Security incident');
    expect(registeredMail).toHaveLength(1);
    expect(registeredMail[0]).toMatchObject({ to: ['secman@example.org'], from: 'warden@example.org' });
    expect(registeredMail[0]?.text).toContain(`https://warden.example.org/incidents/${id}`);
    const hooks = receiver.received.filter((r) => r.path === '/hook');
    expect(hooks.map((r) => r.status)).toEqual([500, 200, 200]);
    const delivered = hooks.filter((r) => r.status === 200).map((r) => JSON.parse(r.body));
    expect(new Set(delivered.map((d) => d.deliveryId)).size).toBe(2);
    for (const hook of hooks) expect(hook.headers['x-warden-signature']).toBe(signatureHeader(webhookSecret, hook.body));
    expect(receiver.received.filter((r) => r.path === '/slack')).toHaveLength(2);

    // The task notification links to the task and says what to do.
    const taskMail = mailsTitled('New task')[0];
    expect(taskMail?.subject).toBe(`[Warden] ${taskOpened.title}`);
    expect(taskMail?.text).toContain(`Open the task: https://warden.example.org/tasks/${taskOpened.taskId}`);
    expect(taskMail?.text).toContain('What to do');
    const slackTask = receiver.received.find((r) => r.path === '/slack' && r.body.includes('New task'));
    expect(JSON.parse(slackTask?.body ?? '{}').text).toContain(`/tasks/${taskOpened.taskId}`);
  });

  it('records drills but delivers nothing outside', async () => {
    const before = { mails: smtp.received.length, calls: receiver.received.length };
    const reported = await stack.request('POST', '/incidents', {
      token: tokens.reporter,
      body: { title: 'Drill: phishing wave', description: 'x', category: 'malware', affectedCis: [], source: 'exercise', drill: true },
    });
    const recorded = await eventually(
      async () => {
        const items = (await stack.request('GET', `/notifications?subject=${reported.body.id}`, { token: tokens.manager })).body.items;
        return items.length >= 2 && items;
      },
      20_000,
      'the drill notifications',
    );
    for (const notification of recorded) {
      expect(notification.suppressedReason).toMatch(/drill/);
      expect(notification.deliveries).toEqual([]);
    }
    expect({ mails: smtp.received.length, calls: receiver.received.length }).toEqual(before);
  });

  it("uses the principal's own channels, never re-sends a delivered message, and gives up visibly on a dead receiver", async () => {
    expect(
      (await stack.request('PUT', '/principals/max/notification-channels', { token: tokens.sam, body: { channels: [] } })).status,
    ).toBe(403);
    const channels = {
      channels: [
        { channel: 'email', target: 'sam@example.org' },
        { channel: 'webhook', target: `${receiver.url}/dead` },
      ],
    };
    // Webhook targets are an admin's to set: the worker would POST wherever one points.
    const ownWebhook = await stack.request('PUT', '/principals/sam/notification-channels', { token: tokens.sam, body: channels });
    expect(ownWebhook.status).toBe(403);
    expect(
      (
        await stack.request('PUT', '/principals/sam/notification-channels', {
          token: tokens.sam,
          body: { channels: [channels.channels[0]] },
        })
      ).status,
    ).toBe(200);
    const set = await stack.request('PUT', '/principals/sam/notification-channels', { token: tokens.admin, body: channels });
    expect(set.status).toBe(200);

    const { notify } = createNotificationActivities(
      activityDeps(stack.config, { db: stack.db, logger: pino({ level: 'silent' }), workerIdentity: 'test' }),
    );
    const request = {
      dedupKey: 'test:sam:1',
      recipientRoles: [],
      recipients: ['sam'],
      subject: { type: 'advisory', id: 'CVE-2026-0001' },
      title: 'Patch the VPN',
      body: 'Please.',
    };
    for (let attempt = 1; attempt < maxDeliveryAttempts; attempt += 1) {
      await expect(notify(request)).rejects.toThrow(/will be retried/);
    }
    expect(await notify(request)).toMatchObject({ recorded: false, delivered: 0, failed: 1 });
    expect(await notify(request)).toMatchObject({ delivered: 0, failed: 0 });

    expect(smtp.received.filter((mail) => mail.to.includes('sam@example.org'))).toHaveLength(1);
    expect(receiver.received.filter((r) => r.path === '/dead')).toHaveLength(maxDeliveryAttempts);
    const [recorded] = (await stack.request('GET', '/notifications?subject=CVE-2026-0001', { token: tokens.manager })).body.items;
    expect(recorded.deliveries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ channel: 'email', status: 'delivered', attempts: 1, recipient: 'principal:sam' }),
        expect.objectContaining({
          channel: 'webhook',
          status: 'failed',
          attempts: maxDeliveryAttempts,
          lastError: expect.stringContaining('HTTP 500'),
        }),
      ]),
    );
  });
});
