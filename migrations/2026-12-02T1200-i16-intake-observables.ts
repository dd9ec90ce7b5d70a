import { type Kysely, sql } from 'kysely';

// Observables and correlation, ATT&CK on incidents, merging and linking incidents.

export async function up(db: Kysely<any>): Promise<void> {
  // What each received alert carried. The alert is the witness: `GET /observables` answers from here.
  await db.schema
    .createTable('alert_observables')
    .addColumn('alert_id', 'uuid', (c) => c.notNull().references('security_alerts_received.id'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('alert_observables_pk', ['alert_id', 'type', 'value'])
    .execute();
  await db.schema.createIndex('alert_observables_value').on('alert_observables').columns(['type', 'value']).execute();

  // What an incident saw, from its alerts, the CMDB and merged incidents. An incident id appears
  // here from the moment an alert claims it, before the workflow registers the incident row, so a
  // second alert sharing an indicator finds it (the same claim the fingerprint table makes).
  await db.schema
    .createTable('incident_observables')
    .addColumn('incident_id', 'uuid', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('origin', 'text', (c) => c.notNull().check(sql`origin in ('alert', 'cmdb', 'merge')`))
    .addColumn('first_seen_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull())
    // When the row was written: a claim whose incident never registered stops counting after a while.
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('incident_observables_pk', ['incident_id', 'type', 'value'])
    .execute();
  await db.schema.createIndex('incident_observables_value').on('incident_observables').columns(['type', 'value']).execute();

  await db.schema
    .createTable('iocs')
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('marked_by', 'text', (c) => c.notNull())
    .addColumn('marked_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('iocs_pk', ['type', 'value'])
    .execute();

  await db.schema
    .alterTable('security_alerts_received')
    .addColumn('attack_techniques', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('ci_ids', sql`uuid[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('severity_floor', 'text')
    .execute();

  await db.schema
    .alterTable('incidents')
    .addColumn('attack_techniques', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('severity_floor', 'text')
    .addColumn('merged_into', 'uuid')
    .execute();
  await sql`create index incidents_attack_techniques on incidents using gin (attack_techniques)`.execute(db);

  // Related incidents, stored once per pair in both directions so either side lists the other.
  await db.schema
    .createTable('incident_relations')
    .addColumn('incident_id', 'uuid', (c) => c.notNull().references('incidents.id'))
    .addColumn('related_id', 'uuid', (c) => c.notNull().references('incidents.id'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('related', 'merged_into', 'merged_from')`))
    .addColumn('note', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('incident_relations_pk', ['incident_id', 'related_id', 'kind'])
    .execute();

  // The organisation's ATT&CK catalogue, replaced whole by each import.
  await db.schema
    .createTable('attack_techniques')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('tactics', sql`text[]`, (c) => c.notNull())
    .addColumn('bundle_id', 'text', (c) => c.notNull())
    .addColumn('imported_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('attack_techniques').execute();
  await db.schema.dropTable('incident_relations').execute();
  await sql`drop index incidents_attack_techniques`.execute(db);
  await db.schema.alterTable('incidents').dropColumn('attack_techniques').dropColumn('severity_floor').dropColumn('merged_into').execute();
  await db.schema
    .alterTable('security_alerts_received')
    .dropColumn('attack_techniques')
    .dropColumn('ci_ids')
    .dropColumn('severity_floor')
    .execute();
  await db.schema.dropTable('iocs').execute();
  await db.schema.dropTable('incident_observables').execute();
  await db.schema.dropTable('alert_observables').execute();
}
