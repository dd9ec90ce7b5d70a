import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSla } from '../../domain/sla';
import { startStack, type Stack } from '../setup/stack';
import { linkPendingAudit } from '../../db/audit-linker';

let stack: Stack;
let admin: string;
let manager: string;
let reader: string;
/** A service owner whose principal id is `owner-alice`. */
let alice: string;
let bob: string;

beforeAll(async () => {
  stack = await startStack({ worker: false });
  admin = await stack.token(['admin']);
  manager = await stack.token(['security_manager'], 'manager-mia');
  reader = await stack.token(['reporter']);
  alice = await stack.token(['service_owner'], 'owner-alice');
  bob = await stack.token(['service_owner'], 'owner-bob');
});
afterAll(() => stack?.close());

let names = 0;
const unique = (prefix: string) => `${prefix} ${++names}`;

const classified = (confidentiality: string, integrity = 'low', availability = 'low') => ({ confidentiality, integrity, availability });

async function createService(body: Record<string, unknown> = {}, token = admin) {
  const response = await stack.request('POST', '/services', { token, body: { name: unique('service'), owner: 'owner-alice', ...body } });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body;
}

async function createCi(body: Record<string, unknown> = {}, token = admin) {
  const response = await stack.request('POST', '/cis', {
    token,
    body: { name: unique('ci'), type: 'server', owner: 'owner-alice', classification: classified('low'), ...body },
  });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body;
}

const auditOf = async (subjectId: string) => {
  await linkPendingAudit(stack.db);
  return stack.db
    .selectFrom('audit_events')
    .select(['actor', 'action', 'details'])
    .where('subject_id', '=', subjectId)
    .orderBy('id')
    .execute();
};

