import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json } from '../../db/create-db';
import { ensureChromium, screenshotFolder, seriousAccessibilityViolations, signedInBrowser } from '../setup/browser';
import { seedCi } from '../setup/fixtures';
import { eventually, startStack, type Stack } from '../setup/stack';
import { trivyReport } from '../setup/vulnerability-samples';
import { signedIn } from '../setup/web';

const screenshots = screenshotFolder('record-pages');

let stack: Stack;
const tokens = {} as Record<'manager' | 'analyst' | 'auditor' | 'olga' | 'carl' | 'reporter', string>;
const browsers: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  ensureChromium();
  stack = await startStack();
  tokens.manager = await stack.token(['security_manager'], 'max');
  tokens.analyst = await stack.token(['security_analyst'], 'ana');
  tokens.auditor = await stack.token(['auditor'], 'audrey');
  tokens.olga = await stack.token(['service_owner'], 'olga');
  tokens.carl = await stack.token(['service_owner'], 'carl');
  tokens.reporter = await stack.token(['reporter'], 'rita');
  // People read names: the directory's display names stand in for principal ids on every page.
  await stack.db.updateTable('principals').set({ display_name: 'Olga Owner' }).where('id', '=', 'olga').execute();
  await stack.db.updateTable('principals').set({ display_name: 'Rita Reporter' }).where('id', '=', 'rita').execute();
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

/** Opens the page, checks it has no serious accessibility violation, keeps a screenshot, and returns its main text. */
async function visit(page: Page, pagePath: string, screenshot: string): Promise<string> {
  const response = await page.goto(stack.baseUrl + pagePath);
  expect({ pagePath, status: response?.status() }).toEqual({ pagePath, status: 200 });
  expect({ pagePath, violations: await seriousAccessibilityViolations(page) }).toEqual({ pagePath, violations: [] });
  await page.screenshot({ path: path.join(screenshots, `${screenshot}.png`), fullPage: true });
  return (await page.locator('main').textContent()) ?? '';
}

async function accepted(response: Promise<{ status: number; body: any }>, status = 202) {
  const { status: got, body } = await response;
  expect(got, JSON.stringify(body)).toBe(status);
  return body;
}

