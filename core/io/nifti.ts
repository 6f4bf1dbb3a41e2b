/**
 * NIfTI-1 and NIfTI-2 volumes (.nii, .nii.gz): header fields (nifti-reader-js), data as a typed array, the affine
 * chosen as nibabel chooses it, and a small NIfTI-1 writer for exporting maps (weights, ROIs).
 *
 * Data layout: NIfTI stores x fastest (flat index x + X·(y + Y·z)); `data` keeps that file order. nibabel shows the
 * same bytes as an (X, Y, Z) array, and NumPy code that flattens it (e.g. `betas[:, mask > 0]` in Brain-Diffuser)
 * enumerates voxels in C order of that array — x slowest, z fastest. `maskVoxelsInNibabelOrder` reproduces that.
 *
 * Scaling: when scl_slope is finite and ≠ 0, and not exactly (1, 0), values become raw·slope + inter, as Float64Array
 * for float64 / 32- and 64-bit integer data and Float32Array otherwise (`scaled: true`). With slope 0, NaN, or
 * (1, 0) the raw typed array is returned unchanged (e.g. Int16Array for NSD betas).
 */
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { gunzipSync, gzipSync, createGunzip } from 'node:zlib';
import { NIFTI1, NIFTI2 } from 'nifti-reader-js';
import { UserError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';

export type NiftiData = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;
export type Affine = number[][];

export interface NiftiHeader {
  version: 1 | 2;
  littleEndian: boolean;
  /** The array shape (dim[1..dim[0]]), x first. */
  shape: number[];
  datatypeCode: number;
  datatype: string;
  /** All eight pixdim entries; pixdim[0] is qfac. */
  pixdim: number[];
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  qformCode: number;
  sformCode: number;
  /** Null when its code is 0. */
  qform: Affine | null;
  sform: Affine | null;
  /** nibabel's best affine: sform if sform_code > 0, else qform if qform_code > 0, else its base (centred) affine. */
  affine: Affine;
  description: string;
}

export interface NiftiVolume {
  header: NiftiHeader;
  /** File order (x fastest), scaled if `scaled`. */
  data: NiftiData;
  scaled: boolean;
}

type IntOrFloatCtor = new (buffer: ArrayBuffer, offset: number, length: number) => NiftiData | BigInt64Array | BigUint64Array;
const DATATYPES = new Map<number, { name: string; size: number; ctor: IntOrFloatCtor }>([
  [2, { name: 'uint8', size: 1, ctor: Uint8Array }],
  [4, { name: 'int16', size: 2, ctor: Int16Array }],
  [8, { name: 'int32', size: 4, ctor: Int32Array }],
  [16, { name: 'float32', size: 4, ctor: Float32Array }],
  [64, { name: 'float64', size: 8, ctor: Float64Array }],
  [256, { name: 'int8', size: 1, ctor: Int8Array }],
  [512, { name: 'uint16', size: 2, ctor: Uint16Array }],
  [768, { name: 'uint32', size: 4, ctor: Uint32Array }],
  [1024, { name: 'int64', size: 8, ctor: BigInt64Array }],
  [1280, { name: 'uint64', size: 8, ctor: BigUint64Array }],
]);

const isGzip = (bytes: Uint8Array) => bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

/** 1 or 2 from sizeof_hdr (348 / 540, either byte order), else 0. */
function niftiVersion(bytes: Uint8Array): { version: 0 | 1 | 2; littleEndian: boolean } {
  if (bytes.length < 4) return { version: 0, littleEndian: true };
  const view = new DataView(bytes.buffer, bytes.byteOffset, 4);
  for (const littleEndian of [true, false]) {
    const size = view.getInt32(0, littleEndian);
    if (size === 348) return { version: 1, littleEndian };
    if (size === 540) return { version: 2, littleEndian };
  }
  return { version: 0, littleEndian: true };
}

function decompress(bytes: Uint8Array, source: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (error) {
    throw new UserError(`corrupt or truncated gzip data (${(error as Error).message})`, source);
  }
}

function quaternAffine(b: number, c: number, d: number, offset: number[], pixdim: number[]): Affine {
  // nifti1_io quatern_to_mat44, with a = sqrt(max(0, 1 − b² − c² − d²)) as nibabel computes it (nifti1_io
  // renormalises below 1e-7, which differs from nibabel by ~1e-5 on real files).
  const a = Math.sqrt(Math.max(0, 1 - (b * b + c * c + d * d)));
  const zoom = [1, 2, 3].map((i) => (pixdim[i]! > 0 ? pixdim[i]! : 1));
  if (pixdim[0]! < 0) zoom[2] = -zoom[2]!;
  const r = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
  ];
  // `+ 0` turns −0 into 0.
  return [...r.map((row, i) => [...row.map((v, j) => v * zoom[j]! + 0), offset[i]!]), [0, 0, 0, 1]];
}