describe('services', () => {
  it('fill the SLA fields a create leaves out from the defaults, merging targets per key', async () => {
    const created = await createService({ sla: { acknowledgeTargets: { critical: '10m' }, availabilityTarget: 99.9 } }, manager);
    expect(created.sla).toEqual({
      ...defaultSla,
      acknowledgeTargets: { ...defaultSla.acknowledgeTargets, critical: '10m' },
      availabilityTarget: 99.9,
    });
    expect(created.description).toBe('');
    expect(created.updatedAt).toBe(created.createdAt);
    expect(await auditOf(created.id)).toEqual([
      {
        actor: 'manager-mia',
        action: 'service.created',
        details: expect.objectContaining({ name: created.name, owner: 'owner-alice', sla: created.sla }),
      },
    ]);
  });

  it('merge a change into the SLA per key and audit exactly the fields that changed', async () => {
    const created = await createService();
    const changed = await stack.request('PATCH', `/services/${created.id}`, {
      token: manager,
      body: {
        description: 'card payments',
        sla: { resolveTargets: { high: '12h' }, additionalRequirements: [{ id: 'PCI-1', title: 'PCI DSS scope' }] },
      },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.sla.resolveTargets).toEqual({ ...defaultSla.resolveTargets, high: '12h' });
    expect(changed.body.sla.acknowledgeTargets).toEqual(defaultSla.acknowledgeTargets);
    expect(Date.parse(changed.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.updatedAt));

    const nothing = await stack.request('PATCH', `/services/${created.id}`, {
      token: manager,
      body: { sla: { resolveTargets: { high: '12h' } } },
    });
    expect(nothing.body).toEqual(changed.body);

    const events = await auditOf(created.id);
    expect(events.map((event) => event.action)).toEqual(['service.created', 'service.updated']);
    expect(events[1]?.details).toEqual({
      changes: {
        description: { from: '', to: 'card payments' },
        'sla.resolveTargets.high': { from: '1d', to: '12h' },
        'sla.additionalRequirements': { from: [], to: [{ id: 'PCI-1', title: 'PCI DSS scope' }] },
      },
    });
  });

  it('refuse a name that is taken, on create and on rename', async () => {
    const first = await createService();
    const second = await createService();
    const duplicate = await stack.request('POST', '/services', { token: admin, body: { name: first.name, owner: 'owner-alice' } });
    expect(duplicate.status).toBe(409);
    expect(duplicate.headers.get('content-type')).toContain('application/problem+json');
    expect(duplicate.body.errors).toEqual([{ path: 'body.name', message: expect.stringContaining('exists already') }]);
    const rename = await stack.request('PATCH', `/services/${second.id}`, { token: admin, body: { name: first.name } });
    expect(rename.status).toBe(409);
    expect(await auditOf(second.id)).toHaveLength(1);
  });

  it('let exactly one of several concurrent creates of a name through', async () => {
    const name = unique('contested');
    const attempts = await Promise.all(
      Array.from({ length: 8 }, () => stack.request('POST', '/services', { token: admin, body: { name, owner: 'owner-alice' } })),
    );
    expect(attempts.map((attempt) => attempt.status).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
  });

  it('refuse duplicate additional requirement ids, naming the duplicate', async () => {
    const response = await stack.request('POST', '/services', {
      token: admin,
      body: {
        name: unique('service'),
        owner: 'owner-alice',
        sla: {
          additionalRequirements: [
            { id: 'R1', title: 'a' },
            { id: 'R1', title: 'b' },
          ],
        },
      },
    });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ path: 'body.sla.additionalRequirements.1.id', message: 'duplicate requirement id R1' }]);
  });

  it('refuse an SLA target longer than ten years, naming it, before anything is written', async () => {
    const name = unique('service');
    const response = await stack.request('POST', '/services', {
      token: admin,
      body: { name, owner: 'owner-alice', sla: { resolveTargets: { low: '99999999w' }, acknowledgeTargets: { low: '3653d' } } },
    });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ path: 'body.sla.resolveTargets.low', message: 'must be at most ten years (3653d)' }]);
    expect((await stack.request('GET', `/services?name=${name}`, { token: admin })).body.items).toEqual([]);
  });

  it('list by part of the name and by owner, a page at a time, each service once', async () => {
    const tag = `Pager_${Date.now()}%`;
    const made = [];
    for (let i = 0; i < 5; i += 1) made.push(await createService({ name: `${tag} ${i}`, owner: i % 2 ? 'owner-bob' : 'owner-alice' }));
    await createService({ name: `${tag.replace('_', 'x').replace('%', 'y')} decoy` });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/services?limit=2&name=${encodeURIComponent(tag.toLowerCase())}${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await stack.request('GET', query, { token: reader });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((item: { id: string }) => item.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(made.map((service) => service.id));

    const bobs = await stack.request('GET', `/services?owner=owner-bob&name=${encodeURIComponent(tag)}`, { token: reader });
    expect(bobs.body.items.map((item: { id: string }) => item.id)).toEqual([made[1].id, made[3].id]);
  });

  it('refuse a cursor the API did not issue', async () => {
    const forged = Buffer.from(JSON.stringify({ createdAt: 'yesterday', id: 'x' })).toString('base64url');
    for (const cursor of ['garbage', forged]) {
      const response = await stack.request('GET', `/services?cursor=${cursor}`, { token: reader });
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([{ path: 'querystring.cursor', message: 'cursor is not one this API issued' }]);
    }
  });

  it("show the CI count and the measures the active CIs' classifications and the SLA require", async () => {
    const service = await createService({
      sla: { additionalRequirements: [{ id: 'SOX-7', title: 'Quarterly attestation', description: 'signed by the owner' }] },
    });
    await createCi({ serviceId: service.id, classification: classified('high', 'low', 'medium') });
    await createCi({ serviceId: service.id, classification: classified('low', 'medium', 'low') });
    const retired = await createCi({ serviceId: service.id, classification: classified('very_high', 'very_high', 'very_high') });
    expect((await stack.request('DELETE', `/cis/${retired.id}`, { token: admin })).status).toBe(204);

    const overview = await stack.request('GET', `/services/${service.id}`, { token: reader });
    expect(overview.status).toBe(200);
    expect(overview.body.ciCount).toBe(2);
    expect(overview.body.requiredMeasures.map((measure: { id: string }) => measure.id)).toEqual([
      'BL-C1',
      'BL-C2',
      'BL-C3',
      'BL-C4',
      'BL-I1',
      'BL-I2',
      'BL-A1',
      'BL-A2',
      'SOX-7',
    ]);
    expect(overview.body.requiredMeasures.at(-1)).toEqual({
      source: 'sla',
      id: 'SOX-7',
      title: 'Quarterly attestation',
      description: 'signed by the owner',
    });
    expect(overview.body.requiredMeasures[0]).toEqual({
      source: 'baseline',
      id: 'BL-C1',
      title: 'Authenticated access only',
      aspect: 'confidentiality',
      from: 'low',
    });

    const empty = await createService();
    const bare = await stack.request('GET', `/services/${empty.id}`, { token: reader });
    expect(bare.body).toMatchObject({ ciCount: 0, requiredMeasures: [] });
  });

  it('refuse to delete a service while CIs reference it, retired ones included, and delete it after', async () => {
    const service = await createService();
    const ci = await createCi({ serviceId: service.id });
    const inUse = await stack.request('DELETE', `/services/${service.id}`, { token: admin });
    expect(inUse.status).toBe(409);
    expect(inUse.body.detail).toContain('1 configuration item');

    await stack.request('PATCH', `/cis/${ci.id}`, { token: admin, body: { serviceId: null } });
    expect((await stack.request('DELETE', `/services/${service.id}`, { token: admin })).status).toBe(204);
    expect((await stack.request('GET', `/services/${service.id}`, { token: reader })).status).toBe(404);
    expect((await auditOf(service.id)).map((event) => event.action)).toEqual(['service.created', 'service.deleted']);
    expect((await stack.request('DELETE', `/services/${service.id}`, { token: admin })).status).toBe(404);
  });
});

