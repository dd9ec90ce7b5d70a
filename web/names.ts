import type { Kysely } from 'kysely';
import type { Database } from '../db/database';
import { configurationItemNames, principalNames, serviceNames, type ConfigurationItemName } from '../db/names';

/** Names read once for a page: people, CIs and services by name, and the full id where none is known. */
export interface Names {
  person(id: string): string;
  people(ids: readonly string[]): string;
  ci(id: string): string;
  cis(ids: readonly string[]): string;
  /** The services the CIs serve, each once. */
  servicesOf(ciIds: readonly string[]): string;
  /** Who answers for the CIs: their owners, each once, by name. */
  ownersOf(ciIds: readonly string[]): string;
  service(id: string): string;
}

const listed = (values: Iterable<string>) => [...new Set(values)].join(', ') || '—';

export async function lookUpNames(
  db: Kysely<Database>,
  wanted: { principals?: Iterable<string>; cis?: Iterable<string>; services?: Iterable<string> },
): Promise<Names> {
  const ciIds = [...(wanted.cis ?? [])];
  const cis = await configurationItemNames(db, ciIds);
  const owners = [...cis.values()].map((ci) => ci.owner);
  const [people, services] = await Promise.all([
    principalNames(db, [...(wanted.principals ?? []), ...owners]),
    serviceNames(db, wanted.services ?? []),
  ]);
  const person = (id: string) => people.get(id) ?? id;
  const known = (ids: readonly string[]) => ids.flatMap((id) => cis.get(id) ?? []) as ConfigurationItemName[];
  return {
    person,
    people: (ids) => listed(ids.map(person)),
    ci: (id) => {
      const ci = cis.get(id);
      return ci ? (ci.serviceName ? `${ci.name} (${ci.serviceName})` : ci.name) : id;
    },
    cis: (ids) => listed(ids.map((id) => cis.get(id)?.name ?? id)),
    servicesOf: (ids) => listed(known(ids).flatMap((ci) => ci.serviceName ?? [])),
    ownersOf: (ids) => listed(known(ids).map((ci) => person(ci.owner))),
    service: (id) => services.get(id) ?? id,
  };
}
