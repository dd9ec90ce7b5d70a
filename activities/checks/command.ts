import { execFile } from 'node:child_process';
import { CheckNotRunnable, type SecurityCheck } from './check';

const outputLimit = 4_096;
const tail = (text: string) => (text.length > outputLimit ? `…${text.slice(-outputLimit)}` : text);

/**
 * Runs a configured executable (no shell) and lets its exit code decide. Only when the operator
 * set WARDEN_COMMAND_CHECKS_ENABLED: whoever may write controls could otherwise run programs on
 * the worker host.
 */
export const command: SecurityCheck<'command'> = {
  type: 'command',
  async run(params, context) {
    if (!context.commandChecksEnabled) {
      throw new CheckNotRunnable('command checks are disabled on this worker (set WARDEN_COMMAND_CHECKS_ENABLED=true to allow them)');
    }
    const started = Date.now();
    const { exitCode, signal, stdout, stderr, spawnError } = await new Promise<{
      exitCode: number | null;
      signal: string | null;
      stdout: string;
      stderr: string;
      spawnError?: string;
    }>((resolve) => {
      execFile(
        params.executable,
        params.args,
        { cwd: params.cwd, timeout: params.timeoutMs, maxBuffer: 1_048_576, windowsHide: true },
        (error, stdout, stderr) => {
          const failure = error as (NodeJS.ErrnoException & { code?: number | string; signal?: string }) | null;
          const spawnError = typeof failure?.code === 'string' ? failure.code : undefined;
          resolve({
            exitCode: failure ? (typeof failure.code === 'number' ? failure.code : null) : 0,
            signal: failure?.signal ?? null,
            stdout: String(stdout),
            stderr: String(stderr),
            spawnError,
          });
        },
      );
    });
    if (spawnError === 'ENOENT' || spawnError === 'EACCES') throw new CheckNotRunnable(`cannot run ${params.executable}: ${spawnError}`);
    const passed = exitCode !== null && params.passExitCodes.includes(exitCode);
    const outcome = exitCode !== null ? `exited with ${exitCode}` : `was stopped (${signal ?? spawnError ?? 'unknown reason'})`;
    return {
      passed,
      summary: `${params.executable} ${outcome}${passed ? '' : `, expected ${params.passExitCodes.join(' or ')}`}`,
      evidence: {
        executable: params.executable,
        args: params.args,
        exitCode,
        signal,
        durationMs: Date.now() - started,
        stdout: tail(stdout),
        stderr: tail(stderr),
      },
    };
  },
};