describe('configuration items', () => {
  it('show the baseline measures their classification requires', async () => {
    const ci = await createCi({ classification: classified('medium', 'high', 'low'), attributes: { activityWindow: 'Mo-Fr 08-18' } });
    expect(ci).toMatchObject({ status: 'active', description: '', serviceId: null, attributes: { activityWindow: 'Mo-Fr 08-18' } });
    const read = await stack.request('GET', `/cis/${ci.id}`, { token: reader });
    expect(read.status).toBe(200);
    expect(read.body.baseline.map((measure: { id: string }) => measure.id)).toEqual(['BL-C1', 'BL-C2', 'BL-I1', 'BL-I2', 'BL-I3', 'BL-A1']);
  });

  it('refuse a service that does not exist, naming the field', async () => {
    const response = await stack.request('POST', '/cis', {
      token: admin,
      body: {
        name: unique('ci'),
        type: 'database',
        owner: 'owner-alice',
        serviceId: crypto.randomUUID(),
        classification: classified('low'),
      },
    });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ path: 'body.serviceId', message: expect.stringContaining('does not exist') }]);
  });

  it('refuse server-owned fields in a request body', async () => {
    const ci = await createCi();
    const response = await stack.request('PATCH', `/cis/${ci.id}`, {
      token: admin,
      body: { status: 'active', id: ci.id, createdAt: ci.createdAt },
    });
    expect(response.status).toBe(400);
    expect(response.body.errors.map((error: { path: string }) => error.path).sort()).toEqual(['body.createdAt', 'body.id', 'body.status']);
  });

  it('merge classification changes per aspect and audit them', async () => {
    const ci = await createCi({ classification: classified('medium', 'medium', 'medium') });
    const changed = await stack.request('PATCH', `/cis/${ci.id}`, { token: manager, body: { classification: { integrity: 'very_high' } } });
    expect(changed.body.classification).toEqual(classified('medium', 'very_high', 'medium'));
    const events = await auditOf(ci.id);
    expect(events.at(-1)).toEqual({
      actor: 'manager-mia',
      action: 'ci.updated',
      details: { changes: { 'classification.integrity': { from: 'medium', to: 'very_high' } } },
    });
  });

  it('filter by service, type, owner, minimum level on any aspect and status', async () => {
    const service = await createService();
    const server = await createCi({ serviceId: service.id, classification: classified('low', 'low', 'high') });
    const database = await createCi({
      serviceId: service.id,
      type: 'database',
      owner: 'owner-bob',
      classification: classified('very_high'),
    });
    const account = await createCi({ serviceId: service.id, type: 'service_account', classification: classified('medium') });
    await stack.request('DELETE', `/cis/${account.id}`, { token: admin });

    const ids = async (query: string) => {
      const response = await stack.request('GET', `/cis?serviceId=${service.id}&${query}`, { token: reader });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      return response.body.items.map((item: { id: string }) => item.id);
    };
    expect(await ids('')).toEqual([server.id, database.id, account.id]);
    expect(await ids('type=database')).toEqual([database.id]);
    expect(await ids('owner=owner-bob')).toEqual([database.id]);
    expect(await ids('minLevel=high')).toEqual([server.id, database.id]);
    expect(await ids('minLevel=very_high')).toEqual([database.id]);
    expect(await ids('status=retired')).toEqual([account.id]);
    expect(await ids('status=active&minLevel=medium')).toEqual([server.id, database.id]);
    expect((await stack.request('GET', '/cis?minLevel=extreme', { token: reader })).body.errors[0].path).toBe('querystring.minLevel');
  });

  it('retire instead of deleting, keep the retired CI read-only, and free its name', async () => {
    const ci = await createCi();
    expect((await stack.request('DELETE', `/cis/${ci.id}`, { token: admin })).status).toBe(204);
    const read = await stack.request('GET', `/cis/${ci.id}`, { token: reader });
    expect(read.body.status).toBe('retired');
    const change = await stack.request('PATCH', `/cis/${ci.id}`, { token: admin, body: { description: 'too late' } });
    expect(change.status).toBe(409);
    expect((await stack.request('DELETE', `/cis/${ci.id}`, { token: admin })).status).toBe(204);
    expect((await auditOf(ci.id)).map((event) => event.action)).toEqual(['ci.created', 'ci.retired']);

    const successor = await createCi({ name: ci.name });
    expect(successor.id).not.toBe(ci.id);
    const clash = await stack.request('POST', '/cis', {
      token: admin,
      body: { name: ci.name, type: 'server', owner: 'owner-alice', classification: classified('low') },
    });
    expect(clash.status).toBe(409);
  });
});

