/**
 * One array inside one file, behind the same small interface whatever the format: its shape (items first, C order)
 * and its rows as float32. `.npy` and `.h5` are read a few rows at a time (files bigger than memory); `.npz` and
 * `.mat` members are read whole (those formats cannot be sliced cheaply) and shared by every array of the file.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { UserError } from '../../core/errors.js';
import { openHdf5, type Hdf5File } from '../../core/io/hdf5.js';
import { matStrings, readMat, toRowMajor, type MatValue } from '../../core/io/mat.js';
import { openNpy, type NpyFile } from '../../core/io/npy.js';
import { NpzArchive } from '../../core/io/npz.js';

/** A resolved reference: which file, which variable in it, and which spec field asked for it (for messages). */
export interface Source {
  path: string;
  variable?: string;
  field: string;
}

export interface ArraySource {
  /** Item axis first, C order. */
  readonly shape: number[];
  /** Integer (or boolean) storage: pixel values then default to the range 0–255. */
  readonly integer: boolean;
  /** Rows [start, end) flattened in C order. */
  readRows(start: number, end: number): Promise<Float32Array>;
}

type Format = 'npy' | 'npz' | 'mat' | 'h5' | 'text';

export function formatOf(source: Source): Format {
  const ext = extname(source.path).toLowerCase();
  if (ext === '.npy') return 'npy';
  if (ext === '.npz') return 'npz';
  if (ext === '.mat') return 'mat';
  if (ext === '.h5' || ext === '.hdf5' || ext === '.hdf') return 'h5';
  if (ext === '.txt' || ext === '.tsv') return 'text';
  throw new UserError(`${source.field}: unsupported file type '${ext}' (expected .npy, .npz, .mat, .h5/.hdf5, or .txt for captions)`, source.path);
}

export function toFloat32(data: ArrayLike<number | bigint>): Float32Array {
  if (data instanceof Float32Array) return data;
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Number(data[i]!);
  return out;
}

function product(values: readonly number[]): number {
  return values.reduce((a, b) => a * b, 1);
}

function missingVariable(source: Source, present: string[]): UserError {
  return new UserError(
    `${source.field}: no variable '${source.variable ?? ''}' in this file (variables present: ${present.join(', ') || 'none'})`,
    source.path,
  );
}

/**
 * Opens files once per use and closes them together: a .mat or .npz file holding all four arrays is parsed once.
 */
export class FileSet {
  private readonly npy: NpyFile[] = [];
  private readonly h5 = new Map<string, Hdf5File>();
  private readonly npz = new Map<string, Promise<NpzArchive>>();
  private readonly mat = new Map<string, Promise<Record<string, MatValue>>>();

  private checkExists(source: Source): void {
    if (!existsSync(source.path)) throw new UserError(`file not found (needed by ${source.field})`, source.path);
  }

  async open(source: Source): Promise<ArraySource> {
    this.checkExists(source);
    const format = formatOf(source);
    if (format === 'npy') return this.openNpy(source);
    if (format === 'npz') return this.openNpz(source);
    if (format === 'mat') return this.openMat(source);
    if (format === 'h5') return this.openH5(source);
    throw new UserError(`${source.field}: a text file holds captions only, not an array`, source.path);
  }

  private async openNpy(source: Source): Promise<ArraySource> {
    if (source.variable) throw new UserError(`${source.field}: an .npy file holds one array; remove the variable '${source.variable}'`, source.path);
    const file = await openNpy(source.path);
    this.npy.push(file);
    if (file.dtype.kind === 'U' || file.dtype.kind === 'S') throw new UserError(`${source.field}: holds strings, expected numbers`, source.path);
    return {
      shape: file.shape,
      integer: file.dtype.kind !== 'f',
      readRows: async (start, end) => toFloat32(await file.readRows(start, end, { float32: true })),
    };
  }

  private archive(source: Source): Promise<NpzArchive> {
    let archive = this.npz.get(source.path);
    if (!archive) this.npz.set(source.path, (archive = NpzArchive.open(source.path)));
    return archive;
  }

  private async openNpz(source: Source): Promise<ArraySource> {
    const archive = await this.archive(source);
    if (!source.variable || !archive.names.includes(source.variable)) throw missingVariable(source, archive.names);
    const array = archive.array(source.variable, { float32: true });
    return wholeArray(array.shape, toFloat32(array.data), !(array.data instanceof Float32Array || array.data instanceof Float64Array));
  }

  private matFile(source: Source): Promise<Record<string, MatValue>> {
    let file = this.mat.get(source.path);
    if (!file) this.mat.set(source.path, (file = readMat(source.path)));
    return file;
  }

