import type { Actor, Role } from './roles';

/** The channels a notification leaves Warden through; in-app is the `notifications` table itself. */
export const notificationChannels = ['email', 'webhook', 'slack'] as const;
export type NotificationChannel = (typeof notificationChannels)[number];

export interface ChannelTarget {
  channel: NotificationChannel;
  /** An e-mail address, or the URL of a webhook / Slack-compatible incoming webhook. */
  target: string;
}

/** What a workflow asks to be told to people; the activity records it and delivers it. */
export interface NotificationRequest {
  /** Same key, same notification: a retried activity never notifies twice. */
  dedupKey: string;
  recipientRoles: Role[];
  recipients: string[];
  subject: { type: string; id: string };
  title: string;
  body: string;
  taskId?: string;
  /** Drills notify nobody outside: the notification is recorded as suppressed. */
  drill?: boolean;
  /** A file in templates/notifications/; defaults to `task` for a task, `notice` otherwise. */
  template?: string;
}

export interface NotificationResult {
  recorded: boolean;
  delivered: number;
  failed: number;
}

/**
 * Why `actor` may not set these channels for `principalId`, or undefined: anyone sets their own
 * e-mail; only an admin sets another principal's channels, or a webhook or Slack target at all.
 */
export function channelChangeRefusal(
  actor: Actor,
  principalId: string,
  channels: readonly { channel: NotificationChannel }[],
): string | undefined {
  const admin = actor.roles.includes('admin');
  if (principalId !== actor.principalId && !admin) return "only an admin may set another principal's channels";
  // The worker POSTs to webhook and Slack targets from inside the network: letting anyone name
  // one would let them aim Warden at internal addresses (SSRF). E-mail stays self-service.
  if (!admin && channels.some((c) => c.channel !== 'email')) return 'only an admin may set webhook or Slack targets';
  return undefined;
}

export type DeliveryStatus = 'pending' | 'sending' | 'delivered' | 'failed';

export interface MessageTemplate {
  subject: string;
  body: string;
}

const placeholder = /\{\{\s*(\w+)\s*\}\}/g;

/** A template file is a `Subject:` line, a blank line, then the body. */
export function parseTemplate(name: string, text: string): MessageTemplate {
  const [first = '', ...rest] = text.replace(/\r\n/g, '\n').split('\n');
  const subject = /^Subject:\s*(.+)$/.exec(first)?.[1];
  if (!subject) throw new Error(`notification template ${name} must start with a "Subject: …" line`);
  return { subject: subject.trim(), body: rest.join('\n').replace(/^\n+/, '') };
}

/** Fills `{{name}}` placeholders; an unknown placeholder is an error, never a silent blank. */
export function renderTemplate(template: MessageTemplate, values: Record<string, string>): MessageTemplate {
  const fill = (text: string) =>
    text.replace(placeholder, (_match, key: string) => {
      const value = values[key];
      if (value === undefined)
        throw new Error(`notification template uses {{${key}}}, which is not one of: ${Object.keys(values).join(', ')}`);
      return value;
    });
  return { subject: fill(template.subject), body: fill(template.body) };
}

/** Each (channel, target) once, keeping the first recipient it was resolved for. */
export function uniqueTargets<T extends ChannelTarget>(targets: readonly T[]): T[] {
  const seen = new Set<string>();
  return targets.filter((t) => {
    const key = `${t.channel} ${t.target}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
