/**
 * NumPy `.npy` (format 1.0–3.0). Whole arrays in memory (`decodeNpy` / `encodeNpy`, used by caches and saved
 * models), and `openNpy`, which streams rows of files bigger than memory (Brain-Diffuser's float64 arrays) at byte
 * offsets.
 *
 * dtypes read: float32/64, int8/16/32/64, uint8/16/32/64, bool, either byte order (big-endian is swapped), and
 * fixed-width strings '<U…' (UTF-32) / '|S…' (latin-1) through the string readers. 64-bit integers become
 * Float64Array (exact up to 2^53; a larger value is a UserError, never silent rounding). Fortran-order arrays are
 * transposed to C order when read whole; streaming rows of one is refused (a row is not contiguous in the file).
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { UserError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';

export type NumericArray = Float32Array | Float64Array | Int32Array | Uint8Array | Int16Array | Uint16Array | Int8Array | Uint32Array;

export interface NpyArray {
  shape: number[];
  data: NumericArray;
}

/** A string array, flat in C order. */
export interface NpyStringArray {
  shape: number[];
  strings: string[];
}

const DESCR: Array<[string, new (buffer: ArrayBufferLike, offset: number, length: number) => NumericArray, number]> = [
  ['<f4', Float32Array, 4],
  ['<f8', Float64Array, 8],
  ['<i4', Int32Array, 4],
  ['<u4', Uint32Array, 4],
  ['<i2', Int16Array, 2],
  ['<u2', Uint16Array, 2],
  ['|u1', Uint8Array, 1],
  ['|i1', Int8Array, 1],
];

function descrOf(data: NumericArray): string {
  for (const [descr, ctor] of DESCR) if (data instanceof ctor) return descr;
  throw new TypeError('unsupported typed array for .npy');
}

/** The magic, version 1.0 and the header dict, padded so that the data starts at a multiple of 64 bytes. */
function npyHeaderBytes(descr: string, shape: number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  return out;
}

function npyBytes(descr: string, shape: number[], body: Uint8Array): Uint8Array {
  const header = npyHeaderBytes(descr, shape);
  const out = new Uint8Array(header.length + body.byteLength);
  out.set(header, 0);
  out.set(body, header.length);
  return out;
}

