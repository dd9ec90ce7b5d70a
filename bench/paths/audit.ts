import { sql } from 'kysely';
import { auditHash, genesisHash, recordAudit } from '../../db/audit';
import { json } from '../../db/create-db';
import type { AuditEventsTable } from '../../db/database';
import type { Bench } from '../figures';
import { inParallel, perSecond, timed } from '../harness';

const unchained = 'bench_unchained_audit_events';

/**
 * Audited writes per second with `auditWriters` writers at once (recordAudit: one transaction that
 * extends the hash chain), against the same rows, hashed the same, inserted one transaction each
 * into a copy of the table without the chain.
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
    const wardenMs = await timed(() => inParallel(auditWrites, auditWriters, (i) => recordAudit(stack.db, event(i))));
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