describe('the record pages', () => {
  it('show every record to the roles that may read it, by name, with the same per-record rules as the API', async () => {
    const { ciId, serviceId } = await seedCi(stack.db, { owner: 'olga', level: 'very_high', name: 'payroll-db' });
    const carls = await seedCi(stack.db, { owner: 'carl', name: 'carls-wiki' });
    const serviceName = (await stack.db.selectFrom('services').select('name').where('id', '=', serviceId).executeTakeFirstOrThrow()).name;

    await accepted(
      stack.request('PUT', `/cis/${ciId}/components`, {
        token: tokens.olga,
        body: { components: [{ product: 'openssl', version: '3.0.2' }] },
      }),
      200,
    );
    const advisoryId = `ADV-WEB-${Date.now()}`;
    await accepted(
      stack.request('POST', '/advisories', {
        token: tokens.analyst,
        body: {
          id: advisoryId,
          cves: ['CVE-2026-1000'],
          title: 'OpenSSL buffer overread',
          affected: [{ product: 'OpenSSL', versions: ['>=3.0.0 <3.0.7'], fixed: ['3.0.7'] }],
          cvss: { score: 7.5, vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N' },
        },
      }),
    );
    await accepted(stack.request('POST', `/cis/${ciId}/scans`, { token: tokens.olga, body: trivyReport() }), 201);
    const alert = await accepted(
      stack.request('POST', '/security-alerts', {
        token: tokens.manager,
        body: {
          title: 'Phishing wave impersonating the payroll provider',
          threat: 'Mails ask staff to confirm bank details',
          affectedCis: [ciId],
          actions: ['Do not open links in payroll mails this week'],
          audience: [],
        },
      }),
    );
    const risk = await accepted(
      stack.request('POST', '/risks', {
        token: tokens.manager,
        body: {
          title: 'Ransomware encrypts the payroll database',
          threat: 'Phishing leads to ransomware',
          affectedCis: [ciId],
          likelihood: 3,
          impact: 5,
          owner: 'olga',
          treatment: 'mitigate',
          controls: ['Offline backups'],
          reviewAt: '2027-03-01T00:00:00Z',
        },
      }),
      201,
    );
    const policy = await accepted(
      stack.request('POST', '/policies', {
        token: tokens.manager,
        body: {
          title: 'Acceptable use of IT',
          owner: 'max',
          body: 'Company devices are for company work.',
          nextReviewAt: '2027-12-01T00:00:00Z',
        },
      }),
    );
    const olgasProblem = await accepted(
      stack.request('POST', '/problems', {
        token: tokens.analyst,
        body: { title: 'Payroll sessions survive logout', ciIds: [ciId], securityRisk: true },
      }),
      201,
    );
    const carlsProblem = await accepted(
      stack.request('POST', '/problems', { token: tokens.analyst, body: { title: 'Wiki pages cached publicly', ciIds: [carls.ciId] } }),
      201,
    );
    await accepted(
      stack.request('POST', `/systems/${ciId}/accounts/import`, {
        token: tokens.olga,
        body: { accounts: [{ accountId: 'rita', kind: 'person', owner: 'rita', entitlements: [{ name: 'payroll-clerk' }] }] },
      }),
      200,
    );
    const accessRequest = await accepted(
      stack.request('POST', '/access-requests', {
        token: tokens.reporter,
        body: { system: ciId, entitlements: [{ name: 'payroll-admin', privilege: 'privileged' }], justification: 'Month-end cover' },
      }),
    );
    const campaign = await accepted(
      stack.request('POST', '/access-reviews', { token: tokens.manager, body: { ciIds: [ciId], deadline: '1h' } }),
    );
    const training = await accepted(
      stack.request('POST', '/training-campaigns', {
        token: tokens.manager,
        body: {
          title: 'Phishing awareness 2026',
          courseId: 'phish-101',
          dueAt: '2027-01-31T00:00:00Z',
          audience: { principals: ['olga', 'carl'] },
        },
      }),
    );
    // A one-off range of days of its own: review workflow ids live on the dev server every test file shares.
    const day = new Date(Date.UTC(2002, 0, 1) + (Date.now() % 3000) * 86_400_000).toISOString().slice(0, 10);
    await accepted(
      stack.request('POST', '/reviews', { token: tokens.manager, body: { from: day, to: day, deadlines: { ownerReview: '1h' } } }),
    );
    const reviewId = `${day}_${day}`;

    // The records the workflows write arrive shortly after they start.
    await eventually(
      async () => {
        const [remediation, campaignRow, assignment, review] = await Promise.all([
          stack.db.selectFrom('advisory_remediations').select('ci_id').where('advisory_id', '=', advisoryId).executeTakeFirst(),
          stack.db.selectFrom('access_review_items').select('account_id').where('campaign_id', '=', campaign.id).executeTakeFirst(),
          stack.db.selectFrom('training_assignments').select('principal_id').where('campaign_id', '=', training.id).executeTakeFirst(),
          stack.db.selectFrom('security_reviews').select('measures').where('id', '=', reviewId).executeTakeFirst(),
        ]);
        return remediation && campaignRow && assignment && review?.measures && true;
      },
      30_000,
      'the remediation, campaign items, training assignments and review measures',
    );

    const manager = await browserFor(tokens.manager);
    const navigation = await manager.getByRole('navigation', { name: 'Main' }).textContent();
    for (const entry of [
      'Problems',
      'Advisories',
      'Security alerts',
      'Access requests',
      'Access reviews',
      'Risks',
      'Policies',
      'Training',
      'KPIs',
    ])
      expect(navigation).toContain(entry);

    const advisories = await visit(manager, '/ui/advisories', 'advisories');
    expect(advisories).toContain(`${advisoryId} OpenSSL buffer overread`);
    expect(advisories).toMatch(/1 open/);
    const advisory = await visit(manager, `/ui/advisories/${advisoryId}`, 'advisory');
    expect(advisory).toContain(`payroll-db (${serviceName})`);
    expect(advisory).toContain('Olga Owner');
    // The remediation's deadline reads as time left.
    await expect(manager.locator('table .due .left').first().textContent()).resolves.toMatch(/^in \d|^overdue by/);

    const findings = await visit(manager, `/ui/cis/${ciId}/findings`, 'findings');
    expect(findings).toContain('CVE-2021-44228');
    expect(findings).toContain(`Vulnerability findings of payroll-db (${serviceName})`);

    expect(await visit(manager, '/ui/security-alerts', 'security-alerts')).toContain('Phishing wave impersonating the payroll provider');
    const alertPage = await visit(manager, `/ui/security-alerts/${alert.id}`, 'security-alert');
    expect(alertPage).toContain('Do not open links in payroll mails this week');
    expect(alertPage).toContain('Olga Owner');

    expect(await visit(manager, '/ui/risks', 'risks')).toContain('3 × 5 = 15');
    const riskPage = await visit(manager, `/ui/risks/${risk.id}`, 'risk');
    expect(riskPage).toContain('Offline backups');
    expect(riskPage).toContain(`payroll-db`);

    expect(await visit(manager, '/ui/policies', 'policies')).toContain('Acceptable use of IT');
    // Version 1 awaits approval: no approved text yet, the version listed with who proposed it.
    const policyPage = await visit(manager, `/ui/policies/${policy.policyId}`, 'policy');
    expect(policyPage).toContain('None yet');
    expect(policyPage).toMatch(/1Pending approvalmax/);

    const problems = await visit(manager, '/ui/problems', 'problems');
    expect(problems).toContain('Payroll sessions survive logout');
    expect(problems).toContain('Wiki pages cached publicly');
    expect(await visit(manager, `/ui/problems/${olgasProblem.id}`, 'problem')).toContain('Security risk');

    const requests = await visit(manager, '/ui/access-requests', 'access-requests');
    expect(requests).toContain('Access for Rita Reporter to account rita');
    expect(await visit(manager, `/ui/access-requests/${accessRequest.id}`, 'access-request')).toContain('Month-end cover');

    expect(await visit(manager, '/ui/access-reviews', 'access-reviews')).toContain(`Access review ${campaign.id}`);
    const campaignPage = await visit(manager, `/ui/access-reviews/${campaign.id}`, 'access-review');
    expect(campaignPage).toContain('0 of 1 accounts decided');
    expect(campaignPage).toContain('payroll-clerk');

    expect(await visit(manager, '/ui/training', 'training')).toContain('Phishing awareness 2026');
    await visit(manager, `/ui/training/${training.id}`, 'training-campaign');
    await expect(manager.getByTestId('training-completion').textContent()).resolves.toBe('0 of 2 (0 %)');

    const kpis = await visit(manager, '/ui/kpis', 'kpis');
    expect(kpis).toContain(reviewId);
    expect(kpis).toContain('Expired exceptions');
    // The trend is drawn as inline SVG charts with a text alternative, one per trended KPI.
    expect(await manager.locator('.charts svg[role="img"]').count()).toBeGreaterThan(0);

    // Per record, as the API: Olga sees her systems' records, not Carl's; Carl none of hers.
    const olga = await signedIn(stack, tokens.olga);
    const olgasProblems = (await olga.get('/ui/problems')).body;
    expect(olgasProblems).toContain('Payroll sessions survive logout');
    expect(olgasProblems).not.toContain('Wiki pages cached publicly');
    expect((await olga.get(`/ui/problems/${carlsProblem.id}`)).status).toBe(404);
    expect((await olga.get(`/ui/access-requests/${accessRequest.id}`)).status).toBe(200);
    expect((await olga.get(`/ui/access-reviews/${campaign.id}`)).status).toBe(200);
    expect((await olga.get('/ui/training')).status).toBe(403);
    const carl = await signedIn(stack, tokens.carl);
    expect((await carl.get(`/ui/access-requests/${accessRequest.id}`)).status).toBe(404);
    expect((await carl.get('/ui/access-requests')).body).not.toContain(accessRequest.id);
    expect((await carl.get(`/ui/access-reviews/${campaign.id}`)).status).toBe(404);
    expect((await carl.get(`/ui/problems/${olgasProblem.id}`)).status).toBe(404);
    // Roles the API refuses are refused the page, and not offered it in the navigation.
    const reporter = await signedIn(stack, tokens.reporter);
    for (const refused of ['/ui/problems', '/ui/risks', '/ui/kpis', '/ui/access-reviews', '/ui/training'])
      expect({ refused, status: (await reporter.get(refused)).status }).toEqual({ refused, status: 403 });
    const reporterNavigation = (await reporter.get('/ui/tasks')).body;
    expect(reporterNavigation).not.toContain('href="/ui/kpis"');
    expect(reporterNavigation).not.toContain('href="/ui/problems"');
    expect(reporterNavigation).toContain('href="/ui/access-requests"');
    // Her own request she reads.
    expect((await reporter.get(`/ui/access-requests/${accessRequest.id}`)).status).toBe(200);
  }, 240_000);
});

describe('the incident list', () => {
  it('puts breached incidents first, then those due soonest, with severity, SLA, status, owner, service and CI names', async () => {
    const { ciId, serviceId } = await seedCi(stack.db, { owner: 'olga', name: 'hr-portal' });
    const serviceName = (await stack.db.selectFrom('services').select('name').where('id', '=', serviceId).executeTakeFirstOrThrow()).name;
    const now = Date.now();
    const minutes = (n: number) => new Date(now + n * 60_000);
    // Written straight to the tables: the list reads PostgreSQL only, and no workflow is needed for it.
    const seeded = [
      { title: 'Due in two hours', due: minutes(120), breached: false, reported: minutes(-1) },
      { title: 'Breached an hour ago', due: minutes(-60), breached: true, reported: minutes(-120) },
      { title: 'Due in ten minutes', due: minutes(10), breached: false, reported: minutes(-2) },
    ];
    for (const incident of seeded) {
      const id = randomUUID();
      await stack.db
        .insertInto('incidents')
        .values({
          id,
          workflow_id: `incident/${id}`,
          title: incident.title,
          description: 'seeded',
          category: 'malware',
          severity: 'high',
          security_incident: true,
          classification_reason: 'seeded',
          status: 'triaged',
          affected_cis: [ciId],
          source: 'test',
          drill: false,
          reported_by: 'rita',
          playbook_category: 'malware',
          playbook_version: 1,
          links: json([]),
          acknowledge_target: '15m',
          resolve_target: '4h',
          reported_at: incident.reported,
          sla_next_due_at: incident.due,
          sla_breached: incident.breached,
        })
        .execute();
      await stack.db
        .insertInto('incident_sla_clocks')
        .values({
          incident_id: id,
          target: 'resolve',
          severity: 'high',
          duration: '4h',
          started_at: incident.reported,
          due_at: incident.due,
          breached_at: incident.breached ? incident.due : null,
        })
        .execute();
    }

    const page = await browserFor(tokens.analyst);
    await visit(page, '/ui/incidents', 'incidents-by-urgency');
    const rows = await page.locator('tbody tr').allTextContents();
    expect(rows.map((row) => seeded.find((s) => row.includes(s.title))?.title).filter(Boolean)).toEqual([
      'Breached an hour ago',
      'Due in ten minutes',
      'Due in two hours',
    ]);
    const breached = page.locator('tbody tr', { hasText: 'Breached an hour ago' });
    await expect(breached.locator('.badge.breached').textContent()).resolves.toBe('Breached');
    const soon = await page.locator('tbody tr', { hasText: 'Due in ten minutes' }).locator('td').allTextContents();
    expect(soon[1]).toBe('High');
    expect(soon[2]).toMatch(/^Resolve in \d+ min/);
    expect(soon[3]).toBe('Triaged');
    expect(soon[4]).toBe('Olga Owner');
    expect(soon[5]).toBe(serviceName);
    expect(soon[6]).toBe('hr-portal');

    const detail = (await page.locator('tbody tr', { hasText: 'Due in ten minutes' }).getByRole('link').getAttribute('href')) ?? '';
    const incidentPage = await visit(page, detail, 'incident-names');
    // Names, not ids: the CI with its service, its owner, and who reported it.
    expect(incidentPage).toContain(`hr-portal (${serviceName})`);
    expect(incidentPage).toContain('Rita Reporter via test');
    expect(incidentPage).not.toContain(ciId);
    await expect(page.getByTestId('incident-sla').textContent()).resolves.toMatch(/^Resolve in \d+ min/);
  }, 120_000);
});
