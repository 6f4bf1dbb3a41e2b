/**
 * Read-only HDF5 access over h5wasm (NSD betas and stimuli, THINGS responses, MATLAB v7.3).
 *
 * h5wasm/node uses Emscripten's NODERAWFS: paths are real paths and the file is read from disk on demand, never
 * loaded whole. Four h5wasm behaviours shape this module:
 * - a corrupt file can send libhdf5 into an endless loop (about 1 in 20,000 randomly byte-flipped files), so every
 *   read runs in a worker thread behind a watchdog (hdf5-thread.ts) that stops it and throws a UserError;
 * - a dataset whose filter is not registered is returned as garbage without an error, so every read first checks
 *   the dataset's filters against the ones we know to be available (built-ins + registered plugin folders);
 * - failures inside the C library are only printed (HDF5-DIAG on stderr) and reads still "succeed", so the worker
 *   captures stderr per request and any diagnostic turns into a UserError carrying its gist;
 * - one read is capped by the 2 GiB wasm heap (which never shrinks), so reads are split along the first axis below
 *   a byte cap.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { UserError } from '../errors.js';
import { Hdf5Thread, Hdf5ThreadFailure, type Hdf5Reply } from './hdf5-thread.js';

type H5wasm = typeof import('h5wasm/node').default;
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
  /** h5wasm in this thread: only for writing (tests, fixtures); every read goes through the worker. */
  h5: H5wasm | undefined;
  module: H5Module | undefined;
  loading: Promise<H5wasm> | undefined;
  useDefaultPlugins: boolean;
  /** Set by the first HDF5 access: from then on the plugin folders are fixed except for additions. */
  configured: boolean;
  pluginDirs: PluginDirectory[];
  thread: Promise<Hdf5Thread> | undefined;
  timeoutMs: number | undefined;
} = {
  h5: undefined,
  module: undefined,
  loading: undefined,
  useDefaultPlugins: true,
  configured: false,
  pluginDirs: [],
  thread: undefined,
  timeoutMs: undefined,
};

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

/** Fixes the plugin configuration at the first HDF5 access: the default folder first, if enabled. */
function configurePlugins(): void {
  if (state.configured) return;
  state.configured = true;
  const dir = state.useDefaultPlugins ? defaultPluginDirectory() : undefined;
  if (dir) state.pluginDirs.unshift({ dir, filters: scanPluginDirectory(dir) });
}

/**
 * Whether the h5wasm-plugins folder is registered at the first HDF5 access (default true). Only effective before
 * it: the HDF5 library keeps loaded plugins for its lifetime.
 */
export function useDefaultHdf5Plugins(enabled: boolean): void {
  if (state.configured) throw new Error('useDefaultHdf5Plugins must be called before the first HDF5 access');
  state.useDefaultPlugins = enabled;
}

/**
 * Adds a folder of Emscripten-built HDF5 filter plugins (`libH5Z<name>.so`). Plugins named like h5wasm-plugins'
 * are recognised; give `filterIds` ({ name: registered id }) for others.
 */
export async function registerHdf5PluginDirectory(dir: string, filterIds: Record<string, number> = {}): Promise<void> {
  if (!fs.existsSync(dir)) throw new UserError('plugin folder not found', dir);
  configurePlugins();
  state.pluginDirs.push({ dir, filters: scanPluginDirectory(dir, filterIds) });
  state.module?.insert_plugin_search_path(dir, 0);
  const thread = state.thread && (await state.thread);
  if (thread?.running) thread.request('addPluginDirectory', [dir], hdf5Timeout());
}

/** The h5wasm namespace of this thread, ready, with the plugin folders registered (tests use it to write files). */
export async function loadHdf5(): Promise<H5wasm> {
  if (state.h5) return state.h5;
  configurePlugins();
  state.loading ??= (async () => {
    const h5 = (await import('h5wasm/node')).default;
    const module = await h5.ready;
    for (const { dir } of state.pluginDirs) module.insert_plugin_search_path(dir, 0);
    state.module = module;
    state.h5 = h5;
    return h5;
  })();
  return state.loading;
}

