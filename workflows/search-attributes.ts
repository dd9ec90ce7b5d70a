import { defineSearchAttributeKey, type SearchAttributeUpdatePair } from '@temporalio/common';
import { patched, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import { type WardenSearchAttribute, type WardenSearchFields, wardenSearchAttributes } from '../domain/search-attributes';

/** Histories recorded before Warden published Search Attributes replay without the upserts. */
export const searchAttributesPatch = 'warden-search-attributes';

/**
 * Publishes what operators filter on (see domain/search-attributes.ts: identifiers, enumerations
 * and times only, since the cluster indexes them in plain text) and, optionally, a memo with what
 * they read but never filter by, such as a title: the memo passes through the payload codec, so
 * it is encrypted at rest and decoded only for people the codec endpoint lets in.
 */
export function publishSearchFields(fields: WardenSearchFields, memo?: Record<string, unknown>): void {
  if (!patched(searchAttributesPatch)) return;
  const pairs = (Object.keys(fields) as WardenSearchAttribute[])
    .filter((field) => fields[field] !== undefined)
    .map((field) => {
      const { name, type } = wardenSearchAttributes[field];
      const value = fields[field];
      // A DATETIME attribute takes a Date; ISO strings come from activities and inputs.
      const typed = type === 'DATETIME' && value !== null ? new Date(value as string | Date) : value;
      return { key: defineSearchAttributeKey(name, type), value: typed } as SearchAttributeUpdatePair;
    });
  if (pairs.length > 0) upsertSearchAttributes(pairs);
  if (memo) upsertMemo(memo);
}
