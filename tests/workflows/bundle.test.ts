import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleWorkflowCode, type BundleOptions } from '@temporalio/worker';
import { workflowInterceptorModules, workflowsPath } from '../../worker';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const nodeModules = path.join(projectRoot, 'node_modules');

/** Folders of this project the workflow bundle may contain (see docs: workflows import only these). */
const projectFolders = ['workflows/', 'domain/'];

/**
 * The SDK's workflow package and its workflow-side tracing, and everything they depend on: what
 * the SDK itself puts in a bundle.
 */
function sdkPackages(): Set<string> {
  const packages = new Set<string>();
  const pending = ['@temporalio/workflow', '@temporalio/interceptors-opentelemetry'];
  for (let name = pending.pop(); name; name = pending.pop()) {
    if (packages.has(name)) continue;
    packages.add(name);
    const manifest = JSON.parse(readFileSync(path.join(nodeModules, name, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    pending.push(...Object.keys(manifest.dependencies ?? {}));
  }
  return packages;
}
const allowedPackages = sdkPackages();

const silent = { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} };

/** Pins module ids to the project root and lets files outside it resolve the project's packages. */
const bundle = (workflowFile: string, interceptorModules: string[] = []) =>
  bundleWorkflowCode({
    workflowsPath: workflowFile,
    workflowInterceptorModules: interceptorModules,
    logger: silent,
    webpackConfigHook: ((config) => ({
      ...config,
      context: projectRoot,
      resolve: { ...config.resolve, modules: [...(config.resolve?.modules ?? []), nodeModules] },
    })) satisfies BundleOptions['webpackConfigHook'],
  });

/** Webpack names each module it bundles by its path relative to the context; `?…` ids are modules aliased away. */
function bundledModules(code: string): string[] {
  return [...code.matchAll(/^\/\*\*\*\/ "([^"?][^"]*)"/gm)].map(([, id]) => id as string);
}

/** Modules neither from the SDK's own packages nor from the project folders workflows may use. */
function foreignModules(code: string): string[] {
  return bundledModules(code).filter((id) => {
    const packageName = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(id)?.[1];
    if (packageName) return !allowedPackages.has(packageName);
    const relative = path.relative(projectRoot, path.resolve(projectRoot, id)).split(path.sep).join('/');
    return !projectFolders.some((folder) => relative.startsWith(folder));
  });
}

describe('the workflow bundle', () => {
  it('contains only the SDK and the workflows and domain folders: no zod, pg, kysely, fastify or Node built-ins', async () => {
    // As workers bundle it: with the interceptors, whose tracing brings in OpenTelemetry's API and SDK.
    const { code } = await bundle(workflowsPath, workflowInterceptorModules);
    const modules = bundledModules(code);
    expect(modules).toEqual(
      expect.arrayContaining([
        './workflows/index.ts',
        './workflows/interceptors.ts',
        expect.stringContaining('node_modules/@temporalio/workflow/'),
        expect.stringContaining('node_modules/@temporalio/interceptors-opentelemetry/lib/workflow/'),
      ]),
    );
    expect(foreignModules(code)).toEqual([]);
    for (const banned of ['zod', 'pg', 'kysely', 'fastify', 'pino']) {
      expect(modules.filter((id) => id.includes(`node_modules/${banned}/`))).toEqual([]);
    }
  });
});

describe('the guard', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'warden-bundle-guard-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  const workflowImporting = (name: string, importLine: string, use: string) => {
    const file = path.join(scratch, `${name}.ts`);
    writeFileSync(file, `${importLine}\nexport async function ${name}Workflow(): Promise<string> {\n  return String(${use});\n}\n`);
    return file;
  };

  it('flags zod, which the SDK bundler accepts silently', async () => {
    const { code } = await bundle(workflowImporting('withZod', "import { z } from 'zod';", "z.string().parse('x')"));
    expect(foreignModules(code)).toEqual(expect.arrayContaining([expect.stringContaining('node_modules/zod/')]));
  });

  it('flags application code outside workflows/ and domain/, and what it drags in', async () => {
    const dbModule = path.join(projectRoot, 'db', 'pagination.ts');
    const { code } = await bundle(workflowImporting('withDb', `import { decodeCursor } from ${JSON.stringify(dbModule)};`, 'decodeCursor'));
    expect(foreignModules(code)).toEqual(expect.arrayContaining(['./db/pagination.ts', expect.stringContaining('node_modules/kysely/')]));
  });

  // What SDK 1.24 does with a Node built-in: it names a bare one as disallowed; a node: one never
  // gets that far, as webpack cannot read the node: scheme and fails the build first.
  it.each([
    ['fs', /disallowed modules:\s+- 'fs'/],
    ['node:fs', /Webpack finished with errors/],
  ])('is backed by the SDK refusing the Node built-in %s outright', async (specifier, refusal) => {
    const name = `with${specifier.replace(/\W/g, '')}`;
    await expect(bundle(workflowImporting(name, `import { readFileSync } from '${specifier}';`, 'readFileSync'))).rejects.toThrow(refusal);
  });
});
