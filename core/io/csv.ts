/**
 * CSV/TSV tables (csv-parse) with a header row, the delimiter sniffed from the header line (OpenNeuro's
 * `*_stimulus-metadata.tsv` is really comma-separated), and typed column getters whose errors name the file, the
 * line and the column.
 *
 * Two readers: `readTable` keeps every cell as a string (fine for small tables), `readColumns` streams the file and
 * keeps only the requested columns, numbers as Float64Array — for wide tables such as THINGS' VoxelMetadata.csv
 * (211k voxels × dozens of columns), where every cell as a JS string costs ~10× the file size.
 *
 * Missing values: '', 'n/a' (BIDS), 'NA', 'NaN'/'nan' and 'None' (pandas / Python) read as null in the typed
 * getters. Booleans: Python's 'True'/'False' (NSD's nsd_stim_info_merged.csv), also 'true'/'false'/'1'/'0'.
 */
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import { parse as parseStream } from 'csv-parse';
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

// ---------------------------------------------------------------------------------------------------------------
// Column-selective streaming

export interface ColumnRequest {
  /** Columns read as numbers (missing values → NaN). */
  numbers?: readonly string[];
  /** Of those, the ones where a missing value is an error. */
  required?: readonly string[];
  /** Columns kept as raw strings. */
  strings?: readonly string[];
  /**
   * Yes/no columns: 1/0 (also 1.0/0.0) or True/False as pandas writes booleans, read as numbers 1/0 (missing → NaN);
   * any other value is an error naming the line and column.
   */
  flags?: readonly string[];
}

const FLAG_VALUES = new Map([
  ['1', 1], ['1.0', 1], ['true', 1],
  ['0', 0], ['0.0', 0], ['false', 0],
]);

/** The requested columns of a table read by `readColumns`; `columns` lists the whole header. */
export class ColumnTable {
  constructor(
    readonly source: string,
    readonly delimiter: Delimiter,
    readonly columns: string[],
    readonly length: number,
    private readonly numberColumns: Map<string, Float64Array>,
    private readonly stringColumns: Map<string, string[]>,
  ) {}

  /** Whether the header has the column (read or not). */
  has(name: string): boolean {
    return this.columns.includes(name);
  }

  /** A column requested as numbers (or flags, as 1/0); NaN where the value was missing. */
  numbers(name: string): Float64Array {
    const column = this.numberColumns.get(name);
    if (!column) throw this.notRead(name, 'numbers');
    return column;
  }

  /** A column requested as strings. */
  strings(name: string): string[] {
    const column = this.stringColumns.get(name);
    if (!column) throw this.notRead(name, 'strings');
    return column;
  }

  private notRead(name: string, kind: string): Error {
    if (!this.has(name)) return new UserError(`has no column '${name}' (columns: ${this.columns.join(', ')})`, this.source);
    return new Error(`column '${name}' of ${this.source} was not requested as ${kind}`);
  }
}

/** A Float64Array that grows by doubling, so that a column never exists as strings. */
class GrowingFloat64 {
  private data = new Float64Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }

  toArray(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

/** The header line's first bytes, enough to sniff the delimiter. */
async function headerText(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '');
  } finally {
    await handle.close();
  }
}

/**
 * Streams a CSV/TSV file and keeps only the columns `request` names (or returns for the header): memory is the
 * kept columns plus one parsed row. A requested column missing from the header is a UserError listing the columns;
 * a cell that is not a number, or a missing value in a required column, is a UserError naming the line.
 */
export async function readColumns(
  path: string,
  request: ColumnRequest | ((columns: string[]) => ColumnRequest),
  options: { delimiter?: Delimiter } = {},
): Promise<ColumnTable> {
  let delimiter: Delimiter;
  try {
    delimiter = options.delimiter ?? sniffDelimiter(await headerText(path));
  } catch (error) {
    throw new UserError(`cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, path);
  }
  const kind = delimiter === '\t' ? 'TSV' : 'CSV';
  const parser = parseStream({ delimiter, bom: true, skip_empty_lines: true, info: true, relax_quotes: false });
  // pipeline (unlike pipe) hands a read error to the parser, whose iteration below then throws it.
  pipeline(createReadStream(path), parser, () => {});
  let columns: string[] | undefined;
  let numberIndex: Array<[index: number, name: string, required: boolean, values: GrowingFloat64]> = [];
  let flagIndex: Array<[index: number, name: string, values: GrowingFloat64]> = [];
  let stringIndex: Array<[index: number, name: string, values: string[]]> = [];
  let rows = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (!columns) {
        columns = record.map((name) => name.trim());
        const duplicate = columns.find((name, i) => columns!.indexOf(name) !== i);
        if (duplicate !== undefined) throw new UserError(`column '${duplicate}' appears twice in the header`, path);
        const wanted = typeof request === 'function' ? request(columns) : request;
        const indexOf = (name: string): number => {
          const i = columns!.indexOf(name);
          if (i < 0) throw new UserError(`has no column '${name}' (columns: ${columns!.join(', ')})`, path);
          return i;
        };
        const required = new Set(wanted.required ?? []);
        const numbers = [...new Set([...(wanted.numbers ?? []), ...required])];
        numberIndex = numbers.map((name) => [indexOf(name), name, required.has(name), new GrowingFloat64()]);
        stringIndex = [...new Set(wanted.strings ?? [])].map((name) => [indexOf(name), name, []]);
        flagIndex = [...new Set(wanted.flags ?? [])].map((name) => [indexOf(name), name, new GrowingFloat64()]);
        continue;
      }
      for (const [index, name, values] of flagIndex) {
        const text = record[index]!.trim();
        const value = MISSING.has(text) ? NaN : FLAG_VALUES.get(text.toLowerCase());
        if (value === undefined) {
          throw new UserError(`line ${info.lines} (row ${rows + 1}), column '${name}': expected 0/1 or True/False, found '${text}'`, path);
        }
        values.push(value);
      }
      for (const [index, name, required, values] of numberIndex) {
        const text = record[index]!;
        if (MISSING.has(text.trim())) {
          if (required) throw new UserError(`line ${info.lines}, column '${name}': expected a number, found a missing value '${text}'`, path);
          values.push(NaN);
          continue;
        }
        const value = Number(text.trim());
        if (!Number.isFinite(value)) throw new UserError(`line ${info.lines}, column '${name}': expected a number, found '${text}'`, path);
        values.push(value);
      }
      for (const [index, , values] of stringIndex) values.push(record[index]!);
      rows++;
    }
  } catch (error) {
    parser.destroy();
    if (error instanceof UserError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') throw new UserError(`cannot read (${code})`, path);
    const line = (error as { lines?: number }).lines;
    throw new UserError(`${line !== undefined ? `line ${line}: ` : ''}unreadable ${kind} (${(error as Error).message})`, path);
  }
  if (!columns) throw new UserError('is empty (expected a header row)', path);
  return new ColumnTable(
    path,
    delimiter,
    columns,
    rows,
    new Map([...numberIndex.map(([, name, , values]) => [name, values.toArray()] as const), ...flagIndex.map(([, name, values]) => [name, values.toArray()] as const)]),
    new Map(stringIndex.map(([, name, values]) => [name, values])),
  );
}
