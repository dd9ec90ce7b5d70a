import { sql } from 'kysely';
import { auditHash, genesisHash, recordAudit } from '../../db/audit';
import { linkPendingAudit } from '../../db/audit-linker';
import { json } from '../../db/create-db';
import type { AuditEventsTable } from '../../db/database';
import type { Bench } from '../figures';
import { inParallel, perSecond, timed } from '../harness';

const unchained = 'bench_unchained_audit_events';

/**
 * Audited writes per second with `auditWriters` writers at once (recordAudit: one transaction each,
 * its event linked onto the hash chain after the commit), against the same rows, hashed the same,
 * inserted one transaction each into a copy of the table without the chain. Writers do not wait for
 * the chain, so Warden's time runs until the last event is on it, not until the last write returned.
 */
export const auditBench: Bench = {
  name: 'audit',
  async measure(stack, { auditWrites, auditWriters }) {
    await sql`create table if not exists ${sql.table(unchained)} (like audit_events including all)`.execute(stack.db);
    const floorDb = stack.db.withTables<{ [unchained]: AuditEventsTable }>();
    const event = (i: number) => ({
      actor: `writer-${i % auditWriters}`,
      action: 'bench.audited',
      subjectType: 'bench',
      subjectId: `subject-${i}`,
      details: { i, note: 'an audited write of the benchmark' },
    });
    const wardenMs = await timed(async () => {
      await inParallel(auditWrites, auditWriters, (i) => recordAudit(stack.db, event(i)));
      await linkPendingAudit(stack.db);
    });
    const floorMs = await timed(() =>
      inParallel(auditWrites, auditWriters, (i) =>
        floorDb.transaction().execute(async (trx) => {
          const { actor, action, subjectType, subjectId, details } = event(i);
          const occurredAt = new Date();
          await trx
            .insertInto(unchained)
            .values({
              occurred_at: occurredAt,
              actor,
              action,
              subject_type: subjectType,
              subject_id: subjectId,
              details: json(details),
              prev_hash: genesisHash,
              hash: auditHash({ occurredAt, actor, action, subjectType, subjectId, details, prevHash: genesisHash }),
            })
            .execute();
        }),
      ),
    );
    return [
      {
        path: `audit (audited writes, ${auditWriters} writers at once)`,
        unit: '/s',
        warden: perSecond(auditWrites, wardenMs),
        floor: perSecond(auditWrites, floorMs),
        goal: { kind: 'share of floor', ratio: 0.7 },
      },
    ];
  },
};
