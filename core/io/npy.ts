/**
 * NumPy `.npy` (format 1.0–3.0) for whole 2-D (or 1-D) numeric arrays held in memory. Used for caches and saved
 * models, and readable by NumPy. (Streaming reads of files bigger than memory come with the dataset readers.)
 */
import { readFile } from 'node:fs/promises';
import { UserError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';

export type NumericArray = Float32Array | Float64Array | Int32Array | Uint8Array | Int16Array | Uint16Array | Int8Array | Uint32Array;

export interface NpyArray {
  shape: number[];
  data: NumericArray;
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

export function encodeNpy(array: NpyArray): Uint8Array {
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  let header = `{'descr': '${descrOf(array.data)}', 'fortran_order': False, 'shape': ${shape}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + array.data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength), 10 + header.length);
  return out;
}

export function decodeNpy(bytes: Uint8Array, source = '<buffer>'): NpyArray {
  const fail = (what: string) => new UserError(`not a valid .npy file: ${what}`, source);
  if (bytes.length < 10 || bytes[0] !== 0x93 || Buffer.from(bytes.subarray(1, 6)).toString('latin1') !== 'NUMPY') {
    throw fail('missing the \\x93NUMPY magic');
  }
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerStart = major === 1 ? 10 : 12;
  if (bytes.length < headerStart) throw fail('truncated header');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = headerStart + headerLength;
  if (bytes.length < dataStart) throw fail('truncated header');
  const header = Buffer.from(bytes.subarray(headerStart, dataStart)).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw fail(`unreadable header ${header.trim()}`);
  if (fortran === 'True') throw fail('fortran_order arrays are not supported (expected C order)');
  const entry = DESCR.find(([d]) => d === descr || d.replace('<', '|') === descr);
  if (!entry) throw fail(`dtype '${descr}' is not supported (expected one of ${DESCR.map(([d]) => d).join(', ')})`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const [, ctor, size] = entry;
  if (bytes.length - dataStart < count * size) {
    throw fail(`truncated data: expected ${count * size} bytes for shape (${shape.join(', ')}), found ${bytes.length - dataStart}`);
  }
  // Copy so the array is aligned and owns its memory.
  const copy = bytes.slice(dataStart, dataStart + count * size);
  return { shape, data: new ctor(copy.buffer, 0, count) };
}

export async function readNpy(path: string): Promise<NpyArray> {
  return decodeNpy(new Uint8Array(await readFile(path)), path);
}

export async function writeNpy(path: string, array: NpyArray): Promise<void> {
  await writeFileAtomic(path, encodeNpy(array));
}
