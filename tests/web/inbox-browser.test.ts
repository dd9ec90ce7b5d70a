import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureChromium, openBrowser, screenshotFolder, seriousAccessibilityViolations } from '../setup/browser';
import { seedCi } from '../setup/fixtures';
import { eventually, startStack, type Stack } from '../setup/stack';
import { linkPendingAudit } from '../../db/audit-linker';

const screenshots = screenshotFolder('inbox');

let stack: Stack;
const tokens = {} as Record<'reporter' | 'analyst' | 'manager', string>;
const browsers: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  ensureChromium();
  stack = await startStack();
  tokens.reporter = await stack.token(['reporter'], 'rita');
  // Ana triages and also holds the manager role: the containment she proposes she may not approve.
  tokens.analyst = await stack.token(['security_analyst', 'security_manager'], 'ana');
  tokens.manager = await stack.token(['security_manager'], 'max');
}, 600_000);
afterAll(async () => {
  await stack?.close();
  for (const browser of browsers) await browser.close().catch(() => {});
});

/** A person's own browser, signed in with their token. */
async function browserFor(token: string): Promise<{ context: BrowserContext; page: Page }> {
  const browser = await openBrowser();
  browsers.push(browser);
  const { page } = browser;
  await page.goto(`${stack.baseUrl}/ui/tasks`);
  expect(page.url()).toContain('/ui/sign-in');
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/ui/tasks');
  return browser;
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
  const { ciId } = await seedCi(stack.db, { level: 'very_high', owner: 'sam', name: 'Admin console' });
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
  expect(await seriousAccessibilityViolations(page)).toEqual([]);
  // The deadline reads as time left and counts down on the page, without a reload.
  const due = acknowledge.locator('.due');
  await expect(due.locator('.left').textContent()).resolves.toMatch(/^in \d+ min$/);
  await expect(due.locator('.visually-hidden').textContent()).resolves.toMatch(/^Due in \d+ minutes?\.$/);
  const clockPage = await analyst.context.newPage();
  await clockPage.clock.install();
  await clockPage.goto(`${stack.baseUrl}/ui/tasks`);
  await clockPage.clock.fastForward('02:00:00');
  const later = clockPage.locator('article.task', { hasText: 'Acknowledge critical incident' }).locator('.due');
  await expect(later.locator('.left').textContent()).resolves.toMatch(/^overdue by 1 h \d+ min$|^overdue by \d+ min$/);
  await expect(later.getAttribute('class')).resolves.toBe('due overdue');
  await clockPage.close();
  await acknowledge.getByRole('button', { name: 'Acknowledged' }).click();
  await expect(page.getByRole('status').textContent()).resolves.toContain('Your decision was recorded.');

  const triage = await taskCard(page, 'Triage');
  // The triage form is the task's declaration: a category, the affected CIs by name (the reported one
  // already ticked), and the scope; nobody types JSON.
  expect(await triage.getByLabel('Data (JSON)').count()).toBe(0);
  await expect(triage.getByRole('checkbox', { name: /^Admin console/ }).isChecked()).resolves.toBe(true);
  // The category stays (a new one would change the playbook the rest of this test follows).
  await triage.getByLabel('Category').selectOption('unauthorised_access');
  await triage.getByLabel('Scope').fill('one service account');
  await triage.getByLabel('Comment').fill('VPN account only');
  await page.screenshot({ path: path.join(screenshots, 'triage-form.png') });
  expect(await seriousAccessibilityViolations(page)).toEqual([]);
  await triage.getByRole('button', { name: 'Triaged' }).click();
  await page.waitForURL('**/ui/tasks?notice=decided');
  const triaged = await eventually(
    async () => {
      const row = await stack.db.selectFrom('incidents').select(['category', 'scope']).where('id', '=', incidentId).executeTakeFirst();
      return row?.scope === 'one service account' && row;
    },
    20_000,
    'the triage to reach the incident',
  );
  expect(triaged).toMatchObject({ category: 'unauthorised_access', scope: 'one service account' });

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

  // No responder carries the isolation out: a person does, and confirms it with evidence, typed into
  // the form the task declares. Without the evidence the confirmation is refused, naming the field.
  const unconfirmed = await taskCard(manager.page, 'Carry out and confirm "isolate-account"');
  const refusedConfirmation = manager.page.waitForResponse((response) => response.url().endsWith('/decision'));
  await unconfirmed.getByRole('button', { name: 'Confirmed' }).click();
  expect((await refusedConfirmation).status()).toBe(409);
  await expect(manager.page.getByRole('alert').textContent()).resolves.toMatch(/Your decision was refused: .*data\.evidence/);
  await manager.page.goto(`${stack.baseUrl}/ui/tasks`);
  const confirm = await taskCard(manager.page, 'Carry out and confirm "isolate-account"');
  await confirm.getByLabel(/^What was done, and how it was verified/).fill('Disabled the VPN account; the VPN log shows no session since.');
  await confirm.getByLabel(/^Links to the evidence/).fill('https://tickets.example/SEC-1\nhttps://logs.example/vpn?q=svc');
  expect(await seriousAccessibilityViolations(manager.page)).toEqual([]);
  await confirm.getByRole('button', { name: 'Confirmed' }).click();
  await expect(manager.page.getByRole('status').textContent()).resolves.toContain('Your decision was recorded.');
  const confirmed = await eventually(
    async () => {
      const row = await stack.db
        .selectFrom('incident_actions')
        .select(['evidence', 'confirmed_by'])
        .where('incident_id', '=', incidentId)
        .where('evidence', 'is not', null)
        .executeTakeFirst();
      return row;
    },
    20_000,
    'the confirmed containment with its evidence',
  );
  expect(confirmed).toEqual({
    evidence: {
      evidence: 'Disabled the VPN account; the VPN log shows no session since.',
      links: ['https://tickets.example/SEC-1', 'https://logs.example/vpn?q=svc'],
    },
    confirmed_by: 'max',
  });

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

  // Every page the manager may read: no serious or critical accessibility violation, at desk width.
  await manager.page.setViewportSize({ width: 1280, height: 800 });
  for (const page of [
    '/ui/tasks',
    '/ui/incidents',
    `/ui/incidents/${incidentId}`,
    '/ui/changes',
    '/ui/testing-schedule',
    '/ui/reviews',
    '/ui/audit',
  ]) {
    await manager.page.goto(stack.baseUrl + page);
    expect({ page, violations: await seriousAccessibilityViolations(manager.page) }).toEqual({ page, violations: [] });
    await manager.page.screenshot({
      path: path.join(screenshots, `axe-${page.split('/')[2]}${page.split('/')[3] ? '-detail' : ''}.png`),
      fullPage: true,
    });
  }
  // The check itself sees what it should: an image without text and an unlabelled field are caught.
  await manager.page.goto('about:blank');
  await manager.page.setContent('<!doctype html><html lang="en"><title>t</title><main><img src="x.png"><input></main></html>');
  expect((await seriousAccessibilityViolations(manager.page)).map((v) => v.id).sort()).toEqual(['image-alt', 'label']);
  await manager.context.close();

  await linkPendingAudit(stack.db);
  const refusals = await stack.db
    .selectFrom('audit_events')
    .select(['actor', 'details'])
    .where('action', '=', 'task.decision_refused')
    .where('subject_id', '=', incidentId)
    .orderBy('id')
    .execute();
  expect(refusals).toMatchObject([
    { actor: 'ana', details: { status: 403 } },
    { actor: 'max', details: { status: 409, kind: 'incident.containment-confirmation' } },
  ]);
}, 180_000);
