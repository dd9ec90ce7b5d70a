import { reviewActions, type ReviewItem } from './access-review';
import { incidentCategories } from './classification';
import { containmentConfirmationKind } from './incident';
import { checkItemResults, type ChecklistItem, problemCheckTaskKind } from './problem';
import { manualTestTaskKind } from './security-test';
import { roles } from './roles';

/**
 * What each kind of human task collects from the person deciding it, declared once: the inbox
 * renders it as a form (web/task-form.ts) and the API checks a decision's `data` against it
 * (http/task-decisions.ts) before the workflow sees it. A kind not listed collects nothing: the
 * inbox shows only its comment and outcome buttons.
 *
 * To add a kind, add an entry to `taskForms`. Options and per-item lists may come from the task's
 * own details (`fromDetails`), so a checklist whose items the workflow chose is declared like any other.
 */

export interface Option {
  value: string;
  label: string;
}

/** Where a choice's options come from: fixed, the task's details, or a lookup the inbox resolves to names. */
export type Options =
  | { fixed: readonly Option[] }
  | { fromDetails: (details: Record<string, unknown>) => Option[] }
  /** Every configuration item, shown by name; the API checks only that the values are strings (ids), the workflow does the rest. */
  | { lookup: 'configuration-items' };

interface FieldBase {
  name: string;
  label: string;
  hint?: string;
  /**
   * The outcomes the workflow refuses without this field (its guard has the last word and the
   * refusal's status, so the API does not check it first); the inbox says so beside the field.
   */
  requiredFor?: readonly string[];
}

export type FormField =
  | (FieldBase & { kind: 'text'; multiline?: boolean; maxLength?: number })
  | (FieldBase & { kind: 'number'; min: number; max: number })
  | (FieldBase & { kind: 'choice'; options: Options })
  | (FieldBase & { kind: 'choices'; options: Options; preselect?: (details: Record<string, unknown>) => string[] })
  | (FieldBase & { kind: 'flag' })
  | (FieldBase & { kind: 'links' })
  /** Repeating rows of the same fields (lessons learned): a list of objects. */
  | (FieldBase & { kind: 'rows'; fields: RowField[]; emptyRows: number /** One row's name: "Lesson" (1, 2, …). */; rowLabel: string })
  /** One row per item the task's details list (accounts to certify, checklist items): a list of objects carrying each item's key. */
  | (FieldBase & {
      kind: 'perItem';
      items: (details: Record<string, unknown>) => FormItem[];
      /** The details key the items are read from: the form shows them, so the card does not repeat them raw. */
      itemsFrom: string;
      fields: ItemField[];
    });

/** Fields inside a row: flat ones only. */
export type RowField = Extract<FormField, { kind: 'text' | 'number' | 'choice' | 'flag' }>;
/** Fields for each item; a choice's options may depend on the item (the entitlements an account holds). */
export type ItemField = RowField | (FieldBase & { kind: 'choices'; options: Options | { fromItem: true } });

export interface FormItem {
  /** The values that name the item in the collected data (`{ accountId, ciId }`). */
  key: Record<string, string>;
  label: string;
  /** Options of this item's `fromItem` choices, by field name (the entitlements one account holds). */
  options?: Record<string, Option[]>;
}

export interface TaskForm {
  fields: FormField[];
}

export interface FieldError {
  path: string;
  message: string;
}

const option = (value: string, label = value) => ({ value, label });
const words = (code: string) => code.replace(/_/g, ' ').replace(/^./, (first) => first.toUpperCase());
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

function reviewItems(details: Record<string, unknown>): ReviewItem[] {
  return Array.isArray(details.accounts) ? (details.accounts as ReviewItem[]) : [];
}

function checklistItems(details: Record<string, unknown>): ChecklistItem[] {
  return Array.isArray(details.checklist) ? (details.checklist as ChecklistItem[]) : [];
}

