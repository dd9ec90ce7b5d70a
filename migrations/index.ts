import type { Migration } from 'kysely';
import * as foundation from './2026-11-23T0000-foundation';
import * as cmdb from './2026-11-24T0000-cmdb';

/** Every migration, by name; names sort in the order they run. A new one is a new line here. */
export const migrations: Record<string, Migration> = {
  '2026-11-23T0000-foundation': foundation,
  '2026-11-24T0000-cmdb': cmdb,
};
