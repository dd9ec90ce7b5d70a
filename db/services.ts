import type { Kysely, Transaction } from 'kysely';
import {
  mayChangeRecord,
  requiredMeasures,
  type RequiredMeasure,
  type Service,
  type ServiceChanges,
  type ServiceDraft,
  type ServiceFields,
} from '../domain/cmdb';
import { Refusal } from '../domain/refusal';
import type { Actor } from '../domain/roles';
import { completeSla, defaultSla, mergeSla, untimeableTargets, type ServiceSla, type SlaChanges } from '../domain/sla';
import { appendAudit, auditedTransaction, changedFields } from './audit';
import { baselineInForce } from './baseline';
import { json } from './create-db';
import type { Database, ServiceRow } from './database';
import { keysetPage, pageOf, type PageRequest } from './pagination';
import { refuseTakenName } from './pg-errors';

export interface ServiceFilter {
  nameContains?: string;
  owner?: string;
}

export interface ServiceOverview extends Service {
  ciCount: number;
  requiredMeasures: RequiredMeasure[];
}

const toService = (row: ServiceRow): Service => ({
  id: row.id,
  name: row.name,
  description: row.description,
  owner: row.owner,
  sla: completeSla(row.sla),
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const fieldsOf = ({ name, description, owner, sla }: ServiceFields): ServiceFields => ({ name, description, owner, sla });

const columnsOf = ({ name, description, owner, sla }: ServiceFields) => ({ name, description, owner, sla: json(sla) });

/** ILIKE would read % and _ in a name filter as wildcards; the filter means the characters. */
const containing = (text: string) => `%${text.replace(/[\\%_]/g, '\\$&')}%`;

export async function listServices(db: Kysely<Database>, filter: ServiceFilter, page: PageRequest) {
  let query = db.selectFrom('services').selectAll();
  if (filter.nameContains) query = query.where('name', 'ilike', containing(filter.nameContains));
  if (filter.owner) query = query.where('owner', '=', filter.owner);
  const { items, nextCursor } = pageOf(await keysetPage(query, page).execute(), page.limit);
  return { items: items.map(toService), nextCursor };
}

/** A service with what hangs on its CIs: how many are active and the measures their classifications require. */
export async function findServiceOverview(db: Kysely<Database>, id: string): Promise<ServiceOverview | undefined> {
  const row = await db.selectFrom('services').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const classes = await db
    .selectFrom('configuration_items')
    .select(['confidentiality', 'integrity', 'availability', (eb) => eb.fn.countAll<number>().as('count')])
    .where('service_id', '=', id)
    .where('status', '=', 'active')
    .groupBy(['confidentiality', 'integrity', 'availability'])
    .execute();
  return {
    ...toService(row),
    ciCount: classes.reduce((total, { count }) => total + count, 0),
    requiredMeasures: requiredMeasures(classes, row.sla, await baselineInForce(db)),
  };
}

/**
 * Refuses an SLA whose support hours cannot time one of its incident targets (`untimeableTargets`),
 * naming the target when the request set it, the support hours otherwise.
 */
function refuseUntimeable(sla: ServiceSla, requested: SlaChanges | undefined) {
  const [untimeable] = untimeableTargets(sla, new Date());
  if (!untimeable) return;
  const { field, severity, duration } = untimeable;
  throw new Refusal(
    'invalid',
    `the support hours cannot time ${field}.${severity} (${duration}): it would not fall due within ten years`,
    requested?.[field]?.[severity] === undefined ? 'sla.supportHours' : `sla.${field}.${severity}`,
  );
}

export async function createService(db: Kysely<Database>, draft: ServiceDraft, actor: Actor): Promise<Service> {
  const fields: ServiceFields = { ...draft, sla: mergeSla(defaultSla, draft.sla) };
  if (!mayChangeRecord(actor, [fields.owner])) throw new Refusal('forbidden', 'a service owner can only register services they own');
  refuseUntimeable(fields.sla, draft.sla);
  return auditedTransaction(db, async (trx) => {
    const row = await trx
      .insertInto('services')
      .values(columnsOf(fields))
      .returningAll()
      .executeTakeFirstOrThrow()
      .catch(refuseTakenName('a service', fields.name));
    await appendAudit(trx, {
      actor: actor.principalId,
      action: 'service.created',
      subjectType: 'service',
      subjectId: row.id,
      details: { ...fields },
    });
    return toService(row);
  });
}

/** Locks the service against concurrent changes and checks the actor may change it as it is now. */
async function lockForChange(trx: Transaction<Database>, id: string, actor: Actor): Promise<Service> {
  const row = await trx.selectFrom('services').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
  if (!row) throw new Refusal('not_found', `service ${id} does not exist`);
  if (!mayChangeRecord(actor, [row.owner])) throw new Refusal('forbidden', `service ${row.name} is owned by ${row.owner}`);
  return toService(row);
}

/** Changes the given fields; an update that changes nothing writes nothing, not even an audit event. */
export async function updateService(db: Kysely<Database>, id: string, changes: ServiceChanges, actor: Actor): Promise<Service> {
  return auditedTransaction(db, async (trx) => {
    const current = await lockForChange(trx, id, actor);
    const next: ServiceFields = {
      name: changes.name ?? current.name,
      description: changes.description ?? current.description,
      owner: changes.owner ?? current.owner,
      sla: changes.sla ? mergeSla(current.sla, changes.sla) : current.sla,
    };
    if (!mayChangeRecord(actor, [next.owner])) throw new Refusal('forbidden', 'a service owner cannot hand a service to someone else');
    if (changes.sla) refuseUntimeable(next.sla, changes.sla);
    const changed = changedFields(fieldsOf(current), next);
    if (Object.keys(changed).length === 0) return current;
    const row = await trx
      .updateTable('services')
      .set({ ...columnsOf(next), updated_at: new Date() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow()
      .catch(refuseTakenName('a service', next.name));
    await appendAudit(trx, {
      actor: actor.principalId,
      action: 'service.updated',
      subjectType: 'service',
      subjectId: id,
      details: { changes: changed },
    });
    return toService(row);
  });
}

/**
 * Deletes a service no CI references. Retired CIs count: they keep their service for history, so
 * a service that ever had CIs stays too.
 */
export async function deleteService(db: Kysely<Database>, id: string, actor: Actor): Promise<void> {
  await auditedTransaction(db, async (trx) => {
    // The row lock also holds off a CI being attached meanwhile: its foreign key check waits for it.
    const current = await lockForChange(trx, id, actor);
    const { count } = await trx
      .selectFrom('configuration_items')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('service_id', '=', id)
      .executeTakeFirstOrThrow();
    if (count > 0)
      throw new Refusal('conflict', `service ${current.name} is referenced by ${count} configuration item(s), retired ones included`);
    await trx.deleteFrom('services').where('id', '=', id).execute();
    await appendAudit(trx, {
      actor: actor.principalId,
      action: 'service.deleted',
      subjectType: 'service',
      subjectId: id,
      details: { ...fieldsOf(current) },
    });
  });
}
