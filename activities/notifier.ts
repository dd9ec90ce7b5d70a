import { readdirSync, readFileSync } from 'node:fs';
import type { Transporter } from 'nodemailer';
import { parseTemplate, renderTemplate, type ChannelTarget, type MessageTemplate } from '../domain/notifications';
import { createOutboundGuard, type OutboundGuard } from './outbound';
import { signatureHeader } from './signed-webhook';

export interface NotifierSettings {
  /** smtp://user:pass@host:port; without it e-mail targets are skipped (the in-app record stays). */
  smtpUrl?: string;
  mailFrom: string;
  /** Signs generic webhooks; without it they go unsigned. */
  webhookSecret?: string;
  /** Role → where that role's notifications go. */
  routes: Record<string, ChannelTarget[]>;
  /** Base of the links in messages (the task, the record). */
  publicUrl?: string;
}

/** What leaves Warden: the rendered text plus the facts a machine receiver wants. */
export interface OutboundMessage {
  deliveryId: string;
  notificationId: string;
  subject: { type: string; id: string };
  taskId: string | null;
  link: string;
  text: MessageTemplate;
}

export interface Notifier {
  /** Channels that can be used at all (e-mail needs WARDEN_SMTP_URL). */
  canUse(channel: ChannelTarget['channel']): boolean;
  routesFor(role: string): ChannelTarget[];
  render(templateName: string, values: Record<string, string>): MessageTemplate;
  /** Throws when the channel refused the message; the caller records it and retries. */
  deliver(target: ChannelTarget, message: OutboundMessage): Promise<void>;
  linkTo(path: string): string;
}

export const templatesFolder = new URL('../templates/notifications/', import.meta.url);

/** Every template in the folder, parsed once at start so a broken file fails the worker, not a send. */
export function loadTemplates(folder: URL = templatesFolder): Map<string, MessageTemplate> {
  const files = readdirSync(folder).filter((file) => file.endsWith('.txt'));
  return new Map(files.map((file) => [file.replace(/\.txt$/, ''), parseTemplate(file, readFileSync(new URL(file, folder), 'utf8'))]));
}

// A receiver that hangs must not hold the activity past its start-to-close timeout.
const sendTimeoutMs = 8_000;

/** Through the outbound guard: a webhook or Slack URL on a loopback, private or metadata address is refused (and not followed through redirects). */
async function post(outbound: OutboundGuard, url: string, body: string, headers: Record<string, string>): Promise<void> {
  const response = await outbound.request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    timeoutMs: sendTimeoutMs,
  });
  if (response.status < 200 || response.status >= 300) throw new Error(`HTTP ${response.status} from ${new URL(url).host}`);
}

export function createNotifier(
  settings: NotifierSettings,
  templates = loadTemplates(),
  outbound: OutboundGuard = createOutboundGuard(),
): Notifier {
  const { smtpUrl } = settings;
  // nodemailer (some forty modules) loads at the first e-mail, not at every worker's start.
  let mail: Promise<Transporter> | undefined;
  const mailTransport = (url: string) =>
    (mail ??= import('nodemailer').then(({ default: nodemailer }) =>
      nodemailer.createTransport({
        url,
        connectionTimeout: sendTimeoutMs,
        greetingTimeout: sendTimeoutMs,
        socketTimeout: sendTimeoutMs,
      }),
    ));
  const base = (settings.publicUrl ?? '').replace(/\/$/, '');
  return {
    canUse: (channel) => channel !== 'email' || smtpUrl !== undefined,
    routesFor: (role) => settings.routes[role] ?? [],
    linkTo: (path) => `${base}${path}`,
    render(templateName, values) {
      const template = templates.get(templateName);
      if (!template) throw new Error(`no notification template ${templateName} (have: ${[...templates.keys()].join(', ')})`);
      return renderTemplate(template, values);
    },
    async deliver(target, message) {
      switch (target.channel) {
        case 'email': {
          if (!smtpUrl) throw new Error('WARDEN_SMTP_URL is not set');
          // The delivery id as Message-ID lets a mail system drop a duplicate after a crash mid-send.
          await (await mailTransport(smtpUrl)).sendMail({
            from: settings.mailFrom,
            to: target.target,
            subject: message.text.subject,
            text: message.text.body,
            messageId: `<${message.deliveryId}@warden>`,
          });
          return;
        }
        case 'webhook': {
          const body = JSON.stringify({
            deliveryId: message.deliveryId,
            notificationId: message.notificationId,
            subject: message.subject,
            taskId: message.taskId,
            link: message.link,
            title: message.text.subject,
            text: message.text.body,
          });
          await post(outbound, target.target, body, {
            'x-warden-delivery': message.deliveryId,
            ...(settings.webhookSecret ? { 'x-warden-signature': signatureHeader(settings.webhookSecret, body) } : {}),
          });
          return;
        }
        case 'slack':
          await post(outbound, target.target, JSON.stringify({ text: `*${message.text.subject}*\n${message.text.body}` }), {});
          return;
      }
    },
  };
}
