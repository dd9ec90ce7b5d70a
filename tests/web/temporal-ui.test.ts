import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { freePort } from '../../cli/embedded-postgres';
import { requireTemporalCli } from '../../cli/temporal-cli';
import { configSchema } from '../../config';
import { createDb } from '../../db/create-db';
import { createToken } from '../../db/tokens';
import { seedCi } from '../setup/fixtures';
import { createDatabase, databaseUrl, dropDatabase } from '../setup/postgres';
import { ensureChromium, openBrowser, screenshotFolder } from '../setup/browser';
import { eventually } from '../setup/stack';

// The local run's Temporal UI, as an operator opens it: through Warden at /ui/temporal/ behind the
// inbox session, the UI's codec calls are same-origin, carry the session and come back decoded;
// opened directly (another origin, no session), the same history stays ciphertext.

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = mkdtempSync(path.join(tmpdir(), 'warden-temporal-ui-'));
const adminToken = `wdn_ui_${randomBytes(16).toString('hex')}`;
const database = `${inject('databasePrefix')}temporal_ui`;
const title = `Badge database copied to a USB stick ${randomBytes(3).toString('hex')}`;

let warden: ChildProcess;
let output = '';
let api = '';
let historyPath = '';
let directUi = '';
let auditorToken = '';
let reporterToken = '';
const screenshots = screenshotFolder('temporal-ui');

beforeAll(async () => {
  ensureChromium();
  const adminUrl = inject('postgresAdminUrl');
  await createDatabase(adminUrl, database, inject('templateDatabase'));
  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  // None of the test run's own Warden settings may leak into the child.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !(key in configSchema.shape)));
  warden = spawn(process.execPath, ['bin/warden.js', 'start'], {
    cwd: repoRoot,
    env: {
      ...inherited,
      WARDEN_DATA_DIR: dataDir,
      PORT: String(port),
      DATABASE_URL: databaseUrl(adminUrl, database),
      WARDEN_ADMIN_TOKEN: adminToken,
      TEMPORAL_CLI: await requireTemporalCli(() => {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [warden.stdout, warden.stderr]) stream?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await eventually(
    () =>
      fetch(`${api}/readyz`).then(
        (r) => r.ok,
        () => false,
      ),
    120_000,
    `warden start to be ready:\n${output}`,
  );
  // The banner comes last, once the API listens.
  await eventually(async () => output.includes(`Temporal UI   ${api}/ui/temporal/`), 30_000, 'the banner naming the Temporal UI');

  const { db, close } = createDb(databaseUrl(adminUrl, database));
  try {
    const { ciId } = await seedCi(db, { level: 'high' });
    auditorToken = (await createToken(db, { name: 'ursula-auditor', roles: ['auditor'] }, 'test')).token;
    reporterToken = (await createToken(db, { name: 'rita-reporter', roles: ['reporter'] }, 'test')).token;
    const reported = await fetch(`${api}/incidents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${reporterToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        title,
        description: 'noticed at the front desk',
        category: 'data_leak',
        affectedCis: [ciId],
        source: 'helpdesk',
      }),
    });
    expect(reported.status).toBe(202);
    const { workflowId } = (await reported.json()) as { workflowId: string };
    const local = JSON.parse(readFileSync(path.join(dataDir, 'local.json'), 'utf8')) as { temporalPort: number; temporalUiPort: number };
    const connection = await Connection.connect({ address: `127.0.0.1:${local.temporalPort}` });
    // Raw: describing through a client would decode the memo, which only the codec's keys can.
    const described = await connection.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId } });
    const runId = described.workflowExecutionInfo?.execution?.runId;
    await connection.close();
    historyPath = `/ui/temporal/namespaces/default/workflows/${encodeURIComponent(workflowId)}/${runId}/history`;
    directUi = `http://127.0.0.1:${local.temporalUiPort}`;
  } finally {
    await close();
  }
}, 180_000);

afterAll(async () => {
  if (warden && warden.exitCode === null) {
    warden.kill('SIGINT');
    await new Promise((resolve) => warden.once('exit', resolve));
  }
  await dropDatabase(inject('postgresAdminUrl'), database);
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

async function signIn(page: Page, token: string) {
  await page.goto(`${api}/ui/sign-in`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/ui/tasks');
}

it('shows the incident decoded in the Temporal UI to a signed-in auditor, through Warden', async () => {
  const { page, close } = await openBrowser();
  try {
    await page.goto(`${api}${historyPath}`);
    expect(page.url()).toContain('/ui/sign-in');
    await signIn(page, auditorToken);
    await page.goto(`${api}${historyPath}`);
    await expect.poll(() => page.getByText(title).count(), { timeout: 45_000 }).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(screenshots, 'decoded-through-warden.png'), fullPage: true });
  } finally {
    await close();
  }
  // The decoding was the auditor's, on record.
  const audit = await fetch(`${api}/audit?action=codec.decoded&limit=5`, { headers: { authorization: `Bearer ${adminToken}` } });
  expect(JSON.stringify(await audit.json())).toContain('ursula-auditor');
}, 120_000);

it('keeps the UI from people who may not read payloads, and read-only for those who may', async () => {
  const { page, close } = await openBrowser();
  try {
    await signIn(page, reporterToken);
    const refused = await page.goto(`${api}${historyPath}`);
    expect(refused?.status()).toBe(403);
    expect(await page.getByText(title).count()).toBe(0);
  } finally {
    await close();
  }
  const write = await fetch(`${api}/ui/temporal/api/v1/namespaces/default/workflows/x/terminate`, { method: 'POST' });
  expect([401, 404, 405]).toContain(write.status);
});

it('shows only ciphertext to someone who opens the UI directly, without a Warden session', async () => {
  const { page, close } = await openBrowser();
  try {
    await page.goto(`${directUi}${historyPath}`);
    // The history renders, but the codec endpoint refuses a browser without a session: the input
    // stays as its encrypted payload, encoding `binary/encrypted` (base64, as the UI prints it).
    await expect.poll(() => page.getByText('Codec Server could not connect').count(), { timeout: 45_000 }).toBeGreaterThan(0);
    await expect
      .poll(() => page.getByText(Buffer.from('binary/encrypted').toString('base64')).count(), { timeout: 45_000 })
      .toBeGreaterThan(0);
    expect(await page.getByText(title).count()).toBe(0);
    await page.screenshot({ path: path.join(screenshots, 'ciphertext-directly.png'), fullPage: true });
  } finally {
    await close();
  }
}, 120_000);
