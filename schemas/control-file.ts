import type { z } from 'zod';
import { controlInput, type ControlInput } from './controls';
import { CsvSyntaxError, parseCsv, serializeCsv } from './csv';

/**
 * The control catalog as a file: JSON (an array of controls, exactly the POST /controls body) or
 * CSV (one control a row, the columns below; lists separated by `;`, an SLA requirement written
 * `serviceId:requirementId`, check parameters as JSON). Rows are numbered from 1; the CSV header
 * is not a row.
 */
export const controlCsvColumns = [
  'name',
  'description',
  'owner',
  'kind',
  'process',
  'incidentCategory',
  'ciIds',
  'iso27001',
  'mitreAttack',
  'baselineMeasures',
  'slaRequirements',
  'procedure',
  'check',
  'params',
  'instructions',
  'tester',
  'deadline',
] as const;
type Column = (typeof controlCsvColumns)[number];

export type PortableControl = z.input<typeof controlInput>;

export interface FileProblem {
  path: string;
  message: string;
}

export type ParsedControlFile = { ok: true; controls: ControlInput[] } | { ok: false; problems: FileProblem[] };

const list = (values: readonly string[] | undefined) => (values ?? []).join(';');

export function controlsToCsv(controls: readonly PortableControl[]): string {
  const records = controls.map((control) => {
    const { procedure } = control;
    const cells: Record<Column, string> = {
      name: control.name,
      description: control.description ?? '',
      owner: control.owner,
      kind: control.kind,
      process: control.process,
      incidentCategory: control.incidentCategory ?? '',
      ciIds: list(control.ciIds),
      iso27001: list(control.references?.iso27001),
      mitreAttack: list(control.references?.mitreAttack),
      baselineMeasures: list(control.baselineMeasures),
      slaRequirements: list(control.slaRequirements?.map((ref) => `${ref.serviceId}:${ref.requirementId}`)),
      procedure: procedure.type,
      check: procedure.type === 'automated' ? procedure.check : '',
      params: procedure.type === 'automated' ? JSON.stringify(procedure.params ?? {}) : '',
      instructions: procedure.type === 'manual' ? procedure.instructions : '',
      tester: procedure.type === 'manual' ? (procedure.tester ?? '') : '',
      deadline: procedure.type === 'manual' ? (procedure.deadline ?? '') : '',
    };
    return controlCsvColumns.map((column) => cells[column]);
  });
  return serializeCsv([[...controlCsvColumns], ...records]);
}

const splitList = (cell: string) =>
  cell
    .split(';')
    .map((item) => item.trim())
    .filter((item) => item !== '');

/** One CSV row as the object a JSON file would hold; cells that are empty are left out. */
function rowToControl(cells: Partial<Record<Column, string>>, row: number, problems: FileProblem[]): unknown {
  const present = (column: Column) => (cells[column] ?? '').trim() !== '';
  const text = (column: Column) => (present(column) ? (cells[column] as string).trim() : undefined);
  let params: unknown;
  if (present('params')) {
    try {
      params = JSON.parse(cells.params as string);
    } catch {
      problems.push({ path: `rows.${row}.params`, message: 'must be a JSON object' });
    }
  }
  const procedure = {
    type: text('procedure'),
    ...(present('check') && { check: text('check') }),
    ...(params !== undefined && { params }),
    ...(present('instructions') && { instructions: text('instructions') }),
    ...(present('tester') && { tester: text('tester') }),
    ...(present('deadline') && { deadline: text('deadline') }),
  };
  return {
    name: text('name'),
    ...(present('description') && { description: cells.description }),
    owner: text('owner'),
    kind: text('kind'),
    process: text('process'),
    ...(present('incidentCategory') && { incidentCategory: text('incidentCategory') }),
    ciIds: splitList(cells.ciIds ?? ''),
    references: { iso27001: splitList(cells.iso27001 ?? ''), mitreAttack: splitList(cells.mitreAttack ?? '') },
    baselineMeasures: splitList(cells.baselineMeasures ?? ''),
    slaRequirements: splitList(cells.slaRequirements ?? '').map((pair) => {
      const at = pair.indexOf(':');
      return at < 0 ? { serviceId: pair, requirementId: '' } : { serviceId: pair.slice(0, at), requirementId: pair.slice(at + 1) };
    }),
    procedure,
  };
}

/** CSV text to the rows a JSON file would hold, or the problems that make the file unreadable. */
export function csvToRows(text: string): { ok: true; rows: unknown[]; problems: FileProblem[] } | { ok: false; problems: FileProblem[] } {
  let records: string[][];
  try {
    records = parseCsv(text);
  } catch (error) {
    if (error instanceof CsvSyntaxError) return { ok: false, problems: [{ path: 'file', message: error.message }] };
    throw error;
  }
  const [header, ...data] = records;
  if (!header) return { ok: false, problems: [{ path: 'file', message: 'is empty: expected a header row and one control a row' }] };
  const columns = header.map((name) => name.trim());
  const unknown = columns.filter((name) => !(controlCsvColumns as readonly string[]).includes(name));
  const missing = (['name', 'owner', 'kind', 'process', 'procedure'] as const).filter((name) => !columns.includes(name));
  if (unknown.length || missing.length) {
    return {
      ok: false,
      problems: [
        ...unknown.map((name) => ({
          path: 'header',
          message: `unknown column ${JSON.stringify(name)}; columns are ${controlCsvColumns.join(', ')}`,
        })),
        ...missing.map((name) => ({ path: 'header', message: `missing the column ${name}` })),
      ],
    };
  }
  const problems: FileProblem[] = [];
  const rows = data.map((record, index) => {
    if (record.length !== columns.length) {
      problems.push({ path: `rows.${index + 1}`, message: `has ${record.length} fields, the header has ${columns.length}` });
    }
    const cells = Object.fromEntries(columns.map((column, i) => [column, record[i] ?? ''])) as Partial<Record<Column, string>>;
    return rowToControl(cells, index + 1, problems);
  });
  return { ok: true, rows, problems };
}

/**
 * Validates every row against the POST /controls contract and names every bad one; duplicate
 * names within the file are bad rows too (the second would silently overwrite the first).
 */
export function validateControlRows(rows: unknown[], earlierProblems: FileProblem[] = []): ParsedControlFile {
  const problems = [...earlierProblems];
  const controls: ControlInput[] = [];
  const seen = new Map<string, number>();
  rows.forEach((raw, index) => {
    const row = index + 1;
    const parsed = controlInput.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        problems.push({ path: [`rows.${row}`, ...issue.path.map(String)].join('.'), message: issue.message });
      }
      return;
    }
    const key = parsed.data.name.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) problems.push({ path: `rows.${row}.name`, message: `repeats the name of row ${first}` });
    else seen.set(key, row);
    controls.push(parsed.data);
  });
  if (rows.length === 0) problems.push({ path: 'file', message: 'holds no controls' });
  return problems.length ? { ok: false, problems } : { ok: true, controls };
}