/** Filter id → name of every filter a read can decode right now. */
export function availableHdf5Filters(): Map<number, string> {
  configurePlugins();
  const all = new Map(BUILTIN_FILTERS);
  for (const { filters } of state.pluginDirs) for (const [id, name] of filters) all.set(id, name);
  return all;
}

// ---------------------------------------------------------------------------------------------------------------
// The reading thread and its watchdog

/** Generous: one request reads at most `maxBytesPerRead` (256 MiB by default), seconds even when decompressing. */
export const DEFAULT_HDF5_TIMEOUT_MS = 120_000;
const TIMEOUT_VARIABLE = 'NEURODECODE_HDF5_TIMEOUT_MS';

/**
 * How long one HDF5 request (open, header, one hyperslab read) may take before the read is declared stalled:
 * `setHdf5Timeout()`, else the environment variable NEURODECODE_HDF5_TIMEOUT_MS, else 120 s.
 */
export function hdf5Timeout(): number {
  if (state.timeoutMs !== undefined) return state.timeoutMs;
  const text = process.env[TIMEOUT_VARIABLE];
  if (text === undefined || text.trim() === '') return DEFAULT_HDF5_TIMEOUT_MS;
  const ms = Number(text);
  if (!Number.isFinite(ms) || ms <= 0) throw new UserError(`expected a positive number of milliseconds, found '${text}'`, `environment variable ${TIMEOUT_VARIABLE}`);
  return ms;
}

/** Sets the default per-request timeout of later HDF5 reads (undefined: back to the environment / 120 s). */
export function setHdf5Timeout(ms: number | undefined): void {
  if (ms !== undefined && !(Number.isFinite(ms) && ms > 0)) throw new UserError(`expected a positive number of milliseconds, found ${ms}`, 'setHdf5Timeout');
  state.timeoutMs = ms;
}

