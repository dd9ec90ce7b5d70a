import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { stormAlert, stormOutcome } from '../../bench/paths/alert-storm';
import { inParallel } from '../../bench/harness';
import { seedServiceWithCi } from '../../bench/scratch-services';
import { eventually, startStack } from '../setup/stack';

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
