import type { Kysely, Selectable } from 'kysely';
import type { ImpactRule } from '../domain/change-impact';
import { auditedWrite } from './audit';
import type { ChangeImpactRulesTable, Database } from './database';

/**
 * The change gate's content rules: one row per version, the latest version of each rule is the one
 * in force, and every version stays so the assessments that cite it can be read back.
 */

type RuleRow = Selectable<ChangeImpactRulesTable>;

export interface RuleVersion extends ImpactRule {
  changedBy: string;
  reason: string;
  changedAt: Date;
}

const toRule = (row: RuleRow): RuleVersion => ({
  id: row.id,
  version: row.version,
  name: row.name,
  description: row.description,
  keywords: row.keywords,
  fields: row.fields,
  areas: row.areas,
  minimumRisk: row.minimum_risk,
  status: row.status,
  changedBy: row.changed_by,
  reason: row.reason,
  changedAt: row.changed_at,
});

function ruleVersions(db: Kysely<Database>) {
  return db.selectFrom('change_impact_rules').selectAll();
}

/** The latest version of every rule, retired ones included when asked; by name. */
export async function currentImpactRules(db: Kysely<Database>, options: { includeRetired?: boolean } = {}): Promise<RuleVersion[]> {
  const rows = await ruleVersions(db).distinctOn('id').orderBy('id').orderBy('version', 'desc').execute();
  return rows
    .map(toRule)
    .filter((rule) => options.includeRetired || rule.status === 'active')
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Every version of one rule, newest first; empty when there is no such rule. */
export async function impactRuleHistory(db: Kysely<Database>, id: string): Promise<RuleVersion[]> {
  const rows = await ruleVersions(db).where('id', '=', id).orderBy('version', 'desc').execute();
  return rows.map(toRule);
}

export type RuleContent = Omit<ImpactRule, 'id' | 'version'>;

/**
 * Writes version `expectedVersion + 1` of a rule (1 for a new rule), audited. Returns false when the
 * rule moved on since the caller read it: the (id, version) key refuses the second writer.
 */
export async function saveImpactRule(
  db: Kysely<Database>,
  input: { id: string; expectedVersion: number; content: RuleContent; actor: string; reason: string },
): Promise<boolean> {
  const version = input.expectedVersion + 1;
  return auditedWrite(db, async (trx) => {
    const latest = await trx
      .selectFrom('change_impact_rules')
      .select((eb) => eb.fn.max('version').as('version'))
      .where('id', '=', input.id)
      .executeTakeFirst();
    if ((latest?.version ?? 0) !== input.expectedVersion) return undefined;
    const { content } = input;
    const inserted = await trx
      .insertInto('change_impact_rules')
      .values({
        id: input.id,
        version,
        name: content.name,
        description: content.description,
        keywords: content.keywords,
        fields: content.fields,
        areas: content.areas,
        minimum_risk: content.minimumRisk,
        status: content.status,
        changed_by: input.actor,
        reason: input.reason,
      })
      .onConflict((oc) => oc.columns(['id', 'version']).doNothing())
      .returning('version')
      .executeTakeFirst();
    if (!inserted) return undefined;
    return {
      actor: input.actor,
      action:
        version === 1
          ? 'change_impact_rule.created'
          : content.status === 'retired'
            ? 'change_impact_rule.retired'
            : 'change_impact_rule.changed',
      subjectType: 'change_impact_rule',
      subjectId: input.id,
      details: { version, reason: input.reason, ...content },
    };
  });
}
