#!/usr/bin/env node
// `warden build` compiles the command into dist/warden.js and records the digest of every source it
// was built from. Production runs that program; a checkout without a build, or whose sources changed
// since, runs the TypeScript sources through tsx, so development needs no build step to forget.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const root = new URL('../', import.meta.url);

/** Why dist/warden.js cannot be run for these sources, or undefined when it can. */
function staleBuild() {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(new URL('dist/build.json', root), 'utf8'));
  } catch {
    return 'no build';
  }
  for (const [source, digest] of Object.entries(manifest.inputs)) {
    let contents;
    try {
      contents = readFileSync(new URL(source, root));
    } catch {
      return `${source} is gone`;
    }
    if (createHash('sha256').update(contents).digest('hex') !== digest) return `${source} changed`;
  }
  return undefined;
}

const stale = staleBuild();
if (stale === undefined) {
  // Source maps stay off: parsing them for every loaded module costs a worker a quarter of its
  // start. NODE_OPTIONS=--enable-source-maps turns them on for TypeScript lines in stack traces.
  await import('../dist/program/warden.js');
} else {
  if (stale !== 'no build')
    process.stderr.write(`warden: dist/ is stale (${stale} since \`warden build\`): running the sources through tsx\n`);
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/warden.ts');
}
