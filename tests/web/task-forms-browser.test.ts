import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureChromium, screenshotFolder, seriousAccessibilityViolations, signedInBrowser } from '../setup/browser';
import { decide, incidentWhen, openTask, seedCi } from '../setup/fixtures';
import { eventually, startStack, type Stack } from '../setup/stack';

// The task forms people fill in instead of JSON (domain/task-forms.ts), each submitted in the browser:
// the decision reaches the workflow, and the page shows what it did.

const screenshots = screenshotFolder('task-forms');

let stack: Stack;
const tokens = {} as Record<'manager' | 'analyst' | 'tester' | 'olga' | 'reporter' | 'auditor', string>;
const browsers: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  ensureChromium();
  stack = await startStack();
  tokens.manager = await stack.token(['security_manager'], 'max');
  tokens.analyst = await stack.token(['security_analyst'], 'ana');
  tokens.tester = await stack.token(['tester'], 'tess');
  tokens.olga = await stack.token(['service_owner'], 'olga');
  tokens.reporter = await stack.token(['reporter'], 'rita');
  tokens.auditor = await stack.token(['auditor'], 'audrey');
}, 600_000);
afterAll(async () => {
  for (const browser of browsers) await browser.close().catch(() => {});
  await stack?.close();
});

async function browserFor(token: string): Promise<Page> {
  const browser = await signedInBrowser(stack.baseUrl, token);
  browsers.push(browser);
  return browser.page;
}

/** The task's card on `pagePath`, reloading until the workflow has opened it. */
function taskCard(page: Page, pagePath: string, title: string | RegExp): Promise<Locator> {
  return eventually(
    async () => {
      await page.goto(stack.baseUrl + pagePath);
      const card = page.locator('article.task', { hasText: title });
      return (await card.count()) === 1 && card;
    },
    30_000,
    `a task "${title}" on ${pagePath}`,
  );
}

/** Submits the card's form with `outcome` and waits for the page to say the decision was recorded. */
async function submit(page: Page, card: Locator, outcome: string, screenshot: string) {
  expect(await card.getByLabel('Data (JSON)').count()).toBe(0);
  expect(await seriousAccessibilityViolations(page)).toEqual([]);
  await page.screenshot({ path: path.join(screenshots, `${screenshot}.png`), fullPage: true });
  await card.getByRole('button', { name: outcome, exact: true }).click();
  await expect(page.getByRole('status').textContent()).resolves.toContain('Your decision was recorded.');
}