/** nibabel's `shape_zoom_affine(shape, zooms, x_flip=True)`: voxel centre at the origin, x flipped. */
function baseAffine(shape: number[], pixdim: number[]): Affine {
  const affine = [0, 1, 2].map((i) => {
    const zoom = (i === 0 ? -1 : 1) * (pixdim[i + 1] ?? 1);
    const origin = ((shape[i] ?? 1) - 1) / 2;
    return [0, 1, 2].map((j) => (i === j ? zoom : 0)).concat(-origin * zoom + 0);
  });
  return [...affine, [0, 0, 0, 1]];
}

/** Parses the header from the first bytes of an uncompressed file (348 or 540 bytes are enough). */
export function decodeNiftiHeader(bytes: Uint8Array, source = 'NIfTI data'): NiftiHeader {
  const { version, littleEndian } = niftiVersion(bytes);
  if (version === 0) throw new UserError('not a NIfTI file (sizeof_hdr is neither 348 nor 540)', source);
  const size = version === 1 ? 348 : 540;
  if (bytes.length < size) throw new UserError(`truncated NIfTI-${version} header (${bytes.length} of ${size} bytes)`, source);
  const view = new DataView(bytes.buffer, bytes.byteOffset, size);
  const magic = Buffer.from(bytes.subarray(version === 1 ? 344 : 4, version === 1 ? 347 : 7)).toString('latin1');
  if (magic === 'ni1' || magic === 'ni2') throw new UserError('separate .hdr/.img pairs are not supported: convert to .nii', source);
  if (magic !== `n+${version}`) throw new UserError(`bad NIfTI-${version} magic '${magic}' (expected 'n+${version}')`, source);
  // The library parses exactly the fixed header: its extension walk is skipped (we only need vox_offset).
  const header = version === 1 ? new NIFTI1() : new NIFTI2();
  try {
    header.readHeader(copyBytes(bytes, 0, size).buffer);
  } catch (error) {
    throw new UserError(`unreadable NIfTI header (${(error as Error).message})`, source);
  }
  const ndim = header.dims[0]!;
  if (!(ndim >= 1 && ndim <= 7)) throw new UserError(`dim[0] is ${ndim} (expected 1–7)`, source);
  const shape = header.dims.slice(1, ndim + 1);
  if (shape.some((n) => !Number.isSafeInteger(n) || n < 1)) throw new UserError(`bad dimensions [${shape.join(', ')}]`, source);
  const type = DATATYPES.get(header.datatypeCode);
  if (!type) {
    throw new UserError(`datatype ${header.datatypeCode} is not supported (expected one of ${[...DATATYPES.values()].map((t) => t.name).join(', ')})`, source);
  }
  const voxOffset = header.vox_offset;
  if (!Number.isSafeInteger(voxOffset) || voxOffset < size) throw new UserError(`vox_offset ${voxOffset} is invalid (expected an integer ≥ ${size})`, source);
  const pixdim = [...header.pixDims];
  const srowAt = (row: number, col: number) =>
    version === 1 ? view.getFloat32(280 + (row * 4 + col) * 4, littleEndian) : view.getFloat64(400 + (row * 4 + col) * 8, littleEndian);
  const sform = header.sform_code > 0 ? [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => srowAt(r, c))).concat([[0, 0, 0, 1]]) : null;
  const qform =
    header.qform_code > 0
      ? quaternAffine(header.quatern_b, header.quatern_c, header.quatern_d, [header.qoffset_x, header.qoffset_y, header.qoffset_z], pixdim)
      : null;
  return {
    version,
    littleEndian,
    shape,
    datatypeCode: header.datatypeCode,
    datatype: type.name,
    pixdim,
    voxOffset,
    sclSlope: header.scl_slope,
    sclInter: header.scl_inter,
    qformCode: header.qform_code,
    sformCode: header.sform_code,
    qform,
    sform,
    affine: sform ?? qform ?? baseAffine(shape, pixdim),
    description: header.description.replace(/\0.*$/s, ''),
  };
}

/** A fresh, aligned copy (Buffer.slice would return a view of a shared pool). */
function copyBytes(bytes: Uint8Array, start: number, end: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(end - start);
  out.set(bytes.subarray(start, end));
  return out;
}

function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i + size <= bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}

function applyScaling(raw: NiftiData, slope: number, inter: number, source: string): { data: NiftiData; scaled: boolean } {
  if (!Number.isFinite(slope) || slope === 0 || (slope === 1 && inter === 0)) return { data: raw, scaled: false };
  if (!Number.isFinite(inter)) throw new UserError(`scl_slope is ${slope} but scl_inter is ${inter} (expected a finite intercept)`, source);
  const wide = raw instanceof Float64Array || raw instanceof Int32Array || raw instanceof Uint32Array;
  const out = wide ? new Float64Array(raw.length) : new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw[i]! * slope + inter;
  return { data: out, scaled: true };
}

