/**
 * Read-only HDF5 access over h5wasm (NSD betas and stimuli, THINGS responses, MATLAB v7.3).
 *
 * h5wasm/node uses Emscripten's NODERAWFS: paths are real paths and the file is read from disk on demand, never
 * loaded whole. Three h5wasm behaviours shape this module:
 * - a dataset whose filter is not registered is returned as garbage without an error, so every read first checks
 *   the dataset's filters against the ones we know to be available (built-ins + registered plugin folders);
 * - failures inside the C library are only printed (HDF5-DIAG on stderr) and reads still "succeed", so each call is
 *   run with stderr captured and any diagnostic turns into a UserError carrying its gist;
 * - one read is capped by the 2 GiB wasm heap (which never shrinks), so reads are split along the first axis below
 *   a byte cap.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { UserError } from '../errors.js';

type H5wasm = typeof import('h5wasm/node').default;
type H5Dataset = import('h5wasm/node').Dataset;
type H5Group = import('h5wasm/node').Group;
type H5File = import('h5wasm/node').File;
type H5Module = Awaited<H5wasm['ready']>;

export type Hdf5TypedArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

export type Hdf5Dtype =
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'float32'
  | 'float64'
  | 'string'
  | 'reference'
  | 'other';

export interface Hdf5Filter {
  id: number;
  name: string;
  cdValues: number[];
}

export interface Hdf5DatasetInfo {
  path: string;
  shape: number[];
  dtype: Hdf5Dtype;
  /** Bytes per element. */
  itemSize: number;
  chunks: number[] | null;
  filters: Hdf5Filter[];
  attributes: Record<string, unknown>;
}

export interface Hdf5Entry {
  name: string;
  path: string;
  kind: 'group' | 'dataset' | 'other';
}

/** A hyperslab range per axis: `[start, end)` keeps the axis, a number selects one index and drops it. */
export type SliceRange = [start: number, end: number] | number;

export interface ReadOptions {
  /** Largest single h5wasm read in bytes; bigger requests are split along their first axis. */
  maxBytesPerRead?: number;
}

/** Well below h5wasm's 2 GiB heap: the wasm heap grows to the largest read and never shrinks. */
export const DEFAULT_MAX_BYTES_PER_READ = 256 * 1024 * 1024;

/** Filters compiled into h5wasm's libhdf5 (szip through libaec). */
const BUILTIN_FILTERS = new Map<number, string>([
  [1, 'deflate (gzip)'],
  [2, 'shuffle'],
  [3, 'fletcher32'],
  [4, 'szip'],
  [5, 'nbit'],
  [6, 'scaleoffset'],
]);

/** Registered HDF5 filter ids of the plugins h5wasm-plugins ships, by their `libH5Z<name>.so` file name. */
const PLUGIN_FILTER_IDS: Record<string, number> = {
  bz2: 307,
  lzf: 32000,
  blosc: 32001,
  lz4: 32004,
  bshuf: 32008,
  zfp: 32013,
  zstd: 32015,
  jpeg: 32019,
  bitgroom: 32022,
  bitround: 32023,
  blosc2: 32026,
};

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

// ---------------------------------------------------------------------------------------------------------------
// Module and plugins

interface PluginDirectory {
  dir: string;
  filters: Map<number, string>;
}

const state: {
  h5: H5wasm | undefined;
  module: H5Module | undefined;
  loading: Promise<H5wasm> | undefined;
  useDefaultPlugins: boolean;
  pluginDirs: PluginDirectory[];
} = { h5: undefined, module: undefined, loading: undefined, useDefaultPlugins: true, pluginDirs: [] };

