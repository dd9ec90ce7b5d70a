import type { Logger } from 'pino';
import { activeTracing } from '../telemetry/index';

const shutdownSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
// What a shell reports for a process ended by Ctrl-C; used when a second signal cuts shutdown short.
const interruptedExitCode = 130;

interface Resource {
  name: string;
  close(): Promise<void>;
}

/**
 * What a long-running command holds open, and the order it lets go. Resources close in the reverse of
 * the order they were added, so adding them as they start (servers, pool, client, worker, API) closes
 * the API first — it stops accepting and drains — then the worker finishes its tasks while everything
 * it talks to is still up.
 */
export class Lifetime {
  private readonly resources: Resource[] = [];
  private closing: Promise<boolean> | undefined;

  constructor(private readonly logger: Logger) {}

  get isEnding(): boolean {
    return this.closing !== undefined;
  }

  /** The first SIGINT/SIGTERM/SIGHUP shuts down in order and exits 0; a second one exits at once. */
  handleSignals(): void {
    for (const signal of shutdownSignals) {
      process.on(signal, () => {
        if (this.closing) {
          this.logger.warn({ signal }, 'second signal: exiting without finishing shutdown');
          process.exit(interruptedExitCode);
        }
        void this.end(0, `received ${signal}`);
      });
    }
  }

  add(name: string, close: () => Promise<void>): void {
    this.resources.push({ name, close });
  }

  /**
   * Closes every resource, newest first, once however often it is asked; a resource that fails to
   * close is logged and skipped. Resolves to whether everything closed cleanly.
   */
  closeAll(): Promise<boolean> {
    this.closing ??= (async () => {
      let clean = true;
      for (let resource = this.resources.pop(); resource; resource = this.resources.pop()) {
        this.logger.info(`closing ${resource.name}`);
        try {
          await resource.close();
        } catch (error) {
          clean = false;
          this.logger.error({ err: error }, `closing ${resource.name} failed`);
        }
      }
      return clean;
    })();
    return this.closing;
  }

  /**
   * Shuts down and exits with `exitCode` (1 if anything failed to close). When a shutdown is already
   * under way, whoever started it decides the exit: a worker that stops because the shutdown stopped
   * it is no reason of its own.
   */
  end(exitCode: number, reason: string): Promise<never> {
    if (!this.closing) {
      this.logger.info({ reason }, 'shutting down');
      void this.closeAll().then((clean) => {
        this.logger.info('shutdown complete');
        process.exit(clean ? exitCode : 1);
      });
    }
    return new Promise<never>(() => {});
  }
}

/**
 * Runs a long-running command: `start` opens its resources into the lifetime, then the process runs
 * until a signal or a fatal error ends it. When start-up fails, what already started is closed before
 * the error reaches the caller; when a signal interrupted start-up, the error is its consequence and
 * the signal's shutdown decides the exit.
 */
export async function runUntilStopped(logger: Logger, start: (lifetime: Lifetime) => Promise<void>): Promise<never> {
  const lifetime = new Lifetime(logger);
  lifetime.handleSignals();
  // First in, so closed last: the spans of the shutdown itself are exported too.
  const tracing = activeTracing();
  if (tracing) lifetime.add('the trace exporter', tracing.shutdown);
  try {
    await start(lifetime);
  } catch (error) {
    if (lifetime.isEnding) return lifetime.end(0, 'start-up interrupted');
    await lifetime.closeAll();
    throw error;
  }
  return new Promise<never>(() => {});
}
