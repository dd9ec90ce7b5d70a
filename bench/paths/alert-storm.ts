import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/database';
import type { Bench } from '../figures';
import {
  eventually,
  inParallel,
  incidentsSettled,
  machineCpuPerItem,
  perSecond,
  startBareServer,
  timed,
  uniqueId,
  untilAvailable,
  type WardenStack,
} from '../harness';
import { drivingAnalyst } from '../task-driver';

const copies = { alerts: 'bench_storm_alerts', observables: 'bench_storm_alert_observables' };

/**
 * Alert `i` of a storm on `host`, a CI in the CMDB (on a host Warden does not know the incident
 * would close as not a security incident and free its fingerprint). Its fingerprint is one of
 * `fingerprints`, and every four fingerprints share an IP, so alerts attach both by fingerprint and
 * by a shared observable: a storm ends in ceil(fingerprints / 4) incidents.
 */
export function stormAlert(storm: string, i: number, { fingerprints, host }: { fingerprints: number; host: string }) {
  const group = i % fingerprints;
  return {
    source: storm,
    rule: `Brute force from ${group}`,
    severity: 'medium',
    host,
    fingerprint: `${storm}-${group}`,
    time: new Date().toISOString(),
    observables: [
      { type: 'ip', value: `198.51.${Math.floor(group / 4) % 256}.${Math.floor(group / 1024)}` },
      { type: 'hash', value: `${storm}-payload-${group}` },
    ],
  };
}

/** What became of a storm's alerts: how many were recorded, attached or in an incident, and in how many incidents. */
export async function stormOutcome(db: Kysely<Database>, storm: string) {
  const counts = await sql<{ received: number; placed: number; incidents: number; unregistered: number }>`
    select count(*)::int as received,
           count(*) filter (where a.verdict in ('attached', 'incident') and a.incident_id is not null)::int as placed,
           count(distinct a.incident_id)::int as incidents,
           count(distinct a.incident_id) filter (where i.id is null)::int as unregistered
      from security_alerts_received a left join incidents i on i.id = a.incident_id
     where a.source = ${storm}`.execute(db);
  return counts.rows[0] ?? { received: 0, placed: 0, incidents: 0, unregistered: 0 };
}

/** Fails the run unless every alert of the storm was recorded, and attached or opened an incident that comes to exist. */
async function assertNoneLost(stack: WardenStack, storm: string, alerts: number) {
  const { received, placed } = await stormOutcome(stack.db, storm);
  if (received !== alerts || placed !== alerts)
    throw new Error(`lost alerts: ${alerts} sent, ${received} recorded, ${placed} attached or in an incident`);
  // Incidents register through their workflows.
  const outcome = await eventually('every alert’s incident registered', async () => {
    const now = await stormOutcome(stack.db, storm);
    return now.unregistered === 0 ? now : undefined;
  });
  return outcome.incidents;
}

/**
 * SIEM alerts per second into POST /alerts, `concurrency` at once, against bare Fastify + pg
 * inserting the same rows (the alert and its observables, one transaction) into copies of the tables.
 * The storm's incidents finish what they do before a person acts (their acknowledge tasks opened and
 * announced) before the floor runs, so the floor does not share the machine with them; the machine's
 * CPU per alert is counted on Warden's side through that work, and through the storm on the floor's.
 */
export const alertStormBench: Bench = {
  name: 'alert-storm',
  async measure(stack, sizes) {
    const { alerts, concurrency } = sizes;
    const storm = uniqueId('storm');
    const post = async (url: string, headers: Record<string, string>, i: number) => {
      const response = await untilAvailable(stack.shed, () =>
        fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(stormAlert(storm, i, { fingerprints: sizes.fingerprints, host: stack.ciName })),
        }),
      );
      if (response.status !== 202 && response.status !== 200) throw new Error(`alert ${i}: ${response.status} ${await response.text()}`);
    };
    const auth = { authorization: `Bearer ${stack.tokenOf(drivingAnalyst)}` };
    let wardenMs = 0;
    const wardenCpu = await machineCpuPerItem(alerts, async () => {
      wardenMs = await timed(() => inParallel(alerts, concurrency, (i) => post(`${stack.baseUrl}/alerts`, auth, i)));
      const incidents = await assertNoneLost(stack, storm, alerts);
      process.stderr.write(`alert-storm: ${alerts} alerts in ${incidents} incidents, none lost\n`);
      const { rows } = await sql<{ id: string }>`
        select distinct incident_id as id from security_alerts_received where source = ${storm}`.execute(stack.db);
      await incidentsSettled(
        stack,
        rows.map((row) => row.id),
      );
    });

    await sql`create table if not exists ${sql.table(copies.alerts)} (like security_alerts_received including defaults)`.execute(stack.db);
    await sql`create table if not exists ${sql.table(copies.observables)} (like alert_observables including defaults)`.execute(stack.db);
    const bare = await startBareServer(stack.scratch.databaseUrl, (app, pool) => {
      app.post('/alerts', async (request, reply) => {
        const alert = request.body as ReturnType<typeof stormAlert>;
        const client = await pool.connect();
        try {
          await client.query('begin');
          const { rows } = await client.query(
            `insert into ${copies.alerts} (format, source, rule, severity, host, fingerprint, observed_at, verdict, reason, raw, received_by)
             values ('generic', $1, $2, $3, $4, $5, $6, 'incident', 'bare floor', $7, 'bench') returning id`,
            [alert.source, alert.rule, alert.severity, alert.host, alert.fingerprint, alert.time, JSON.stringify(alert)],
          );
          for (const observable of alert.observables) {
            await client.query(`insert into ${copies.observables} (alert_id, type, value) values ($1, $2, $3)`, [
              rows[0].id,
              observable.type,
              observable.value,
            ]);
          }
          await client.query('commit');
        } finally {
          client.release();
        }
        return reply.code(202).send({ alertId: 'recorded' });
      });
    });
    let floorMs = 0;
    let floorCpu: number;
    try {
      floorCpu = await machineCpuPerItem(alerts, async () => {
        floorMs = await timed(() => inParallel(alerts, concurrency, (i) => post(`${bare.url}/alerts`, {}, i)));
      });
    } finally {
      await bare.close();
    }
    return [
      {
        path: `alert storm (POST /alerts, ${alerts} alerts over ${sizes.fingerprints} fingerprints, none lost)`,
        unit: '/s',
        warden: perSecond(alerts, wardenMs),
        floor: perSecond(alerts, floorMs),
        goal: { kind: 'share of floor', ratio: 0.5 },
        cpu: { warden: wardenCpu, floor: floorCpu },
      },
    ];
  },
};