describe('a service owner', () => {
  it('registers and changes their own services, and nobody else’s', async () => {
    const own = await createService({ owner: 'owner-alice' }, alice);
    expect((await stack.request('PATCH', `/services/${own.id}`, { token: alice, body: { description: 'mine' } })).status).toBe(200);

    const forOther = await stack.request('POST', '/services', { token: alice, body: { name: unique('service'), owner: 'owner-bob' } });
    expect(forOther.status).toBe(403);
    expect(forOther.headers.get('content-type')).toContain('application/problem+json');
    expect((await stack.request('PATCH', `/services/${own.id}`, { token: bob, body: { description: 'taken over' } })).status).toBe(403);
    expect((await stack.request('DELETE', `/services/${own.id}`, { token: bob })).status).toBe(403);
    expect((await stack.request('PATCH', `/services/${own.id}`, { token: alice, body: { owner: 'owner-bob' } })).status).toBe(403);
    expect((await stack.request('PATCH', `/services/${own.id}`, { token: manager, body: { owner: 'owner-bob' } })).status).toBe(200);
    expect((await auditOf(own.id)).map((event) => event.actor)).toEqual(['owner-alice', 'owner-alice', 'manager-mia']);
  });

  it('changes CIs they own or that sit in a service they own', async () => {
    const alicesService = await createService({ owner: 'owner-alice' });
    const bobsService = await createService({ owner: 'owner-bob' });
    const bobsCiInAlicesService = await createCi({ serviceId: alicesService.id, owner: 'owner-bob' }, alice);
    const alicesCiInBobsService = await createCi({ serviceId: bobsService.id, owner: 'owner-alice' }, alice);
    const bobsCi = await createCi({ serviceId: bobsService.id, owner: 'owner-bob' });

    const patch = (id: string, token: string, body: Record<string, unknown>) => stack.request('PATCH', `/cis/${id}`, { token, body });
    expect((await patch(bobsCiInAlicesService.id, alice, { description: 'via the service' })).status).toBe(200);
    expect((await patch(alicesCiInBobsService.id, alice, { description: 'via the CI' })).status).toBe(200);
    expect((await patch(bobsCi.id, alice, { description: 'not mine' })).status).toBe(403);
    expect((await stack.request('DELETE', `/cis/${bobsCi.id}`, { token: alice })).status).toBe(403);
    // Giving her CI to Bob, in Bob's service, would leave her no claim on it: only a curator may.
    expect((await patch(alicesCiInBobsService.id, alice, { owner: 'owner-bob' })).status).toBe(403);
    const intoOthers = await stack.request('POST', '/cis', {
      token: alice,
      body: { name: unique('ci'), type: 'server', owner: 'owner-bob', serviceId: bobsService.id, classification: classified('low') },
    });
    expect(intoOthers.status).toBe(403);
    expect((await stack.request('GET', `/cis/${bobsCi.id}`, { token: alice })).status).toBe(200);
  });
});

it('leaves one valid audit chain behind', async () => {
  const verify = await stack.request('GET', '/audit/verify', { token: admin });
  expect(verify.body.valid).toBe(true);
});
