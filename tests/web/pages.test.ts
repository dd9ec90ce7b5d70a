import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeBody, changeWithStatus, noImpact, reviewTask, submitChange } from '../api/change-gate-support';
import { decide, openTask, seedCi } from '../setup/fixtures';
import { eventually, startStack, type Stack } from '../setup/stack';
import { signedIn } from '../setup/web';

let stack: Stack;
const tokens = {} as Record<'requester' | 'reviewer' | 'manager' | 'tester' | 'auditor' | 'reporter', string>;

beforeAll(async () => {
  stack = await startStack();
  tokens.requester = await stack.token(['change_manager'], 'carla');
  tokens.reviewer = await stack.token(['security_reviewer'], 'rhea');
  tokens.manager = await stack.token(['security_manager'], 'sally');
  tokens.tester = await stack.token(['tester'], 'tess');
  tokens.auditor = await stack.token(['auditor'], 'audrey');
  tokens.reporter = await stack.token(['reporter'], 'rick');
});
afterAll(() => stack?.close());

describe('the Changes pages', () => {
  it('list a change by its filters and show its decision form, then the decision with who and when', async () => {
    const ciId = (await seedCi(stack.db, { level: 'low', name: 'inbox-wiki' })).ciId;
    const body = changeBody({
      title: 'Rotate the <wiki> TLS keys',
      affectedCis: [ciId],
      securityImpact: { ...noImpact, dataHandling: true },
    });
    const accepted = await submitChange(stack, tokens.requester, body);
    const task = await reviewTask(stack, tokens.reviewer, accepted.id);

    const reviewer = await signedIn(stack, tokens.reviewer);
    const list = await reviewer.get(`/ui/changes?status=in_review&risk=${accepted.risk}`);
    expect(list.status).toBe(200);
    expect(list.body).toContain(`href="/ui/changes/${accepted.id}"`);
    expect(list.body).toContain('Rotate the &lt;wiki&gt; TLS keys');
    expect((await reviewer.get('/ui/changes?status=rejected')).body).not.toContain(accepted.id);

    // My tasks links the task's subject to the change's page, labelled with its title.
    const myTasks = await reviewer.get('/ui/tasks');
    expect(myTasks.body).toContain(`<a href="/ui/changes/${accepted.id}">Rotate the &lt;wiki&gt; TLS keys</a>`);

    const open = await reviewer.get(`/ui/changes/${accepted.id}`);
    expect(open.status).toBe(200);
    expect(open.body).toContain(`action="/ui/tasks/${task.id}/decision"`);
    expect(open.body).toContain('Data handling');
    expect(open.body).toMatch(/data-testid="change-status">In review</);

    expect((await decide(stack, tokens.reviewer, task.id, 'approved', { comment: 'keys stay in the HSM' })).status).toBe(200);
    await changeWithStatus(stack, tokens.requester, accepted.id, 'approved');
    const decided = await (await signedIn(stack, tokens.auditor)).get(`/ui/changes/${accepted.id}`);
    expect(decided.status).toBe(200);
    expect(decided.body).toMatch(/data-testid="change-status">Approved</);
    expect(decided.body).toMatch(/<td>Approved<\/td><td>rhea<\/td><td>keys stay in the HSM<\/td><td><time/);
    expect(decided.body).toContain('Change requested');
    expect(decided.body).not.toContain(`action="/ui/tasks/${task.id}/decision"`);
  });

  it('are refused, and not offered in the navigation, to roles the API refuses changes to', async () => {
    const reporter = await signedIn(stack, tokens.reporter);
    expect((await reporter.get('/ui/changes')).status).toBe(403);
    // Nor do they see the navigation entries of pages they cannot open.
    const navigation = (await reporter.get('/ui/tasks')).body;
    expect(navigation).not.toContain('href="/ui/changes"');
    expect(navigation).not.toContain('href="/ui/reviews"');
    expect(navigation).toContain('href="/ui/testing-schedule"');
  });
});

