/**
 * Content-addressed artifact cache. An entry is a folder `<kind>/<key>` named by the hash of everything that
 * produced it, written atomically (filled under a temporary name, then renamed) and sealed with a list of its
 * files' sizes and SHA-256 digests. Reading verifies the seal: a truncated or altered entry is reported, removed
 * and rebuilt, never trusted. The seal also says which plugin produced the entry and when (`cache ls`).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, rmSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from './errors.js';
import type { Logger } from './logging.js';
import { findOrphans, makeTemporaryDir, writeDirAtomic } from './io/atomic.js';
import { checkWritable, ensureFolder, rethrowFileSystemError } from './io/folders.js';
import { readNpy, writeNpy } from './io/npy.js';
import type { Provenance } from './registry.js';
import type { Matrix } from './tensor.js';

const SEAL = 'sealed.json';
/** Below this much free space at start, a run warns (a full disk fails later, with a UserError naming the path). */
const LOW_SPACE_BYTES = 1e9;

/** The plugin that produced an entry; its version and code digest are part of the entry's key. */
export interface CacheProducer {
  kind: string;
  id: string;
  plugin: string;
  version: string;
  code?: string;
}

export function cacheProducer(provenance: Provenance): CacheProducer {
  const { kind, id, plugin, version, code } = provenance;
  return { kind, id, plugin, version, ...(code ? { code } : {}) };
}

interface Seal {
  kind: string;
  key: string;
  description: string;
  producer?: CacheProducer;
  /** ISO time the entry was written. */
  created?: string;
  files: Record<string, { size: number; sha256: string }>;
}

/** One entry as `cache ls` shows it. */
export interface CacheEntryInfo {
  kind: string;
  key: string;
  bytes: number;
  created: string;
  producer?: CacheProducer;
  /** Why the entry would not be served (no seal: an interrupted write from before temporaries were used). */
  problem?: string;
}

export interface CacheListing {
  dir: string;
  entries: CacheEntryInfo[];
  orphans: Array<{ path: string; bytes: number; reason: string }>;
  bytes: number;
}

export interface CleanRequest {
  /** Only entries of this kind (`mappers`, `predictions`, `datasets`). */
  kind?: string;
  /** Only entries written before this time (ms since the epoch). */
  before?: number;
  /** Only orphaned temporaries, no entry. */
  orphansOnly?: boolean;
}

async function folderBytes(path: string): Promise<number> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return 0;
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const name of await readdir(path).catch(() => [] as string[])) total += await folderBytes(join(path, name));
  return total;
}

/** Canonical JSON (sorted keys) so that equal descriptions hash equally. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** sha256 of typed values and their shape: an item's identity in cache keys (stronger than its id). */
export function valuesDigest(values: ArrayBufferView, shape: readonly number[]): string {
  return createHash('sha256').update(`${shape.join('x')}\n`).update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).digest('hex');
}

