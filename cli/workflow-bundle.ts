import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** Where `warden build` writes the workflow bundle, and the record of the sources it was built from. */
export const prebuiltBundle = {
  code: path.join(repoRoot, 'dist', 'workflow-bundle.js'),
  manifest: path.join(repoRoot, 'dist', 'workflow-bundle.json'),
};

// What the bundle is made of: the workflow code, the contracts it imports, the SDK's workflow runtime
// and its workflow-side tracing (workflows/interceptors.ts) with the OpenTelemetry packages that
// brings in; a package by its manifest, which names its version.
const sourceFolders = ['workflows', 'domain'];
const bundledPackages = [
  '@temporalio/workflow',
  '@temporalio/interceptors-opentelemetry',
  '@opentelemetry/api',
  '@opentelemetry/core',
  '@opentelemetry/sdk-trace-base',
];
const sdkManifests = bundledPackages.map((name) => path.join(repoRoot, 'node_modules', name, 'package.json'));

function filesUnder(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

/**
 * A digest of everything the workflow bundle is built from. A bundle whose digest differs from the
 * sources' is stale: running it would serve workflows code other than the checkout's, so a worker
 * rebuilds instead (and says so) rather than trust it.
 */
export function workflowSourceDigest(): string {
  const hash = createHash('sha256');
  for (const file of [...sourceFolders.flatMap((folder) => filesUnder(path.join(repoRoot, folder))), ...sdkManifests]) {
    hash.update(path.relative(repoRoot, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

/** The prebuilt bundle when it was built from exactly these sources; otherwise why not. */
export function usablePrebuiltBundle(): { path: string } | { reason: string } {
  if (!existsSync(prebuiltBundle.code) || !existsSync(prebuiltBundle.manifest))
    return { reason: 'no prebuilt bundle (`warden build` makes one)' };
  const { sourceDigest } = JSON.parse(readFileSync(prebuiltBundle.manifest, 'utf8')) as { sourceDigest?: string };
  if (sourceDigest !== workflowSourceDigest())
    return { reason: 'the prebuilt bundle is stale: the workflow sources changed since `warden build`' };
  return { path: prebuiltBundle.code };
}
