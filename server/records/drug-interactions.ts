// The interaction table's fields and its CSV import, as pure functions (no I/O): the schemas the
// generic resource (specs.ts) and the import share, an RFC 4180 reader, and the check of a whole
// file that names every bad line precisely. Storage: drug-interactions.store.ts.
import { z } from 'zod';
import { SEVERITIES, normaliseTerm } from './medication-safety.ts';

export const MAX_TERM = 100;
export const MAX_NOTE = 1000;
/** The import's caps: bytes (before a byte is parsed) and data lines. */
export const MAX_IMPORT_BYTES = 512 * 1024;
export const MAX_IMPORT_ROWS = 5000;
export const CSV_HEADER = ['a', 'b', 'severity', 'note'] as const;

/** An ingredient or class, stored in matching form (normaliseTerm). */
export const term = z
  .string()
  .trim()
  .min(1, 'required')
  .max(MAX_TERM)
  .transform(normaliseTerm)
  .pipe(z.string().min(1, 'must contain a letter or a digit').max(MAX_TERM));

export const interactionFields = {
  a: term,
  b: term,
  severity: z.enum(SEVERITIES, { error: `must be one of ${SEVERITIES.join(', ')}` }),
  note: z.string().trim().max(MAX_NOTE).nullable().optional(),
};

/** a and b name two different things (after normalisation). */
export const distinctPair = (b: { a?: string; b?: string }) => b.a === undefined || b.b === undefined || b.a !== b.b;
export const SAME_PAIR = 'a and b must name two different ingredients or classes';

/** The unordered pair's key: (a, b) and (b, a) are one pair. */
export const pairKey = (a: string, b: string) => (a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`);

export interface CsvRecord {
  /** The line the record starts on (1 = the header). */
  line: number;
  fields: string[];
}

/**
 * RFC 4180 records: comma-separated, a field may be quoted ("a, b" and "say ""no"""), a quoted
 * field may hold commas and line breaks; CRLF or LF; a leading BOM is dropped; blank lines are
 * skipped. An unterminated quote or text after a closing quote is a problem on its line.
 */
export function readCsv(text: string): { records: CsvRecord[]; problems: { line: number; message: string }[] } {
  const src = text.startsWith('\ufeff') ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  const problems: { line: number; message: string }[] = [];
  let line = 1;
  let i = 0;
  while (i < src.length) {
    const start = line;
    const fields: string[] = [];
    let field = '';
    let bad: string | null = null;
    for (;;) {
      if (src[i] === '"' && field === '') {
        // A quoted field: up to the closing quote ("" is a quote).
        i++;
        let closed = false;
        while (i < src.length) {
          const c = src[i]!;
          if (c === '"') {
            if (src[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          if (c === '\n') line++;
          field += c;
          i++;
        }
        if (!closed) bad ??= `a quoted field is not closed (opened on line ${start})`;
        else if (i < src.length && src[i] !== ',' && src[i] !== '\n' && !(src[i] === '\r' && src[i + 1] === '\n')) bad ??= 'text after a closing quote: quote the whole field';
      }
      // The rest of an unquoted field (or the junk after a bad quoted one), up to , or end of line.
      while (i < src.length && src[i] !== ',' && src[i] !== '\n' && !(src[i] === '\r' && src[i + 1] === '\n')) {
        if (src[i] === '"' && !bad) bad = 'a quote inside an unquoted field: quote the whole field and double the quote ("")';
        field += src[i];
        i++;
      }
      fields.push(field);
      field = '';
      if (src[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    // End of the record: skip its line break.
    if (src[i] === '\r') i++;
    if (src[i] === '\n') {
      i++;
      line++;
    }
    if (bad) problems.push({ line: start, message: bad });
    else if (!(fields.length === 1 && fields[0]!.trim() === '')) records.push({ line: start, fields });
  }
  return { records, problems };
}

export interface ImportRow {
  line: number;
  a: string;
  b: string;
  severity: (typeof SEVERITIES)[number];
  note: string | null;
}

export interface LineError {
  line: number;
  /** The column at fault, when one is. */
  field?: string;
  message: string;
}

const row = z.strictObject(interactionFields);

/**
 * A whole import file checked: the header `a,b,severity,note` (any case, spaces around names
 * allowed), then one interaction per line, each field as the API takes it, no pair twice in the
 * file (in either order). Every problem is reported with its line (and column); the file is
 * imported only when there is none (the store also refuses pairs already in the table).
 */
export function parseInteractionCsv(text: string, maxRows = MAX_IMPORT_ROWS): { rows: ImportRow[]; errors: LineError[] } {
  const { records, problems } = readCsv(text);
  const errors: LineError[] = problems.map((p) => ({ line: p.line, message: p.message }));
  const [header, ...data] = records;
  const expected = CSV_HEADER.join(',');
  if (!header) return { rows: [], errors: [...errors, { line: 1, message: `the file is empty: the first line must be the header ${expected}` }] };
  const names = header.fields.map((f) => f.trim().toLowerCase());
  if (names.join(',') !== expected) {
    errors.unshift({ line: header.line, message: `the header must be ${expected}; got ${header.fields.join(',').slice(0, 200)}` });
    return { rows: [], errors: errors.sort((p, q) => p.line - q.line) };
  }
  if (data.length === 0) errors.push({ line: header.line, message: 'no interactions after the header' });
  if (data.length > maxRows) {
    errors.push({ line: data[maxRows]!.line, message: `at most ${maxRows} interactions per import, got ${data.length}: split the file` });
    return { rows: [], errors };
  }
  const rows: ImportRow[] = [];
  const firstLine = new Map<string, number>();
  for (const r of data) {
    if (r.fields.length !== CSV_HEADER.length) {
      errors.push({ line: r.line, message: `expected ${CSV_HEADER.length} fields (${expected}), got ${r.fields.length}` });
      continue;
    }
    const [a, b, severity, note] = r.fields as [string, string, string, string];
    const parsed = row.safeParse({ a, b, severity: severity.trim().toLowerCase(), note: note.trim() === '' ? null : note });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) errors.push({ line: r.line, field: String(issue.path[0] ?? ''), message: `${String(issue.path[0] ?? 'line')}: ${issue.message}` });
      continue;
    }
    const v = parsed.data;
    if (!distinctPair(v)) {
      errors.push({ line: r.line, field: 'b', message: `b: ${SAME_PAIR} (both are '${v.a}')` });
      continue;
    }
    const key = pairKey(v.a, v.b);
    const earlier = firstLine.get(key);
    if (earlier !== undefined) {
      errors.push({ line: r.line, message: `the pair ${v.a} + ${v.b} is already on line ${earlier} (a pair is unordered)` });
      continue;
    }
    firstLine.set(key, r.line);
    rows.push({ line: r.line, a: v.a, b: v.b, severity: v.severity, note: v.note ?? null });
  }
  return { rows, errors: errors.sort((p, q) => p.line - q.line) };
}
