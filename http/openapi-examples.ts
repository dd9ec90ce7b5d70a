/**
 * A realistic request body per operation, by operationId, for the OpenAPI document (http/openapi.ts
 * adds each to its operation's JSON body unless the body schema carries `examples` of its own).
 * `@redocly/cli lint` checks every example against its schema (no-invalid-media-type-examples), and
 * tests/unit/openapi-contract.test.ts fails on a JSON body without one. Ids are placeholders.
 */
const ci = '3f2b8a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
const service = '7d6c5b4a-3e2f-4a1b-9c8d-7e6f5a4b3c2d';

export const requestBodyExamples: Record<string, unknown> = {
  putDrillSchedule: { cronExpressions: ['0 9 1 */3 *'], affectedCis: [ci] },
  importAttackCatalogue: {
    type: 'bundle',
    id: 'bundle--5b3a4f9e-8c1d-4e2f-9a7b-6c5d4e3f2a1b',
    objects: [
      {
        type: 'attack-pattern',
        spec_version: '2.1',
        id: 'attack-pattern--a93494bb-4b80-4ea1-8695-3236a49916fd',
        name: 'Brute Force',
        external_references: [{ source_name: 'mitre-attack', external_id: 'T1110', url: 'https://attack.mitre.org/techniques/T1110' }],
        kill_chain_phases: [{ kill_chain_name: 'mitre-attack', phase_name: 'credential-access' }],
      },
    ],
  },
  decodePayloads: { payloads: [{ metadata: { encoding: 'YmluYXJ5L2VuY3J5cHRlZA==' }, data: 'AAECAwQ=' }] },
  encodePayloads: { payloads: [{ metadata: { encoding: 'anNvbi9wbGFpbg==' }, data: 'eyJpZCI6MX0=' }] },
  publishPlaybook: {
    title: 'Malware',
    description: 'Contain the host, remove the malware, restore from clean backups.',
    steps: [
      { id: 'isolate', title: 'Isolate the host', phase: 'containment', type: 'task', roles: ['security_analyst'], deadline: '1h' },
      { id: 'reimage', title: 'Reimage from the golden image', phase: 'eradication', type: 'task', roles: ['security_analyst'] },
    ],
  },
  importControls: [
    {
      name: 'Backup restore drill',
      owner: 'olivia.owner',
      kind: 'organisational',
      process: 'continuity',
      procedure: { type: 'manual', instructions: "Restore last night's backup to staging.", deadline: '3d' },
    },
  ],
  receiveServiceNowChange: {
    sys_id: '9d385017c611228701d22104cc95c371',
    number: 'CHG0030001',
    short_description: 'Upgrade OpenSSL on the banking front end',
    cmdb_ci: 'bank-web-01',
    start_date: '2026-12-05 20:00:00',
    end_date: '2026-12-05 22:00:00',
    backout_plan: 'Reinstall the previous package and restart nginx.',
    u_security_network_configuration: 'true',
  },
  receiveJiraChange: {
    webhookEvent: 'jira:issue_created',
    issue: {
      id: '10042',
      key: 'CHG-42',
      fields: { summary: 'Open port 8443 on the banking load balancer', description: 'For the new API' },
    },
  },
  reportChangeImplemented: { implementedAt: '2026-12-05T21:40:00Z', notes: 'Upgraded; smoke tests green.' },
  createToken: { name: 'SIEM connector', roles: ['reporter'], principalId: 'siem', email: 'soc@example.org' },
  decideTask: { outcome: 'approved', comment: 'Containment plan reviewed; go ahead.' },
  reportIncident: {
    title: 'Ransomware note on a file share',
    description: 'Files on \\\\fs01\\finance renamed to *.locked; a ransom note appeared at 09:12.',
    category: 'malware',
    affectedCis: [ci],
    detectedAt: '2026-12-02T09:12:00Z',
    source: 'edr',
  },
  proposeIncidentCommunication: {
    audience: 'Customers of online banking',
    message: 'We are investigating a disruption of online banking; card data is not affected.',
  },
  receiveAlert: {
    source: 'wazuh-manager-01',
    rule: 'Multiple failed admin logins',
    severity: 'high',
    host: 'payroll-app',
    account: 'admin',
    time: '2026-12-02T08:55:00Z',
    category: 'unauthorised_access',
  },
  createService: {
    name: 'Online Banking',
    description: 'Customer-facing web banking',
    owner: 'olivia.owner',
    sla: { acknowledgeTargets: { critical: '15m', high: '1h' }, resolveTargets: { critical: '4h' }, availabilityTarget: 99.9 },
  },
  updateService: { sla: { patchDeadlines: { very_high: '3d' } } },
  createConfigurationItem: {
    name: 'bank-web-01',
    type: 'server',
    description: 'Web front end of online banking',
    serviceId: service,
    owner: 'olivia.owner',
    classification: { confidentiality: 'high', integrity: 'high', availability: 'very_high' },
    attributes: { location: 'eu-west-1a' },
  },
  updateConfigurationItem: { classification: { confidentiality: 'very_high', integrity: 'high', availability: 'very_high' } },
  createRisk: {
    title: 'Ransomware encrypts the payroll database',
    threat: 'Phishing leads to ransomware on an admin workstation',
    affectedCis: [ci],
    likelihood: 3,
    impact: 5,
    owner: 'paul.owner',
    treatment: 'mitigate',
    controls: ['Offline backups', 'EDR on admin workstations'],
    reviewAt: '2027-03-01T00:00:00Z',
  },
  updateRisk: { likelihood: 2 },
  createPolicy: {
    title: 'Acceptable use of IT',
    owner: 'sam.manager',
    body: '# Acceptable use\n\nCompany devices are for company work.',
    nextReviewAt: '2027-12-01T00:00:00Z',
  },
  proposePolicyVersion: {
    body: '# Acceptable use\n\nCompany devices are for company work; see also BYOD.',
    nextReviewAt: '2027-12-01T00:00:00Z',
  },
  updatePolicy: { owner: 'sam.manager' },
  startSecurityReview: { period: '2026-Q4' },
  putSecurityReviewSchedule: { cronExpressions: ['0 6 1 1,4,7,10 *'], securityManager: 'sam.manager' },
  updateImprovementAction: { stage: 'in_progress', progress: 'Backups now copied offline nightly.' },
  importSystemAccounts: {
    accounts: [
      { accountId: 'alice', kind: 'person', owner: 'alice', entitlements: [{ name: 'payroll-clerk' }], lastUsedAt: '2026-11-30T10:00:00Z' },
    ],
  },
  importPeople: { people: [{ principalId: 'alice', displayName: 'Alice Accountant', status: 'active', manager: 'paul.owner' }] },
  requestAccess: {
    system: ci,
    entitlements: [{ name: 'payroll-admin', privilege: 'privileged' }],
    justification: 'Covering month-end payroll while Paul is away',
    for: '14d',
  },
  startAccessReview: { ciIds: [ci], deadline: '14d' },
  putAccessReviewSchedule: { scope: { serviceId: service }, every: '90d' },
  createControl: {
    name: 'Backup restore drill',
    owner: 'olivia.owner',
    kind: 'organisational',
    process: 'continuity',
    ciIds: [ci],
    references: { iso27001: ['A.8.13'] },
    procedure: { type: 'manual', instructions: "Restore last night's backup to staging and compare row counts.", deadline: '3d' },
  },
  updateControl: { description: 'Quarterly restore of the customer database' },
  putControlSchedule: { every: '30d', jitter: '1h' },
  pauseControlSchedule: { reason: 'Staging is being rebuilt this week' },
  unpauseControlSchedule: { reason: 'Staging is back' },
  putNotificationChannels: { channels: [{ channel: 'email', target: 'olivia@example.org' }] },
  closeAdvisory: { reason: 'Every affected CI is patched' },
  putCiComponents: {
    components: [
      { product: 'openssl', version: '3.0.2' },
      { product: 'nginx', version: '1.24.0' },
    ],
  },
  broadcastSecurityAlert: {
    title: 'Phishing wave impersonating the payroll provider',
    threat: 'Mails ask staff to confirm bank details on a look-alike site',
    affectedServices: [service],
    actions: ['Do not open links in payroll mails this week', 'Report such mails with the phishing button'],
    audience: ['security_analyst'],
  },
  submitChange: {
    title: 'Upgrade OpenSSL on the banking front end',
    description: 'Move bank-web-01 to OpenSSL 3.0.16.',
    affectedCis: [ci],
    securityImpact: { accessControls: false, networkConfiguration: true, dataHandling: false },
    plannedStart: '2026-12-05T20:00:00Z',
    plannedEnd: '2026-12-05T22:00:00Z',
    rollbackPlan: 'Reinstall the previous package from the local mirror and restart nginx.',
  },
  amendChange: { rollbackPlan: 'Restore the VM snapshot taken before the upgrade.', revision: 1 },
  attachChangeEvidence: { evidence: [{ kind: 'penetration_test', ref: 'PT-2026-118' }] },
};
