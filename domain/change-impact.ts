import { levelRank, securityAspects, type Classification, type ClassificationLevel, type SecurityAspect } from './classification';

/**
 * The gate's own view of a change's security impact (issue #17): the requester's flags are one
 * input, never the only one. Content rules read what the change says about itself (title,
 * description, category, the ITSM tool's fields), and the classification of the affected CIs sets
 * a floor. The rules are data the Security Manager versions through the API; every assessment
 * records which rule versions and which facts raised it.
 */

export const changeRisks = ['none', 'low', 'medium', 'high'] as const;
export type ChangeRisk = (typeof changeRisks)[number];

/** The security impact a requester declares for a change. */
export interface SecurityImpact {
  accessControls: boolean;
  networkConfiguration: boolean;
  dataHandling: boolean;
  /** Any other security impact, in the requester's words. */
  other?: string | null;
}

/** The parts of a change a content rule reads. `source` is a field an ITSM tool sent (ServiceNow, Jira). */
export const impactRuleFields = ['title', 'description', 'category', 'source'] as const;
export type ImpactRuleField = (typeof impactRuleFields)[number];

/** The security areas a rule can declare on the requester's behalf (the declared flags' names). */
export const impactAreas = ['accessControls', 'networkConfiguration', 'dataHandling'] as const;
export type ImpactAreaName = (typeof impactAreas)[number];

export const impactRuleStatuses = ['active', 'retired'] as const;
export type ImpactRuleStatus = (typeof impactRuleStatuses)[number];

/** One version of a content rule. A change to a rule is a new version; old versions stay for the assessments that cite them. */
export interface ImpactRule {
  id: string;
  version: number;
  name: string;
  description: string;
  /** Words or phrases, any of which raises the rule; matched whole-word, case-insensitively. */
  keywords: string[];
  /** Where to look. */
  fields: ImpactRuleField[];
  /** The impact the rule declares. */
  areas: ImpactAreaName[];
  /** The lowest risk a change it raises may have. */
  minimumRisk: Exclude<ChangeRisk, 'none'>;
  status: ImpactRuleStatus;
}

/** What a change says about itself, as the rules read it. */
export interface ChangeContent {
  title: string;
  description: string;
  category: string | null;
  /** Text fields from the ITSM payload, by their name there (`servicenow.justification`, `jira.components`). */
  sourceFields: Record<string, string>;
}

/** One rule that raised an assessment, with the fact that raised it. */
export interface RuleHit {
  ruleId: string;
  version: number;
  name: string;
  /** `title`, `description`, `category` or `source:<field name>`. */
  field: string;
  keyword: string;
  areas: ImpactAreaName[];
  minimumRisk: Exclude<ChangeRisk, 'none'>;
}

/** A CI whose classification alone forbids `none`. */
export interface CiFloorFact {
  ciId: string;
  aspect: SecurityAspect;
  level: ClassificationLevel;
}

/** The independent part of an assessment, kept with it so a reader sees why the gate decided as it did. */
export interface ImpactDerivation {
  /** The risk the requester's flags alone would give. */
  declaredRisk: ChangeRisk;
  /** The risk the rules and the CI classification alone give, whatever the requester declared. */
  derivedRisk: ChangeRisk;
  /** The requester declared less than the gate found: a figure of the gate KPI. */
  declaredLower: boolean;
  ruleHits: RuleHit[];
  ciFloor: CiFloorFact[];
  /** Every rule version consulted, hit or not: the rule set the assessment was made under. */
  rulesEvaluated: { id: string; version: number }[];
}

/** Word characters for matching: letters, digits and the punctuation of ports, addresses and CIDRs. */
const normalise = (text: string) =>
  ` ${text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}./:_-]+/gu, ' ')
    .trim()} `;