/** The running worker, started (again, after a stall stopped the previous one) when needed. */
async function readingThread(): Promise<Hdf5Thread> {
  const current = state.thread && (await state.thread.catch(() => undefined));
  if (current?.running) return current;
  configurePlugins();
  const starting = Hdf5Thread.start(state.pluginDirs.map(({ dir }) => dir));
  state.thread = starting;
  try {
    return await starting;
  } catch (error) {
    state.thread = undefined;
    throw new Error(`cannot start the HDF5 worker thread: ${error instanceof Error ? error.message : String(error)}`);
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

export interface OpenOptions {
  /** Per-request watchdog of this file in milliseconds (default: `hdf5Timeout()`). */
  timeoutMs?: number;
}

/**
 * Opens an HDF5 file read-only, in the HDF5 worker thread. Throws UserError for a missing, foreign, truncated or
 * corrupt file, and for a request that stalls past the timeout.
 */
export async function openHdf5(path: string, options: OpenOptions = {}): Promise<Hdf5File> {
  const timeoutMs = options.timeoutMs ?? hdf5Timeout();
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new UserError(`option 'timeoutMs': expected a positive number of milliseconds, found ${timeoutMs}`, path);
  checkHdf5File(path);
  const thread = await readingThread();
  const handle = request(thread, path, timeoutMs, 'cannot open as HDF5', 'open', [path], 'opening the file') as number;
  return new Hdf5File(path, thread, handle, timeoutMs);
}

/**
 * Runs one request in the worker. Whatever it throws or prints becomes a UserError naming the file and the object;
 * a stall past the timeout stops the worker and says so.
 */
function request(thread: Hdf5Thread, file: string, timeoutMs: number, what: string, op: string, args: readonly unknown[], object: string): unknown {
  let reply: Hdf5Reply;
  try {
    reply = thread.request(op, args, timeoutMs);
  } catch (error) {
    if (error instanceof Hdf5ThreadFailure) throw threadFailure(error, file, object);
    throw error;
  }
  if (!reply.ok && reply.userError) throw new UserError(reply.message, file);
  if (!reply.ok || reply.stderr.includes('HDF5-DIAG')) {
    const reason = reply.stderr ? diagnosticGist(reply.stderr) : reply.ok ? 'unknown HDF5 error' : reply.message;
    throw new UserError(`${what}: ${reason} (corrupt or truncated file?)`, file);
  }
  return reply.result;
}

function threadFailure(error: Hdf5ThreadFailure, file: string, object: string): UserError {
  if (error.reason === 'stalled') {
    return new UserError(
      `${object} stalled for more than ${error.timeoutMs / 1000} s inside libhdf5 and was stopped: the file looks corrupt ` +
        `(damaged structures can send libhdf5 into an endless loop). If it is intact but on a very slow disk, raise ` +
        `the limit (option timeoutMs, or the environment variable ${TIMEOUT_VARIABLE})`,
      file,
    );
  }
  if (error.reason === 'crashed') return new UserError(`the HDF5 worker crashed while ${object} (corrupt file?)`, file);
  return new UserError('the HDF5 worker was stopped after a stalled read (of this or another file); open this file again', file);
}

/** Opens `path`, runs `fn`, closes the file whatever happens. */
export async function withHdf5<T>(path: string, fn: (file: Hdf5File) => T | Promise<T>, options: OpenOptions = {}): Promise<T> {
  const file = await openHdf5(path, options);
  try {
    return await fn(file);
  } finally {
    file.close();
  }
}

interface DatasetHeader {
  metadata: { type: number; size: number; signed: boolean; shape: number[]; chunks: number[] | null };
  filters: Hdf5Filter[];
}

/** One hyperslab read of a split request: its bounds and where its values go in the output. */
export interface HyperslabPiece {
  bounds: Array<[number, number]>;
  offset: number;
}

/**
 * Splits a hyperslab into reads of at most `maxBytes` (or single elements) along its first axis with more than one
 * index, recursively, in output order; leading unit axes keep each piece contiguous in the C-order output.
 */
export function hyperslabPieces(bounds: Array<[number, number]>, itemSize: number, maxBytes: number, offset = 0): HyperslabPiece[] {
  const extents = bounds.map(([s, e]) => e - s);
  if (product(extents) * itemSize <= maxBytes || extents.every((n) => n === 1)) return [{ bounds, offset }];
  const axis = extents.findIndex((n) => n > 1);
  const innerItems = product(extents.slice(axis + 1));
  const step = Math.max(1, Math.floor(maxBytes / (innerItems * itemSize)));
  const [start, end] = bounds[axis]!;
  const pieces: HyperslabPiece[] = [];
  for (let from = start; from < end; from += step) {
    const to = Math.min(end, from + step);
    const sub = bounds.map((b, i) => (i === axis ? ([from, to] as [number, number]) : b));
    pieces.push(...hyperslabPieces(sub, itemSize, maxBytes, offset + (from - start) * innerItems));
  }
  return pieces;
}

export class Hdf5File {
  private open = true;
  /** Dataset headers by path: the file is read-only, so one lookup per dataset serves every later slice. */
  private readonly headers = new Map<string, DatasetHeader>();

  /** Use `openHdf5`. */
  constructor(
    readonly path: string,
    private readonly thread: Hdf5Thread,
    private readonly handle: number,
    /** Per-request watchdog in milliseconds. */
    readonly timeoutMs: number,
  ) {}

  private request(what: string, op: string, args: readonly unknown[], object: string): unknown {
    if (!this.open) throw new Error(`HDF5 file ${this.path} is closed`);
    return request(this.thread, this.path, this.timeoutMs, what, op, args, object);
  }

  private header(path: string): DatasetHeader {
    const cached = this.headers.get(path);
    if (cached) return cached;
    const reply = this.request(`cannot read the header of dataset '${path}'`, 'header', [this.handle, path], `reading the header of '${path}'`) as
      | ({ found: 'dataset' } & DatasetHeader)
      | { found: 'group' | 'other' | null };
    if (reply.found !== 'dataset') {
      const found = reply.found === null ? 'nothing' : reply.found === 'group' ? 'a group' : 'another kind of object';
      throw new UserError(`expected an HDF5 dataset at '${path}', found ${found}`, this.path);
    }
    const header = { metadata: reply.metadata, filters: reply.filters };
    this.headers.set(path, header);
    return header;
  }

  has(path: string): boolean {
    return this.kind(path) !== undefined;
  }

  kind(path: string): Hdf5Entry['kind'] | undefined {
    const kind = this.request(`cannot look up '${path}'`, 'kind', [this.handle, path], `looking up '${path}'`) as Hdf5Entry['kind'] | null;
    return kind ?? undefined;
  }

  /** Direct members of a group. */
  list(group = '/'): Hdf5Entry[] {
    const names = this.request(`cannot list '${group}'`, 'keys', [this.handle, group], `listing '${group}'`) as string[];
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
    return this.request(`cannot read the attributes of '${path}'`, 'attributes', [this.handle, path], `reading the attributes of '${path}'`) as Record<
      string,
      unknown
    >;
  }

  info(path: string): Hdf5DatasetInfo {
    const { metadata, filters } = this.header(path);
    return {
      path,
      shape: [...metadata.shape],
      dtype: dtypeOf(metadata),
      itemSize: metadata.size,
      chunks: metadata.chunks,
      filters: filters.map((f) => ({ ...f, cdValues: [...f.cdValues] })),
      attributes: this.attributes(path),
    };
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
   * are split along their first axis with more than one index, recursively (`hyperslabPieces`).
   */
  readSlice(path: string, ranges: readonly SliceRange[], options: ReadOptions = {}): Hdf5TypedArray {
    const maxBytes = options.maxBytesPerRead ?? DEFAULT_MAX_BYTES_PER_READ;
    const header = this.header(path);
    const { shape, size: itemSize } = header.metadata;
    const dtype = dtypeOf(header.metadata);
    const Ctor = TYPED_ARRAYS[dtype];
    if (!Ctor) {
      throw new UserError(`dataset '${path}' has type ${dtype}, expected a numeric type (use readStrings for text)`, this.path);
    }
    this.checkFilters(path, header);
    const { bounds } = resolveRanges(ranges, shape, `${this.path}:${path}`);
    const out = new Ctor(product(bounds.map(([s, e]) => e - s)));
    if (out.length === 0) return out;
    const what = `cannot read dataset '${path}'`;
    const object = `reading dataset '${path}'`;
    if (shape.length === 0) {
      // A scalar dataset has no hyperslabs: read its value.
      (out as { [i: number]: unknown })[0] = this.request(what, 'value', [this.handle, path], object);
      return out;
    }
    for (const piece of hyperslabPieces(bounds, itemSize, maxBytes)) {
      const values = this.request(what, 'slice', [this.handle, path, piece.bounds], object) as Hdf5TypedArray;
      const count = product(piece.bounds.map(([s, e]) => e - s));
      if (!ArrayBuffer.isView(values) || values.length !== count) {
        throw new UserError(`dataset '${path}' returned ${String((values as Hdf5TypedArray | null)?.length)} values, expected ${count}`, this.path);
      }
      (out as { set(values: ArrayLike<number | bigint>, offset: number): void }).set(values, piece.offset);
    }
    return out;
  }

  /** A string dataset (fixed or variable length) as JS strings, row-major. */
  readStrings(path: string): string[] {
    const dtype = dtypeOf(this.header(path).metadata);
    if (dtype !== 'string') throw new UserError(`dataset '${path}' has type ${dtype}, expected strings`, this.path);
    const value = this.request(`cannot read dataset '${path}'`, 'value', [this.handle, path], `reading dataset '${path}'`);
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
    const dtype = dtypeOf(this.header(path).metadata);
    if (dtype !== 'reference') throw new UserError(`dataset '${path}' has type ${dtype}, expected references`, this.path);
    return this.request(`cannot read the references in '${path}'`, 'references', [this.handle, path], `reading the references in '${path}'`) as string[];
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    if (!this.thread.running) return;
    try {
      this.thread.request('close', [this.handle], this.timeoutMs);
    } catch (error) {
      // Closing cannot usefully fail, and must not mask the error that brought a `finally` here.
      if (!(error instanceof Hdf5ThreadFailure)) throw error;
    }
  }
}