export function contentKey(description: unknown): string {
  return createHash('sha256').update(canonicalJson(description)).digest('hex').slice(0, 32);
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export type CacheOutcome = 'hit' | 'miss' | 'rebuilt' | 'disabled';

export class ArtifactCache {
  constructor(
    /** Root folder, or null when caching is off (`--no-cache`). */
    readonly dir: string | null,
    private readonly log: Logger,
    /** Added to every description (so to every key) and recorded in every seal. */
    readonly producer?: CacheProducer,
  ) {}

  get enabled(): boolean {
    return this.dir !== null;
  }

  /** The same cache, keying and labelling what it stores as made by `producer`. */
  forProducer(producer: CacheProducer): ArtifactCache {
    return new ArtifactCache(this.dir, this.log, producer);
  }

  /**
   * Checks, before any long step, that the cache folder can be created and written (a file in the way, a
   * read-only or pseudo file system: a UserError naming the path), and removes the temporaries that interrupted
   * writers left behind.
   */
  async prepare(): Promise<void> {
    if (!this.enabled) return;
    const dir = await ensureFolder(this.dir!);
    await checkWritable(dir, 'write to the cache folder (choose another with --cache-dir, or --no-cache)');
    const space = await statfs(dir).catch(() => undefined);
    if (space && space.bavail * space.bsize < LOW_SPACE_BYTES) {
      this.log.warn(`cache: only ${formatBytes(space.bavail * space.bsize)} free in ${dir}; fitted models and prepared datasets may not fit`);
    }
    const removed = await this.removeOrphans();
    if (removed.count > 0) this.log.info(`cache: removed ${removed.count} temporary folders left by interrupted runs (${formatBytes(removed.bytes)})`);
  }

  private async kinds(): Promise<string[]> {
    const names = await readdir(this.dir!, { withFileTypes: true }).catch(() => []);
    return names.filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name).sort();
  }

  private async orphans(): Promise<CacheListing['orphans']> {
    const out: CacheListing['orphans'] = [];
    for (const kind of await this.kinds()) {
      for (const o of await findOrphans(join(this.dir!, kind))) out.push({ ...o, bytes: await folderBytes(o.path) });
    }
    return out;
  }

  private async removeOrphans(): Promise<{ count: number; bytes: number }> {
    const orphans = await this.orphans();
    for (const o of orphans) await rm(o.path, { recursive: true, force: true });
    return { count: orphans.length, bytes: orphans.reduce((a, o) => a + o.bytes, 0) };
  }

  /** Every entry with its size, producer and date, and the orphaned temporaries (`neurodecode cache ls`). */
  async list(): Promise<CacheListing> {
    if (!this.enabled) throw new Error('internal: listing a disabled cache');
    const entries: CacheEntryInfo[] = [];
    for (const kind of await this.kinds()) {
      const names = await readdir(join(this.dir!, kind)).catch(() => [] as string[]);
      for (const key of names.filter((n) => !n.startsWith('.')).sort()) {
        const dir = this.entryDir(kind, key);
        const seal = await readFile(join(dir, SEAL), 'utf8').then((t) => JSON.parse(t) as Seal, () => undefined);
        const created = seal?.created ?? new Date((await stat(dir)).mtimeMs).toISOString();
        entries.push({ kind, key, bytes: await folderBytes(dir), created, ...(seal?.producer ? { producer: seal.producer } : {}), ...(seal ? {} : { problem: 'no seal' }) });
      }
    }
    const orphans = await this.orphans();
    const bytes = entries.reduce((a, e) => a + e.bytes, 0) + orphans.reduce((a, o) => a + o.bytes, 0);
    return { dir: this.dir!, entries, orphans, bytes };
  }

  /**
   * Removes the entries `request` selects (all by default) and every orphaned temporary. Safe beside a running
   * process: an entry removed under a reader fails its seal check there and is rebuilt.
   */
  async clean(request: CleanRequest = {}): Promise<{ entries: number; orphans: number; bytes: number }> {
    const listing = await this.list();
    const kinds = [...new Set(listing.entries.map((e) => e.kind))];
    if (request.kind !== undefined && !kinds.includes(request.kind)) {
      throw new UserError(`the cache holds no entries of kind '${request.kind}' (it has: ${kinds.join(', ') || 'none'})`, this.dir!);
    }
    const selected = request.orphansOnly
      ? []
      : listing.entries.filter((e) => (request.kind === undefined || e.kind === request.kind) && (request.before === undefined || Date.parse(e.created) < request.before));
    for (const e of selected) await rm(this.entryDir(e.kind, e.key), { recursive: true, force: true });
    const orphans = await this.removeOrphans();
    return { entries: selected.length, orphans: orphans.count, bytes: selected.reduce((a, e) => a + e.bytes, 0) + orphans.bytes };
  }

  private entryDir(kind: string, key: string): string {
    return join(this.dir!, kind, key);
  }

  /**
   * Returns the cached value for `description`, or computes it with `build`, stores it with `write` and
   * returns it. `read` loads an entry folder; any failure there counts as corruption.
   */
  async getOrBuild<T>(
    kind: string,
    description: unknown,
    io: { read: (dir: string) => Promise<T>; write: (dir: string, value: T) => Promise<void> },
    build: () => Promise<T>,
  ): Promise<{ value: T; outcome: CacheOutcome; key: string }> {
    const { key, full, hit, corrupt } = await this.lookup(kind, description, io.read);
    if (hit) return { value: hit.value, outcome: 'hit', key };
    const value = await build();
    if (!this.enabled) return { value, outcome: 'disabled', key };
    await this.store(kind, key, full, (d) => io.write(d, value));
    return { value, outcome: corrupt ? 'rebuilt' : 'miss', key };
  }

  /**
   * As getOrBuild, for a value too large to hold before it is written: `fill` writes the entry's files itself (into a
   * folder that becomes the entry atomically), then `read` loads the stored entry (and may keep reading it lazily).
   * With caching off, the folder is a scratch folder removed when the process exits.
   */
  async getOrFill<T>(
    kind: string,
    description: unknown,
    io: { read: (dir: string) => Promise<T> },
    fill: (dir: string) => Promise<void>,
  ): Promise<{ value: T; outcome: CacheOutcome; key: string }> {
    const { key, full, hit, corrupt } = await this.lookup(kind, description, io.read);
    if (hit) return { value: hit.value, outcome: 'hit', key };
    if (!this.enabled) {
      const dir = await this.scratchDir(kind);
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
      await fill(dir);
      return { value: await io.read(dir), outcome: 'disabled', key };
    }
    await this.store(kind, key, full, fill);
    return { value: await io.read(this.entryDir(kind, key)), outcome: corrupt ? 'rebuilt' : 'miss', key };
  }

  /**
   * A fresh empty folder for intermediate files of this process (column blocks of large targets): under the cache
   * folder, named so that one left by an interrupted run is removed as an orphan by the next `prepare`; in the
   * system's temporary folder when caching is off. The caller removes it.
   */
  async scratchDir(name: string): Promise<string> {
    if (!this.enabled) return mkdtemp(join(tmpdir(), `neurodecode-${name}-`));
    return makeTemporaryDir(join(this.dir!, 'scratch', name));
  }

  /** The intact entry for `description` if there is one (a corrupt or unreadable one is removed and reported). */
  private async lookup<T>(
    kind: string,
    description: unknown,
    read: (dir: string) => Promise<T>,
  ): Promise<{ key: string; full: unknown; hit?: { value: T }; corrupt: boolean }> {
    const full = this.producer ? { ...(description as object), producer: this.producer } : description;
    const key = contentKey(full);
    if (!this.enabled) return { key, full, corrupt: false };
    const dir = this.entryDir(kind, key);
    if (!existsSync(dir)) return { key, full, corrupt: false };
    const problem = await this.verify(dir);
    if (problem === undefined) {
      try {
        return { key, full, hit: { value: await read(dir) }, corrupt: false };
      } catch (error) {
        this.log.warn(`cache entry ${kind}/${key} could not be read (${(error as Error).message}); rebuilding it`);
      }
    } else {
      this.log.warn(`cache entry ${kind}/${key} is corrupt (${problem}); rebuilding it`);
    }
    await rm(dir, { recursive: true, force: true });
    return { key, full, corrupt: true };
  }

  private async store(kind: string, key: string, description: unknown, fill: (dir: string) => Promise<void>): Promise<void> {
    const dir = this.entryDir(kind, key);
    try {
      await writeDirAtomic(dir, async (tmp) => {
        await fill(tmp);
        const files: Seal['files'] = {};
        for (const name of (await readdir(tmp, { recursive: true })).sort()) {
          const p = join(tmp, name);
          if ((await stat(p)).isDirectory()) continue;
          files[name] = { size: (await stat(p)).size, sha256: await sha256File(p) };
        }
        const seal: Seal = { kind, key, description: canonicalJson(description), producer: this.producer, created: new Date().toISOString(), files };
        await writeFile(join(tmp, SEAL), JSON.stringify(seal, null, 1));
      });
    } catch (error) {
      // Another process may have stored the same entry first: that is fine.
      if (!existsSync(join(dir, SEAL))) rethrowFileSystemError(error, `store the cache entry ${kind}/${key}`, dir);
    }
  }

  /** Undefined when the entry is intact, else what is wrong with it. */
  private async verify(dir: string): Promise<string | undefined> {
    let seal: Seal;
    try {
      seal = JSON.parse(await readFile(join(dir, SEAL), 'utf8')) as Seal;
    } catch {
      return 'missing or unreadable seal';
    }
    for (const [name, expected] of Object.entries(seal.files)) {
      const p = join(dir, name);
      if (!existsSync(p)) return `${name} is missing`;
      const size = (await stat(p)).size;
      if (size !== expected.size) return `${name} has ${size} bytes, expected ${expected.size}`;
      if ((await sha256File(p)) !== expected.sha256) return `${name} does not match its digest`;
    }
    return undefined;
  }
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** Matrices in cache entries and saved models are .npy files, readable by NumPy. */
export async function writeMatrix(path: string, m: Matrix): Promise<void> {
  await writeNpy(path, { shape: [m.rows, m.cols], data: m.data });
}

export async function readMatrix(path: string): Promise<Matrix> {
  const a = await readNpy(path);
  if (a.shape.length !== 2 || !(a.data instanceof Float32Array)) {
    throw new Error(`${path}: expected a 2-D float32 array, found shape (${a.shape.join(', ')})`);
  }
  return { rows: a.shape[0]!, cols: a.shape[1]!, data: a.data };
}

/** A dataset's prepared train/test matrices and their JSON metadata, stored as one cache entry. */
export interface PreparedSplits<M> {
  train: Matrix;
  test: Matrix;
  meta: M;
}

/** Cache IO for `PreparedSplits`: train.npy, test.npy and meta.json. */
export function preparedSplitsIo<M>(): { read: (dir: string) => Promise<PreparedSplits<M>>; write: (dir: string, value: PreparedSplits<M>) => Promise<void> } {
  return {
    read: async (dir) => ({
      train: await readMatrix(join(dir, 'train.npy')),
      test: await readMatrix(join(dir, 'test.npy')),
      meta: JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as M,
    }),
    write: async (dir, value) => {
      await writeMatrix(join(dir, 'train.npy'), value.train);
      await writeMatrix(join(dir, 'test.npy'), value.test);
      await writeFile(join(dir, 'meta.json'), JSON.stringify(value.meta));
    },
  };
}
