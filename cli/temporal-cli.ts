import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { homedir, platform } from 'node:os';
import path from 'node:path';
import { CliError } from './errors';

// Later tags carry a `replace` directive in go.mod, which `go install pkg@version` refuses.
export const temporalCliVersion = 'v1.5.1';
const goPackage = `github.com/temporalio/cli/cmd/temporal@${temporalCliVersion}`;

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_CACHE_HOME) return env.XDG_CACHE_HOME;
  if (platform() === 'darwin') return path.join(homedir(), 'Library', 'Caches');
  if (platform() === 'win32') return env.LOCALAPPDATA ?? path.join(homedir(), 'AppData', 'Local');
  return path.join(homedir(), '.cache');
}

const executableName = platform() === 'win32' ? 'temporal.exe' : 'temporal';

export function cachedTemporalCliPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheRoot(env), 'warden', `temporal-cli-${temporalCliVersion}`, executableName);
}

export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  return (env.PATH ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, name))
    .find(isExecutable);
}

export type TemporalCliSource = 'TEMPORAL_CLI' | 'PATH' | 'cache' | 'built';

/**
 * Finds the Temporal CLI: $TEMPORAL_CLI, then `temporal` on PATH, then Warden's cached build,
 * else builds it with `go install` into the cache (minutes, once). Returns undefined only when
 * there is no CLI and no Go to build one; callers may then let the SDK download a dev server.
 */
export async function resolveTemporalCli(
  log: (message: string) => void = (m) => process.stderr.write(`${m}\n`),
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ path: string; source: TemporalCliSource } | undefined> {
  if (env.TEMPORAL_CLI) {
    if (!isExecutable(env.TEMPORAL_CLI)) throw new Error(`TEMPORAL_CLI=${env.TEMPORAL_CLI} is not an executable file`);
    return { path: env.TEMPORAL_CLI, source: 'TEMPORAL_CLI' };
  }
  const fromPath = onPath(executableName, env);
  if (fromPath) return { path: fromPath, source: 'PATH' };
  const cached = cachedTemporalCliPath(env);
  if (isExecutable(cached)) return { path: cached, source: 'cache' };
  if (!findGo(env)) return undefined;
  const gobin = path.dirname(cached);
  log(`warden: building the Temporal CLI ${temporalCliVersion} with go install into ${gobin} (a few minutes, once)…`);
  await goInstall([goPackage], gobin, env);
  log(`warden: Temporal CLI ready at ${cached}`);
  return { path: cached, source: 'built' };
}

/** The Go toolchain on PATH or where its installer puts it. */
export function findGo(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return onPath(platform() === 'win32' ? 'go.exe' : 'go', env) ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
}

/** `go install` of `packages` into `gobin`; false when there is no Go to build with. */
export async function goInstall(packages: string[], gobin: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const go = findGo(env);
  if (!go) return false;
  mkdirSync(gobin, { recursive: true });
  await new Promise<void>((resolve, reject) => {
    const child = spawn(go, ['install', '-v', ...packages], {
      env: { ...env, GOBIN: gobin, GOFLAGS: '-mod=mod' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`go install ${packages.join(' ')} exited with ${code}`))));
  });
  return true;
}

/** resolveTemporalCli, failing with what to do when there is no CLI and no Go to build one. */
export async function requireTemporalCli(log: (message: string) => void, alternative = ''): Promise<string> {
  const cli = await resolveTemporalCli(log);
  if (!cli) {
    throw new CliError(
      'no Temporal CLI found and no Go to build one: set TEMPORAL_CLI to a `temporal` executable, put `temporal` on PATH, ' +
        `or install Go (https://go.dev/dl/) so Warden can build it${alternative}`,
    );
  }
  return cli.path;
}
