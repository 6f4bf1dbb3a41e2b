/**
 * CSV/TSV tables (csv-parse) with a header row, the delimiter sniffed from the header line (OpenNeuro's
 * `*_stimulus-metadata.tsv` is really comma-separated), and typed column getters whose errors name the file, the
 * line and the column.
 *
 * Missing values: '', 'n/a' (BIDS), 'NA', 'NaN'/'nan' and 'None' (pandas / Python) read as null in the typed
 * getters. Booleans: Python's 'True'/'False' (NSD's nsd_stim_info_merged.csv), also 'true'/'false'/'1'/'0'.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { UserError } from '../errors.js';

export type Delimiter = ',' | '\t';

const MISSING = new Set(['', 'n/a', 'N/A', 'NA', 'NaN', 'nan', 'None']);
const TRUE = new Set(['True', 'true', 'TRUE', '1']);
const FALSE = new Set(['False', 'false', 'FALSE', '0']);

/** Tab if the header line has at least as many tabs as commas (outside quotes) and at least one; else comma. */
export function sniffDelimiter(text: string): Delimiter {
  let tabs = 0;
  let commas = 0;
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '\n' || ch === '\r')) break;
    else if (!quoted && ch === '\t') tabs++;
    else if (!quoted && ch === ',') commas++;
  }
  return tabs > 0 && tabs >= commas ? '\t' : ',';
}

export class Table {
  private readonly index: Map<string, number>;

  constructor(
    readonly source: string,
    readonly delimiter: Delimiter,
    readonly columns: string[],
    /** Data rows (header excluded), every row as long as `columns`. */
    readonly rows: string[][],
    /** File line number of each data row (1-based, the header is line 1). */
    readonly lines: number[],
  ) {
    this.index = new Map(columns.map((name, i) => [name, i]));
  }

  get length(): number {
    return this.rows.length;
  }

  has(name: string): boolean {
    return this.index.has(name);
  }

  records(): Array<Record<string, string>> {
    return this.rows.map((row) => Object.fromEntries(this.columns.map((name, i) => [name, row[i]!])));
  }

  /** Raw strings of a column. */
  strings(name: string): string[] {
    const i = this.columnIndex(name);
    return this.rows.map((row) => row[i]!);
  }

  /** Numbers; missing values are null, or an error with `{ required: true }`. */
  numbers(name: string, options: { required?: boolean; integer?: boolean } = {}): Array<number | null> {
    return this.typed(name, options.required ?? false, options.integer ? 'an integer' : 'a number', (text) => {
      const value = Number(text.trim());
      return Number.isFinite(value) && (!options.integer || Number.isInteger(value)) ? value : undefined;
    });
  }

  /** Numbers as a Float64Array, every value required. */
  numberArray(name: string): Float64Array {
    return Float64Array.from(this.numbers(name, { required: true }) as number[]);
  }

  booleans(name: string, options: { required?: boolean } = {}): Array<boolean | null> {
    return this.typed(name, options.required ?? false, "a boolean ('True'/'False')", (text) =>
      TRUE.has(text.trim()) ? true : FALSE.has(text.trim()) ? false : undefined,
    );
  }

  private columnIndex(name: string): number {
    const i = this.index.get(name);
    if (i === undefined) throw new UserError(`has no column '${name}' (columns: ${this.columns.join(', ')})`, this.source);
    return i;
  }

  private typed<T>(name: string, required: boolean, expected: string, convert: (text: string) => T | undefined): Array<T | null> {
    const i = this.columnIndex(name);
    return this.rows.map((row, r) => {
      const text = row[i]!;
      if (MISSING.has(text.trim())) {
        if (required) throw this.cellError(r, name, `expected ${expected}, found a missing value '${text}'`);
        return null;
      }
      const value = convert(text);
      if (value === undefined) throw this.cellError(r, name, `expected ${expected}, found '${text}'`);
      return value;
    });
  }

  private cellError(row: number, column: string, what: string): UserError {
    return new UserError(`line ${this.lines[row]}, column '${column}': ${what}`, this.source);
  }
}

export function parseTable(text: string, source = 'table', options: { delimiter?: Delimiter } = {}): Table {
  const delimiter = options.delimiter ?? sniffDelimiter(text.replace(/^\uFEFF/, ''));
  let parsed: Array<{ record: string[]; info: { lines: number } }>;
  try {
    parsed = parse(text, { delimiter, bom: true, skip_empty_lines: true, info: true, relax_quotes: false }) as unknown as typeof parsed;
  } catch (error) {
    const line = (error as { lines?: number }).lines;
    throw new UserError(`${line !== undefined ? `line ${line}: ` : ''}unreadable ${delimiter === '\t' ? 'TSV' : 'CSV'} (${(error as Error).message})`, source);
  }
  const [header, ...body] = parsed;
  if (!header) throw new UserError('is empty (expected a header row)', source);
  const columns = header.record.map((name) => name.trim());
  const duplicate = columns.find((name, i) => columns.indexOf(name) !== i);
  if (duplicate !== undefined) throw new UserError(`column '${duplicate}' appears twice in the header`, source);
  return new Table(
    source,
    delimiter,
    columns,
    body.map((entry) => entry.record),
    body.map((entry) => entry.info.lines),
  );
}

export async function readTable(path: string, options: { delimiter?: Delimiter } = {}): Promise<Table> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, path);
  }
  return parseTable(text, path, options);
}
