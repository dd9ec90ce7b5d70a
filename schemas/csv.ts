/**
 * RFC 4180 CSV: fields separated by commas, records by CRLF (LF accepted on input), fields that
 * hold a comma, a quote or a line break wrapped in double quotes with inner quotes doubled.
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

/** Parses CSV text into records of fields. Blank lines between records are skipped. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  /** The current field was quoted: `""` is an empty field, not a blank line. */
  let quoted = false;
  let line = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;

  const endField = () => {
    record.push(field);
    field = '';
    quoted = false;
  };
  const endRecord = () => {
    const blank = record.length === 0 && field === '' && !quoted;
    endField();
    if (!blank) records.push(record);
    record = [];
  };

  while (i < text.length) {
    const char = text[i] as string;
    if (char === '"') {
      if (field !== '' || quoted)
        throw new CsvSyntaxError(line, 'a quote inside an unquoted field (wrap the field in quotes and double the quote)');
      quoted = true;
      const openedOn = line;
      for (i += 1; ; i += 1) {
        if (i >= text.length) throw new CsvSyntaxError(openedOn, 'a quoted field is never closed');
        if (text[i] === '"') {
          if (text[i + 1] !== '"') break;
          i += 1;
        } else if (text[i] === '\n') {
          line += 1;
        }
        field += text[i];
      }
      i += 1;
      const next = text[i];
      if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
        throw new CsvSyntaxError(line, 'a closing quote must be followed by a comma or the end of the line');
      }
    } else if (char === ',') {
      endField();
      i += 1;
    } else if (char === '\r' || char === '\n') {
      i += char === '\r' && text[i + 1] === '\n' ? 2 : 1;
      endRecord();
      line += 1;
    } else {
      field += char;
      i += 1;
    }
  }
  if (field !== '' || quoted || record.length > 0) endRecord();
  return records;
}

const needsQuotes = /[",\r\n]|^\s|\s$/;

export function serializeCsvField(value: string): string {
  return needsQuotes.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** Records to CSV text with CRLF after every record, as RFC 4180 writes it. */
export function serializeCsv(records: readonly (readonly string[])[]): string {
  return records.map((record) => `${record.map(serializeCsvField).join(',')}\r\n`).join('');
}
