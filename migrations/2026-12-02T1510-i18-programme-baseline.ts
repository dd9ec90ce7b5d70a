import { type Kysely, sql } from 'kysely';

// The tailorable baseline: each version is a whole measure set (per classification level, as data)
// with the Annex A applicability statements of the Statement of Applicability. Version 1 is the
// baseline Warden shipped with until now, copied here as it stood (migrations import no app code).
const builtIn = [
  { id: 'BL-C1', aspect: 'confidentiality', from: 'low', title: 'Authenticated access only', annexA: ['A.5.15', 'A.8.5'] },
  {
    id: 'BL-C2',
    aspect: 'confidentiality',
    from: 'medium',
    title: 'Role-based access, reviewed yearly',
    annexA: ['A.5.15', 'A.5.18', 'A.8.2'],
  },
  { id: 'BL-C3', aspect: 'confidentiality', from: 'high', title: 'Encryption in transit and at rest', annexA: ['A.8.24'] },
  { id: 'BL-C4', aspect: 'confidentiality', from: 'high', title: 'Access reviews every quarter', annexA: ['A.5.18'] },
  {
    id: 'BL-C5',
    aspect: 'confidentiality',
    from: 'very_high',
    title: 'Multi-factor authentication and data loss prevention',
    annexA: ['A.8.5', 'A.8.12'],
  },
  { id: 'BL-I1', aspect: 'integrity', from: 'low', title: 'Changes go through change management', annexA: ['A.8.32'] },
  { id: 'BL-I2', aspect: 'integrity', from: 'medium', title: 'Security patches within the SLA patch deadline', annexA: ['A.8.8'] },
  { id: 'BL-I3', aspect: 'integrity', from: 'high', title: 'Audit logging of privileged actions', annexA: ['A.8.15'] },
  { id: 'BL-I4', aspect: 'integrity', from: 'very_high', title: 'Four-eyes approval of privileged changes', annexA: ['A.5.3', 'A.8.2'] },
  { id: 'BL-A1', aspect: 'availability', from: 'low', title: 'Backups', annexA: ['A.8.13'] },
  { id: 'BL-A2', aspect: 'availability', from: 'medium', title: 'Monitoring and alerting', annexA: ['A.8.16'] },
  { id: 'BL-A3', aspect: 'availability', from: 'high', title: 'Tested restore and continuity plan', annexA: ['A.5.30', 'A.8.13'] },
  { id: 'BL-A4', aspect: 'availability', from: 'very_high', title: 'Redundancy without a single point of failure', annexA: ['A.8.14'] },
];

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('baseline_versions')
    .addColumn('version', 'integer', (c) => c.primaryKey())
    .addColumn('measures', 'jsonb', (c) => c.notNull())
    .addColumn('statements', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending_approval', 'approved', 'rejected', 'failed')`))
    .addColumn('workflow_id', 'text')
    .addColumn('proposed_by', 'text', (c) => c.notNull())
    .addColumn('proposed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('decided_by', 'text')
    .addColumn('decided_at', 'timestamptz')
    .addColumn('comment', 'text')
    .execute();
  // At most one version awaits approval at a time: a second proposal is refused until it is decided.
  await sql`create unique index baseline_versions_one_pending on baseline_versions ((true)) where status = 'pending_approval'`.execute(db);
  await db
    .insertInto('baseline_versions')
    .values({
      version: 1,
      measures: JSON.stringify(builtIn),
      reason: 'the built-in baseline',
      status: 'approved',
      proposed_by: 'system:warden',
      decided_by: 'system:warden',
      decided_at: sql`now()`,
    })
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('baseline_versions').execute();
}
