import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { configSchema } from '../../config';
import { parseAuditSigningKey } from '../../db/audit-checkpoints';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = mkdtempSync(path.join(tmpdir(), 'warden-audit-key-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !(key in configSchema.shape)));
const warden = (args: string[], env: Record<string, string> = {}) =>
  promisify(execFile)(process.execPath, ['bin/warden.js', ...args], {
    cwd: repoRoot,
    env: { ...inherited, WARDEN_DATA_DIR: dataDir, ...env },
  });

// Four runs of the CLI, each transpiling on start: minutes on a loaded machine, not seconds.
it('creates a key pair whose halves belong together, and prints the public half of a configured or local key', {
  timeout: 180_000,
}, async () => {
  const created = await warden(['audit-key', 'create']);
  const pair = Object.fromEntries(
    created.stdout
      .trim()
      .split('\n')
      .map((line) => line.split(/=(.*)/s).slice(0, 2)),
  );
  expect(Object.keys(pair)).toEqual(['WARDEN_AUDIT_SIGNING_KEY', 'WARDEN_AUDIT_VERIFY_KEY']);
  expect(parseAuditSigningKey(pair.WARDEN_AUDIT_SIGNING_KEY).publicKey).toBe(pair.WARDEN_AUDIT_VERIFY_KEY);

  const configured = await warden(['audit-key', 'public'], { WARDEN_AUDIT_SIGNING_KEY: pair.WARDEN_AUDIT_SIGNING_KEY });
  expect(configured.stdout.trim()).toBe(pair.WARDEN_AUDIT_VERIFY_KEY);

  await expect(warden(['audit-key', 'public'])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('audit-signing-key') });
  const local = parseAuditSigningKey(Buffer.alloc(32, 1).toString('base64'));
  writeFileSync(path.join(dataDir, 'audit-signing-key'), `${Buffer.alloc(32, 1).toString('base64')}\n`, { mode: 0o600 });
  expect((await warden(['audit-key', 'public'])).stdout.trim()).toBe(local.publicKey);
});
