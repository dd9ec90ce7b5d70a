import { expect, it } from 'vitest';
import type { HumanTask } from '../../db/database';
import { checkTaskData, detailsShownByForm, taskForms } from '../../domain/task-forms';
import { dataFromForm, taskFormFields } from '../../web/task-form';

const task = (kind: string, details: Record<string, unknown>) => ({ id: 't1', kind, details }) as unknown as HumanTask;
const lookups = { configurationItems: [{ value: '11111111-1111-4111-8111-111111111111', label: 'Payroll DB (Payroll)' }] };
const accounts = {
  accounts: [
    { ciId: 'ci-1', accountId: 'lee', owner: 'lee', entitlements: ['read', 'admin'] },
    { ciId: 'ci-1', accountId: 'kim', owner: 'kim', entitlements: ['read'] },
  ],
};

it('renders the post-incident review as repeating lesson rows, a root cause and a flag, and reads the post back', () => {
  const review = task('incident.post-incident-review', {});
  const fields = String(taskFormFields(review, 'task-t1', lookups));
  expect(fields).toContain('name="data.lessons.2.title"');
  expect(fields).toContain('<legend>Lesson 1</legend>');
  expect(fields).toContain('name="data.rootCause"');
  expect(fields).toContain('type="checkbox" value="true"');
  expect(fields).not.toContain('JSON');
  const data = dataFromForm(review, {
    'data.lessons.0.title': ' Enforce MFA ',
    'data.lessons.0.owner': 'sam',
    'data.lessons.0.dueInDays': '30',
    'data.lessons.1.title': '',
    'data.lessons.1.owner': '',
    'data.lessons.1.dueInDays': '',
    'data.rootCause': 'unexplained',
    'data.recurring': 'true',
  });
  expect(data).toEqual({ lessons: [{ title: 'Enforce MFA', owner: 'sam', dueInDays: 30 }], rootCause: 'unexplained', recurring: true });
  expect(checkTaskData(review.kind, review.details, data)).toEqual([]);
});

it('renders access certification as one row per account from the task, with that account’s entitlements', () => {
  const certify = task('access-review.certify', accounts);
  const fields = String(taskFormFields(certify, 'task-t1', lookups));
  expect(fields).toContain('<legend>lee (read, admin)</legend>');
  expect(fields).toContain('name="data.decisions.1.action"');
  expect(fields).toContain('value="admin"');
  const data = dataFromForm(certify, {
    'data.decisions.0.action': 'reduce',
    'data.decisions.0.entitlements': ['read'],
    'data.decisions.1.action': 'keep',
  });
  expect(data).toEqual({
    decisions: [
      { accountId: 'lee', ciId: 'ci-1', action: 'reduce', entitlements: ['read'] },
      { accountId: 'kim', ciId: 'ci-1', action: 'keep' },
    ],
  });
  expect(checkTaskData(certify.kind, certify.details, data)).toEqual([]);
  expect(detailsShownByForm(certify.kind)).toEqual(new Set(['decisions', 'accounts']));
});

it('refuses data that does not fit the declaration, naming the field, and lets undeclared keys pass', () => {
  const certify = task('access-review.certify', accounts);
  expect(
    checkTaskData(certify.kind, certify.details, {
      decisions: [
        { accountId: 'lee', action: 'reduce', entitlements: ['root'] },
        { accountId: 'nobody', action: 'keep' },
      ],
    }),
  ).toEqual([
    { path: 'data.decisions.0.entitlements', message: 'root is not among the options' },
    { path: 'data.decisions.1', message: 'names no item of this task' },
  ]);
  expect(checkTaskData('incident.triage', {}, { category: 'gossip', scope: 7, note: 'kept' })).toEqual([
    { path: 'data.category', message: expect.stringMatching(/^must be one of: unauthorised_access, malware,/) },
    { path: 'data.scope', message: 'must be text' },
  ]);
  expect(checkTaskData('security-test.manual', {}, { evidence: ['https://ok.example/r', 'javascript:alert(1)'] })).toEqual([
    { path: 'data.evidence.1', message: 'must be an http(s) link' },
  ]);
  expect(checkTaskData('incident.post-incident-review', {}, { lessons: [{ title: 'x', dueInDays: 0 }], recurring: 'yes' })).toEqual([
    { path: 'data.lessons.0.dueInDays', message: 'must be between 1 and 365' },
    { path: 'data.recurring', message: 'must be true or false' },
  ]);
  // A task that collects nothing takes whatever automation attaches; the workflow decides.
  expect(checkTaskData('incident.acknowledge', {}, { note: 'fine' })).toEqual([]);
});