export const taskForms: Record<string, TaskForm> = {
  'incident.triage': {
    fields: [
      { kind: 'choice', name: 'category', label: 'Category', options: { fixed: incidentCategories.map((c) => option(c, words(c))) } },
      {
        kind: 'choices',
        name: 'affectedCis',
        label: 'Affected configuration items',
        options: { lookup: 'configuration-items' },
        preselect: (details) => strings(details.affectedCis),
      },
      { kind: 'text', name: 'scope', label: 'Scope', hint: 'What is affected and how far it reaches.', multiline: true, maxLength: 2000 },
    ],
  },
  [manualTestTaskKind]: {
    fields: [
      {
        kind: 'links',
        name: 'evidence',
        label: 'Evidence links',
        hint: 'One http(s) link per line: the report, ticket or recording the result rests on. Notes go in the comment.',
      },
    ],
  },
  'access-review.certify': {
    fields: [
      {
        kind: 'perItem',
        name: 'decisions',
        label: 'Accounts',
        requiredFor: ['completed'],
        itemsFrom: 'accounts',
        items: (details) =>
          reviewItems(details).map((item) => ({
            key: { accountId: item.accountId, ciId: item.ciId },
            label: `${item.accountId}${item.entitlements.length ? ` (${item.entitlements.join(', ')})` : ''}`,
            options: { entitlements: item.entitlements.map((entitlement) => option(entitlement)) },
          })),
        fields: [
          { kind: 'choice', name: 'action', label: 'Decision', options: { fixed: reviewActions.map((a) => option(a, words(a))) } },
          {
            kind: 'choices',
            name: 'entitlements',
            label: 'Entitlements kept (when reducing)',
            options: { fromItem: true },
          },
        ],
      },
    ],
  },
  'incident.post-incident-review': {
    fields: [
      {
        kind: 'rows',
        name: 'lessons',
        label: 'Lessons learned',
        rowLabel: 'Lesson',
        emptyRows: 3,
        fields: [
          { kind: 'text', name: 'title', label: 'What was learned', maxLength: 500 },
          { kind: 'text', name: 'owner', label: 'Owner (principal)', maxLength: 200 },
          { kind: 'number', name: 'dueInDays', label: 'Due in days', min: 1, max: 365 },
        ],
      },
      {
        kind: 'choice',
        name: 'rootCause',
        label: 'Root cause',
        options: { fixed: [option('known', 'Known'), option('unexplained', 'Unexplained')] },
      },
      { kind: 'flag', name: 'recurring', label: 'The cause is recurring (opens a problem record)' },
    ],
  },
  // The evidence is the workflow guard's to require (containmentEvidence): it refuses the confirmation without it.
  [containmentConfirmationKind]: {
    fields: [
      {
        kind: 'text',
        name: 'evidence',
        label: 'What was done, and how it was verified',
        requiredFor: ['confirmed'],
        multiline: true,
        maxLength: 10_000,
      },
      {
        kind: 'links',
        name: 'links',
        label: 'Links to the evidence',
        hint: 'One http(s) link per line (at most 20): the ticket, log search or screenshot.',
      },
    ],
  },
  // Every item needs a result; a failed item needs its note, which becomes the rejection's reason
  // (the workflow guard, checklistDecisionProblem, refuses a decision short of that).
  [problemCheckTaskKind]: {
    fields: [
      {
        kind: 'perItem',
        name: 'results',
        label: 'Checklist',
        requiredFor: ['accepted', 'rejected'],
        itemsFrom: 'checklist',
        items: (details) => checklistItems(details).map((item) => ({ key: { itemId: item.id }, label: `${item.title}: ${item.detail}` })),
        fields: [
          { kind: 'choice', name: 'result', label: 'Result', options: { fixed: checkItemResults.map((r) => option(r, words(r))) } },
          {
            kind: 'text',
            name: 'note',
            label: 'Note',
            hint: 'Needed when the item fails: it becomes the reason of the rejection.',
            maxLength: 2000,
          },
        ],
      },
    ],
  },
  'advisory.alert-proposal': {
    fields: [
      {
        kind: 'choices',
        name: 'audience',
        label: 'Audience',
        options: { fixed: roles.map((r) => option(r, words(r))) },
        preselect: (details) => strings(details.audience),
      },
    ],
  },
  'advisory.remediation': {
    fields: [
      { kind: 'text', name: 'version', label: 'Installed version (when patched)', requiredFor: ['patched'], maxLength: 100 },
      { kind: 'text', name: 'measure', label: 'Mitigating measure (when mitigated)', requiredFor: ['mitigated'], maxLength: 2000 },
      {
        kind: 'text',
        name: 'expiresIn',
        label: 'Exception for, e.g. 30d (when requesting an exception)',
        maxLength: 20,
      },
    ],
  },
};