export function encodeNpy(array: NpyArray): Uint8Array {
  const { data } = array;
  return npyBytes(descrOf(data), array.shape, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

/** '<U{n}' with n = the longest string (in code points), as NumPy would store `np.array(strings)`. */
export function encodeNpyStrings(array: NpyStringArray): Uint8Array {
  const points = array.strings.map((s) => Array.from(s, (ch) => ch.codePointAt(0)!));
  const width = Math.max(1, ...points.map((p) => p.length));
  const body = new Uint32Array(points.length * width);
  points.forEach((p, i) => body.set(p, i * width));
  return npyBytes(`<U${width}`, array.shape, new Uint8Array(body.buffer));
}

// ---------------------------------------------------------------------------------------------------------------
// Header

export interface NpyDtype {
  /** As written in the header, e.g. '<f8', '>f4', '<U20'. */
  descr: string;
  /** f float, i signed int, u unsigned int, b bool, U UTF-32 string, S byte string. */
  kind: 'f' | 'i' | 'u' | 'b' | 'U' | 'S';
  itemSize: number;
  littleEndian: boolean;
}

export interface NpyHeader {
  dtype: NpyDtype;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the first element. */
  dataOffset: number;
  /** shape[0] (1 for a 0-d array). */
  rows: number;
  /** Bytes per row (product of shape[1:] × itemSize). */
  rowBytes: number;
  count: number;
}

const NUMERIC_SIZES: Record<string, number[]> = { f: [4, 8], i: [1, 2, 4, 8], u: [1, 2, 4, 8], b: [1] };
/** Refuse headers longer than this before allocating (NumPy writes a few hundred bytes). */
const MAX_HEADER_BYTES = 1 << 20;

function parseDtype(descr: string, fail: (what: string) => UserError): NpyDtype {
  if (/^[|<>=]O/.test(descr)) throw fail(`dtype '${descr}' is a pickled object array (re-save it with a fixed-width dtype, e.g. '<U…' or '<f8')`);
  const match = /^([<>|=])([fiubUS])(\d+)$/.exec(descr);
  const kind = match?.[2] as NpyDtype['kind'] | undefined;
  const n = Number(match?.[3]);
  const numericOk = kind !== undefined && kind !== 'U' && kind !== 'S' && NUMERIC_SIZES[kind]!.includes(n);
  if (!match || !kind || !(numericOk || ((kind === 'U' || kind === 'S') && n >= 1 && n <= 1 << 20))) {
    throw fail(`dtype '${descr}' is not supported (expected float32/64, (u)int8–64, bool, '<U…' or '|S…')`);
  }
  return { descr, kind, itemSize: kind === 'U' ? 4 * n : n, littleEndian: match[1] !== '>' };
}

/** Bytes needed before the header can be parsed: 0 when `bytes` (the file start) is already enough. */
export function npyHeaderLength(bytes: Uint8Array, source = '<buffer>'): number {
  if (bytes.length < 10 || bytes[0] !== 0x93 || Buffer.from(bytes.subarray(1, 6)).toString('latin1') !== 'NUMPY') {
    throw new UserError('not a valid .npy file: missing the \\x93NUMPY magic', source);
  }
  const major = bytes[6]!;
  if (major < 1 || major > 3) throw new UserError(`not a valid .npy file: format version ${major} is not 1–3`, source);
  if (major > 1 && bytes.length < 12) throw new UserError('not a valid .npy file: truncated header', source);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerStart = major === 1 ? 10 : 12;
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerLength > MAX_HEADER_BYTES) throw new UserError(`not a valid .npy file: header length ${headerLength} is implausible`, source);
  return headerStart + headerLength;
}

/** Parses the header from the first bytes of a file (at least `npyHeaderLength(bytes)` of them). */
export function parseNpyHeader(bytes: Uint8Array, source = '<buffer>'): NpyHeader {
  const fail = (what: string) => new UserError(`not a valid .npy file: ${what}`, source);
  const dataOffset = npyHeaderLength(bytes, source);
  if (bytes.length < dataOffset) throw fail('truncated header');
  const header = Buffer.from(bytes.subarray(bytes[6] === 1 ? 10 : 12, dataOffset)).toString(bytes[6] === 3 ? 'utf8' : 'latin1');
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]+)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw fail(`unreadable header ${header.trim()}`);
  const dtype = parseDtype(descr, fail);
  const parts = shapeText.split(',').map((s) => s.trim().replace(/L$/, '')).filter((s) => s.length > 0);
  if (parts.some((s) => !/^\d+$/.test(s))) throw fail(`bad shape (${shapeText})`);
  const shape = parts.map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count * dtype.itemSize)) throw fail(`shape (${shapeText}) is too large`);
  const rows = shape.length === 0 ? 1 : shape[0]!;
  const rowBytes = rows === 0 ? 0 : (count / rows) * dtype.itemSize;
  return { dtype, fortranOrder: fortran === 'True', shape, dataOffset, rows, rowBytes, count };
}

// ---------------------------------------------------------------------------------------------------------------
// Element conversion

function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i + size <= bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}

/** `raw` is a fresh, aligned copy (swapped in place when big-endian). */
function toNumeric(raw: Uint8Array, dtype: NpyDtype, count: number, float32: boolean, source: string): NumericArray {
  const { kind, itemSize } = dtype;
  if (!dtype.littleEndian && itemSize > 1) swapBytes(raw, itemSize);
  const buffer = raw.buffer;
  let data: NumericArray;
  if (kind === 'f') data = itemSize === 4 ? new Float32Array(buffer, 0, count) : new Float64Array(buffer, 0, count);
  else if (kind === 'b' || (kind === 'u' && itemSize === 1)) data = new Uint8Array(buffer, 0, count);
  else if (itemSize === 8) data = int64ToFloat64(kind === 'i' ? new BigInt64Array(buffer, 0, count) : new BigUint64Array(buffer, 0, count), source);
  else if (kind === 'i') data = itemSize === 1 ? new Int8Array(buffer, 0, count) : itemSize === 2 ? new Int16Array(buffer, 0, count) : new Int32Array(buffer, 0, count);
  else data = itemSize === 2 ? new Uint16Array(buffer, 0, count) : new Uint32Array(buffer, 0, count);
  return float32 && !(data instanceof Float32Array) ? Float32Array.from(data) : data;
}

