import { type Kysely, sql } from 'kysely';

// The change gate derives a change's security impact itself (issue #17): content rules are
// versioned data, one row per version, and a change keeps the category and ITSM fields they read.
// The shipped rules are version 1 of each; the Security Manager changes them through the API.

const shipped = [
  {
    id: '00000000-0000-4000-8000-000000001701',
    name: 'Network exposure: firewall, ports, ACLs, security groups',
    keywords: ['firewall', 'port', 'ports', 'acl', 'security group', 'nsg', 'ingress', 'egress', 'rdp', '3389', 'ssh', 'vpn', 'dmz', 'nat'],
    areas: ['networkConfiguration'],
    minimum_risk: 'low',
  },
  {
    id: '00000000-0000-4000-8000-000000001702',
    name: 'Public exposure',
    keywords: ['internet', 'public', 'publicly', '0.0.0.0/0', 'any source', 'anonymous access', 'world-readable', 'open to all'],
    areas: ['networkConfiguration', 'accessControls'],
    minimum_risk: 'medium',
  },
  {
    id: '00000000-0000-4000-8000-000000001703',
    name: 'Identity and access: IAM, roles, permissions, SSO, MFA',
    keywords: [
      'iam',
      'role',
      'roles',
      'permission',
      'permissions',
      'privilege',
      'admin rights',
      'sso',
      'saml',
      'oidc',
      'mfa',
      '2fa',
      'password',
      'service account',
      'api key',
      'entitlement',
    ],
    areas: ['accessControls'],
    minimum_risk: 'low',
  },
  {
    id: '00000000-0000-4000-8000-000000001704',
    name: 'Cryptography: encryption, keys, certificates',
    keywords: [
      'encryption',
      'encrypt',
      'decrypt',
      'tls',
      'ssl',
      'certificate',
      'certificates',
      'key rotation',
      'private key',
      'kms',
      'hsm',
      'cipher',
    ],
    areas: ['dataHandling'],
    minimum_risk: 'low',
  },
  {
    id: '00000000-0000-4000-8000-000000001705',
    name: 'Data export and retention',
    keywords: ['export', 'data export', 'extract', 'dump', 'retention', 'purge', 'backup', 'replicate', 'personal data', 'pii', 'gdpr'],
    areas: ['dataHandling'],
    minimum_risk: 'low',
  },
  {
    id: '00000000-0000-4000-8000-000000001706',
    name: 'Logging or monitoring disabled',
    keywords: [
      'disable logging',
      'logging disabled',
      'turn off logging',
      'audit log',
      'disable monitoring',
      'siem',
      'log retention',
      'disable alerts',
    ],
    areas: ['accessControls', 'dataHandling'],
    minimum_risk: 'medium',
  },
];

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('change_impact_rules')
    .addColumn('id', 'uuid', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('keywords', sql`text[]`, (c) => c.notNull())
    .addColumn('fields', sql`text[]`, (c) => c.notNull())
    .addColumn('areas', sql`text[]`, (c) => c.notNull())
    .addColumn('minimum_risk', 'text', (c) => c.notNull().check(sql`minimum_risk in ('low', 'medium', 'high')`))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('active', 'retired')`))
    .addColumn('changed_by', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('changed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('change_impact_rules_pkey', ['id', 'version'])
    .execute();
  await db
    .insertInto('change_impact_rules')
    .values(
      shipped.map((rule) => ({
        ...rule,
        version: 1,
        description: 'shipped with Warden',
        fields: ['title', 'description', 'category', 'source'],
        status: 'active',
        changed_by: 'system:warden',
      })),
    )
    .execute();
  await db.schema
    .alterTable('changes')
    .addColumn('category', 'text')
    .addColumn('source_fields', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('changes').dropColumn('category').dropColumn('source_fields').execute();
  await db.schema.dropTable('change_impact_rules').execute();
}
