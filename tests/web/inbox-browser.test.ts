import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { seedCi } from '../setup/fixtures';
import { eventually, startStack, type Stack } from '../setup/stack';

const chromiumPath = '/usr/bin/chromium';
const screenshots = path.resolve('test-results/inbox');
const launchArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let stack: Stack;
const tokens = {} as Record<'reporter' | 'analyst' | 'manager', string>;
const profiles: string[] = [];

beforeAll(async () => {
  if (!existsSync(chromiumPath) && process.getuid?.() === 0) execFileSync('apt-get', ['install', '-y', 'chromium'], { stdio: 'ignore' });
  if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: apt-get install -y chromium (as root)`);
  mkdirSync(screenshots, { recursive: true });
  stack = await startStack();
  tokens.reporter = await stack.token(['reporter'], 'rita');
  // Ana triages and also holds the manager role: the containment she proposes she may not approve.
  tokens.analyst = await stack.token(['security_analyst', 'security_manager'], 'ana');
  tokens.manager = await stack.token(['security_manager'], 'max');
}, 600_000);
afterAll(async () => {
  await stack?.close();
  for (const profile of profiles) rmSync(profile, { recursive: true, force: true });
});

/** A person's own browser: a fresh profile, so no cookie is shared between people. */
async function browserFor(token: string): Promise<{ context: BrowserContext; page: Page }> {
  const profile = mkdtempSync(path.join(tmpdir(), 'warden-chromium-'));
  profiles.push(profile);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    args: launchArgs,
    viewport: { width: 1280, height: 800 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${stack.baseUrl}/ui/tasks`);
  expect(page.url()).toContain('/ui/sign-in');
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/ui/tasks');
  return { context, page };
}

/** Reloads until the page shows a task card with `title`, as a person waiting for work would. */
function taskCard(page: Page, title: string) {
  return eventually(
    async () => {
      await page.reload();
      const card = page.locator('article.task', { hasText: title });
      return (await card.count()) === 1 && card;
    },
    20_000,
    `a task "${title}" on ${page.url()}`,
  );
}

it('lets the people in the process decide an incident in the browser', async () => {
  const { ciId } = await seedCi(stack.db, { level: 'very_high', owner: 'sam' });
  const reported = await stack.request('POST', '/incidents', {
    token: tokens.reporter,
    body: {
      title: 'Admin console reached from unknown network',
      description: 'VPN logs show it',
      category: 'unauthorised_access',
      affectedCis: [ciId],
      source: 'helpdesk',
    },
  });
  expect(reported.status).toBe(202);
  const incidentId: string = reported.body.id;
  const incidentUrl = `${stack.baseUrl}/ui/incidents/${incidentId}`;

  const analyst = await browserFor(tokens.analyst);
  const { page } = analyst;
  const acknowledge = await taskCard(page, 'Acknowledge critical incident');
  await expect(acknowledge.getByRole('link', { name: /Admin console reached/ }).getAttribute('href')).resolves.toBe(
    `/ui/incidents/${incidentId}`,
  );
  await page.screenshot({ path: path.join(screenshots, 'my-tasks.png') });
  await acknowledge.getByRole('button', { name: 'Acknowledged' }).click();
  await expect(page.getByRole('status').textContent()).resolves.toContain('Your decision was recorded.');

  const triage = await taskCard(page, 'Triage');
  await triage.getByLabel('Data (JSON)').fill('{"scope": "one service account"');
  await triage.getByRole('button', { name: 'Triaged' }).click();
  await expect(page.getByRole('alert').textContent()).resolves.toContain('Data is not valid JSON');
  await page.locator('article.task').getByLabel('Data (JSON)').fill('{"scope": "one service account"}');
  await page.locator('article.task').getByLabel('Comment').fill('VPN account only');
  await page.getByRole('button', { name: 'Triaged' }).click();
  await page.waitForURL('**/ui/tasks?notice=decided');

  // Ana proposed the containment: My tasks leaves it out, and deciding it anyway is refused with the reason.
  await page.goto(incidentUrl);
  const approval = await taskCard(page, 'Approve isolating the account');
  await page.screenshot({ path: path.join(screenshots, 'incident-awaiting-approval.png'), fullPage: true });
  const refusal = page.waitForResponse((response) => response.url().endsWith('/decision'));
  await approval.getByRole('button', { name: 'Approved' }).click();
  expect((await refusal).status()).toBe(403);
  await expect(page.getByRole('alert').textContent()).resolves.toMatch(/Your decision was refused: .*own request/);
  await page.screenshot({ path: path.join(screenshots, 'refused-self-approval.png') });
  await page.goto(`${stack.baseUrl}/ui/tasks`);
  expect(await page.locator('article.task', { hasText: 'Approve isolating the account' }).count()).toBe(0);
  await analyst.context.close();

  const manager = await browserFor(tokens.manager);
  const approve = await taskCard(manager.page, 'Approve isolating the account');
  await approve.getByLabel('Comment').fill('isolate it');
  await approve.getByRole('button', { name: 'Approved' }).click();
  await expect(manager.page.getByRole('status').textContent()).resolves.toContain('Your decision was recorded.');

  // The playbook moves on past containment: the incident's page shows the new state.
  const status = await eventually(
    async () => {
      await manager.page.goto(incidentUrl);
      const text = await manager.page.getByTestId('incident-status').textContent();
      return text === 'Eradication' && text;
    },
    20_000,
    'the incident to reach eradication',
  );
  expect(status).toBe('Eradication');
  const body = await manager.page.locator('main').textContent();
  expect(body).toContain('isolate-account');
  expect(body).toContain('Task decision refused');
  expect(body).toContain('max: Approved — “isolate it”');
  expect(body).toContain('ana: Triaged — “VPN account only”');
  await manager.page.screenshot({ path: path.join(screenshots, 'incident-eradication.png'), fullPage: true });

  await manager.page.goto(`${stack.baseUrl}/ui/incidents?severity=critical`);
  await expect(manager.page.getByRole('link', { name: /Admin console reached/ }).count()).resolves.toBe(1);
  await manager.page.screenshot({ path: path.join(screenshots, 'incidents.png') });

  // On a phone-sized screen the page still fits its width.
  await manager.page.setViewportSize({ width: 390, height: 844 });
  await manager.page.goto(incidentUrl);
  // A string: the test is type-checked without the DOM library.
  const overflow = await manager.page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
  expect(overflow).toBeLessThanOrEqual(0);
  await manager.page.screenshot({ path: path.join(screenshots, 'incident-phone.png') });
  await manager.context.close();

  const refusals = await stack.db
    .selectFrom('audit_events')
    .select(['actor', 'details'])
    .where('action', '=', 'task.decision_refused')
    .where('subject_id', '=', incidentId)
    .execute();
  expect(refusals).toMatchObject([{ actor: 'ana', details: { status: 403 } }]);
}, 180_000);
