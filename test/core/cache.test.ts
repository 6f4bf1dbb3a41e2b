import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArtifactCache, contentKey, readMatrix, writeMatrix } from '../../core/cache.js';
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
