import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { stormAlert, stormOutcome } from '../../bench/paths/alert-storm';
import { inParallel } from '../../bench/harness';
import { seedServiceWithCi } from '../../bench/scratch-services';
import { eventually, startStack } from '../setup/stack';
import { linkPendingAudit } from '../../db/audit-linker';

// The alert-storm benchmark at a small size, for what it must get right whatever its speed: alerts
// arriving 20 at a time over shared fingerprints and observables are all recorded, each attached or
// in an incident, and the correlation rules make exactly one incident per group sharing an IP.
const alerts = 200;
const fingerprints = 10;

const stack = await startStack();
afterAll(() => stack.close());

it(`loses none of ${alerts} concurrent alerts over ${fingerprints} fingerprints and opens one incident per shared IP`, async () => {
  const token = await stack.token(['security_analyst'], 'siem');
  // On a host the CMDB knows: an incident on an unknown one closes as not a security incident and frees its fingerprint.
  const host = 'storm-db';
  await seedServiceWithCi(stack.db, { service: 'storm', ci: host, owner: 'sam' });
  const storm = `storm-${randomBytes(4).toString('hex')}`;
  const statuses = await inParallel(
    alerts,
    20,
    async (i) => (await stack.request('POST', '/alerts', { token, body: stormAlert(storm, i, { fingerprints, host }) })).status,
  );
  expect(new Set(statuses)).toEqual(new Set([202]));

  const outcome = await eventually(
    async () => {
      const now = await stormOutcome(stack.db, storm);
      return now.unregistered === 0 ? now : undefined;
    },
    60_000,
    'every incident of the storm registered',
  );
  // Fingerprints 0–3, 4–7 and 8–9 share an IP each.
  expect(outcome).toEqual({ received: alerts, placed: alerts, incidents: Math.ceil(fingerprints / 4), unregistered: 0 });
}, 180_000);

/** One fingerprint, and observables of its own: the storm above shares its IPs with open incidents. */
const unknownHostAlert = (storm: string, host: string) => ({
  ...stormAlert(storm, 0, { fingerprints: 1, host }),
  observables: [{ type: 'hash', value: `${storm}-payload` }],
});

const closedAsNotSecurity = (incidentId: string) =>
  eventually(
    async () =>
      (await stack.db.selectFrom('incidents').select('status').where('id', '=', incidentId).executeTakeFirst())?.status ===
      'closed_not_security',
    30_000,
    'the incident to close as not a security incident',
  );

it('keeps a storm on a host the CMDB does not know in one incident, the alerts after its close suppressed onto it', async () => {
  const token = await stack.token(['security_analyst'], 'siem-unknown-host');
  const storm = `storm-unknown-${randomBytes(4).toString('hex')}`;
  const send = (count: number) =>
    inParallel(
      count,
      10,
      async () => (await stack.request('POST', '/alerts', { token, body: unknownHostAlert(storm, 'not-in-the-cmdb') })).body,
    );
  const [first] = await send(1);
  expect(first.verdict).toBe('incident');
  await closedAsNotSecurity(first.incidentId);
  const rest = await send(30);
  expect(rest.map((answer) => [answer.verdict, answer.incidentId])).toEqual(Array(30).fill(['attached', first.incidentId]));
  expect((await stormOutcome(stack.db, storm)).incidents).toBe(1);
  const suppressed = await stack.db
    .selectFrom('security_alerts_received')
    .select('id')
    .where('incident_id', '=', first.incidentId)
    .where('reason', 'like', 'suppressed:%')
    .execute();
  expect(suppressed).toHaveLength(30);
  // Each suppressed alert is audited on the incident, marked as such.
  await linkPendingAudit(stack.db);
  const audited = await stack.db
    .selectFrom('audit_events')
    .select('details')
    .where('action', '=', 'alert.attached')
    .where('subject_id', '=', first.incidentId)
    .execute();
  expect(audited.filter((event) => (event.details as { suppressed?: boolean }).suppressed === true)).toHaveLength(30);
});

it('judges an alert afresh once the correlation window after such a close has passed', async () => {
  const token = await stack.token(['security_analyst'], 'siem-after-window');
  const storm = `storm-late-${randomBytes(4).toString('hex')}`;
  const alert = () => unknownHostAlert(storm, 'not-in-the-cmdb-either');
  const first = (await stack.request('POST', '/alerts', { token, body: alert() })).body;
  await closedAsNotSecurity(first.incidentId);
  // As if the close were a window (24 h by default) ago.
  await stack.db
    .updateTable('open_alert_fingerprints')
    .set({ closed_at: new Date(Date.now() - 25 * 3_600_000) })
    .where('incident_id', '=', first.incidentId)
    .execute();
  const later = (await stack.request('POST', '/alerts', { token, body: alert() })).body;
  expect(later.verdict).toBe('incident');
  expect(later.incidentId).not.toBe(first.incidentId);
});
