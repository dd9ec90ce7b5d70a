import type { Kysely } from 'kysely';
import { classificationLevels, maxLevel, type ClassificationLevel } from '../../domain/classification';
import type { Database } from '../database';
import type { MeasureScope } from './measure';

export interface ServiceAsset {
  id: string;
  name: string;
  owner: string;
  /** The highest level any aspect of any of its active CIs has. */
  level: ClassificationLevel;
}

export interface Assets {
  services: Map<string, ServiceAsset>;
  /** CI id → its service (if any) and its own highest level. */
  cis: Map<string, { serviceId: string | null; level: ClassificationLevel }>;
  inScope(serviceId: string | null): boolean;
}

/** The CMDB as the measures need it: small enough to read whole once per measure. */
export async function loadAssets(db: Kysely<Database>, scope: MeasureScope): Promise<Assets> {
  const [serviceRows, ciRows] = await Promise.all([
    db.selectFrom('services').select(['id', 'name', 'owner']).execute(),
    db.selectFrom('configuration_items').select(['id', 'service_id', 'confidentiality', 'integrity', 'availability', 'status']).execute(),
  ]);
  const cis = new Map<string, { serviceId: string | null; level: ClassificationLevel }>();
  const serviceLevels = new Map<string, ClassificationLevel[]>();
  for (const ci of ciRows) {
    const level = maxLevel([ci.confidentiality, ci.integrity, ci.availability]);
    cis.set(ci.id, { serviceId: ci.service_id, level });
    if (ci.service_id && ci.status === 'active') serviceLevels.set(ci.service_id, [...(serviceLevels.get(ci.service_id) ?? []), level]);
  }
  const services = new Map(serviceRows.map((s) => [s.id, { ...s, level: maxLevel(serviceLevels.get(s.id) ?? [classificationLevels[0]]) }]));
  const scoped = scope ? new Set(scope) : null;
  return { services, cis, inScope: (serviceId) => !scoped || (serviceId !== null && scoped.has(serviceId)) };
}

/** The services a record touches through its CIs and the services it names directly. */
export function servicesOf(assets: Assets, ciIds: readonly string[], serviceIds: readonly string[] = []): ServiceAsset[] {
  const ids = new Set([
    ...serviceIds,
    ...ciIds.map((id) => assets.cis.get(id)?.serviceId).filter((id): id is string => typeof id === 'string'),
  ]);
  return [...ids].map((id) => assets.services.get(id)).filter((s): s is ServiceAsset => s !== undefined);
}

/** The highest level among CIs and services a record touches; `low` when it touches none. */
export function levelOf(assets: Assets, ciIds: readonly string[], services: readonly ServiceAsset[]): ClassificationLevel {
  return maxLevel([...ciIds.map((id) => assets.cis.get(id)?.level ?? 'low'), ...services.map((s) => s.level)]);
}

/** Whether a record touching these services belongs to the scope (everything does without one). */
export function touchesScope(assets: Assets, services: readonly ServiceAsset[]): boolean {
  return assets.inScope(null) || services.some((s) => assets.inScope(s.id));
}
