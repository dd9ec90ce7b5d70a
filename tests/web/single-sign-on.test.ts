import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureChromium, openBrowser, screenshotFolder, seriousAccessibilityViolations } from '../setup/browser';
import { startIdentityProvider, type IdentityProvider } from '../setup/oidc-provider';
import { startStack, type Stack } from '../setup/stack';
import { linkPendingAudit } from '../../db/audit-linker';

let stack: Stack;
let identityProvider: IdentityProvider;
const screenshots = screenshotFolder('single-sign-on');

beforeAll(async () => {
  ensureChromium();
  identityProvider = await startIdentityProvider({
    'u-1001': { name: 'Ines Analyst', email: 'ines@example.org', groups: ['soc', 'staff'] },
    'u-1002': { name: 'Otto Outsider', email: 'otto@example.org', groups: ['staff'] },
  });
  stack = await startStack({
    worker: false,
    env: {
      WARDEN_OIDC_ISSUER: identityProvider.issuer,
      WARDEN_OIDC_CLIENT_ID: identityProvider.clientId,
      WARDEN_OIDC_CLIENT_SECRET: identityProvider.clientSecret,
      WARDEN_OIDC_ROLE_MAP: 'soc=security_analyst,soc-leads=security_manager',
    },
  });
  identityProvider.register(stack.baseUrl);
}, 120_000);
afterAll(async () => {
  await stack?.close();
  await identityProvider?.close();
});

/** Through the provider's own login and consent pages, as the person would. */
async function signInAtProvider(page: Page, login: string) {
  await page.goto(`${stack.baseUrl}/ui/tasks`);
  await page.getByRole('link', { name: 'Sign in with your organisation account' }).click();
  await completeAtProvider(page, login);
}

/** The provider's development login (any password) and consent pages. */
async function completeAtProvider(page: Page, login: string) {
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.locator('button[type="submit"]').click();
  await page.getByRole('button', { name: 'Continue' }).click();
}

it('signs a person in through the identity provider, with a role from a group claim, and signs them out', async () => {
  const browser = await openBrowser();
  const { page } = browser;
  await page.goto(`${stack.baseUrl}/ui/sign-in`);
  expect(await seriousAccessibilityViolations(page)).toEqual([]);
  await page.screenshot({ path: path.join(screenshots, 'sign-in.png') });

  await signInAtProvider(page, 'u-1001');
  await page.waitForURL('**/ui/tasks');
  // The principal is the provider's subject; the name comes from its claims, the role from the `soc` group.
  await expect(page.locator('header .who').textContent()).resolves.toMatch(/Ines Analyst\s*security_analyst/);
  await page.screenshot({ path: path.join(screenshots, 'signed-in.png') });
  const principal = await stack.db.selectFrom('principals').selectAll().where('id', '=', 'oidc:u-1001').executeTakeFirstOrThrow();
  expect(principal).toMatchObject({ display_name: 'Ines Analyst', email: 'ines@example.org' });
  const session = await stack.db.selectFrom('web_sessions').selectAll().where('principal_id', '=', 'oidc:u-1001').executeTakeFirstOrThrow();
  expect(session).toMatchObject({
    roles: ['security_analyst'],
    identity_provider: identityProvider.issuer,
    token_id: null,
    revoked_at: null,
  });
  // A role-gated page the analyst role admits.
  const incidents = await page.goto(`${stack.baseUrl}/ui/incidents`);
  expect(incidents?.status()).toBe(200);

  const cookiesBefore = await browser.context.cookies(stack.baseUrl);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL('**/ui/sign-in');
  const ended = await stack.db.selectFrom('web_sessions').select('revoked_at').where('id', '=', session.id).executeTakeFirstOrThrow();
  expect(ended.revoked_at).not.toBeNull();
  // The old cookie, replayed, no longer signs anyone in.
  const replayed = await fetch(`${stack.baseUrl}/ui/tasks`, {
    redirect: 'manual',
    headers: { cookie: cookiesBefore.map((cookie) => `${cookie.name}=${cookie.value}`).join('; ') },
  });
  expect(replayed.status).toBe(303);
  expect(replayed.headers.get('location')).toContain('/ui/sign-in');
  await browser.close();
}, 120_000);

it('refuses a sign-in whose state was tampered with on the way, and audits it', async () => {
  const browser = await openBrowser();
  const { page } = browser;
  // The browser is sent to the provider with a state of Warden's; an attacker swaps it for one of theirs.
  const authorizationEndpoint = `${identityProvider.issuer}/auth?`;
  await page.goto(`${stack.baseUrl}/ui/sign-in`);
  const authorization = page.waitForRequest((request) => request.url().startsWith(authorizationEndpoint));
  await page.getByRole('link', { name: 'Sign in with your organisation account' }).click();
  const tampered = new URL((await authorization).url());
  expect(tampered.searchParams.get('code_challenge_method')).toBe('S256');
  tampered.searchParams.set('state', 'attacker-chosen-state');
  await page.goto(tampered.href);
  await completeAtProvider(page, 'u-1001');
  await page.waitForURL('**/ui/sign-in/oidc/callback?**');
  await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Sign-in refused');
  expect(await page.locator('header .who').count()).toBe(0);
  await page.screenshot({ path: path.join(screenshots, 'tampered-state.png') });
  await linkPendingAudit(stack.db);
  const refusals = await stack.db.selectFrom('audit_events').select('details').where('action', '=', 'session.sign_in_refused').execute();
  expect(refusals.map((event) => event.details)).toContainEqual(expect.objectContaining({ reason: expect.stringMatching(/"state"/) }));
  await browser.close();
}, 120_000);

it('refuses a person whose groups map to no Warden role', async () => {
  const browser = await openBrowser();
  const { page } = browser;
  await signInAtProvider(page, 'u-1002');
  await page.waitForURL('**/ui/sign-in/oidc/callback?**');
  await expect(page.locator('main').textContent()).resolves.toContain('Your account has no Warden role');
  expect(await stack.db.selectFrom('web_sessions').select('id').where('principal_id', '=', 'oidc:u-1002').execute()).toEqual([]);
  await browser.close();
}, 120_000);
