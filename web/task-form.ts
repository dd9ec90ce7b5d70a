import type { HumanTask } from '../db/database';
import {
  optionsOf,
  taskForm,
  type FormField,
  type FormItem,
  type ItemField,
  type Option,
  type Options,
  type RowField,
} from '../domain/task-forms';
import { humanize } from './format';
import { html, type Html } from './html';

/** What a form's lookups resolved to (configuration items by name), fetched once per page. */
export interface FormLookups {
  configurationItems: Option[];
}

/** A posted form's fields: a repeated name (checkboxes) arrives as a list. */
export type PostedFields = Record<string, string | string[] | undefined>;

const fieldName = (path: string[]) => ['data', ...path].join('.');
const fieldId = (prefix: string, path: string[]) => `${prefix}-${path.join('-')}`;
const list = (value: unknown): string[] =>
  Array.isArray(value) ? value.map(String) : value === undefined || value === '' ? [] : [String(value)];
const record = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

/** Whether rendering this task's form needs the configuration items looked up. */
export function needsConfigurationItems(task: HumanTask): boolean {
  return (taskForm(task.kind)?.fields ?? []).some((field) => 'options' in field && 'lookup' in field.options);
}

function resolve(options: Options | { fromItem: true }, field: { name: string }, task: HumanTask, lookups: FormLookups, item?: FormItem) {
  return 'lookup' in options ? lookups.configurationItems : (optionsOf({ name: field.name, options }, task.details, item) ?? []);
}

/**
 * The inputs a task's form declares (domain/task-forms.ts), named `data.<field>`, `data.<rows>.<n>.<field>`
 * and `data.<items>.<n>.<field>`, filled with `values` (what was sent, when a decision was refused).
 * Nothing for a task that collects nothing.
 */
export function taskFormFields(task: HumanTask, prefix: string, lookups: FormLookups, values?: Record<string, unknown>): Html {
  const form = taskForm(task.kind);
  if (!form) return html``;
  return html`${form.fields.map((field) => renderField(field, [field.name], values ? values[field.name] : initial(field, task), task, prefix, lookups))}`;
}

function initial(field: FormField, task: HumanTask): unknown {
  return field.kind === 'choices' && field.preselect ? field.preselect(task.details) : undefined;
}

function needed(field: { requiredFor?: readonly string[] }) {
  return field.requiredFor?.length ? html` <span class="hint">(needed to decide ${field.requiredFor.map(humanize).join(', ')})</span>` : '';
}

function renderField(
  field: FormField | ItemField,
  path: string[],
  value: unknown,
  task: HumanTask,
  prefix: string,
  lookups: FormLookups,
  item?: FormItem,
): Html {
  const id = fieldId(prefix, path);
  const name = fieldName(path);
  const hint = field.hint ? html`<p class="hint" id="${id}-hint">${field.hint}</p>` : '';
  const described = field.hint ? html` aria-describedby="${id}-hint"` : '';
  switch (field.kind) {
    case 'text':
      return html`<label for="${id}">${field.label}${needed(field)}</label>${
        field.multiline
          ? html`<textarea id="${id}" name="${name}" rows="2"${field.maxLength ? html` maxlength="${field.maxLength}"` : ''}${described}>${value === undefined ? '' : String(value)}</textarea>`
          : html`<input id="${id}" name="${name}" type="text"${field.maxLength ? html` maxlength="${field.maxLength}"` : ''} value="${value === undefined ? '' : String(value)}"${described}>`
      }${hint}`;
    case 'number':
      return html`<label for="${id}">${field.label}${needed(field)}</label><input id="${id}" name="${name}" type="number" min="${field.min}" max="${field.max}" value="${value === undefined ? '' : String(value)}"${described}>${hint}`;
    case 'flag':
      return html`<div class="check"><input id="${id}" name="${name}" type="checkbox" value="true"${value === true ? html` checked` : ''}${described}><label for="${id}">${field.label}</label></div>${hint}`;
    case 'links':
      return html`<label for="${id}">${field.label}${needed(field)}</label><textarea id="${id}" name="${name}" rows="2" spellcheck="false"${described}>${list(value).join('\n')}</textarea>${hint}`;
    case 'choice': {
      const options = resolve(field.options, field, task, lookups, item);
      return html`<label for="${id}">${field.label}${needed(field)}</label><select id="${id}" name="${name}"${described}><option value="">—</option>${options.map((o) => html`<option value="${o.value}"${o.value === value ? html` selected` : ''}>${o.label}</option>`)}</select>${hint}`;
    }
    case 'choices': {
      const options = resolve(field.options, field, task, lookups, item);
      const chosen = new Set(list(value));
      return html`<fieldset class="choices"${described}><legend>${field.label}${needed(field)}</legend>${
        options.length
          ? options.map(
              (o, index) =>
                html`<div class="check"><input id="${id}-${index}" name="${name}" type="checkbox" value="${o.value}"${chosen.has(o.value) ? html` checked` : ''}><label for="${id}-${index}">${o.label}</label></div>`,
            )
          : html`<p class="hint">None to choose from.</p>`
      }</fieldset>${hint}`;
    }
    case 'rows': {
      const rows = Array.isArray(value) ? value.map(record) : [];
      const shown = [...rows, ...Array.from({ length: field.emptyRows }, (): Record<string, unknown> => ({}))];
      return html`<fieldset class="rows"${described}><legend>${field.label}${needed(field)}</legend>${shown.map(
        (row, index) =>
          html`<fieldset class="row"><legend>${field.rowLabel} ${index + 1}</legend>${field.fields.map((sub: RowField) =>
            renderField(sub, [...path, String(index), sub.name], row[sub.name], task, prefix, lookups),
          )}</fieldset>`,
      )}</fieldset>${hint}`;
    }
    case 'perItem': {
      const items = field.items(task.details);
      const entries = Array.isArray(value) ? value.map(record) : [];
      return html`<fieldset class="rows"${described}><legend>${field.label}${needed(field)}</legend>${items.map((each, index) => {
        const entry = entries.find((e) => Object.entries(each.key).every(([k, v]) => e[k] === v)) ?? {};
        return html`<fieldset class="row"><legend>${each.label}</legend>${field.fields.map((sub) =>
          renderField(sub, [...path, String(index), sub.name], entry[sub.name], task, prefix, lookups, each),
        )}</fieldset>`;
      })}</fieldset>${hint}`;
    }
  }
}

