import type { Kysely } from 'kysely';
import type { Database } from './database';

// What people read instead of ids: a principal's display name, a CI's and a service's name.

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ids a uuid column can be asked about: anything else would be a cast error, and names nothing anyway. */
const uuids = (ids: Iterable<string>) => [...new Set([...ids].filter((id) => uuid.test(id)))];

/** Display names of the principals given; a principal never signed in or given a token keeps its id. */
export async function principalNames(db: Kysely<Database>, ids: Iterable<string>): Promise<Map<string, string>> {
  const wanted = [...new Set(ids)];
  if (!wanted.length) return new Map();
  const rows = await db.selectFrom('principals').select(['id', 'display_name']).where('id', 'in', wanted).execute();
  return new Map(rows.map((row) => [row.id, row.display_name]));
}

export interface ConfigurationItemName {
  name: string;
  owner: string;
  serviceId: string | null;
  serviceName: string | null;
  serviceOwner: string | null;
}

/** CIs by id with their service and owners, for lists that name what an incident or alert affects. */
export async function configurationItemNames(db: Kysely<Database>, ids: Iterable<string>): Promise<Map<string, ConfigurationItemName>> {
  const wanted = uuids(ids);
  if (!wanted.length) return new Map();
  const rows = await db
    .selectFrom('configuration_items as ci')
    .leftJoin('services as s', 's.id', 'ci.service_id')
    .select(['ci.id', 'ci.name', 'ci.owner', 'ci.service_id', 's.name as service_name', 's.owner as service_owner'])
    .where('ci.id', 'in', wanted)
    .execute();
  return new Map(
    rows.map((row) => [
      row.id,
      { name: row.name, owner: row.owner, serviceId: row.service_id, serviceName: row.service_name, serviceOwner: row.service_owner },
    ]),
  );
}

/** Service names by id. */
export async function serviceNames(db: Kysely<Database>, ids: Iterable<string>): Promise<Map<string, string>> {
  const wanted = uuids(ids);
  if (!wanted.length) return new Map();
  const rows = await db.selectFrom('services').select(['id', 'name']).where('id', 'in', wanted).execute();
  return new Map(rows.map((row) => [row.id, row.name]));
}