it('renders triage with the configuration items by name, the reported ones ticked, and nothing for a task that collects nothing', () => {
  const triage = task('incident.triage', { category: 'malware', affectedCis: ['11111111-1111-4111-8111-111111111111'] });
  const fields = String(taskFormFields(triage, 'task-t1', lookups));
  expect(fields).toMatch(/value="11111111-1111-4111-8111-111111111111" checked><label[^>]*>Payroll DB \(Payroll\)</);
  expect(String(taskFormFields(task('incident.acknowledge', {}), 'task-t1', lookups))).toBe('');
  expect(dataFromForm(task('incident.acknowledge', {}), { 'data.x': 'y' })).toBeUndefined();
  expect(dataFromForm(triage, { 'data.scope': '  ', 'data.affectedCis': '11111111-1111-4111-8111-111111111111' })).toEqual({
    affectedCis: ['11111111-1111-4111-8111-111111111111'],
  });
});

it('declares forms only through the one record, so each kind a helper adds is one entry', () => {
  expect(Object.keys(taskForms).sort()).toEqual([
    'access-review.certify',
    'advisory.alert-proposal',
    'advisory.remediation',
    'incident.containment-confirmation',
    'incident.post-incident-review',
    'incident.triage',
    'problem_security_check',
    'security-test.manual',
  ]);
});

it('draws the problem security check as a pass/fail result and a note per checklist item, and checks entries name an item', () => {
  const checklist = {
    checklist: [
      { id: 'availability:s1', source: 'sla', title: 'Availability target 99.9% of Payroll', detail: 'still holds' },
      { id: 'baseline:BL-C1', source: 'baseline', title: 'BL-C1 Encryption', detail: 'baseline measure' },
    ],
  };
  const check = task('problem_security_check', checklist);
  const fields = String(taskFormFields(check, 'task-t1', lookups));
  expect(fields).toContain('name="data.results.1.result"');
  expect(fields).toContain('name="data.results.1.note"');
  expect(fields).toContain('<legend>BL-C1 Encryption: baseline measure</legend>');
  expect(
    dataFromForm(check, {
      'data.results.0.result': 'pass',
      'data.results.0.note': '',
      'data.results.1.result': 'fail',
      'data.results.1.note': ' keys in plain text ',
    }),
  ).toEqual({
    results: [
      { itemId: 'availability:s1', result: 'pass' },
      { itemId: 'baseline:BL-C1', result: 'fail', note: 'keys in plain text' },
    ],
  });
  expect(checkTaskData('problem_security_check', checklist, { results: [{ itemId: 'sla:x:SR-9', result: 'pass' }] })).toEqual([
    { path: 'data.results.0', message: 'names no item of this task' },
  ]);
  expect(checkTaskData('problem_security_check', checklist, { results: [{ itemId: 'baseline:BL-C1', result: 'maybe' }] })).toEqual([
    { path: 'data.results.0.result', message: 'must be one of: pass, fail' },
  ]);
});

it('draws the containment confirmation as evidence text and links one per line', () => {
  const confirmation = task('incident.containment-confirmation', { action: 'isolate-account' });
  expect(String(taskFormFields(confirmation, 'task-t1', lookups))).toContain('name="data.evidence"');
  expect(
    dataFromForm(confirmation, { 'data.evidence': ' disabled the account ', 'data.links': 'https://t.example/1\r\n\nhttps://t.example/2' }),
  ).toEqual({ evidence: 'disabled the account', links: ['https://t.example/1', 'https://t.example/2'] });
  expect(checkTaskData('incident.containment-confirmation', {}, { evidence: 'done', links: ['ftp://x'] })).toEqual([
    { path: 'data.links.0', message: 'must be an http(s) link' },
  ]);
});