/**
 * The decision's data from a posted form, shaped as the task's form declares: text trimmed (blank
 * is absent), numbers as numbers (anything else kept as typed, for the check to name), checkboxes as
 * lists and flags, links one per line, empty rows dropped, each item's entry carrying its key.
 * Undefined for a task that collects nothing.
 */
export function dataFromForm(task: HumanTask, posted: PostedFields): Record<string, unknown> | undefined {
  const form = taskForm(task.kind);
  if (!form) return undefined;
  const data: Record<string, unknown> = {};
  for (const field of form.fields) {
    const value = read(field, [field.name], posted, task);
    if (value !== undefined) data[field.name] = value;
  }
  return data;
}

function read(field: FormField | ItemField, path: string[], posted: PostedFields, task: HumanTask): unknown {
  const raw = posted[fieldName(path)];
  const text = typeof raw === 'string' ? raw.trim() : Array.isArray(raw) ? (raw[0] ?? '').trim() : '';
  switch (field.kind) {
    case 'text':
    case 'choice':
      return text || undefined;
    case 'number':
      return text === '' ? undefined : Number.isFinite(Number(text)) ? Number(text) : text;
    case 'flag':
      return text === 'true';
    case 'choices':
      return list(raw);
    case 'links': {
      const links = text
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter(Boolean);
      return links.length ? links : undefined;
    }
    case 'rows': {
      const rows: Record<string, unknown>[] = [];
      for (let index = 0; fieldsPosted(posted, [...path, String(index)]); index++) {
        const row: Record<string, unknown> = {};
        for (const sub of field.fields) {
          const value = read(sub, [...path, String(index), sub.name], posted, task);
          // An unticked box in an otherwise empty row is no lesson.
          if (value !== undefined && value !== false) row[sub.name] = value;
        }
        if (Object.keys(row).length) rows.push(row);
      }
      return rows.length ? rows : undefined;
    }
    case 'perItem': {
      const entries = field.items(task.details).map((item, index) => {
        const entry: Record<string, unknown> = { ...item.key };
        for (const sub of field.fields) {
          const value = read(sub, [...path, String(index), sub.name], posted, task);
          if (value !== undefined && !(Array.isArray(value) && value.length === 0)) entry[sub.name] = value;
        }
        return entry;
      });
      return entries.length ? entries : undefined;
    }
  }
}

/** Whether any field of a row was posted (the form sends every row it showed, blank or not). */
function fieldsPosted(posted: PostedFields, path: string[]): boolean {
  const prefix = `${fieldName(path)}.`;
  return Object.keys(posted).some((key) => key.startsWith(prefix));
}