/** Is `keyword` a whole word or phrase of `text`? Plain string search: a rule is never a regular expression a hostile rule author could make slow. */
export function mentions(text: string, keyword: string): boolean {
  const phrase = normalise(keyword);
  if (phrase.trim() === '') return false;
  const haystack = normalise(text);
  // Trailing punctuation ("port 3389.") must not hide the word: try with it stripped too.
  return haystack.includes(phrase) || haystack.replace(/[./:_-]+ /g, ' ').includes(phrase);
}

function contentFields(content: ChangeContent, fields: readonly ImpactRuleField[]): [string, string][] {
  const out: [string, string][] = [];
  if (fields.includes('title')) out.push(['title', content.title]);
  if (fields.includes('description')) out.push(['description', content.description]);
  if (fields.includes('category') && content.category) out.push(['category', content.category]);
  if (fields.includes('source')) for (const [name, value] of Object.entries(content.sourceFields)) out.push([`source:${name}`, value]);
  return out;
}

/** The active rules the content raises, each once, at its first matching field and keyword. */
export function matchRules(rules: readonly ImpactRule[], content: ChangeContent): RuleHit[] {
  const hits: RuleHit[] = [];
  for (const rule of rules) {
    if (rule.status !== 'active') continue;
    const found = contentFields(content, rule.fields)
      .flatMap(([field, text]) => rule.keywords.filter((keyword) => mentions(text, keyword)).map((keyword) => ({ field, keyword })))
      .at(0);
    if (found)
      hits.push({
        ruleId: rule.id,
        version: rule.version,
        name: rule.name,
        ...found,
        areas: rule.areas,
        minimumRisk: rule.minimumRisk,
      });
  }
  return hits;
}

/** A change to a CI classified high or above on any aspect is never risk `none`. */
export function ciFloor(cis: readonly (Classification & { id: string })[]): CiFloorFact[] {
  return cis.flatMap((ci) =>
    securityAspects
      .filter((aspect) => levelRank(ci[aspect]) >= levelRank('high'))
      .map((aspect) => ({ ciId: ci.id, aspect, level: ci[aspect] })),
  );
}

/** The impact the rules found, as flags, so the same risk formula weighs declared and derived impact. */
export function derivedImpact(hits: readonly RuleHit[]): SecurityImpact {
  const areas = new Set(hits.flatMap((hit) => hit.areas));
  return {
    accessControls: areas.has('accessControls'),
    networkConfiguration: areas.has('networkConfiguration'),
    dataHandling: areas.has('dataHandling'),
  };
}

/** The union of the requester's flags and the rules' areas: the gate takes the higher of each. */
export function combinedImpact(declared: SecurityImpact, derived: SecurityImpact): SecurityImpact {
  return {
    accessControls: declared.accessControls || derived.accessControls,
    networkConfiguration: declared.networkConfiguration || derived.networkConfiguration,
    dataHandling: declared.dataHandling || derived.dataHandling,
    ...(declared.other?.trim() ? { other: declared.other } : {}),
  };
}

export const describeHit = (hit: RuleHit) => `content rule "${hit.name}" (v${hit.version}) matched "${hit.keyword}" in ${hit.field}`;

export const describeFloor = (fact: CiFloorFact) =>
  `CI ${fact.ciId} is classified ${fact.level} on ${fact.aspect}: a change to it is never risk none`;

/** Problems with a rule as the Security Manager wrote it, by field; empty when it may be saved. */
export function impactRuleProblems(rule: Pick<ImpactRule, 'keywords' | 'fields' | 'areas'>): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  if (rule.keywords.length === 0) problems.push({ field: 'keywords', message: 'a rule needs at least one keyword' });
  rule.keywords.forEach((keyword, index) => {
    if (!/[\p{L}\p{N}]/u.test(keyword))
      problems.push({ field: `keywords.${index}`, message: 'must contain a letter or digit: punctuation alone matches nothing' });
  });
  if (rule.fields.length === 0) problems.push({ field: 'fields', message: `a rule reads at least one of ${impactRuleFields.join(', ')}` });
  if (rule.areas.length === 0) problems.push({ field: 'areas', message: `a rule declares at least one of ${impactAreas.join(', ')}` });
  return problems;
}