  private async matValue(source: Source): Promise<MatValue> {
    const variables = await this.matFile(source);
    const value = source.variable === undefined ? undefined : variables[source.variable];
    if (!value) throw missingVariable(source, Object.keys(variables));
    return value;
  }

  private async openMat(source: Source): Promise<ArraySource> {
    const value = await this.matValue(source);
    if (value.class === 'char' || value.class === 'cell' || value.class === 'struct') {
      throw new UserError(`${source.field}: variable '${source.variable}' is a ${value.class} array, expected a numeric one`, source.path);
    }
    // MATLAB stores column-major: convert to C order so that a row of an items × n matrix is contiguous.
    const integer = value.class !== 'double' && value.class !== 'single';
    return wholeArray(value.shape, toFloat32(toRowMajor(value)), integer);
  }

  private async h5File(source: Source): Promise<Hdf5File> {
    let file = this.h5.get(source.path);
    if (!file) this.h5.set(source.path, (file = await openHdf5(source.path)));
    return file;
  }

  private async openH5(source: Source): Promise<ArraySource> {
    const file = await this.h5File(source);
    const variable = source.variable ?? '';
    if (!variable || file.kind(variable) !== 'dataset') throw missingVariable(source, file.datasetPaths());
    const info = file.info(variable);
    return {
      shape: info.shape,
      integer: info.dtype.startsWith('int') || info.dtype.startsWith('uint'),
      readRows: async (start, end) => toFloat32(file.readSlice(variable, [[start, end]])),
    };
  }

  /** Strings per item (items or items × k arrays; empty strings dropped). */
  async strings(source: Source): Promise<string[][]> {
    this.checkExists(source);
    const format = formatOf(source);
    if (format === 'text') {
      const lines = (await readFile(source.path, 'utf8')).split(/\r?\n/);
      if (lines.at(-1) === '') lines.pop();
      return lines.map((line) => line.split('\t').filter((s) => s !== ''));
    }
    let shape: number[];
    let flat: string[];
    if (format === 'npy') {
      const file = await openNpy(source.path);
      try {
        shape = file.shape;
        flat = (await file.readStringRows(0, file.rows)).flat();
      } finally {
        await file.close();
      }
    } else if (format === 'npz') {
      const archive = await this.archive(source);
      if (!source.variable || !archive.names.includes(source.variable)) throw missingVariable(source, archive.names);
      ({ shape, strings: flat } = archive.strings(source.variable));
    } else if (format === 'h5') {
      const file = await this.h5File(source);
      if (!source.variable || file.kind(source.variable) !== 'dataset') throw missingVariable(source, file.datasetPaths());
      shape = file.info(source.variable).shape;
      flat = file.readStrings(source.variable);
    } else {
      const value = await this.matValue(source);
      flat = matStrings(value).map((s) => s.trim());
      shape = [flat.length];
    }
    const perItem = product(shape.slice(1));
    return Array.from({ length: shape[0] ?? 0 }, (_, i) => flat.slice(i * perItem, (i + 1) * perItem).filter((s) => s !== ''));
  }

  /** A 1-D vector (labels, ROI masks); MATLAB's 1×n and n×1 count as vectors. */
  async vector(source: Source): Promise<Float32Array> {
    const array = await this.open(source);
    if (array.shape.filter((n) => n !== 1).length > 1) {
      throw new UserError(`${source.field}: expected a vector, found shape ${array.shape.join('×')}`, source.path);
    }
    return array.readRows(0, array.shape[0] ?? 1);
  }

  async close(): Promise<void> {
    await Promise.all(this.npy.splice(0).map((f) => f.close()));
    for (const file of this.h5.values()) file.close();
    this.h5.clear();
    this.npz.clear();
    this.mat.clear();
  }
}

function wholeArray(shape: number[], data: Float32Array, integer: boolean): ArraySource {
  const perRow = product(shape.slice(1));
  return { shape, integer, readRows: async (start, end) => data.slice(start * perRow, end * perRow) };
}

/** Size and modification time of each distinct file: part of every cache key, so an edited file is re-read. */
export async function fileIdentities(sources: Source[]): Promise<Array<{ path: string; size: number; mtimeMs: number }>> {
  const paths = [...new Set(sources.map((s) => s.path))].sort();
  return Promise.all(
    paths.map(async (path) => {
      const info = await stat(path).catch(() => undefined);
      return { path, size: info?.size ?? -1, mtimeMs: info?.mtimeMs ?? -1 };
    }),
  );
}
