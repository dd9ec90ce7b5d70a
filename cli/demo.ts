/**
 * `warden demo`: a realistic small organisation loaded through the public API, as any client would,
 * so a new user's first inbox has work in it: services with SLAs, classified CIs with software
 * components, controls with test schedules, incidents in several states, a change waiting for its
 * security review, an advisory that matched a CI, an access review and a security review running.
 * Everything goes through the HTTP API (never the database), so it works against a local
 * `warden start` and a remote Warden alike, and exercises the same validation and audit trail.
 */

export interface DemoTarget {
  /** The API's base URL, e.g. http://127.0.0.1:3000. */
  url: string;
  /** A token with the admin role. */
  token: string;
  log?: (line: string) => void;
}

export interface DemoSummary {
  services: string[];
  incidents: string[];
  changeId: string;
  advisoryId: string;
  accessReviewId: string;
  reviewId: string;
}

/** The service whose presence says the demo was loaded already. */
export const demoMarkerService = 'Online Banking (demo)';

export class DemoError extends Error {
  override name = 'DemoError';
}

type Body = Record<string, unknown>;

function client(target: DemoTarget) {
  const base = target.url.replace(/\/+$/, '');
  return async function call<T = Body>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${target.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new DemoError(`${method} ${path} answered ${response.status}: ${text.slice(0, 500)}`);
    return (text ? JSON.parse(text) : {}) as T;
  };
}

const inDays = (days: number, hours = 0) => new Date(Date.now() + days * 86_400_000 + hours * 3_600_000).toISOString();

function currentQuarter(now = new Date()): string {
  return `${now.getUTCFullYear()}-Q${Math.floor(now.getUTCMonth() / 3) + 1}`;
}