const LIMIT_2_53 = 2n ** 53n;

function int64ToFloat64(raw: BigInt64Array | BigUint64Array, source: string): Float64Array {
  const out = new Float64Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const value = raw[i]!;
    if (value > LIMIT_2_53 || value < -LIMIT_2_53) throw new UserError(`64-bit integer ${raw[i]} at element ${i} is beyond 2^53`, source);
    out[i] = Number(value);
  }
  return out;
}

function toStrings(raw: Uint8Array, dtype: NpyDtype, count: number, source: string): string[] {
  const out = new Array<string>(count);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let i = 0; i < count; i++) {
    const start = i * dtype.itemSize;
    if (dtype.kind === 'S') {
      const end = raw.subarray(start, start + dtype.itemSize).indexOf(0);
      out[i] = Buffer.from(raw.subarray(start, end < 0 ? start + dtype.itemSize : start + end)).toString('latin1');
      continue;
    }
    const points: number[] = [];
    for (let p = start; p < start + dtype.itemSize; p += 4) {
      const point = view.getUint32(p, dtype.littleEndian);
      if (point === 0) break;
      if (point > 0x10ffff) throw new UserError(`string element ${i} holds an invalid code point 0x${point.toString(16)}`, source);
      points.push(point);
    }
    out[i] = String.fromCodePoint(...points);
  }
  return out;
}

/** Index map from C order to Fortran order: element i (C order) is element perm[i] of the Fortran-order data. */
function fortranToC(shape: number[]): Int32Array | Float64Array {
  const count = shape.reduce((a, b) => a * b, 1);
  const perm = count < 2 ** 31 ? new Int32Array(count) : new Float64Array(count);
  const index = new Array<number>(shape.length).fill(0);
  const fStride = shape.map((_, k) => shape.slice(0, k).reduce((a, b) => a * b, 1));
  for (let i = 0; i < count; i++) {
    let f = 0;
    for (let k = 0; k < shape.length; k++) f += index[k]! * fStride[k]!;
    perm[i] = f;
    for (let k = shape.length - 1; k >= 0; k--) {
      if (++index[k]! < shape[k]!) break;
      index[k] = 0;
    }
  }
  return perm;
}

function wholeData(bytes: Uint8Array, source: string): { header: NpyHeader; raw: Uint8Array } {
  const header = parseNpyHeader(bytes, source);
  const needed = header.count * header.dtype.itemSize;
  const available = bytes.length - header.dataOffset;
  if (available < needed) {
    throw new UserError(`not a valid .npy file: truncated data: expected ${needed} bytes for shape (${header.shape.join(', ')}), found ${available}`, source);
  }
  // Copy so the array is aligned and owns its memory.
  const raw = new Uint8Array(needed);
  raw.set(bytes.subarray(header.dataOffset, header.dataOffset + needed));
  return { header, raw };
}

/** A whole numeric array, in C order (Fortran-order files are transposed). */
export function decodeNpy(bytes: Uint8Array, source = '<buffer>', options: { float32?: boolean } = {}): NpyArray {
  const { header, raw } = wholeData(bytes, source);
  if (header.dtype.kind === 'U' || header.dtype.kind === 'S') throw new UserError(`holds strings ('${header.dtype.descr}'), expected a numeric array`, source);
  const data = toNumeric(raw, header.dtype, header.count, options.float32 ?? false, source);
  if (!header.fortranOrder || header.shape.length < 2) return { shape: header.shape, data };
  const perm = fortranToC(header.shape);
  const c = new (data.constructor as new (n: number) => NumericArray)(data.length);
  for (let i = 0; i < perm.length; i++) c[i] = data[perm[i]!]!;
  return { shape: header.shape, data: c };
}

/** A whole string array ('<U…' or '|S…'), in C order. */
export function decodeNpyStrings(bytes: Uint8Array, source = '<buffer>'): NpyStringArray {
  const { header, raw } = wholeData(bytes, source);
  if (header.dtype.kind !== 'U' && header.dtype.kind !== 'S') throw new UserError(`holds '${header.dtype.descr}', expected a string array`, source);
  const strings = toStrings(raw, header.dtype, header.count, source);
  if (!header.fortranOrder || header.shape.length < 2) return { shape: header.shape, strings };
  const perm = fortranToC(header.shape);
  return { shape: header.shape, strings: Array.from(perm, (f) => strings[f]!) };
}

