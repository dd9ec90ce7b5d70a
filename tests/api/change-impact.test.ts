import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCi } from '../setup/fixtures';
import { startStack, type Stack } from '../setup/stack';
import { changeBody, changeWithStatus, noImpact, reviewTask, submitChange } from './change-gate-support';
import { linkPendingAudit } from '../../db/audit-linker';

let stack: Stack;
let requester: string;
let manager: string;
let reviewer: string;
let databaseCi: string;
let wikiCi: string;

beforeAll(async () => {
  stack = await startStack();
  requester = await stack.token(['change_manager'], 'requester');
  manager = await stack.token(['security_manager'], 'sec-manager');
  reviewer = await stack.token(['security_reviewer'], 'reviewer');
  databaseCi = (await seedCi(stack.db, { level: 'very_high', name: 'customer-db' })).ciId;
  wikiCi = (await seedCi(stack.db, { level: 'low', name: 'team-wiki' })).ciId;
});
afterAll(() => stack?.close());

describe('the gate derives the impact itself', () => {
  it('routes "open firewall port 3389 from the internet" to review with the rule that caught it named, whatever the requester declares', async () => {
    const accepted = await submitChange(
      stack,
      requester,
      changeBody({ title: 'Open firewall port 3389 from the internet', affectedCis: [databaseCi], securityImpact: noImpact }),
    );
    expect(accepted).toMatchObject({ risk: 'high', reviewRequired: true });
    expect(accepted.reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/content rule "Network exposure: firewall, ports, ACLs, security groups" \(v1\) matched "firewall" in title/),
      ]),
    );
    const change = await changeWithStatus(stack, reviewer, accepted.id, 'in_review');
    expect(change.assessment.impact).toMatchObject({ declaredRisk: 'none', derivedRisk: 'high', declaredLower: true });
    expect(change.assessment.impact.ruleHits.map((hit: { name: string }) => hit.name)).toEqual(
      expect.arrayContaining(['Network exposure: firewall, ports, ACLs, security groups', 'Public exposure']),
    );
    const task = await reviewTask(stack, reviewer, accepted.id);
    expect(task).toMatchObject({ approvalsRequired: 2 });
    expect(task.details.reasons.join(' ')).toMatch(/content rule/);
    const requested = change.timeline.find((event: { action: string }) => event.action === 'change.requested');
    expect(requested.details.impact.ruleHits.length).toBeGreaterThan(0);
  });

  it('never approves a change to a CI classified high or above without review', async () => {
    const accepted = await submitChange(stack, requester, changeBody({ affectedCis: [databaseCi] }));
    expect(accepted).toMatchObject({ risk: 'low', reviewRequired: true });
    expect(accepted.reasons.join(' ')).toMatch(/classified very_high on confidentiality: a change to it is never risk none/);
  });

  it('reads the fields a ServiceNow message carries beyond title and description', async () => {
    const snDate = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
    const response = await stack.request('POST', '/changes/servicenow', {
      token: requester,
      body: {
        sys_id: 'a1b2c3',
        number: 'CHG0099001',
        short_description: 'Quarterly housekeeping',
        description: 'Routine',
        cmdb_ci: 'team-wiki',
        start_date: snDate(48),
        end_date: snDate(49),
        backout_plan: 'Undo',
        category: 'Software',
        justification: 'the vendor needs a data export of the tickets',
      },
    });
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    expect(response.body).toMatchObject({ reviewRequired: true });
    expect(response.body.impact.ruleHits).toEqual([
      expect.objectContaining({ name: 'Data export and retention', field: 'source:servicenow.justification', keyword: 'export' }),
    ]);
    const change = await changeWithStatus(stack, requester, response.body.id, 'in_review');
    expect(change).toMatchObject({ category: 'Software', sourceFields: { 'servicenow.justification': expect.stringContaining('export') } });
  });
});

