// The interaction table's CSV import, parsed and checked (server/records/drug-interactions.ts):
// RFC 4180 records, the header, every bad line named with its line number and column. Drug names
// here are placeholders, not clinical data.
import { describe, expect, it } from 'vitest';
import { parseInteractionCsv, readCsv } from '../../server/records/drug-interactions.ts';

describe('readCsv', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, CRLF or LF, and skips blank lines', () => {
    const { records, problems } = readCsv('\ufeffa,b,c\r\n"x, y","say ""no""",z\n\n"multi\nline",2,3\n');
    expect(problems).toEqual([]);
    expect(records).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['x, y', 'say "no"', 'z'] },
      { line: 4, fields: ['multi\nline', '2', '3'] },
    ]);
  });

  it('keeps an empty last field, and a last line without a line break', () => {
    expect(readCsv('a,b,\nc,d,e').records).toEqual([
      { line: 1, fields: ['a', 'b', ''] },
      { line: 2, fields: ['c', 'd', 'e'] },
    ]);
  });

  it('names the line of an unclosed quote, text after a closing quote, and a stray quote', () => {
    expect(readCsv('a\n"x"y,1\nb"c,2\n"open,3\nmore').problems).toEqual([
      { line: 2, message: 'text after a closing quote: quote the whole field' },
      { line: 3, message: 'a quote inside an unquoted field: quote the whole field and double the quote ("")' },
      { line: 4, message: 'a quoted field is not closed (opened on line 4)' },
    ]);
  });
});

describe('parseInteractionCsv', () => {
  it('takes a good file, normalising the terms and the severity', () => {
    const { rows, errors } = parseInteractionCsv('a,b,severity,note\nDrug-A,Drug B,Contraindicated,"note, with comma"\nclass x, drug c ,moderate,\n');
    expect(errors).toEqual([]);
    expect(rows).toEqual([
      { line: 2, a: 'drug a', b: 'drug b', severity: 'contraindicated', note: 'note, with comma' },
      { line: 3, a: 'class x', b: 'drug c', severity: 'moderate', note: null },
    ]);
  });

  it('accepts the header in any case with spaces around the names', () => {
    expect(parseInteractionCsv('A, B ,Severity,NOTE\nx,y,major,\n').errors).toEqual([]);
  });

  it('refuses a wrong header, naming what it got', () => {
    expect(parseInteractionCsv('drug1,drug2,severity,note\nx,y,major,\n').errors).toEqual([{ line: 1, message: 'the header must be a,b,severity,note; got drug1,drug2,severity,note' }]);
    expect(parseInteractionCsv('').errors).toEqual([{ line: 1, message: 'the file is empty: the first line must be the header a,b,severity,note' }]);
    expect(parseInteractionCsv('a,b,severity,note\n').errors).toEqual([{ line: 1, message: 'no interactions after the header' }]);
  });

  it('names every bad line with its column, and keeps none of a bad file out of the errors', () => {
    const csv = [
      'a,b,severity,note',
      'drug a,drug b,major,fine',
      'drug a,drug c,severe,',
      ',drug d,moderate,',
      'drug e,drug e,major,',
      'drug b,drug a,moderate,same pair reversed',
      'drug f,drug g,major',
      'drug h,---,major,',
      `drug i,drug j,major,${'n'.repeat(1001)}`,
    ].join('\n');
    const { rows, errors } = parseInteractionCsv(csv);
    expect(errors).toEqual([
      { line: 3, field: 'severity', message: 'severity: must be one of contraindicated, major, moderate' },
      { line: 4, field: 'a', message: 'a: required' },
      { line: 5, field: 'b', message: "b: a and b must name two different ingredients or classes (both are 'drug e')" },
      { line: 6, message: 'the pair drug b + drug a is already on line 2 (a pair is unordered)' },
      { line: 7, message: 'expected 4 fields (a,b,severity,note), got 3' },
      { line: 8, field: 'b', message: 'b: must contain a letter or a digit' },
      { line: 9, field: 'note', message: expect.stringMatching(/^note: /) },
    ]);
    expect(rows.map((r) => r.line)).toEqual([2]);
  });

  it('counts lines as the file has them when a quoted note spans lines', () => {
    const { errors } = parseInteractionCsv('a,b,severity,note\nx,y,major,"two\nlines"\nx,z,bad,\n');
    expect(errors).toEqual([{ line: 4, field: 'severity', message: 'severity: must be one of contraindicated, major, moderate' }]);
  });

  it('refuses more lines than the cap, naming the first one over it', () => {
    const csv = ['a,b,severity,note', ...Array.from({ length: 4 }, (_, i) => `d${i},e${i},major,`)].join('\n');
    expect(parseInteractionCsv(csv, 3).errors).toEqual([{ line: 5, message: 'at most 3 interactions per import, got 4: split the file' }]);
    expect(parseInteractionCsv(csv, 4).errors).toEqual([]);
  });
});
