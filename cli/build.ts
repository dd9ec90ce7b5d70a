import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';
import { bundleWorkflows } from '../worker';
import { prebuiltBundle, workflowSourceDigest } from './workflow-bundle';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

const programFolder = path.join(repoRoot, 'dist', 'program');

/**
 * What `warden build` writes. `bin/warden.js` runs `program` (which loads the chunks beside it as
 * each command needs them) when every input in `manifest` still has the digest it was built from,
 * and the TypeScript sources through tsx otherwise.
 */
export const productionBuild = {
  program: path.join(programFolder, 'warden.js'),
  manifest: path.join(repoRoot, 'dist', 'build.json'),
};

/**
 * Sources find their neighbours (playbooks, notification templates, inbox assets, package.json)
 * relative to their own `import.meta.url`. Inside the compiled program every module would share its
 * chunk's URL, so each module's `import.meta.url` is rewritten to the URL its source file has:
 * the program runs from the checkout it was built in, beside the files it reads.
 */
const sourceFileUrls: Plugin = {
  name: 'source-file-urls',
  setup(esbuild) {
    esbuild.onLoad({ filter: /\.ts$/ }, (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const fromProgram = path.relative(programFolder, args.path).split(path.sep).join('/');
      // The words appear here only as a pattern and as the matched text: the build compiles this
      // very file, and would rewrite them anywhere else.
      const contents = readFileSync(args.path, 'utf8').replaceAll(
        /\bimport\.meta\.url\b/g,
        (reference) => `new URL(${JSON.stringify(fromProgram)}, ${reference}).href`,
      );
      return { contents, loader: 'ts' };
    });
  },
};

/**
 * Packages compiled into the program rather than loaded from node_modules: ES module libraries of
 * many small files (kysely alone is some 300), which Node would resolve, read and link one by one at
 * every start of every process. zod goes with the one package that imports it too, so both see one
 * copy. Everything else stays in node_modules: CommonJS packages (an ES module program has no
 * require for their own imports), native code, worker-thread entry points and the Temporal SDK,
 * whose workflow bundle must share its copy.
 */
const compiledPackages = ['kysely', 'zod', 'fastify-type-provider-zod'];

const externalPackages: Plugin = {
  name: 'external-packages',
  setup(esbuild) {
    esbuild.onResolve({ filter: /^[^./]/ }, (args) => {
      const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0];
      return name && compiledPackages.includes(name) ? undefined : { path: args.path, external: true };
    });
  },
};

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Replaces a file in one step, so a process starting meanwhile reads the old or the new one whole. */
function writeAtomically(file: string, contents: string | Uint8Array) {
  writeFileSync(`${file}.tmp`, contents);
  renameSync(`${file}.tmp`, file);
}

/**
 * Compiles the `warden` command into one JavaScript file (packages stay in node_modules) and bundles
 * the workflows, so production processes start without transpiling or bundling anything.
 */
export async function buildForProduction(): Promise<{ programBytes: number; workflowBundleBytes: number }> {
  // Loaded here, not at the top: every other command starts without esbuild.
  const { build } = await import('esbuild');
  mkdirSync(programFolder, { recursive: true });
  const result = await build({
    entryPoints: { warden: path.join(repoRoot, 'cli', 'warden.ts') },
    bundle: true,
    // Every dynamic import() becomes a chunk loaded when a command reaches it; chunk names carry a
    // content hash, so a rebuild from the same sources rewrites the same files.
    splitting: true,
    chunkNames: '[name]-[hash]',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    metafile: true,
    // Input paths in the metafile, and so in the manifest, are relative to the checkout.
    absWorkingDir: repoRoot,
    write: false,
    outdir: programFolder,
    plugins: [externalPackages, sourceFileUrls],
    logLevel: 'warning',
  });
  let programBytes = 0;
  for (const file of result.outputFiles) {
    writeAtomically(file.path, file.contents);
    if (file.path.endsWith('.js')) programBytes += file.contents.byteLength;
  }
  // Chunks of an older build go only after the new ones are in place; a process of the same
  // build keeps finding its chunks, which have the same names.
  const outputs = new Set(result.outputFiles.map((file) => file.path));
  for (const file of readdirSync(programFolder)) {
    if (!outputs.has(path.join(programFolder, file))) rmSync(path.join(programFolder, file));
  }
  // Packages change only with the lockfile: its digest stands for every compiled package's files.
  const sources = Object.keys(result.metafile.inputs).filter((input) => !input.startsWith('node_modules/'));
  const inputs = Object.fromEntries([...sources, 'package-lock.json'].sort().map((input) => [input, sha256(path.join(repoRoot, input))]));
  writeAtomically(productionBuild.manifest, `${JSON.stringify({ builtAt: new Date().toISOString(), inputs }, null, 2)}\n`);

  const workflowBundle = await bundleWorkflows();
  writeAtomically(prebuiltBundle.code, workflowBundle);
  writeAtomically(
    prebuiltBundle.manifest,
    `${JSON.stringify({ sourceDigest: workflowSourceDigest(), builtAt: new Date().toISOString() })}\n`,
  );
  return { programBytes, workflowBundleBytes: workflowBundle.length };
}