/** The form a kind of task declares; none for a task that collects nothing. */
export function taskForm(kind: string): TaskForm | undefined {
  return Object.hasOwn(taskForms, kind) ? taskForms[kind] : undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const linkPattern = /^https?:\/\/\S+$/;

/** A field's options when they can be known without a lookup: fixed, from the details, or the item's own for that field. */
export function optionsOf(
  field: { name: string; options: Options | { fromItem: true } },
  details: Record<string, unknown>,
  item?: FormItem,
): Option[] | undefined {
  const { options } = field;
  if ('fixed' in options) return [...options.fixed];
  if ('fromDetails' in options) return options.fromDetails(details);
  if ('fromItem' in options) return item?.options?.[field.name] ?? [];
  return undefined;
}

/**
 * Checks a decision's data against the kind's declaration: each declared field that is given has
 * its type, choices are among the options, links are http(s), and each entry of a per-item list
 * names one of the task's items. Keys the form does not declare pass through (automation may attach
 * context); what an outcome needs, and everything else, is the workflow validator's to refuse.
 */
export function checkTaskData(kind: string, details: Record<string, unknown>, data: unknown): FieldError[] {
  const form = taskForm(kind);
  if (!form || data === undefined || data === null) return [];
  if (!isRecord(data)) return [{ path: 'data', message: 'must be an object' }];
  return form.fields.flatMap((field) => checkField(field, data[field.name], `data.${field.name}`, details));
}

function checkField(
  field: FormField | ItemField,
  value: unknown,
  path: string,
  details: Record<string, unknown>,
  item?: FormItem,
): FieldError[] {
  const error = (message: string) => [{ path, message }];
  if (value === undefined || value === null) return [];
  switch (field.kind) {
    case 'text':
      if (typeof value !== 'string') return error('must be text');
      return field.maxLength && value.length > field.maxLength ? error(`must be at most ${field.maxLength} characters`) : [];
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return error('must be a number');
      return value < field.min || value > field.max ? error(`must be between ${field.min} and ${field.max}`) : [];
    case 'flag':
      return typeof value === 'boolean' ? [] : error('must be true or false');
    case 'links':
      if (!Array.isArray(value)) return error('must be a list of http(s) links');
      return value.flatMap((link, index) =>
        typeof link === 'string' && linkPattern.test(link) ? [] : [{ path: `${path}.${index}`, message: 'must be an http(s) link' }],
      );
    case 'choice': {
      if (typeof value !== 'string') return error('must be one of the options');
      const known = optionsOf(field, details, item);
      return known && !known.some((o) => o.value === value) ? error(`must be one of: ${known.map((o) => o.value).join(', ')}`) : [];
    }
    case 'choices': {
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) return error('must be a list of options');
      const known = optionsOf(field, details, item);
      const unknown = known ? value.filter((v) => !known.some((o) => o.value === v)) : [];
      return unknown.length ? error(`${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not among the options`) : [];
    }
    case 'rows':
      if (!Array.isArray(value)) return error('must be a list of rows');
      return value.flatMap((row, index) =>
        isRecord(row)
          ? field.fields.flatMap((sub) => checkField(sub, row[sub.name], `${path}.${index}.${sub.name}`, details))
          : [{ path: `${path}.${index}`, message: 'must be an object' }],
      );
    case 'perItem': {
      if (!Array.isArray(value)) return error('must be a list with an entry per item');
      const items = field.items(details);
      return value.flatMap((entry, index) => {
        const at = `${path}.${index}`;
        if (!isRecord(entry)) return [{ path: at, message: 'must be an object' }];
        const matching = items.find((candidate) =>
          Object.entries(candidate.key).every(([k, v]) => entry[k] === undefined || entry[k] === v),
        );
        if (!matching) return [{ path: at, message: 'names no item of this task' }];
        return field.fields.flatMap((sub) => checkField(sub, entry[sub.name], `${at}.${sub.name}`, details, matching));
      });
    }
  }
}

/** The details keys a kind's form shows itself (pre-filled fields, per-item lists), so a card need not repeat them raw. */
export function detailsShownByForm(kind: string): Set<string> {
  return new Set(
    (taskForm(kind)?.fields ?? []).flatMap((field) => (field.kind === 'perItem' ? [field.name, field.itemsFrom] : [field.name])),
  );
}