describe('task forms in the browser', () => {
  it('takes a tester’s evidence links and notes for a manual security test', async () => {
    const created = await stack.request('POST', '/controls', {
      token: tokens.manager,
      body: {
        name: `Visitor badge check ${Date.now()}`,
        owner: 'olga',
        kind: 'organisational',
        process: 'security',
        procedure: { type: 'manual', instructions: 'Try a visitor badge on the server room door.', deadline: '1h' },
      },
    });
    expect(created.status).toBe(201);
    expect((await stack.request('POST', `/controls/${created.body.id}/runs`, { token: tokens.tester })).status).toBe(202);

    const page = await browserFor(tokens.tester);
    const card = await taskCard(page, '/ui/tasks', /Test the control "Visitor badge check/);
    await card.getByLabel(/^Evidence links/).fill('https://tickets.example/SEC-7\nhttps://photos.example/door.jpg');
    await card.getByLabel('Comment').fill('The door stayed shut for the visitor badge.');
    await submit(page, card, 'Passed', 'tester-evidence');

    const run = await eventually(
      async () =>
        stack.db
          .selectFrom('test_runs')
          .select(['id', 'result', 'evidence', 'notes', 'tested_by'])
          .where('control_id', '=', created.body.id)
          .where('result', 'is not', null)
          .executeTakeFirst(),
      20_000,
      'the test report',
    );
    expect(run).toMatchObject({
      result: 'passed',
      evidence: { evidence: ['https://tickets.example/SEC-7', 'https://photos.example/door.jpg'] },
      notes: 'The door stayed shut for the visitor badge.',
      tested_by: 'tess',
    });
    await page.goto(`${stack.baseUrl}/ui/test-runs/${run.id}`);
    await expect(page.getByTestId('test-run-status').textContent()).resolves.toBe('Finished');
    await expect(page.getByRole('link', { name: 'https://tickets.example/SEC-7' }).count()).resolves.toBe(1);
  }, 120_000);

  it('takes an owner’s keep, reduce and revoke per account in an access review', async () => {
    const { ciId } = await seedCi(stack.db, { owner: 'olga', name: 'ledger' });
    const imported = await stack.request('POST', `/systems/${ciId}/accounts/import`, {
      token: tokens.olga,
      body: {
        accounts: [
          // Other people's accounts: an owner's own would go to the Security Manager (no self-review).
          { accountId: 'keep.me', kind: 'person', owner: 'kim', entitlements: [{ name: 'reader' }] },
          { accountId: 'trim.me', kind: 'person', owner: 'lee', entitlements: [{ name: 'reader' }, { name: 'poster' }] },
          { accountId: 'drop.me', kind: 'person', owner: 'mo', entitlements: [{ name: 'reader' }] },
        ],
      },
    });
    expect(imported.status, JSON.stringify(imported.body)).toBe(200);
    const started = await stack.request('POST', '/access-reviews', { token: tokens.manager, body: { ciIds: [ciId], deadline: '1h' } });
    expect(started.status).toBe(202);
    const campaignId: string = started.body.id;

    const page = await browserFor(tokens.olga);
    const campaignPath = `/ui/access-reviews/${encodeURIComponent(campaignId)}`;
    const card = await taskCard(page, campaignPath, 'Access review: certify 3 accounts on your systems');
    const account = (id: string) => card.locator('fieldset.row', { hasText: id });
    await account('keep.me').getByLabel('Decision').selectOption('keep');
    await account('trim.me').getByLabel('Decision').selectOption('reduce');
    await account('trim.me').getByRole('checkbox', { name: 'reader' }).check();
    await account('drop.me').getByLabel('Decision').selectOption('revoke');
    await submit(page, card, 'Completed', 'access-certification');

    const items = await eventually(
      async () => {
        const rows = await stack.db
          .selectFrom('access_review_items')
          .select(['account_id', 'decision', 'kept_entitlements', 'decided_by'])
          .where('campaign_id', '=', campaignId)
          .orderBy('account_id')
          .execute();
        return rows.every((row) => row.decision !== null) && rows;
      },
      20_000,
      'the certification decisions',
    );
    expect(items).toEqual([
      { account_id: 'drop.me', decision: 'revoke', kept_entitlements: null, decided_by: 'olga' },
      { account_id: 'keep.me', decision: 'keep', kept_entitlements: null, decided_by: 'olga' },
      { account_id: 'trim.me', decision: 'reduce', kept_entitlements: ['reader'], decided_by: 'olga' },
    ]);
    await page.goto(stack.baseUrl + campaignPath);
    await expect(page.locator('main').textContent()).resolves.toContain('3 of 3 accounts decided');
  }, 120_000);

  it('takes the Security Manager’s pass or fail per checklist item for a problem’s workaround', async () => {
    const { ciId } = await seedCi(stack.db, { owner: 'olga', level: 'very_high', name: 'sso-gateway' });
    const problem = await stack.request('POST', '/problems', {
      token: tokens.analyst,
      body: { title: 'Sessions survive logout', ciIds: [ciId], securityRisk: true },
    });
    expect(problem.status).toBe(201);
    const proposed = await stack.request('POST', `/problems/${problem.body.id}/proposals`, {
      token: tokens.analyst,
      body: { kind: 'workaround', text: 'Expire sessions after 15 minutes idle' },
    });
    expect(proposed.status, JSON.stringify(proposed.body)).toBe(202);

    const page = await browserFor(tokens.manager);
    const problemPath = `/ui/problems/${problem.body.id}`;
    const card = await taskCard(page, problemPath, /Expire sessions|[Cc]heck/);
    const items = card.locator('fieldset.row');
    const count = await items.count();
    expect(count).toBeGreaterThan(0);
    for (let i = 0; i < count; i++) await items.nth(i).getByLabel('Result').selectOption('pass');
    await items.first().getByLabel('Note').fill('Idle expiry keeps the SLA');
    await submit(page, card, 'Accepted', 'problem-checklist');

    const proposal = await eventually(
      async () => {
        const row = await stack.db
          .selectFrom('problem_proposals')
          .select(['status', 'results', 'checked_by'])
          .where('id', '=', proposed.body.proposalId)
          .executeTakeFirst();
        return row?.status === 'accepted' && row;
      },
      20_000,
      'the accepted workaround',
    );
    expect(proposal.checked_by).toEqual(['max']);
    expect(proposal.results).toHaveLength(count);
    expect(proposal.results[0]).toMatchObject({ result: 'pass', note: 'Idle expiry keeps the SLA' });
    await page.goto(stack.baseUrl + problemPath);
    await expect(page.getByTestId('problem-status').textContent()).resolves.toBe('Known error');
  }, 120_000);

  it('takes the lessons, root cause and recurrence of a post-incident review as rows and fields', async () => {
    const { ciId } = await seedCi(stack.db, { owner: 'olga', level: 'very_high', name: 'mail-relay' });
    const reported = await stack.request('POST', '/incidents', {
      token: tokens.reporter,
      body: {
        title: 'Payroll mails forwarded to private accounts',
        description: 'Forwarding rule found on the relay',
        category: 'policy_violation',
        affectedCis: [ciId],
        source: 'helpdesk',
      },
    });
    expect(reported.status).toBe(202);
    const id: string = reported.body.id;
    // The steps before the review, decided through the API: the browser part is the review's form.
    const acknowledge = await openTask(stack, tokens.analyst, id, 'incident.acknowledge');
    expect((await decide(stack, tokens.analyst, acknowledge.id, 'acknowledged')).status).toBe(200);
    const triage = await openTask(stack, tokens.analyst, id, 'incident.triage');
    expect((await decide(stack, tokens.analyst, triage.id, 'triaged', { data: { scope: 'the relay only' } })).status).toBe(200);
    // The policy-violation playbook: three steps, the middle one the Security Manager's.
    for (const [title, token] of [
      ['Record what happened', tokens.analyst],
      ['Agree corrective measures', tokens.manager],
      ['Confirm the practice has stopped', tokens.analyst],
    ] as const) {
      const step = await eventually(
        async () => {
          const open = (await stack.request('GET', `/tasks?status=open&subjectId=${id}`, { token })).body.items ?? [];
          return open.find((task: { kind: string; title: string }) => task.kind === 'incident.step' && task.title.includes(title));
        },
        20_000,
        `the step "${title}"`,
      );
      expect((await decide(stack, token, step.id, 'done')).status).toBe(200);
    }

    const page = await browserFor(tokens.analyst);
    const card = await taskCard(page, `/ui/incidents/${id}`, /Post-incident review/);
    const lesson = (n: number) => card.locator('fieldset.row', { has: page.locator('legend', { hasText: `Lesson ${n}` }) });
    await lesson(1).getByLabel('What was learned').fill('Block forwarding rules to outside domains');
    await lesson(1).getByLabel('Owner (principal)').fill('olga');
    await lesson(1).getByLabel('Due in days').fill('14');
    await lesson(2).getByLabel('What was learned').fill('Alert on new forwarding rules');
    await card.getByLabel('Root cause').selectOption('unexplained');
    await card.getByLabel('The cause is recurring (opens a problem record)').check();
    await submit(page, card, 'Completed', 'post-incident-review');

    await incidentWhen(stack, tokens.auditor, id, (incident) => incident.status === 'closed', 'the incident to close');
    const actions = await stack.db
      .selectFrom('improvement_actions')
      .select(['title', 'owner'])
      .where('source_id', '=', id)
      .orderBy('title')
      .execute();
    expect(actions.map((a) => a.title)).toEqual(['Alert on new forwarding rules', 'Block forwarding rules to outside domains']);
    expect(actions.find((a) => a.title.startsWith('Block'))?.owner).toBe('olga');
    const problems = await stack.request('GET', `/problems?incidentId=${id}`, { token: tokens.analyst });
    expect(problems.body.items).toHaveLength(1);
    await page.goto(`${stack.baseUrl}/ui/incidents/${id}`);
    await expect(page.getByTestId('incident-status').textContent()).resolves.toBe('Closed');
  }, 180_000);
});
