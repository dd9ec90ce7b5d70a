import pino, { type Logger } from 'pino';

/** JSON logs for machines; pretty ones when a person watches a terminal. */
export function createLogger(level: string, name = 'warden'): Logger {
  return pino({
    name,
    level,
    redact: ['req.headers.authorization', 'req.headers.cookie'],
    // ISO 8601 in UTC rather than epoch milliseconds: readable, and parsed by every log pipeline.
    timestamp: pino.stdTimeFunctions.isoTime,
    ...(process.stdout.isTTY ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss' } } } : {}),
  });
}
