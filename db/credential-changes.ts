import pg from 'pg';
import type { Logger } from 'pino';

/** The channel the credential tables' triggers notify on every change (migration i21-credential-changes). */
const channel = 'warden_credentials';
const reconnectDelaysMs = [250, 1_000, 5_000];

export interface CredentialChangeEvents {
  /** A token, session or principal changed somewhere: what was cached about them may be wrong. */
  changed(): void;
  /** Listening (again): changes from now on will be heard. */
  listening(): void;
  /** The connection is gone: changes may pass unheard until `listening` comes again. */
  deaf(): void;
}

export interface CredentialChangeListener {
  close(): Promise<void>;
}

/**
 * Listens for credential changes on a connection of its own (LISTEN holds its connection; a pooled
 * one would go back to the pool deaf) and keeps reconnecting until closed, reporting each loss so a
 * cache stops trusting itself while notices could be missed.
 */
export function listenForCredentialChanges(
  connectionString: string,
  events: CredentialChangeEvents,
  logger?: Pick<Logger, 'warn'>,
): CredentialChangeListener {
  let closed = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  let attempt = 0;

  const lost = (error: unknown) => {
    events.deaf();
    const current = client;
    client = undefined;
    current?.removeAllListeners();
    current?.on('error', () => {});
    void current?.end().catch(() => {});
    if (closed) return;
    const delay = reconnectDelaysMs[Math.min(attempt, reconnectDelaysMs.length - 1)] as number;
    attempt += 1;
    logger?.warn({ err: error }, `not listening for credential changes; the credential cache is off until it reconnects in ${delay} ms`);
    retry = setTimeout(connect, delay);
  };

  const connect = () => {
    const next = new pg.Client({ connectionString });
    client = next;
    next.on('error', lost);
    next.on('end', () => {
      if (client === next) lost(new Error('the listening connection ended'));
    });
    next.on('notification', (message) => {
      if (message.channel === channel) events.changed();
    });
    next
      .connect()
      .then(() => next.query(`listen ${channel}`))
      .then(
        () => {
          if (client !== next) return;
          attempt = 0;
          events.listening();
        },
        (error: unknown) => {
          if (client === next) lost(error);
        },
      );
  };

  connect();
  return {
    async close() {
      closed = true;
      clearTimeout(retry);
      const current = client;
      client = undefined;
      events.deaf();
      await current?.end().catch(() => {});
    },
  };
}