/** Decodes a whole .nii or .nii.gz (gzip detected by its magic bytes). */
export function decodeNifti(fileBytes: Uint8Array, source = 'NIfTI data'): NiftiVolume {
  const bytes = decompress(fileBytes, source);
  const header = decodeNiftiHeader(bytes, source);
  const type = DATATYPES.get(header.datatypeCode)!;
  const count = header.shape.reduce((a, b) => a * b, 1);
  const needed = count * type.size;
  if (header.voxOffset + needed > bytes.length) {
    throw new UserError(
      `truncated NIfTI data: shape [${header.shape.join(', ')}] ${type.name} needs ${needed} bytes from offset ${header.voxOffset}, file has ${bytes.length - header.voxOffset}`,
      source,
    );
  }
  const copy = copyBytes(bytes, header.voxOffset, header.voxOffset + needed);
  if (!header.littleEndian && type.size > 1) swapBytes(copy, type.size);
  let raw = new type.ctor(copy.buffer, 0, count);
  if (raw instanceof BigInt64Array || raw instanceof BigUint64Array) raw = int64ToFloat64(raw, source);
  const { data, scaled } = applyScaling(raw, header.sclSlope, header.sclInter, source);
  return { header, data, scaled };
}

/** 64-bit integers as Float64Array: exact up to 2^53, beyond that a UserError rather than silent rounding. */
const LIMIT_2_53 = 2n ** 53n;

function int64ToFloat64(raw: BigInt64Array | BigUint64Array, source: string): Float64Array {
  const out = new Float64Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const value = raw[i]!;
    if (value > LIMIT_2_53 || value < -LIMIT_2_53) throw new UserError(`64-bit integer voxel ${raw[i]} is beyond 2^53`, source);
    out[i] = Number(value);
  }
  return out;
}

export async function readNifti(path: string): Promise<NiftiVolume> {
  return decodeNifti(new Uint8Array(await readFile(path)), path);
}

/** Reads only the header (decompressing just the first bytes of a .nii.gz), for inspecting large files. */
export async function readNiftiHeader(path: string): Promise<NiftiHeader> {
  const fail = (error: unknown, what: string) => new UserError(`${what} (${(error as Error).message})`, path);
  let head: Uint8Array;
  try {
    const handle = await open(path, 'r');
    try {
      const buffer = new Uint8Array(1024);
      head = buffer.subarray(0, (await handle.read(buffer, 0, buffer.length, 0)).bytesRead);
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw fail(error, 'cannot read');
  }
  if (!isGzip(head)) return decodeNiftiHeader(head, path);
  const chunks: Buffer[] = [];
  let length = 0;
  const file = createReadStream(path, { highWaterMark: 64 * 1024 });
  const gunzip = createGunzip();
  file.on('error', (error) => gunzip.destroy(error));
  try {
    for await (const chunk of file.pipe(gunzip)) {
      chunks.push(chunk as Buffer);
      length += (chunk as Buffer).length;
      if (length >= 540) break;
    }
  } catch (error) {
    throw fail(error, 'corrupt or truncated gzip data');
  } finally {
    file.destroy();
    gunzip.destroy();
  }
  return decodeNiftiHeader(Buffer.concat(chunks), path);
}

/**
 * Checks, without reading the data, that a NIfTI file holds all its voxels: an uncompressed file must be at least
 * vox_offset + voxels × bytes long; a .nii.gz stores its uncompressed length (mod 2³²) in its last 4 bytes (gzip's
 * ISIZE), which a truncated download does not end with. Throws a UserError naming the file when it is short.
 */
export async function checkNiftiComplete(path: string): Promise<NiftiHeader> {
  const header = await readNiftiHeader(path);
  const bytes = header.voxOffset + header.shape.reduce((a, b) => a * b, 1) * DATATYPES.get(header.datatypeCode)!.size;
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const head = new Uint8Array(2);
    await handle.read(head, 0, 2, 0);
    if (!isGzip(head)) {
      if (size < bytes) throw new UserError(`truncated: ${size} bytes, the header needs ${bytes} (${header.shape.join('×')} ${header.datatype})`, path);
      return header;
    }
    const tail = new Uint8Array(4);
    await handle.read(tail, 0, 4, Math.max(0, size - 4));
    const stored = new DataView(tail.buffer).getUint32(0, true);
    if (stored !== bytes % 2 ** 32) {
      throw new UserError(`truncated or damaged gzip data: it does not end with the length of ${header.shape.join('×')} ${header.datatype} voxels`, path);
    }
    return header;
  } finally {
    await handle.close();
  }
}

