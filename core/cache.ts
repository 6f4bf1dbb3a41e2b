/**
 * Content-addressed artifact cache. An entry is a folder named by the hash of everything that produced it,
 * written atomically (filled under a temporary name, then renamed) and sealed with a list of its files' sizes
 * and SHA-256 digests. Reading verifies the seal: a truncated or altered entry is reported, removed and rebuilt,
 * never trusted.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from './logging.js';
import { writeDirAtomic } from './io/atomic.js';
import { readNpy, writeNpy } from './io/npy.js';
import type { Matrix } from './tensor.js';

const SEAL = 'sealed.json';

interface Seal {
  kind: string;
  key: string;
  description: string;
  files: Record<string, { size: number; sha256: string }>;
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
  ) {}

  get enabled(): boolean {
    return this.dir !== null;
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
    const key = contentKey(description);
    if (!this.enabled) return { value: await build(), outcome: 'disabled', key };
    const dir = this.entryDir(kind, key);
    let corrupt = false;
    if (existsSync(dir)) {
      const problem = await this.verify(dir);
      if (problem === undefined) {
        try {
          return { value: await io.read(dir), outcome: 'hit', key };
        } catch (error) {
          this.log.warn(`cache entry ${kind}/${key} could not be read (${(error as Error).message}); rebuilding it`);
        }
      } else {
        this.log.warn(`cache entry ${kind}/${key} is corrupt (${problem}); rebuilding it`);
      }
      corrupt = true;
      await rm(dir, { recursive: true, force: true });
    }
    const value = await build();
    await this.store(kind, key, description, (d) => io.write(d, value));
    return { value, outcome: corrupt ? 'rebuilt' : 'miss', key };
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
        const seal: Seal = { kind, key, description: canonicalJson(description), files };
        await writeFile(join(tmp, SEAL), JSON.stringify(seal, null, 1));
      });
    } catch (error) {
      // Another process may have stored the same entry first: that is fine.
      if (!existsSync(join(dir, SEAL))) throw error;
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
