/**
 * MATLAB .mat files: Level 5 (v5/v6/v7, compressed or not) parsed from the format specification ("MAT-File
 * Format", MathWorks), and v7.3 (HDF5 behind a 512-byte header) read through core/io/hdf5.ts.
 *
 * Arrays come back as MATLAB holds them: `shape` in MATLAB's order and `data` column-major (first index fastest),
 * exactly as stored. `matElement` indexes them, `toRowMajor` converts for code that wants C order.
 * v7.3: MATLAB writes an m×n array as an HDF5 dataset of shape [n, m] whose C-order bytes are the column-major
 * bytes of the m×n array, so reversing the HDF5 shape gives the same `{ shape, data }` as a v5 file.
 *
 * Not supported (clear UserError): sparse matrices, MATLAB objects/function handles/opaque classes (string, table,
 * …); v7.3 complex arrays and struct arrays other than 1×1. Complex v5 arrays are returned with `imag`.
 */
import { open, readFile } from 'node:fs/promises';
import { inflateSync } from 'node:zlib';
import { UserError } from '../errors.js';
import { openHdf5, type Hdf5File } from './hdf5.js';

export type MatNumericClass =
  | 'double'
  | 'single'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64';

export type MatTypedArray =
  | Float64Array
  | Float32Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** Numeric or logical array; `data` (and `imag` for complex arrays) column-major. Logical data is 0/1 bytes. */
export interface MatNumeric {
  class: MatNumericClass | 'logical';
  shape: number[];
  data: MatTypedArray;
  imag?: MatTypedArray;
}

/** Character array: UTF-16 code units, column-major (a 1×N char array is a string). */
export interface MatChar {
  class: 'char';
  shape: number[];
  data: Uint16Array;
}

/** Cell array: `cells` column-major. */
export interface MatCell {
  class: 'cell';
  shape: number[];
  cells: MatValue[];
}

/** Struct array: `elements` column-major, each with every field in `fields`. */
export interface MatStruct {
  class: 'struct';
  shape: number[];
  fields: string[];
  elements: Array<Record<string, MatValue>>;
}

export type MatValue = MatNumeric | MatChar | MatCell | MatStruct;

