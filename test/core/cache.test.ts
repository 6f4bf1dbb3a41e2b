import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, truncate, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArtifactCache, contentKey, readMatrix, writeMatrix, type CacheProducer } from '../../core/cache.js';
import { UserError } from '../../core/errors.js';
import { parseAge } from '../../cli/commands/cache/clean.js';
import type { Logger } from '../../core/logging.js';
import { matrix, type Matrix } from '../../core/tensor.js';

let dir: string;
const warnings: string[] = [];
const log: Logger = { info: () => {}, debug: () => {}, warn: (m) => warnings.push(m) };
const io = {
  read: (d: string) => readMatrix(join(d, 'm.npy')),
  write: (d: string, m: Matrix) => writeMatrix(join(d, 'm.npy'), m),
};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nd-cache-'));
  warnings.length = 0;
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('ArtifactCache', () => {
  it('keys by content, independent of key order', () => {
    expect(contentKey({ a: 1, b: [1, 2] })).toBe(contentKey({ b: [1, 2], a: 1 }));
    expect(contentKey({ a: 1 })).not.toBe(contentKey({ a: 2 }));
  });

  it('builds once, then re-uses', async () => {
    const cache = new ArtifactCache(dir, log);
    let builds = 0;
    const build = async () => {
      builds++;
      return matrix(2, 2, [1, 2, 3, 4]);
    };
    const first = await cache.getOrBuild('x', { k: 1 }, io, build);
    const second = await cache.getOrBuild('x', { k: 1 }, io, build);
    expect(first.outcome).toBe('miss');
    expect(second.outcome).toBe('hit');
    expect(Array.from(second.value.data)).toEqual([1, 2, 3, 4]);
    expect(builds).toBe(1);
    // No temporary folders are left behind.
    expect((await readdir(join(dir, 'x'))).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('detects a truncated entry, warns, and rebuilds it', async () => {
    const cache = new ArtifactCache(dir, log);
    const { key } = await cache.getOrBuild('x', { k: 2 }, io, async () => matrix(1, 3, [1, 2, 3]));
    await truncate(join(dir, 'x', key, 'm.npy'), 100);
    const again = await cache.getOrBuild('x', { k: 2 }, io, async () => matrix(1, 3, [7, 8, 9]));
    expect(again.outcome).toBe('rebuilt');
    expect(Array.from(again.value.data)).toEqual([7, 8, 9]);
    expect(warnings.join()).toMatch(/corrupt \(m\.npy has 100 bytes, expected \d+\)/);
  });

  it('detects a corrupted byte with the same size', async () => {
    const cache = new ArtifactCache(dir, log);
    const { key } = await cache.getOrBuild('x', { k: 3 }, io, async () => matrix(1, 2, [1, 2]));
    const path = join(dir, 'x', key, 'm.npy');
    const bytes = await readFile(path);
    bytes[bytes.length - 1]! ^= 0xff;
    await writeFile(path, bytes);
    const again = await cache.getOrBuild('x', { k: 3 }, io, async () => matrix(1, 2, [5, 6]));
    expect(again.outcome).toBe('rebuilt');
    expect(warnings.join()).toMatch(/does not match its digest/);
  });

  it('treats an entry without a seal (an interrupted write) as absent', async () => {
    const cache = new ArtifactCache(dir, log);
    const { key } = await cache.getOrBuild('x', { k: 4 }, io, async () => matrix(1, 1, [1]));
    await rm(join(dir, 'x', key, 'sealed.json'));
    const again = await cache.getOrBuild('x', { k: 4 }, io, async () => matrix(1, 1, [2]));
    expect(again.outcome).toBe('rebuilt');
    expect(again.value.data[0]).toBe(2);
  });

  it('computes every time when disabled', async () => {
    const cache = new ArtifactCache(null, log);
    const r = await cache.getOrBuild('x', { k: 1 }, io, async () => matrix(1, 1, [1]));
    expect(r.outcome).toBe('disabled');
  });
});

const ridge: CacheProducer = { kind: 'mapper', id: 'ridge', plugin: 'neurodecode', version: '0.1.0', code: 'aaaa000011112222' };
const HOST = hostname().replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40);

describe('ArtifactCache producers', () => {
  it("keys an entry on its producer's code: other code is a miss, the same code a hit", async () => {
    const cache = new ArtifactCache(dir, log);
    const build = async () => matrix(1, 1, [1]);
    const first = await cache.forProducer(ridge).getOrBuild('x', { k: 1 }, io, build);
    const same = await cache.forProducer({ ...ridge }).getOrBuild('x', { k: 1 }, io, build);
    const edited = await cache.forProducer({ ...ridge, code: 'bbbb000011112222' }).getOrBuild('x', { k: 1 }, io, build);
    expect([first.outcome, same.outcome, edited.outcome]).toEqual(['miss', 'hit', 'miss']);
    expect(edited.key).not.toBe(first.key);
  });

  it('lists entries with size, producer and date, and cleans by kind and age', async () => {
    const cache = new ArtifactCache(dir, log);
    await cache.forProducer(ridge).getOrBuild('mappers', { k: 1 }, io, async () => matrix(2, 2, [1, 2, 3, 4]));
    await cache.getOrBuild('datasets', { k: 2 }, io, async () => matrix(1, 1, [1]));
    const listing = await cache.list();
    expect(listing.entries.map((e) => [e.kind, e.producer?.id])).toEqual([['datasets', undefined], ['mappers', 'ridge']]);
    const mapper = listing.entries[1]!;
    expect(mapper.bytes).toBeGreaterThan(128 + 16); // the .npy (header + 4 floats) and the seal
    expect(Date.now() - Date.parse(mapper.created)).toBeLessThan(60_000);
    expect(listing.bytes).toBe(listing.entries[0]!.bytes + mapper.bytes);

    expect(await cache.clean({ kind: 'mappers', before: Date.now() - 3600e3 })).toMatchObject({ entries: 0 });
    expect(await cache.clean({ kind: 'mappers' })).toMatchObject({ entries: 1, bytes: mapper.bytes });
    expect((await cache.list()).entries.map((e) => e.kind)).toEqual(['datasets']);
    await expect(cache.clean({ kind: 'mapper' })).rejects.toThrow(/holds no entries of kind 'mapper' \(it has: datasets\)/);
    await cache.clean();
    expect((await cache.list()).entries).toEqual([]);
  });
});

describe('cache clean --older-than', () => {
  it('reads ages in minutes, hours, days and weeks, and refuses anything else', () => {
    expect([parseAge('30m'), parseAge('12h'), parseAge('7d'), parseAge('2w')]).toEqual([30 * 60e3, 12 * 3600e3, 7 * 86400e3, 14 * 86400e3]);
    expect(() => parseAge('soon')).toThrow("--older-than: expected an age such as 30m, 12h, 7d or 2w, got 'soon'");
  });
});

describe('ArtifactCache faults and leftovers', () => {
  it('removes the temporaries of interrupted writers at start, keeping those of live ones', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const orphan = join(dir, 'mappers', `.0123.${HOST}.${stdout}.0badc0de.tmp`);
    const live = join(dir, 'mappers', `.4567.${HOST}.${process.pid}.0badc0de.tmp`);
    const old = join(dir, 'predictions', '.89ab.1234.0badc0de.tmp'); // a name from before hosts were recorded
    for (const d of [orphan, live, old]) await mkdir(d, { recursive: true });
    await writeFile(join(orphan, 'model.npy'), new Uint8Array(5000));
    const hours = (Date.now() - 7 * 3600e3) / 1000;
    await utimes(old, hours, hours);
    const infos: string[] = [];
    const cache = new ArtifactCache(dir, { ...log, info: (m) => infos.push(m) });
    expect((await cache.list()).orphans.map((o) => o.path).sort()).toEqual([orphan, old].sort());
    await cache.prepare();
    expect(await readdir(join(dir, 'mappers'))).toEqual([live.slice(live.lastIndexOf('/') + 1)]);
    expect(await readdir(join(dir, 'predictions'))).toEqual([]);
    expect(infos.join()).toMatch(/removed 2 temporary folders left by interrupted runs \(5\.0 kB\)/);
  });

  it('refuses at start a cache folder that is a file, or lies under one', async () => {
    await writeFile(join(dir, 'file'), 'x');
    await expect(new ArtifactCache(join(dir, 'file'), log).prepare()).rejects.toThrow(UserError);
    await expect(new ArtifactCache(join(dir, 'file', 'cache'), log).prepare()).rejects.toThrow(`cannot create the folder: ${join(dir, 'file')} is a file, not a folder`);
  });

  it('refuses at start a cache folder on a pseudo file system, without hanging', async () => {
    await expect(new ArtifactCache('/proc/nd-cache', log).prepare()).rejects.toThrow(/\/proc is a proc pseudo file system/);
  });

  it('reports a full disk while storing an entry as a user error naming the entry', async () => {
    const cache = new ArtifactCache(dir, log);
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const error = await cache
      .getOrBuild('mappers', { k: 1 }, { read: io.read, write: async () => Promise.reject(full) }, async () => matrix(1, 1, [1]))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(new RegExp(`^${join(dir, 'mappers')}/[0-9a-f]{32}: cannot store the cache entry mappers/[0-9a-f]{32}: no space left on the device \\(ENOSPC\\)$`));
    expect(await readdir(join(dir, 'mappers'))).toEqual([]); // the temporary is gone
  });

  it('reports a read-only file system while storing an entry as a user error', async () => {
    const cache = new ArtifactCache(dir, log);
    const readOnly = Object.assign(new Error('EROFS: read-only file system, open'), { code: 'EROFS' });
    await expect(
      cache.getOrBuild('mappers', { k: 2 }, { read: io.read, write: async () => Promise.reject(readOnly) }, async () => matrix(1, 1, [1])),
    ).rejects.toThrow(/cannot store the cache entry mappers\/[0-9a-f]+: read-only file system \(EROFS\)/);
  });
});
