import { CsvError, parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';

/**
 * CSV through csv-parse and csv-stringify (RFC 4180: CRLF between records, LF accepted on input,
 * fields with a comma, quote or line break quoted, inner quotes doubled), with OWASP's defence
 * against formula injection on everything Warden writes: a spreadsheet runs a cell that starts with
 * `=`, `+`, `-`, `@`, a tab or a carriage return as a formula (`=HYPERLINK(…)`, `+cmd|…`), so such a
 * cell is written with a leading `'`, which spreadsheets show as text. Reading reverses exactly that
 * escape, so a file Warden exported imports back unchanged.
 */
export class CsvSyntaxError extends Error {
  override name = 'CsvSyntaxError';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

const formulaStart = /^[=+\-@\t\r]/;
const escapedFormula = /^'[=+\-@\t\r]/;

/** OWASP's CSV injection rule: a cell a spreadsheet would evaluate is prefixed with `'`. */
export function escapeFormula(cell: string): string {
  return formulaStart.test(cell) ? `'${cell}` : cell;
}

const unescapeFormula = (cell: string) => (escapedFormula.test(cell) ? cell.slice(1) : cell);

/** What each csv-parse refusal means to the person who wrote the file. */
const syntaxMessages: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted field is never closed (the file ends inside it)',
  INVALID_OPENING_QUOTE: 'a quote inside an unquoted field (wrap the field in quotes and double the quote)',
  CSV_INVALID_CLOSING_QUOTE: 'a closing quote must be followed by a comma or the end of the line',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'a closing quote must be followed by a comma or the end of the line',
};

/** Parses CSV text into records of fields. Blank lines between records are skipped. */
export function parseCsv(text: string): string[][] {
  try {
    const records: string[][] = parse(text, {
      bom: true,
      record_delimiter: ['\r\n', '\n'],
      relax_column_count: true,
      skip_empty_lines: true,
    });
    return records.map((record) => record.map(unescapeFormula));
  } catch (error) {
    if (error instanceof CsvError) {
      const line = typeof error.lines === 'number' ? error.lines : 1;
      throw new CsvSyntaxError(line, syntaxMessages[error.code] ?? error.message);
    }
    throw error;
  }
}

/** Records to CSV text with CRLF after every record, every cell escaped against formula injection. */
export function serializeCsv(records: readonly (readonly string[])[]): string {
  return stringify(
    records.map((record) => record.map(escapeFormula)),
    // csv-stringify quotes what holds the record delimiter; a lone LF or CR, or edge spaces, need it too.
    { record_delimiter: '\r\n', quoted_match: /[\r\n]|^\s|\s$/ },
  );
}