export async function readNpy(path: string, options: { float32?: boolean } = {}): Promise<NpyArray> {
  // A C-order numeric array is read straight into its own aligned buffer (one copy of gigabytes, not two).
  const file = await openNpy(path);
  try {
    const numeric = file.dtype.kind !== 'U' && file.dtype.kind !== 'S';
    if (numeric && file.shape.length > 0 && !(file.fortranOrder && file.shape.length > 1)) {
      return { shape: file.shape, data: await file.readRows(0, file.rows, options) };
    }
  } finally {
    await file.close();
  }
  return decodeNpy(new Uint8Array(await readFile(path)), path, options);
}

export async function readNpyStrings(path: string): Promise<NpyStringArray> {
  return decodeNpyStrings(new Uint8Array(await readFile(path)), path);
}

export async function writeNpy(path: string, array: NpyArray): Promise<void> {
  const { data } = array;
  await writeFileAtomic(path, [npyHeaderBytes(descrOf(data), array.shape), new Uint8Array(data.buffer, data.byteOffset, data.byteLength)]);
}

// ---------------------------------------------------------------------------------------------------------------
// Streaming rows

export interface NpyFile extends NpyHeader {
  path: string;
  /** Rows [start, end) as one flat C-order array; float64 (and integers) become Float32Array with `float32`. */
  readRows(start: number, end: number, options?: { float32?: boolean }): Promise<NumericArray>;
  /** Rows [start, end) of a string array, one string[] per row. */
  readStringRows(start: number, end: number): Promise<string[][]>;
  close(): Promise<void>;
}

/** Opens a .npy file for row reads without loading it; the file must hold the whole declared array. */
export async function openNpy(path: string): Promise<NpyFile> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new UserError(`cannot open (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, path);
  }
  try {
    const readAt = async (position: number, length: number): Promise<Uint8Array> => {
      const out = new Uint8Array(length);
      let filled = 0;
      while (filled < length) {
        const chunk = Math.min(length - filled, 1 << 30);
        const { bytesRead } = await handle.read(out, filled, chunk, position + filled);
        if (bytesRead === 0) throw new UserError(`not a valid .npy file: unexpected end of file at byte ${position + filled}`, path);
        filled += bytesRead;
      }
      return out;
    };
    const { size } = await handle.stat();
    const start = await readAt(0, Math.min(size, 12));
    const header = parseNpyHeader(await readAt(0, Math.min(size, npyHeaderLength(start, path))), path);
    const needed = header.dataOffset + header.count * header.dtype.itemSize;
    if (size < needed) throw new UserError(`not a valid .npy file: truncated data: shape (${header.shape.join(', ')}) needs ${needed} bytes, file has ${size}`, path);

    const rowRange = async (first: number, end: number): Promise<Uint8Array> => {
      if (header.fortranOrder && header.shape.length > 1) {
        throw new UserError('is in Fortran order, so its rows are not contiguous: read it whole (readNpy) or re-save it in C order', path);
      }
      if (!(Number.isInteger(first) && Number.isInteger(end) && first >= 0 && first <= end && end <= header.rows)) {
        throw new RangeError(`${path}: rows [${first}, ${end}) are outside [0, ${header.rows})`);
      }
      return readAt(header.dataOffset + first * header.rowBytes, (end - first) * header.rowBytes);
    };
    const perRow = header.rowBytes / header.dtype.itemSize;
    return {
      ...header,
      path,
      async readRows(first, end, options = {}) {
        if (header.dtype.kind === 'U' || header.dtype.kind === 'S') throw new UserError(`holds strings ('${header.dtype.descr}'): use readStringRows`, path);
        return toNumeric(await rowRange(first, end), header.dtype, (end - first) * perRow, options.float32 ?? false, path);
      },
      async readStringRows(first, end) {
        if (header.dtype.kind !== 'U' && header.dtype.kind !== 'S') throw new UserError(`holds '${header.dtype.descr}', not strings: use readRows`, path);
        const flat = toStrings(await rowRange(first, end), header.dtype, (end - first) * perRow, path);
        return Array.from({ length: end - first }, (_, r) => flat.slice(r * perRow, (r + 1) * perRow));
      },
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}