export interface NiftiWriteInput {
  /** x first, as in the file. */
  shape: number[];
  /** File order (x fastest). */
  data: NiftiData;
  /** Written as the sform (code `sformCode`); pixdim defaults to its column norms. */
  affine?: Affine;
  sformCode?: number;
  /** Voxel sizes pixdim[1..]; default from the affine, else 1. */
  voxelSize?: number[];
  sclSlope?: number;
  sclInter?: number;
  description?: string;
}

const DATATYPE_OF = new Map<unknown, number>([
  [Uint8Array, 2], [Int16Array, 4], [Int32Array, 8], [Float32Array, 16], [Float64Array, 64], [Int8Array, 256], [Uint16Array, 512], [Uint32Array, 768],
]);

/** NIfTI-1, little-endian, single file: 348-byte header + 4-byte empty extension flag + data (vox_offset 352). */
export function encodeNifti(input: NiftiWriteInput, options: { gzip?: boolean } = {}): Uint8Array {
  const { shape, data, affine } = input;
  const datatype = DATATYPE_OF.get(data.constructor);
  if (datatype === undefined) throw new TypeError('NIfTI writer: unsupported typed array');
  if (shape.length < 1 || shape.length > 7 || shape.reduce((a, b) => a * b, 1) !== data.length) {
    throw new RangeError(`NIfTI writer: shape [${shape.join(', ')}] does not hold ${data.length} values`);
  }
  const out = new Uint8Array(352 + data.byteLength);
  const view = new DataView(out.buffer);
  view.setInt32(0, 348, true);
  [shape.length, ...shape].forEach((n, i) => view.setInt16(40 + 2 * i, n, true));
  for (let i = shape.length + 1; i < 8; i++) view.setInt16(40 + 2 * i, 1, true);
  view.setInt16(70, datatype, true);
  view.setInt16(72, data.BYTES_PER_ELEMENT * 8, true);
  const norms = affine ? [0, 1, 2].map((j) => Math.hypot(affine[0]![j]!, affine[1]![j]!, affine[2]![j]!)) : [];
  const voxel = input.voxelSize ?? norms;
  view.setFloat32(76, 1, true);
  for (let i = 1; i < 8; i++) view.setFloat32(76 + 4 * i, voxel[i - 1] ?? 1, true);
  view.setFloat32(108, 352, true);
  view.setFloat32(112, input.sclSlope ?? 1, true);
  view.setFloat32(116, input.sclInter ?? 0, true);
  out[123] = 2; // xyzt_units: millimetres
  out.set(Buffer.from((input.description ?? '').slice(0, 79), 'latin1'), 148);
  if (affine) {
    view.setInt16(254, input.sformCode ?? 2, true);
    for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) view.setFloat32(280 + (r * 4 + c) * 4, affine[r]![c]!, true);
  }
  out.set(Buffer.from('n+1\0', 'latin1'), 344);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 352);
  return options.gzip ? gzipSync(out) : out;
}

/** Writes atomically; gzip when asked or when the path ends in .gz. */
export async function writeNifti(path: string, input: NiftiWriteInput, options: { gzip?: boolean } = {}): Promise<void> {
  await writeFileAtomic(path, encodeNifti(input, { gzip: options.gzip ?? path.endsWith('.gz') }));
}

/** Index of voxel (x, y, z) in NumPy C order of the (X, Y, Z) array nibabel returns: z + Z·(y + Y·x). */
export function cOrderIndex(x: number, y: number, z: number, shape: readonly number[]): number {
  return z + shape[2]! * (y + shape[1]! * x);
}

/** Index of voxel (x, y, z) in file order (x fastest), the order of `NiftiVolume.data` and of HDF5 (Z, Y, X) arrays. */
export function fileOrderIndex(x: number, y: number, z: number, shape: readonly number[]): number {
  return x + shape[0]! * (y + shape[1]! * z);
}

/**
 * File-order indices of the voxels where `keep(value)` (default: value > 0), listed in the order NumPy enumerates
 * `volume[mask]` for nibabel's (X, Y, Z) array: x slowest, z fastest. Only the first three dimensions are used.
 */
export function maskVoxelsInNibabelOrder(
  data: ArrayLike<number>,
  shape: readonly number[],
  keep: (value: number) => boolean = (value) => value > 0,
): Int32Array {
  const [nx = 1, ny = 1, nz = 1] = shape;
  if (nx * ny * nz > data.length) throw new RangeError(`mask of ${data.length} values is smaller than ${nx}×${ny}×${nz}`);
  const found: number[] = [];
  for (let x = 0; x < nx; x++) {
    for (let y = 0; y < ny; y++) {
      for (let z = 0; z < nz; z++) {
        const index = x + nx * (y + ny * z);
        if (keep(data[index]!)) found.push(index);
      }
    }
  }
  return Int32Array.from(found);
}
