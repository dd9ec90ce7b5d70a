import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const chromiumPath = '/usr/bin/chromium';
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

/** Where screenshots are kept as test artefacts (gitignored), one folder per test file. */
export function screenshotFolder(name: string): string {
  const folder = path.resolve('test-results', name);
  mkdirSync(folder, { recursive: true });
  return folder;
}

/** Debian's Chromium, installed when missing and the tests run as root (CI). */
export function ensureChromium(): void {
  if (!existsSync(chromiumPath) && process.getuid?.() === 0) execFileSync('apt-get', ['install', '-y', 'chromium'], { stdio: 'ignore' });
  if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: apt-get install -y chromium (as root)`);
}

/** A person's own browser: a fresh profile, so no cookie is shared between people. Close it with `close()`. */
export async function openBrowser(): Promise<{ context: BrowserContext; page: Page; close(): Promise<void> }> {
  const profile = mkdtempSync(path.join(tmpdir(), 'warden-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    args: launchArgs,
    viewport: { width: 1280, height: 800 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A person's own browser, signed in with their API token on the inbox at `baseUrl` (on My tasks). */
export async function signedInBrowser(baseUrl: string, token: string): Promise<Awaited<ReturnType<typeof openBrowser>>> {
  const browser = await openBrowser();
  await browser.page.goto(`${baseUrl}/ui/sign-in`);
  await browser.page.getByLabel('API token').fill(token);
  await browser.page.getByRole('button', { name: 'Sign in' }).click();
  await browser.page.waitForURL('**/ui/tasks');
  return browser;
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** The page's serious and critical accessibility violations by axe-core (WCAG 2.x A and AA), injected into the page. */
export async function seriousAccessibilityViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated, not a script tag: the inbox's Content-Security-Policy refuses inline scripts, rightly.
  await page.evaluate(axeSource);
  // A string: the tests are type-checked without the DOM library.
  const violations = await page.evaluate<AxeViolation[]>(
    `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) })))`,
  );
  return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
}
