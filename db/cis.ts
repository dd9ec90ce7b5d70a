import type { Kysely, Transaction } from 'kysely';
import { levelsFrom, securityAspects, type ClassificationLevel } from '../domain/classification';
import {
  mayChangeRecord,
  type ConfigurationItem,
  type ConfigurationItemChanges,
  type ConfigurationItemFields,
  type ConfigurationItemStatus,
  type ConfigurationItemType,
} from '../domain/cmdb';
import { Refusal } from '../domain/refusal';
import type { Actor } from '../domain/roles';
import { appendAudit, auditedTransaction, changedFields } from './audit';
import { json } from './create-db';
import type { ConfigurationItemRow, Database } from './database';
import { keysetPage, pageOf, type PageRequest } from './pagination';
import { refuseTakenName } from './pg-errors';

export interface ConfigurationItemFilter {
  serviceId?: string;
  type?: ConfigurationItemType;
  owner?: string;
  /** At least this level on any aspect. */
  minimumLevel?: ClassificationLevel;
  status?: ConfigurationItemStatus;
}

const toConfigurationItem = (row: ConfigurationItemRow): ConfigurationItem => ({
  id: row.id,
  name: row.name,
  type: row.type,
  description: row.description,
  serviceId: row.service_id,
  owner: row.owner,
  classification: { confidentiality: row.confidentiality, integrity: row.integrity, availability: row.availability },
  attributes: row.attributes,
  status: row.status,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const fieldsOf = ({
  name,
  type,
  description,
  serviceId,
  owner,
  classification,
  attributes,
}: ConfigurationItemFields): ConfigurationItemFields => ({
  name,
  type,
  description,
  serviceId,
  owner,
  classification,
  attributes,
});

const columnsOf = (fields: ConfigurationItemFields) => ({
  name: fields.name,
  type: fields.type,
  description: fields.description,
  service_id: fields.serviceId,
  owner: fields.owner,
  ...fields.classification,
  attributes: json(fields.attributes),
});

export async function listConfigurationItems(db: Kysely<Database>, filter: ConfigurationItemFilter, page: PageRequest) {
  let query = db.selectFrom('configuration_items').selectAll();
  if (filter.serviceId) query = query.where('service_id', '=', filter.serviceId);
  if (filter.type) query = query.where('type', '=', filter.type);
  if (filter.owner) query = query.where('owner', '=', filter.owner);
  if (filter.status) query = query.where('status', '=', filter.status);
  const minimumLevel = filter.minimumLevel;
  if (minimumLevel) query = query.where((eb) => eb.or(securityAspects.map((aspect) => eb(aspect, 'in', levelsFrom(minimumLevel)))));
  const { items, nextCursor } = pageOf(await keysetPage(query, page).execute(), page.limit);
  return { items: items.map(toConfigurationItem), nextCursor };
}

export async function findConfigurationItem(db: Kysely<Database>, id: string): Promise<ConfigurationItem | undefined> {
  const row = await db.selectFrom('configuration_items').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toConfigurationItem(row);
}

/**
 * The owner of the service a CI belongs to, who shares the right to change the CI. The key-share
 * lock keeps the service from being deleted before this transaction commits.
 */
async function serviceOwner(trx: Transaction<Database>, serviceId: string | null): Promise<string | null> {
  if (!serviceId) return null;
  const service = await trx.selectFrom('services').select('owner').where('id', '=', serviceId).forKeyShare().executeTakeFirst();
  if (!service) throw new Refusal('invalid', `service ${serviceId} does not exist`, 'serviceId');
  return service.owner;
}

export async function createConfigurationItem(
  db: Kysely<Database>,
  fields: ConfigurationItemFields,
  actor: Actor,
): Promise<ConfigurationItem> {
  return auditedTransaction(db, async (trx) => {
    if (!mayChangeRecord(actor, [fields.owner, await serviceOwner(trx, fields.serviceId)])) {
      throw new Refusal('forbidden', 'a service owner can only register CIs they own or in a service they own');
    }
    const row = await trx
      .insertInto('configuration_items')
      .values(columnsOf(fields))
      .returningAll()
      .executeTakeFirstOrThrow()
      .catch(refuseTakenName('an active configuration item', fields.name));
    await appendAudit(trx, {
      actor: actor.principalId,
      action: 'ci.created',
      subjectType: 'ci',
      subjectId: row.id,
      details: { ...fields },
    });
    return toConfigurationItem(row);
  });
}

/** Locks the CI against concurrent changes and checks the actor may change it as it is now. */
async function lockForChange(trx: Transaction<Database>, id: string, actor: Actor) {
  const row = await trx.selectFrom('configuration_items').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
  if (!row) throw new Refusal('not_found', `configuration item ${id} does not exist`);
  const current = toConfigurationItem(row);
  const currentServiceOwner = await serviceOwner(trx, current.serviceId);
  if (!mayChangeRecord(actor, [current.owner, currentServiceOwner])) {
    throw new Refusal('forbidden', `configuration item ${current.name} is neither owned by ${actor.principalId} nor in a service they own`);
  }
  return { current, currentServiceOwner };
}

/** Changes the given fields of an active CI; an update that changes nothing writes nothing. */
export async function updateConfigurationItem(
  db: Kysely<Database>,
  id: string,
  changes: ConfigurationItemChanges,
  actor: Actor,
): Promise<ConfigurationItem> {
  return auditedTransaction(db, async (trx) => {
    const { current, currentServiceOwner } = await lockForChange(trx, id, actor);
    if (current.status === 'retired')
      throw new Refusal('conflict', `configuration item ${current.name} is retired and kept unchanged for history`);
    const next: ConfigurationItemFields = {
      name: changes.name ?? current.name,
      type: changes.type ?? current.type,
      description: changes.description ?? current.description,
      serviceId: changes.serviceId === undefined ? current.serviceId : changes.serviceId,
      owner: changes.owner ?? current.owner,
      classification: { ...current.classification, ...changes.classification },
      attributes: changes.attributes ?? current.attributes,
    };
    const nextServiceOwner = next.serviceId === current.serviceId ? currentServiceOwner : await serviceOwner(trx, next.serviceId);
    if (!mayChangeRecord(actor, [next.owner, nextServiceOwner])) {
      throw new Refusal('forbidden', 'a service owner cannot hand a CI to someone else or move it into a service they do not own');
    }
    const changed = changedFields(fieldsOf(current), next);
    if (Object.keys(changed).length === 0) return current;
    const row = await trx
      .updateTable('configuration_items')
      .set({ ...columnsOf(next), updated_at: new Date() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow()
      .catch(refuseTakenName('an active configuration item', next.name));
    await appendAudit(trx, {
      actor: actor.principalId,
      action: 'ci.updated',
      subjectType: 'ci',
      subjectId: id,
      details: { changes: changed },
    });
    return toConfigurationItem(row);
  });
}

/** Retires a CI, keeping it for history; retiring a retired CI again changes nothing. */
export async function retireConfigurationItem(db: Kysely<Database>, id: string, actor: Actor): Promise<void> {
  await auditedTransaction(db, async (trx) => {
    const { current } = await lockForChange(trx, id, actor);
    if (current.status === 'retired') return;
    await trx.updateTable('configuration_items').set({ status: 'retired', updated_at: new Date() }).where('id', '=', id).execute();
    await appendAudit(trx, {
      actor: actor.principalId,
      action: 'ci.retired',
      subjectType: 'ci',
      subjectId: id,
      details: { name: current.name },
    });
  });
}

/** Most configuration items a form offers to pick from; a CMDB larger than this needs a search, not a list. */
export const configurationItemChoiceLimit = 2000;

/** Configuration items to pick from in a form, by name with their service's, plus any ids already chosen (retired ones included). */
export async function configurationItemChoices(db: Kysely<Database>, chosen: string[]): Promise<{ id: string; label: string }[]> {
  const ids = chosen.filter((id) => /^[0-9a-f-]{36}$/i.test(id));
  const rows = await db
    .selectFrom('configuration_items as ci')
    .leftJoin('services', 'services.id', 'ci.service_id')
    .select(['ci.id', 'ci.name', 'services.name as service'])
    .where((eb) => (ids.length ? eb.or([eb('ci.status', '=', 'active'), eb('ci.id', 'in', ids)]) : eb('ci.status', '=', 'active')))
    .orderBy('ci.name')
    .orderBy('ci.id')
    .limit(configurationItemChoiceLimit)
    .execute();
  return rows.map((row) => ({ id: row.id, label: row.service ? `${row.name} (${row.service})` : row.name }));
}