describe('the Testing schedule pages', () => {
  it('show a control with its last result, its recent test reports and a test run with its decision', async () => {
    const created = await stack.request('POST', '/controls', {
      token: tokens.manager,
      body: {
        name: `Badge door check ${Date.now()}`,
        owner: 'otto',
        kind: 'organisational',
        process: 'security',
        procedure: { type: 'manual', instructions: 'Try the badge after hours.', deadline: '1h' },
      },
    });
    expect(created.status).toBe(201);
    const controlId = created.body.id as string;
    expect((await stack.request('POST', `/controls/${controlId}/runs`, { token: tokens.tester })).status).toBe(202);
    const run = await eventually(
      async () =>
        (await stack.request('GET', `/test-runs?controlId=${controlId}`, { token: tokens.auditor })).body.items[0] as
          | { id: string }
          | undefined,
      20_000,
      'the manual run',
    );
    const task = await openTask(stack, tokens.tester, run.id, 'security-test.manual');

    const tester = await signedIn(stack, tokens.tester);
    expect((await tester.get(`/ui/test-runs/${run.id}`)).body).toContain(`action="/ui/tasks/${task.id}/decision"`);
    expect((await tester.get('/ui/tasks')).body).toContain(`<a href="/ui/test-runs/${run.id}">`);
    expect((await decide(stack, tokens.tester, task.id, 'passed', { comment: 'The door stayed shut.' })).status).toBe(200);
    await eventually(
      async () => (await stack.request('GET', `/test-runs/${run.id}`, { token: tokens.auditor })).body.result === 'passed' || undefined,
      20_000,
      'the report',
    );

    const auditor = await signedIn(stack, tokens.auditor);
    const schedule = await auditor.get('/ui/testing-schedule');
    expect(schedule.status).toBe(200);
    expect(schedule.body).toContain(`<a href="/ui/controls/${controlId}">${created.body.name}</a>`);
    expect(schedule.body).toContain(`<a href="/ui/test-runs/${run.id}"><span class="badge passed">Passed</span></a>`);

    const control = await auditor.get(`/ui/controls/${controlId}`);
    expect(control.status).toBe(200);
    expect(control.body).toContain('Manual: Try the badge after hours.');
    expect(control.body).toContain(`href="/ui/test-runs/${run.id}"`);

    const report = await auditor.get(`/ui/test-runs/${run.id}`);
    expect(report.status).toBe(200);
    expect(report.body).toContain(`<a href="/ui/controls/${controlId}">${created.body.name}</a>`);
    expect(report.body).toMatch(/data-testid="test-run-status">Finished</);
    expect(report.body).toContain('tess: Passed — “The door stayed shut.”');
    expect((await auditor.get(`/ui/test-runs/${crypto.randomUUID()}`)).status).toBe(404);
  });
});

describe('the Reviews pages', () => {
  it('list a review and show its state, KPI summary and a report link that opens with the session', async () => {
    // A one-off range of days of its own: workflow ids live on the dev server every test file shares.
    const from = new Date(Date.UTC(2001, 0, 1) + (Date.now() % 3000) * 86_400_000).toISOString().slice(0, 10);
    const started = await stack.request('POST', '/reviews', {
      token: tokens.manager,
      body: { from, to: from, deadlines: { ownerReview: '2s', escalation: '2s' } },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const id = `${from}_${from}`;
    await eventually(
      async () =>
        ['owner_review', 'planning', 'sign_off', 'signed_off'].includes(
          (await stack.request('GET', `/reviews/${id}`, { token: tokens.auditor })).body.status,
        ) || undefined,
      20_000,
      'the review measured',
    );

    const auditor = await signedIn(stack, tokens.auditor);
    const list = await auditor.get('/ui/reviews');
    expect(list.status).toBe(200);
    expect(list.body).toContain(`<a href="/ui/reviews/${id}">Security review ${id}</a>`);

    const detail = await auditor.get(`/ui/reviews/${id}`);
    expect(detail.status).toBe(200);
    expect(detail.body).toContain('<h2>KPI summary</h2>');
    expect(detail.body).toContain('<td>Expired exceptions</td>');
    expect(detail.body).toContain(`href="/reviews/${id}/report"`);
    const report = await fetch(`${stack.baseUrl}/reviews/${id}/report`, {
      headers: { accept: 'text/html', cookie: `warden_session=${auditor.cookies.get('warden_session')}` },
    });
    expect(report.status).toBe(200);
    expect(report.headers.get('content-type')).toContain('text/html');

    expect((await (await signedIn(stack, tokens.tester)).get(`/ui/reviews/${id}`)).status).toBe(403);
  });
});

describe('the Audit trail page', () => {
  it('shows auditors whether the chain verifies and each event with its full subject id, and nobody else', async () => {
    const { ciId } = await seedCi(stack.db, { level: 'low', name: 'audited-ci' });
    // A sign-in and a refused one are audit events of their own.
    await signedIn(stack, tokens.reporter);
    const auditor = await signedIn(stack, tokens.auditor);
    const page = await auditor.get('/ui/audit?action=session.created');
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/data-testid="audit-verify"><strong>Verified\.<\/strong> \d+ events link and hash correctly/);
    expect(page.body).toContain('<td>rick</td>');
    expect(page.body).not.toContain('<td>Ci created</td>');
    expect(page.body).toMatch(/<a href="\/ui\/audit"[^>]*>Audit trail<\/a>/);
    // Full ids, never cut to eight characters.
    const bySubject = await auditor.get(`/ui/audit?subjectId=${ciId}`);
    expect(bySubject.status).toBe(200);
    expect(bySubject.body.includes(ciId) || bySubject.body.includes('<p class="hint">None.</p>')).toBe(true);

    const reporter = await signedIn(stack, tokens.reporter);
    expect((await reporter.get('/ui/audit')).status).toBe(403);
    expect((await reporter.get('/ui/tasks')).body).not.toContain('Audit trail');
  });
});