export interface ReadMatOptions {
  /** Only these variables (others are skipped; a missing one is a UserError). Default: all. */
  variables?: string[];
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers on values

/** Column-major offset of a 0-based index; trailing indices may be omitted (0), extra ones must be 0. */
export function columnMajorOffset(shape: readonly number[], index: readonly number[]): number {
  let offset = 0;
  let stride = 1;
  for (let axis = 0; axis < Math.max(shape.length, index.length); axis++) {
    const size = shape[axis] ?? 1;
    const i = index[axis] ?? 0;
    if (!Number.isInteger(i) || i < 0 || i >= size) {
      throw new RangeError(`index ${i} on axis ${axis} is outside the shape ${shape.join('×')}`);
    }
    offset += i * stride;
    stride *= size;
  }
  return offset;
}

/** Element at a 0-based (i, j, k, …) of a numeric, logical or char array. */
export function matElement(value: MatNumeric | MatChar, ...index: number[]): number | bigint {
  return value.data[columnMajorOffset(value.shape, index)]!;
}

/** The same array in row-major (C) order, e.g. for a Tensor or an .npy file. */
export function toRowMajor<T extends MatTypedArray>(value: { shape: number[]; data: T }): T {
  const { shape, data } = value;
  const out = new (data.constructor as new (length: number) => T)(data.length);
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  const colStrides = shape.map((_, axis) => shape.slice(0, axis).reduce((a, b) => a * b, 1));
  // Walk the output in C order, keeping the column-major source offset incrementally.
  let source = 0;
  for (let target = 0; target < data.length; target++) {
    (out as { [i: number]: number | bigint })[target] = data[source]!;
    for (let axis = rank - 1; axis >= 0; axis--) {
      index[axis]!++;
      source += colStrides[axis]!;
      if (index[axis]! < shape[axis]!) break;
      source -= index[axis]! * colStrides[axis]!;
      index[axis] = 0;
    }
  }
  return out;
}

/** A char row vector (or empty char array) as a string. */
export function matString(value: MatValue): string {
  if (value.class !== 'char') throw new UserError(`expected a char array, found ${value.class}`);
  const rows = value.shape[0] ?? 0;
  if (value.data.length > 0 && rows !== 1 && value.shape.slice(1).some((n) => n !== 1)) {
    throw new UserError(`expected a single string, found a ${value.shape.join('×')} char array (use matStrings)`);
  }
  return codesToString(value.data);
}

/** String.fromCharCode in slices: spreading a long array would overflow the call stack. */
function codesToString(codes: ArrayLike<number>): string {
  let out = '';
  for (let i = 0; i < codes.length; i += 8192) out += String.fromCharCode(...Array.from(Array.prototype.slice.call(codes, i, i + 8192) as number[]));
  return out;
}

/** The rows of a 2-D char matrix (MATLAB pads rows with spaces; `trim` drops the padding). */
export function matStrings(value: MatValue, trim = true): string[] {
  if (value.class === 'cell') return value.cells.map((cell) => matString(cell));
  if (value.class !== 'char' || value.shape.length > 2) {
    throw new UserError(`expected a 2-D char array or a cell of strings, found ${value.shape.join('×')} ${value.class}`);
  }
  const [rows = 0, cols = 0] = value.shape;
  return Array.from({ length: rows }, (_, r) => {
    const row = codesToString(Array.from({ length: cols }, (_, c) => value.data[r + c * rows]!));
    return trim ? row.trimEnd() : row;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Level 5 format constants

const MI = {
  INT8: 1,
  UINT8: 2,
  INT16: 3,
  UINT16: 4,
  INT32: 5,
  UINT32: 6,
  SINGLE: 7,
  DOUBLE: 9,
  INT64: 12,
  UINT64: 13,
  MATRIX: 14,
  COMPRESSED: 15,
  UTF8: 16,
  UTF16: 17,
  UTF32: 18,
} as const;

const MI_SIZES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8, 16: 1, 17: 2, 18: 4 };

const NUMERIC_CLASSES: Record<number, [MatNumericClass, new (length: number) => MatTypedArray]> = {
  6: ['double', Float64Array],
  7: ['single', Float32Array],
  8: ['int8', Int8Array],
  9: ['uint8', Uint8Array],
  10: ['int16', Int16Array],
  11: ['uint16', Uint16Array],
  12: ['int32', Int32Array],
  13: ['uint32', Uint32Array],
  14: ['int64', BigInt64Array],
  15: ['uint64', BigUint64Array],
};

const UNSUPPORTED_CLASSES: Record<number, string> = {
  3: 'a MATLAB object',
  5: 'a sparse matrix (save full(x) instead)',
  16: 'a function handle',
  17: 'an opaque MATLAB class (string, table, datetime, …)',
};

/** Nesting deeper than this (cells in cells …) is treated as corruption rather than risking the stack. */
const MAX_DEPTH = 64;

interface Element {
  type: number;
  /** Absolute offset of the data and its length in bytes. */
  start: number;
  length: number;
  /** Offset of the next element. */
  next: number;
}

/** Parses the elements of one Level-5 byte buffer (the file body, or an inflated miCOMPRESSED payload). */
class Level5Reader {
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly littleEndian: boolean,
    private readonly source: string,
    /** Where in the file we are, for messages. */
    private readonly context: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(message: string): UserError {
    return new UserError(`not a valid MAT-file (${this.context}): ${message}`, this.source);
  }

  get end(): number {
    return this.bytes.length;
  }

  element(at: number, end = this.end): Element {
    if (at + 8 > end) throw this.fail(`truncated data element at byte ${at}`);
    const first = this.view.getUint32(at, this.littleEndian);
    if (first >>> 16 !== 0) {
      // Small data element: type and length share the first word, data in the second.
      const length = first >>> 16;
      if (length > 4) throw this.fail(`small data element at byte ${at} declares ${length} bytes (at most 4)`);
      return { type: first & 0xffff, start: at + 4, length, next: at + 8 };
    }
    const length = this.view.getUint32(at + 4, this.littleEndian);
    const start = at + 8;
    if (length > end - start) {
      throw this.fail(`data element at byte ${at} declares ${length} bytes, only ${end - start} remain (truncated file?)`);
    }
    // Elements are padded to 8 bytes, except compressed ones; tolerate a missing final pad.
    const padded = first === MI.COMPRESSED ? length : Math.ceil(length / 8) * 8;
    return { type: first, start, length, next: Math.min(start + padded, end) };
  }

  subarray(element: Element): Uint8Array {
    return this.bytes.subarray(element.start, element.start + element.length);
  }

  /** Numbers of any mi type converted into an array of `Ctor`; the count must equal `count`. */
  numbers(element: Element, Ctor: new (length: number) => MatTypedArray, count: number, what: string): MatTypedArray {
    const size = MI_SIZES[element.type];
    if (size === undefined || element.type === MI.UTF8 || element.type === MI.UTF16 || element.type === MI.UTF32) {
      throw this.fail(`${what} has data type ${element.type}, expected a numeric type`);
    }
    if (element.length !== count * size) {
      throw this.fail(`${what} holds ${element.length} bytes, expected ${count} values of ${size} bytes`);
    }
    const out = new Ctor(count);
    const big = out instanceof BigInt64Array || out instanceof BigUint64Array;
    const read = this.reader(element.type);
    for (let i = 0; i < count; i++) {
      const v = read(element.start + i * size);
      if (big) {
        if (typeof v === 'number' && !Number.isFinite(v)) throw this.fail(`${what}: ${v} cannot be stored in a 64-bit integer array`);
        (out as BigInt64Array)[i] = typeof v === 'bigint' ? v : BigInt(Math.trunc(v));
      }
      else (out as Float64Array)[i] = typeof v === 'bigint' ? Number(v) : v;
    }
    return out;
  }

  private reader(type: number): (at: number) => number | bigint {
    const v = this.view;
    const le = this.littleEndian;
    switch (type) {
      case MI.INT8:
        return (at) => v.getInt8(at);
      case MI.UINT8:
      case MI.UTF8:
        return (at) => v.getUint8(at);
      case MI.INT16:
        return (at) => v.getInt16(at, le);
      case MI.UINT16:
      case MI.UTF16:
        return (at) => v.getUint16(at, le);
      case MI.INT32:
        return (at) => v.getInt32(at, le);
      case MI.UINT32:
      case MI.UTF32:
        return (at) => v.getUint32(at, le);
      case MI.SINGLE:
        return (at) => v.getFloat32(at, le);
      case MI.DOUBLE:
        return (at) => v.getFloat64(at, le);
      case MI.INT64:
        return (at) => v.getBigInt64(at, le);
      default:
        return (at) => v.getBigUint64(at, le);
    }
  }

  text(element: Element): string {
    return Buffer.from(this.subarray(element)).toString('latin1').replace(/\0+$/, '');
  }

  /** An miMATRIX element (its data bytes span [start, start+length)). */
  matrix(element: Element, depth: number): { name: string; value: MatValue } {
    if (element.type !== MI.MATRIX) throw this.fail(`expected a matrix element (type 14), found type ${element.type}`);
    if (depth > MAX_DEPTH) throw this.fail(`arrays nested more than ${MAX_DEPTH} deep`);
    // An empty miMATRIX (MATLAB writes these for [] inside cells and structs).
    if (element.length === 0) return { name: '', value: { class: 'double', shape: [0, 0], data: new Float64Array(0) } };
    const end = element.start + element.length;

    const flags = this.element(element.start, end);
    if (flags.length !== 8 || (flags.type !== MI.UINT32 && flags.type !== MI.INT32)) {
      throw this.fail('array flags sub-element is not 2 × uint32');
    }
    const word = this.view.getUint32(flags.start, this.littleEndian);
    const classId = word & 0xff;
    const complex = (word & 0x0800) !== 0;
    const logical = (word & 0x0200) !== 0;

    const dimsElement = this.element(flags.next, end);
    if (dimsElement.type !== MI.INT32 || dimsElement.length < 8 || dimsElement.length % 4 !== 0) {
      throw this.fail('dimensions sub-element is not 2 or more int32');
    }
    const shape = Array.from(this.numbers(dimsElement, Float64Array, dimsElement.length / 4, 'dimensions') as Float64Array);
    if (shape.some((n) => n < 0)) throw this.fail(`negative dimension in ${shape.join('×')}`);
    const count = shape.reduce((a, b) => a * b, 1);

    const nameElement = this.element(dimsElement.next, end);
    if (MI_SIZES[nameElement.type] !== 1) throw this.fail('array name sub-element is not int8 text');
    const name = this.text(nameElement);
    const where = name ? `variable or field '${name}'` : 'unnamed array';

    const unsupported = UNSUPPORTED_CLASSES[classId];
    if (unsupported) throw new UserError(`${where} is ${unsupported}: not supported`, this.source);

    let at = nameElement.next;
    const numeric = NUMERIC_CLASSES[classId];
    if (numeric) {
      const [className, Ctor] = numeric;
      const realElement = this.element(at, end);
      const data = this.numbers(realElement, Ctor, count, `real part of ${where}`);
      const value: MatNumeric = { class: logical ? 'logical' : className, shape, data };
      if (complex) value.imag = this.numbers(this.element(realElement.next, end), Ctor, count, `imaginary part of ${where}`);
      return { name, value };
    }
    switch (classId) {
      case 4:
        return { name, value: { class: 'char', shape, data: this.chars(this.element(at, end), count, where) } };
      case 1: {
        if (count * 8 > end - at) throw this.fail(`${where}: ${count} cells cannot fit in ${end - at} bytes`);
        const cells: MatValue[] = [];
        for (let i = 0; i < count; i++) {
          const cell = this.element(at, end);
          cells.push(this.matrix(cell, depth + 1).value);
          at = cell.next;
        }
        return { name, value: { class: 'cell', shape, cells } };
      }
      case 2: {
        const lengthElement = this.element(at, end);
        if (lengthElement.type !== MI.INT32 || lengthElement.length !== 4) throw this.fail(`${where}: bad field name length`);
        const nameLength = this.view.getInt32(lengthElement.start, this.littleEndian);
        const namesElement = this.element(lengthElement.next, end);
        if (nameLength <= 0 || namesElement.length % nameLength !== 0) throw this.fail(`${where}: bad field names`);
        const fields = Array.from({ length: namesElement.length / nameLength }, (_, f) =>
          this.text({ ...namesElement, start: namesElement.start + f * nameLength, length: nameLength }),
        );
        at = namesElement.next;
        const needed = count * fields.length * 8;
        if (needed > end - at || (fields.length === 0 && count > 1e6)) {
          throw this.fail(`${where}: ${count} struct elements × ${fields.length} fields cannot fit in ${end - at} bytes`);
        }
        const elements: Array<Record<string, MatValue>> = [];
        for (let i = 0; i < count; i++) {
          const entries: Array<[string, MatValue]> = [];
          for (const field of fields) {
            const child = this.element(at, end);
            entries.push([field, this.matrix(child, depth + 1).value]);
            at = child.next;
          }
          elements.push(Object.fromEntries(entries));
        }
        return { name, value: { class: 'struct', shape, fields, elements } };
      }
      default:
        throw new UserError(`${where} has unknown MATLAB array class ${classId}`, this.source);
    }
  }

  private utf32(element: Element, where: string): string {
    const points = this.numbers({ ...element, type: MI.UINT32 }, Float64Array, Math.floor(element.length / 4), where);
    let out = '';
    for (const point of points as Float64Array) {
      if (point > 0x10ffff) throw this.fail(`${where}: invalid UTF-32 code point ${point}`);
      out += String.fromCodePoint(point);
    }
    return out;
  }

  private chars(element: Element, count: number, where: string): Uint16Array {
    if (element.type === MI.UTF8 || element.type === MI.UTF16 || element.type === MI.UTF32) {
      const decoded =
        element.type === MI.UTF8
          ? Buffer.from(this.subarray(element)).toString('utf8')
          : element.type === MI.UTF16
            ? codesToString(this.numbers({ ...element, type: MI.UINT16 }, Uint16Array, Math.floor(element.length / 2), where) as Uint16Array)
            : this.utf32(element, where);
      if (decoded.length !== count) throw this.fail(`${where}: ${decoded.length} characters decoded, expected ${count}`);
      return Uint16Array.from(decoded, (c) => c.charCodeAt(0));
    }
    return this.numbers(element, Uint16Array, count, `characters of ${where}`) as Uint16Array;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Files

export type MatFormat = 'v5' | 'v7.3';

/** Reads the 128-byte header: which format, and the byte order of a Level-5 file. */
export function matHeader(bytes: Uint8Array, source = '<buffer>'): { format: MatFormat; littleEndian: boolean; text: string } {
  if (bytes.length < 128) {
    throw new UserError(`not a MAT-file: ${bytes.length} bytes, shorter than the 128-byte MAT-file header`, source);
  }
  const text = Buffer.from(bytes.subarray(0, 116)).toString('latin1').replace(/[\0 ]+$/, '');
  const indicator = String.fromCharCode(bytes[126]!, bytes[127]!);
  if (indicator !== 'IM' && indicator !== 'MI') {
    const hint = text.startsWith('MATLAB') ? '' : ' (a MATLAB Level 4 file, or not a MAT-file)';
    throw new UserError(`not a Level-5 MAT-file: no 'IM'/'MI' endian indicator at byte 126${hint}`, source);
  }
  const littleEndian = indicator === 'IM';
  const version = new DataView(bytes.buffer, bytes.byteOffset + 124, 2).getUint16(0, littleEndian);
  if (text.startsWith('MATLAB 7.3') || version === 0x0200) return { format: 'v7.3', littleEndian, text };
  if (version !== 0x0100) throw new UserError(`unknown MAT-file version 0x${version.toString(16)} (expected 0x0100)`, source);
  return { format: 'v5', littleEndian, text };
}

/** Decodes a Level-5 MAT-file held in memory (v5, v6, v7; not v7.3). */
export function decodeMat(bytes: Uint8Array, source = '<buffer>', options: ReadMatOptions = {}): Record<string, MatValue> {
  const { format, littleEndian } = matHeader(bytes, source);
  if (format === 'v7.3') throw new UserError('a MATLAB v7.3 (HDF5) file: read it with readMat(path)', source);
  const wanted = options.variables ? new Set(options.variables) : undefined;
  const body = new Level5Reader(bytes, littleEndian, source, 'file body');
  const variables = new Map<string, MatValue>();
  const seen: string[] = [];
  for (let at = 128, index = 1; at < body.end; index++) {
    const element = body.element(at);
    at = element.next;
    let reader = body;
    let matrix = element;
    if (element.type === MI.COMPRESSED) {
      let inflated: Buffer;
      try {
        inflated = inflateSync(body.subarray(element));
      } catch (error) {
        throw new UserError(`compressed variable #${index} is corrupt or truncated (zlib: ${(error as Error).message})`, source);
      }
      reader = new Level5Reader(inflated, littleEndian, source, `compressed variable #${index}`);
      matrix = reader.element(0);
    } else if (element.type !== MI.MATRIX) {
      continue; // Other top-level elements carry no variable.
    }
    // Skip unwanted variables after reading only their name.
    const name = peekName(reader, matrix);
    seen.push(name);
    if (wanted && !wanted.has(name)) continue;
    variables.set(name, reader.matrix(matrix, 0).value);
  }
  return checkWanted(variables, seen, wanted, source);
}

function peekName(reader: Level5Reader, element: Element): string {
  if (element.length === 0) return '';
  const end = element.start + element.length;
  const flags = reader.element(element.start, end);
  const dims = reader.element(flags.next, end);
  return reader.text(reader.element(dims.next, end));
}

function checkWanted(
  variables: Map<string, MatValue>,
  present: string[],
  wanted: Set<string> | undefined,
  source: string,
): Record<string, MatValue> {
  for (const name of wanted ?? []) {
    if (!variables.has(name)) {
      throw new UserError(`variable '${name}' not found (present: ${present.join(', ') || 'none'})`, source);
    }
  }
  return Object.fromEntries(variables);
}

/** Reads the variables of a .mat file, Level 5 or v7.3 (through HDF5; only the requested variables are read). */
export async function readMat(path: string, options: ReadMatOptions = {}): Promise<Record<string, MatValue>> {
  // Only the header first: a v7.3 file may be far bigger than memory and is read lazily through HDF5.
  let head: Uint8Array;
  try {
    const handle = await open(path, 'r');
    try {
      const buffer = new Uint8Array(128);
      const { bytesRead } = await handle.read(buffer, 0, 128, 0);
      head = buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch {
    throw new UserError('file not found or unreadable (expected a MATLAB .mat file)', path);
  }
  const { format } = matHeader(head, path);
  if (format === 'v5') return decodeMat(await readFile(path), path, options);
  const file = await openHdf5(path);
  try {
    return readMat73(file, options);
  } finally {
    file.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// v7.3

const V73_CLASSES: Record<string, MatNumericClass | 'logical' | 'char'> = {
  double: 'double',
  single: 'single',
  int8: 'int8',
  uint8: 'uint8',
  int16: 'int16',
  uint16: 'uint16',
  int32: 'int32',
  uint32: 'uint32',
  int64: 'int64',
  uint64: 'uint64',
  logical: 'logical',
  char: 'char',
};

function readMat73(file: Hdf5File, options: ReadMatOptions): Record<string, MatValue> {
  const names = file
    .list('/')
    .map((entry) => entry.name)
    .filter((name) => !name.startsWith('#'));
  const wanted = options.variables ? new Set(options.variables) : undefined;
  const variables = new Map<string, MatValue>();
  for (const name of names) if (!wanted || wanted.has(name)) variables.set(name, readMat73Object(file, `/${name}`, 0));
  return checkWanted(variables, names, wanted, file.path);
}

function attributeText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return undefined;
}

function readMat73Object(file: Hdf5File, path: string, depth: number): MatValue {
  if (depth > MAX_DEPTH) throw new UserError(`'${path}' nested more than ${MAX_DEPTH} deep`, file.path);
  const attributes = file.attributes(path);
  const matlabClass = attributeText(attributes.MATLAB_class);
  if (file.kind(path) === 'group') {
    if (attributes.MATLAB_sparse !== undefined) throw new UserError(`'${path}' is a sparse matrix: not supported`, file.path);
    if (matlabClass !== 'struct') throw new UserError(`'${path}' is MATLAB class '${matlabClass}': not supported`, file.path);
    const members = file.list(path);
    const entries = members.map((m): [string, MatValue] => [m.name, readMat73Object(file, m.path, depth + 1)]);
    return { class: 'struct', shape: [1, 1], fields: members.map((m) => m.name), elements: [Object.fromEntries(entries)] };
  }
  const info = file.info(path);
  // MATLAB's shape is the HDF5 shape reversed (at least 2-D).
  const shape = [...info.shape].reverse();
  while (shape.length < 2) shape.push(1);
  if (matlabClass === 'cell') {
    if (info.dtype !== 'reference') throw new UserError(`cell '${path}' does not hold object references`, file.path);
    return { class: 'cell', shape, cells: file.readReferences(path).map((target) => readMat73Object(file, target, depth + 1)) };
  }
  const className = matlabClass === undefined ? undefined : V73_CLASSES[matlabClass];
  if (className === undefined) {
    throw new UserError(`'${path}' is MATLAB class '${matlabClass ?? 'unknown'}': not supported`, file.path);
  }
  if (attributes.MATLAB_empty !== undefined && Number(attributes.MATLAB_empty) !== 0) {
    // Empty arrays are stored as their dimensions.
    const dims = Array.from(file.read(path), Number);
    const emptyShape = dims.length >= 2 ? dims : [0, 0];
    return className === 'char'
      ? { class: 'char', shape: emptyShape, data: new Uint16Array(0) }
      : { class: className, shape: emptyShape, data: new Float64Array(0) };
  }
  if (info.dtype === 'other') {
    throw new UserError(`'${path}' is a complex or compound array: not supported in v7.3 files`, file.path);
  }
  const data = file.read(path);
  if (className === 'char') {
    if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
      throw new UserError(`char array '${path}' holds 64-bit integers, expected 16-bit code units`, file.path);
    }
    return { class: 'char', shape, data: Uint16Array.from(data) };
  }
  return { class: className, shape, data };
}
