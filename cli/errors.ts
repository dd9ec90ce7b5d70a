/**
 * A failure the person at the terminal can act on: `warden` prints its message alone, without a
 * stack trace, and exits with `exitCode` (2 for usage mistakes, 1 otherwise).
 */
export class CliError extends Error {
  override name = 'CliError';

  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