/** Polls `read` until it returns a value, for the few steps that wait on a workflow's first activity. */
async function waitFor<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new DemoError(`gave up waiting for ${what} after ${timeoutMs / 1000} s: is a worker running?`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export async function loadDemo(target: DemoTarget): Promise<DemoSummary> {
  const call = client(target);
  const log = target.log ?? (() => {});

  const existing = await call<{ items: { name: string }[] }>('GET', '/services?limit=500');
  if (existing.items.some((service) => service.name === demoMarkerService)) {
    throw new DemoError(`the demo is loaded already (service "${demoMarkerService}" exists)`);
  }

  log('services with their SLAs');
  const banking = await call('POST', '/services', {
    name: demoMarkerService,
    description: 'Customer-facing web banking',
    owner: 'olivia.owner',
    sla: {
      acknowledgeTargets: { critical: '15m', high: '1h' },
      resolveTargets: { critical: '4h', high: '1d' },
      patchDeadlines: { very_high: '3d', high: '7d' },
      testCadence: '30d',
      availabilityTarget: 99.9,
      additionalRequirements: [{ id: 'PCI-3.4', title: 'Card numbers unreadable wherever stored' }],
    },
  });
  const payroll = await call('POST', '/services', {
    name: 'Payroll (demo)',
    description: 'Monthly salaries and HR records',
    owner: 'paul.owner',
    sla: { resolveTargets: { high: '2d' }, reviewCadence: '90d' },
  });

  log('classified configuration items and their software');
  const web = await call('POST', '/cis', {
    name: 'bank-web-01',
    type: 'server',
    description: 'Web front end of online banking',
    serviceId: banking.id,
    owner: 'olivia.owner',
    classification: { confidentiality: 'high', integrity: 'high', availability: 'very_high' },
    attributes: { location: 'eu-west-1a', os: 'Debian 12' },
  });
  const database = await call('POST', '/cis', {
    name: 'bank-db-01',
    type: 'database',
    description: 'Customer accounts and transactions',
    serviceId: banking.id,
    owner: 'olivia.owner',
    classification: { confidentiality: 'very_high', integrity: 'very_high', availability: 'high' },
  });
  const payrollApp = await call('POST', '/cis', {
    name: 'payroll-app',
    type: 'application',
    description: 'The payroll application',
    serviceId: payroll.id,
    owner: 'paul.owner',
    classification: { confidentiality: 'high', integrity: 'high', availability: 'medium' },
  });
  await call('PUT', `/cis/${web.id}/components`, {
    components: [
      { product: 'openssl', version: '3.0.2' },
      { product: 'nginx', version: '1.24.0' },
    ],
  });
  await call('PUT', `/cis/${database.id}/components`, { components: [{ product: 'postgresql', version: '16.2' }] });

  log('controls with test schedules');
  const restoreDrill = await call('POST', '/controls', {
    name: 'Backup restore drill (demo)',
    owner: 'olivia.owner',
    kind: 'organisational',
    process: 'continuity',
    ciIds: [database.id],
    references: { iso27001: ['A.8.13'] },
    procedure: { type: 'manual', instructions: "Restore last night's backup to staging and compare row counts.", deadline: '3d' },
  });
  const accessCheck = await call('POST', '/controls', {
    name: 'Privileged access list reviewed (demo)',
    owner: 'paul.owner',
    kind: 'organisational',
    process: 'security',
    ciIds: [payrollApp.id],
    references: { iso27001: ['A.5.18'] },
    procedure: { type: 'manual', instructions: 'Compare the admin group with the approved list.', deadline: '2d' },
  });
  await call('PUT', `/controls/${restoreDrill.id}/schedule`, { every: '30d' });
  await call('PUT', `/controls/${accessCheck.id}/schedule`, { cron: '0 8 * * 1' });

  log('incidents in several states');
  const incidents = [];
  for (const report of [
    { title: 'Ransomware note on a file share', category: 'malware', affectedCis: [database.id], source: 'edr' },
    { title: 'Customer data seen on a paste site', category: 'data_leak', affectedCis: [web.id], source: 'threat-intel' },
    { title: 'Repeated failed admin logins on payroll', category: 'unauthorised_access', affectedCis: [payrollApp.id], source: 'siem' },
  ]) {
    incidents.push(await call('POST', '/incidents', { ...report, description: `${report.title}. Reported by the demo loader.` }));
  }
  // One acknowledged, so the inbox shows incidents at different steps.
  const acknowledged = incidents[2] as Body;
  const task = await waitFor('the acknowledgement task of the third incident', async () => {
    const detail = await call<{ tasks?: { id: string; status: string; allowedOutcomes?: string[] }[] }>(
      'GET',
      `/incidents/${acknowledged.id}`,
    ).catch(() => undefined);
    return detail?.tasks?.find((candidate) => candidate.status === 'open');
  });
  // Deciding needs the task's role, which an admin does not have: a short-lived analyst token,
  // revoked at once, so the demo leaves no credential behind.
  const analyst = await call<{ id: string; token: string }>('POST', '/tokens', {
    name: 'Demo analyst',
    principalId: 'dana.analyst',
    roles: ['security_analyst'],
  });
  try {
    await client({ ...target, token: analyst.token })('POST', `/tasks/${task.id}/decision`, {
      outcome: task.allowedOutcomes?.[0] ?? 'acknowledged',
      comment: 'On it (demo)',
    });
  } finally {
    await call('DELETE', `/tokens/${analyst.id}`);
  }

  log('a change waiting for its security review');
  const change = await call('POST', '/changes', {
    title: 'Upgrade OpenSSL on the banking front end',
    description: 'Move bank-web-01 to OpenSSL 3.0.16 to close the advisory.',
    affectedCis: [web.id],
    securityImpact: { accessControls: false, networkConfiguration: true, dataHandling: false },
    plannedStart: inDays(3),
    plannedEnd: inDays(3, 2),
    rollbackPlan: 'Reinstall the previous package from the local mirror and restart nginx.',
  });

  log('an advisory that matches a CI');
  const advisory = await call('POST', '/advisories', {
    id: 'DEMO-2026-0001',
    cves: ['CVE-2026-12345'],
    title: 'OpenSSL: heap overflow in X.509 name constraint checking',
    supplier: 'OpenSSL Project',
    affected: [{ product: 'openssl', versions: ['>=3.0.0 <3.0.16'], fixed: ['3.0.16'] }],
    cvss: { score: 8.1 },
  });

  log('an access review over the payroll application');
  await call('POST', '/people/import', {
    people: [
      { principalId: 'paul.owner', displayName: 'Paul Owner', status: 'active' },
      { principalId: 'alice', displayName: 'Alice Accountant', status: 'active', manager: 'paul.owner' },
      { principalId: 'bob', displayName: 'Bob Leaver', status: 'leaver', manager: 'paul.owner' },
    ],
  });
  await call('POST', `/systems/${payrollApp.id}/accounts/import`, {
    accounts: [
      { accountId: 'alice', kind: 'person', owner: 'alice', entitlements: [{ name: 'payroll-clerk' }], lastUsedAt: inDays(-2) },
      { accountId: 'bob', kind: 'person', owner: 'bob', entitlements: [{ name: 'payroll-admin', privilege: 'privileged' }] },
      { accountId: 'svc-export', kind: 'shared', owner: '', entitlements: [{ name: 'export' }] },
    ],
  });
  const accessReview = await call('POST', '/access-reviews', { ciIds: [payrollApp.id], deadline: '7d' });

  log('a security review of this quarter');
  const review = await call('POST', '/reviews', { period: currentQuarter() });

  return {
    services: [String(banking.id), String(payroll.id)],
    incidents: incidents.map((incident) => String(incident.id)),
    changeId: String(change.id),
    advisoryId: String(advisory.id),
    accessReviewId: String(accessReview.id),
    reviewId: String(review.id),
  };
}