/** The folder of h5wasm-plugins' compiled filters, or undefined when the package is not installed. */
export function defaultPluginDirectory(): string | undefined {
  try {
    const entry = createRequire(import.meta.url).resolve('h5wasm-plugins');
    const dir = join(dirname(entry), 'plugins');
    return fs.existsSync(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
}

function scanPluginDirectory(dir: string, extraIds: Record<string, number> = {}): Map<number, string> {
  const ids = { ...PLUGIN_FILTER_IDS, ...extraIds };
  const filters = new Map<number, string>();
  for (const file of fs.readdirSync(dir)) {
    const name = /^libH5Z(.+)\.so$/.exec(file)?.[1];
    const id = name === undefined ? undefined : ids[name];
    if (name !== undefined && id !== undefined) filters.set(id, name);
  }
  return filters;
}

/**
 * Whether the h5wasm-plugins folder is registered when h5wasm first loads (default true). Only effective before
 * the first HDF5 call of the process: the HDF5 library keeps loaded plugins for its lifetime.
 */
export function useDefaultHdf5Plugins(enabled: boolean): void {
  if (state.loading) throw new Error('useDefaultHdf5Plugins must be called before the first HDF5 access');
  state.useDefaultPlugins = enabled;
}

/**
 * Adds a folder of Emscripten-built HDF5 filter plugins (`libH5Z<name>.so`). Plugins named like h5wasm-plugins'
 * are recognised; give `filterIds` ({ name: registered id }) for others.
 */
export async function registerHdf5PluginDirectory(dir: string, filterIds: Record<string, number> = {}): Promise<void> {
  await loadHdf5();
  if (!fs.existsSync(dir)) throw new UserError('plugin folder not found', dir);
  state.module!.insert_plugin_search_path(dir, 0);
  state.pluginDirs.push({ dir, filters: scanPluginDirectory(dir, filterIds) });
}

/** The h5wasm namespace, ready, with the default plugin folder registered (tests use it to write files). */
export async function loadHdf5(): Promise<H5wasm> {
  if (state.h5) return state.h5;
  state.loading ??= (async () => {
    const h5 = (await import('h5wasm/node')).default;
    const module = await h5.ready;
    state.module = module;
    const dir = state.useDefaultPlugins ? defaultPluginDirectory() : undefined;
    if (dir) {
      module.insert_plugin_search_path(dir, 0);
      state.pluginDirs.push({ dir, filters: scanPluginDirectory(dir) });
    }
    state.h5 = h5;
    return h5;
  })();
  return state.loading;
}

/** Filter id → name of every filter a read can decode right now. */
export function availableHdf5Filters(): Map<number, string> {
  const all = new Map(BUILTIN_FILTERS);
  for (const { filters } of state.pluginDirs) for (const [id, name] of filters) all.set(id, name);
  return all;
}

// ---------------------------------------------------------------------------------------------------------------
// HDF5-DIAG capture: libhdf5 reports errors by printing to fd 2 (through fs.writeSync under NODERAWFS).

function withCapturedStderr<T>(fn: () => T): { result?: T; error?: unknown; stderr: string } {
  const original = fs.writeSync;
  let stderr = '';
  const patched = (fd: number, buffer: unknown, ...rest: unknown[]): number => {
    if (fd === 2) {
      if (typeof buffer === 'string') {
        stderr += buffer;
        return Buffer.byteLength(buffer);
      }
      const bytes = buffer as Uint8Array;
      const offset = typeof rest[0] === 'number' ? rest[0] : 0;
      const length = typeof rest[1] === 'number' ? rest[1] : bytes.byteLength - offset;
      stderr += Buffer.from(bytes.buffer, bytes.byteOffset + offset, length).toString('utf8');
      return length;
    }
    return (original as (...args: unknown[]) => number)(fd, buffer, ...rest);
  };
  (fs as { writeSync: unknown }).writeSync = patched;
  try {
    return { result: fn(), stderr };
  } catch (error) {
    return { error, stderr };
  } finally {
    fs.writeSync = original;
  }
}

/** The most telling lines of an HDF5-DIAG trace: the innermost failure descriptions. */
function diagnosticGist(stderr: string): string {
  const descriptions = [...stderr.matchAll(/#\d+: \S+ line \d+ in [^:]+\(\): ([^\n]+)/g)].map((m) => m[1]!.trim());
  const minor = [...stderr.matchAll(/minor: ([^\n]+)/g)].map((m) => m[1]!.trim());
  const last = descriptions.slice(-2).join('; ');
  return last || minor.at(-1) || stderr.trim().split('\n').at(-1) || 'unknown HDF5 error';
}

// ---------------------------------------------------------------------------------------------------------------
// Pre-open checks (so that truncated or foreign files fail here, clearly, before libhdf5 sees them)

function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const read = fs.readSync(fd, buffer, 0, length, position);
  return buffer.subarray(0, read);
}

function checkHdf5File(path: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(path);
  } catch {
    throw new UserError('file not found (expected an HDF5 file)', path);
  }
  if (!stat.isFile()) throw new UserError('is not a regular file (expected an HDF5 file)', path);
  const fd = fs.openSync(path, 'r');
  try {
    // The superblock sits at 0, 512, 1024, 2048, … (after a user block, e.g. MATLAB v7.3's 512-byte header).
    let superOffset = -1;
    for (let offset = 0; offset + 8 <= stat.size; offset = offset === 0 ? 512 : offset * 2) {
      if (readAt(fd, offset, 8).equals(HDF5_SIGNATURE)) {
        superOffset = offset;
        break;
      }
    }
    if (superOffset < 0) throw new UserError('not an HDF5 file (no HDF5 signature at offset 0, 512, 1024, …)', path);
    const head = readAt(fd, superOffset, 96);
    const truncated = () =>
      new UserError(`truncated HDF5 file: the superblock at offset ${superOffset} is incomplete`, path);
    if (head.length < 16) throw truncated();
    const version = head[8]!;
    if (version > 3) throw new UserError(`unsupported HDF5 superblock version ${version}`, path);
    const offsetSize = version <= 1 ? head[13]! : head[9]!;
    if (![2, 4, 8].includes(offsetSize)) throw new UserError(`corrupt HDF5 superblock (offset size ${offsetSize})`, path);
    // Field order: base address, then (v0/1) free-space address or (v2/3) extension address, then end-of-file.
    const fieldsStart = version === 0 ? 24 : version === 1 ? 28 : 12;
    const eofAt = fieldsStart + 2 * offsetSize;
    if (head.length < eofAt + offsetSize) throw truncated();
    const readAddress = (at: number) => {
      let value = 0n;
      for (let i = offsetSize - 1; i >= 0; i--) value = (value << 8n) | BigInt(head[at + i]!);
      return value;
    };
    const eof = readAddress(eofAt);
    const undefinedAddress = (1n << BigInt(8 * offsetSize)) - 1n;
    if (eof === undefinedAddress) throw new UserError('corrupt HDF5 superblock (undefined end-of-file address)', path);
    const expected = BigInt(superOffset) + eof;
    if (expected > BigInt(stat.size)) {
      throw new UserError(
        `truncated HDF5 file: the superblock declares ${expected} bytes, the file has ${stat.size} (incomplete download or copy?)`,
        path,
      );
    }
  } finally {
    fs.closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Slices

function product(values: readonly number[]): number {
  return values.reduce((a, b) => a * b, 1);
}

interface Hyperslab {
  /** Per axis [start, end). */
  bounds: Array<[number, number]>;
  /** Axes that a numeric range dropped from the result. */
  dropped: boolean[];
}

function resolveRanges(ranges: readonly SliceRange[], shape: readonly number[], where: string): Hyperslab {
  if (ranges.length > shape.length) {
    throw new UserError(`${ranges.length} slice ranges given for a ${shape.length}-D dataset (shape ${shape.join('×')})`, where);
  }
  const bounds: Array<[number, number]> = [];
  const dropped: boolean[] = [];
  shape.forEach((size, axis) => {
    const range = ranges[axis];
    if (range === undefined) {
      bounds.push([0, size]);
      dropped.push(false);
      return;
    }
    const [start, end] = typeof range === 'number' ? [range, range + 1] : range;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > size || start >= end) {
      const shown = typeof range === 'number' ? `${range}` : `[${range[0]}, ${range[1]})`;
      throw new UserError(`slice ${shown} on axis ${axis} is outside the dataset's shape ${shape.join('×')}`, where);
    }
    bounds.push([start, end]);
    dropped.push(typeof range === 'number');
  });
  return { bounds, dropped };
}

/** Shape of `readSlice(path, ranges)`'s result for a dataset of `shape`. */
export function sliceShape(ranges: readonly SliceRange[], shape: readonly number[]): number[] {
  const { bounds, dropped } = resolveRanges(ranges, shape, 'slice');
  return bounds.filter((_, axis) => !dropped[axis]).map(([start, end]) => end - start);
}

type TypedArrayConstructor = new (length: number) => Hdf5TypedArray;

const TYPED_ARRAYS: Record<string, TypedArrayConstructor> = {
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  float32: Float32Array,
  float64: Float64Array,
};

function dtypeOf(metadata: { type: number; size: number; signed: boolean }): Hdf5Dtype {
  const bits = metadata.size * 8;
  if (metadata.type === 0) return `${metadata.signed ? 'int' : 'uint'}${bits}` as Hdf5Dtype;
  if (metadata.type === 1 && (bits === 32 || bits === 64)) return `float${bits}` as Hdf5Dtype;
  if (metadata.type === 3) return 'string';
  if (metadata.type === 7) return 'reference';
  return 'other';
}

// ---------------------------------------------------------------------------------------------------------------
// Files

/** Opens an HDF5 file read-only. Throws UserError for a missing, foreign or truncated file. */
export async function openHdf5(path: string): Promise<Hdf5File> {
  const h5 = await loadHdf5();
  checkHdf5File(path);
  const { result, error, stderr } = withCapturedStderr(() => new h5.File(path, 'r'));
  if (error !== undefined || !result || result.file_id < 0n) {
    const reason = stderr ? diagnosticGist(stderr) : error instanceof Error ? error.message : String(error);
    throw new UserError(`cannot open as HDF5: ${reason}`, path);
  }
  return new Hdf5File(path, result, h5);
}

/** Opens `path`, runs `fn`, closes the file whatever happens. */
export async function withHdf5<T>(path: string, fn: (file: Hdf5File) => T | Promise<T>): Promise<T> {
  const file = await openHdf5(path);
  try {
    return await fn(file);
  } finally {
    file.close();
  }
}

export class Hdf5File {
  private open = true;

  constructor(
    readonly path: string,
    private readonly file: H5File,
    private readonly h5: H5wasm,
  ) {}

  /** Runs an h5wasm call; anything it throws or prints becomes a UserError naming the file and the object. */
  private call<T>(what: string, fn: () => T): T {
    if (!this.open) throw new Error(`HDF5 file ${this.path} is closed`);
    const { result, error, stderr } = withCapturedStderr(fn);
    if (error instanceof UserError) throw error;
    if (error !== undefined || stderr.includes('HDF5-DIAG')) {
      const reason = stderr ? diagnosticGist(stderr) : error instanceof Error ? error.message : String(error);
      throw new UserError(`${what}: ${reason} (corrupt or truncated file?)`, this.path);
    }
    return result as T;
  }

  private entity(path: string): ReturnType<H5Group['get']> {
    return this.call(`cannot look up '${path}'`, () => this.file.get(path));
  }

  private dataset(path: string): H5Dataset {
    const entity = this.entity(path);
    if (!(entity instanceof this.h5.Dataset)) {
      const found = entity === null ? 'nothing' : entity instanceof this.h5.Group ? 'a group' : 'another kind of object';
      throw new UserError(`expected an HDF5 dataset at '${path}', found ${found}`, this.path);
    }
    return entity;
  }

  has(path: string): boolean {
    return this.entity(path) !== null;
  }

  kind(path: string): Hdf5Entry['kind'] | undefined {
    const entity = this.entity(path);
    if (entity === null) return undefined;
    return entity instanceof this.h5.Dataset ? 'dataset' : entity instanceof this.h5.Group ? 'group' : 'other';
  }

  /** Direct members of a group. */
  list(group = '/'): Hdf5Entry[] {
    const entity = this.entity(group);
    if (!(entity instanceof this.h5.Group)) throw new UserError(`expected an HDF5 group at '${group}'`, this.path);
    const names = this.call(`cannot list '${group}'`, () => entity.keys());
    const prefix = group.endsWith('/') ? group : `${group}/`;
    return names.map((name) => {
      const path = `${prefix}${name}`;
      return { name, path, kind: this.kind(path) ?? 'other' };
    });
  }

  /** Paths of every dataset in the file, depth first. */
  datasetPaths(group = '/'): string[] {
    return this.list(group).flatMap((entry) =>
      entry.kind === 'dataset' ? [entry.path] : entry.kind === 'group' ? this.datasetPaths(entry.path) : [],
    );
  }

  /** Attributes of a group or dataset, values as h5wasm returns them (strings, numbers, typed arrays). */
  attributes(path: string): Record<string, unknown> {
    const entity = this.entity(path);
    if (!(entity instanceof this.h5.Dataset || entity instanceof this.h5.Group)) {
      throw new UserError(`no group or dataset at '${path}'`, this.path);
    }
    return this.call(`cannot read the attributes of '${path}'`, () => {
      const out: Record<string, unknown> = {};
      for (const [name, attribute] of Object.entries(entity.attrs)) out[name] = attribute.value;
      return out;
    });
  }

  info(path: string): Hdf5DatasetInfo {
    return { ...this.header(path), attributes: this.attributes(path) };
  }

  private header(path: string): Omit<Hdf5DatasetInfo, 'attributes'> {
    const dataset = this.dataset(path);
    return this.call(`cannot read the header of dataset '${path}'`, () => {
      const metadata = dataset.metadata;
      return {
        path,
        shape: metadata.shape ?? [],
        dtype: dtypeOf(metadata),
        itemSize: metadata.size,
        chunks: metadata.chunks,
        filters: dataset.filters.map((f) => ({ id: f.id, name: f.name, cdValues: [...f.cd_values] })),
      };
    });
  }

  /** Throws a UserError if the dataset needs a filter h5wasm cannot apply (it would return garbage otherwise). */
  checkFilters(path: string, info: Pick<Hdf5DatasetInfo, 'filters'> = this.header(path)): void {
    const available = availableHdf5Filters();
    const missing = info.filters.filter((f) => !available.has(f.id));
    if (missing.length === 0) return;
    const names = missing.map((f) => `${f.id} (${f.name.split(';')[0]})`).join(', ');
    const known = Object.entries(PLUGIN_FILTER_IDS).find(([, id]) => missing.some((f) => f.id === id));
    const howTo = known
      ? `h5wasm-plugins provides it (${known[0]}): install the npm package 'h5wasm-plugins' next to neurodecode (it is registered automatically)`
      : `h5wasm-plugins does not provide it: register an Emscripten build of the filter with registerHdf5PluginDirectory(), or rewrite the file with a supported filter, e.g. 'h5repack -f GZIP=4 in.h5 out.h5'`;
    throw new UserError(
      `dataset '${path}' is compressed with HDF5 filter ${names}, which is not available (available: ${[...available]
        .map(([id, name]) => `${id} ${name}`)
        .join(', ')}); ${howTo}`,
      this.path,
    );
  }

  /** The whole dataset (split into reads below the byte cap). */
  read(path: string, options: ReadOptions = {}): Hdf5TypedArray {
    return this.readSlice(path, [], options);
  }

  /**
   * A hyperslab as a typed array of the dataset's type, row-major (C order) in the shape `sliceShape(ranges,
   * shape)`. Ranges are per leading axis (missing trailing axes are read whole). Requests larger than the byte cap
   * are split along their first axis with more than one index, recursively.
   */
  readSlice(path: string, ranges: readonly SliceRange[], options: ReadOptions = {}): Hdf5TypedArray {
    const maxBytes = options.maxBytesPerRead ?? DEFAULT_MAX_BYTES_PER_READ;
    const info = this.header(path);
    const Ctor = TYPED_ARRAYS[info.dtype];
    if (!Ctor) {
      throw new UserError(`dataset '${path}' has type ${info.dtype}, expected a numeric type (use readStrings for text)`, this.path);
    }
    this.checkFilters(path, info);
    const { bounds } = resolveRanges(ranges, info.shape, `${this.path}:${path}`);
    const out = new Ctor(product(bounds.map(([s, e]) => e - s)));
    const dataset = this.dataset(path);
    if (out.length === 0) return out;
    if (info.shape.length === 0) {
      // A scalar dataset has no hyperslabs: read its value.
      const value = this.call(`cannot read dataset '${path}'`, () => dataset.value);
      (out as { [i: number]: unknown })[0] = value;
      return out;
    }
    this.readInto(dataset, path, bounds, info.itemSize, maxBytes, out, 0);
    return out;
  }

  private readInto(
    dataset: H5Dataset,
    path: string,
    bounds: Array<[number, number]>,
    itemSize: number,
    maxBytes: number,
    out: Hdf5TypedArray,
    offset: number,
  ): void {
    const extents = bounds.map(([s, e]) => e - s);
    const count = product(extents);
    if (count * itemSize <= maxBytes || extents.every((n) => n === 1)) {
      const piece = this.call(`cannot read dataset '${path}'`, () => dataset.slice(bounds));
      if (!ArrayBuffer.isView(piece) || (piece as Hdf5TypedArray).length !== count) {
        throw new UserError(`dataset '${path}' returned ${String((piece as Hdf5TypedArray)?.length)} values, expected ${count}`, this.path);
      }
      (out as { set(values: ArrayLike<number | bigint>, offset: number): void }).set(piece as Hdf5TypedArray, offset);
      return;
    }
    // Split the first axis with more than one index; leading unit axes keep the pieces contiguous in `out`.
    const axis = extents.findIndex((n) => n > 1);
    const innerBytes = product(extents.slice(axis + 1)) * itemSize;
    const step = Math.max(1, Math.floor(maxBytes / innerBytes));
    const [start, end] = bounds[axis]!;
    for (let from = start; from < end; from += step) {
      const to = Math.min(end, from + step);
      const sub = bounds.map((b, i) => (i === axis ? ([from, to] as [number, number]) : b));
      this.readInto(dataset, path, sub, itemSize, maxBytes, out, offset + (from - start) * (innerBytes / itemSize));
    }
  }

  /** A string dataset (fixed or variable length) as JS strings, row-major. */
  readStrings(path: string): string[] {
    const info = this.header(path);
    if (info.dtype !== 'string') throw new UserError(`dataset '${path}' has type ${info.dtype}, expected strings`, this.path);
    const dataset = this.dataset(path);
    const value = this.call(`cannot read dataset '${path}'`, () => dataset.value);
    const strings: string[] = [];
    const visit = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(visit);
      else strings.push(typeof v === 'string' ? v : String(v));
    };
    visit(value);
    return strings;
  }

  /** Paths of the objects an object-reference dataset points to (MATLAB v7.3 cells), row-major. */
  readReferences(path: string): string[] {
    const info = this.header(path);
    if (info.dtype !== 'reference') throw new UserError(`dataset '${path}' has type ${info.dtype}, expected references`, this.path);
    const dataset = this.dataset(path);
    return this.call(`cannot read the references in '${path}'`, () => {
      const targets: string[] = [];
      const visit = (v: unknown): void => {
        if (Array.isArray(v)) return v.forEach(visit);
        type Ref = Parameters<H5Dataset['dereference']>[0];
        const entity = v !== null && typeof v === 'object' ? dataset.dereference(v as Ref) : null;
        if (!entity || !('path' in entity)) throw new UserError(`a reference in '${path}' points nowhere`, this.path);
        targets.push((entity as { path: string }).path);
      };
      visit(dataset.value);
      return targets;
    });
  }

  close(): void {
    if (!this.open) return;
    withCapturedStderr(() => this.file.close());
    this.open = false;
  }
}