describe('content rules as data', () => {
  it('are added, versioned and retired by the Security Manager, audited, and cited by the assessments they raise', async () => {
    const created = await stack.request('POST', '/change-impact-rules', {
      token: manager,
      body: { name: 'Mainframe', keywords: ['zos', 'mainframe'], areas: ['dataHandling'], minimumRisk: 'medium', reason: 'new platform' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      version: 1,
      status: 'active',
      changedBy: 'sec-manager',
      fields: ['title', 'description', 'category', 'source'],
    });
    const ruleId = created.body.id;

    const raised = await submitChange(stack, requester, changeBody({ title: 'Patch the mainframe scheduler', affectedCis: [wikiCi] }));
    expect(raised).toMatchObject({ risk: 'medium', reviewRequired: true });
    const raisedChange = await changeWithStatus(stack, requester, raised.id, 'in_review');
    expect(raisedChange.assessment.impact.ruleHits).toEqual([expect.objectContaining({ ruleId, version: 1, keyword: 'mainframe' })]);
    expect(raisedChange.assessment.impact.rulesEvaluated).toEqual(expect.arrayContaining([{ id: ruleId, version: 1 }]));

    const changed = await stack.request('PUT', `/change-impact-rules/${ruleId}`, {
      token: manager,
      body: {
        name: 'Mainframe',
        keywords: ['zos', 'mainframe', 'cics'],
        areas: ['dataHandling'],
        minimumRisk: 'medium',
        version: 1,
        reason: 'add CICS',
      },
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body).toMatchObject({ version: 2, keywords: ['zos', 'mainframe', 'cics'] });
    const stale = await stack.request('PUT', `/change-impact-rules/${ruleId}`, {
      token: manager,
      body: { name: 'Mainframe', keywords: ['zos'], areas: ['dataHandling'], version: 1, reason: 'late' },
    });
    expect(stale.status).toBe(409);

    const retired = await stack.request('PUT', `/change-impact-rules/${ruleId}`, {
      token: manager,
      body: {
        name: 'Mainframe',
        keywords: ['zos', 'mainframe', 'cics'],
        areas: ['dataHandling'],
        version: 2,
        retired: true,
        reason: 'platform gone',
      },
    });
    expect(retired.body).toMatchObject({ version: 3, status: 'retired' });
    const passes = await submitChange(
      stack,
      requester,
      changeBody({ title: 'Patch the mainframe scheduler again', affectedCis: [wikiCi] }),
    );
    expect(passes).toMatchObject({ risk: 'none', reviewRequired: false });

    const detail = await stack.request('GET', `/change-impact-rules/${ruleId}`, { token: requester });
    expect(detail.body.versions.map((v: { version: number; reason: string }) => [v.version, v.reason])).toEqual([
      [3, 'platform gone'],
      [2, 'add CICS'],
      [1, 'new platform'],
    ]);
    const active = await stack.request('GET', '/change-impact-rules', { token: requester });
    expect(active.body.items.map((rule: { id: string }) => rule.id)).not.toContain(ruleId);
    expect(active.body.items.length).toBeGreaterThanOrEqual(6);
    const all = await stack.request('GET', '/change-impact-rules?includeRetired=true', { token: requester });
    expect(all.body.items.map((rule: { id: string }) => rule.id)).toContain(ruleId);

    await linkPendingAudit(stack.db);
    const audit = await stack.db
      .selectFrom('audit_events')
      .select(['action', 'actor'])
      .where('subject_type', '=', 'change_impact_rule')
      .where('subject_id', '=', ruleId)
      .orderBy('id')
      .execute();
    expect(audit.map((event) => event.action)).toEqual([
      'change_impact_rule.created',
      'change_impact_rule.changed',
      'change_impact_rule.retired',
    ]);
  });

  it('refuses an empty rule, naming the field, and writes nothing', async () => {
    const before = await stack.db
      .selectFrom('change_impact_rules')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    const empty = await stack.request('POST', '/change-impact-rules', { token: manager, body: { name: 'Empty', keywords: [], areas: [] } });
    expect(empty.status).toBe(400);
    expect(empty.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(empty.body.errors.map((e: { path: string }) => e.path)).toEqual(['body.keywords', 'body.areas']);
    const punctuation = await stack.request('POST', '/change-impact-rules', {
      token: manager,
      body: { name: 'Dots', keywords: ['...'], areas: ['dataHandling'] },
    });
    expect(punctuation.body.errors).toEqual([expect.objectContaining({ path: 'body.keywords.0' })]);
    const after = await stack.db
      .selectFrom('change_impact_rules')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
  });

  it('are written only by Security Management', async () => {
    const refused = await stack.request('POST', '/change-impact-rules', {
      token: requester,
      body: { name: 'Mine', keywords: ['x1'], areas: ['dataHandling'] },
    });
    expect(refused.status).toBe(403);
    const unknown = await stack.request('PUT', '/change-impact-rules/00000000-0000-4000-8000-0000000000ff', {
      token: manager,
      body: { name: 'Ghost', keywords: ['x'], areas: ['dataHandling'], version: 1, reason: 'none' },
    });
    expect(unknown.status).toBe(404);
  });
});
