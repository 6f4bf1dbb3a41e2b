import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../../core/errors.js';
import {
  availableHdf5Filters,
  DEFAULT_HDF5_TIMEOUT_MS,
  hdf5Timeout,
  hyperslabPieces,
  loadHdf5,
  openHdf5,
  setHdf5Timeout,
  sliceShape,
  withHdf5,
} from '../../../core/io/hdf5.js';

/** Plain array of a typed array's values (also for BigInt arrays), for toEqual. */
function values(array: ArrayLike<number | bigint>): Array<number | bigint> {
  return Array.prototype.slice.call(array) as Array<number | bigint>;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'neurodecode-hdf5-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// NSD-like betas: (trials, Z, Y, X) int16 chunked one voxel per chunk, gzip — the official layout, in miniature.
const BETAS_SHAPE = [7, 4, 5, 6];
const betas = Int16Array.from({ length: 7 * 4 * 5 * 6 }, (_, i) => ((i * 37) % 2001) - 1000);

/** Value at (t, z, y, x) of a C-order array of BETAS_SHAPE. */
function betaAt(t: number, z: number, y: number, x: number): number {
  return betas[((t * 4 + z) * 5 + y) * 6 + x]!;
}

/** `oldFormat`: superblock v0 and v1 object headers, as h5py writes by default (else h5wasm's v2 superblock). */
async function writeNsdLike(path: string, oldFormat = true): Promise<void> {
  const h5 = await loadHdf5();
  const f = new h5.File(path, 'w', oldFormat ? { libver: ['earliest', 'v108'] } : {});
  f.create_dataset({ name: 'betas', data: betas, shape: BETAS_SHAPE, chunks: [7, 1, 1, 1], compression: 'gzip', compression_opts: 4 });
  f.close();
}

// THINGS-like pandas fixed-format HDFStore: /ResponseData/{axis0,axis1,block0_items,block0_values,block1_items,block1_values}.
const VOXELS = 5;
const TRIALS = 8;
const responses = Float64Array.from({ length: VOXELS * TRIALS }, (_, i) => Math.sin(i) * 3);
const voxelIds = BigInt64Array.from({ length: VOXELS }, (_, i) => BigInt(1000 + 17 * i));

async function writeThingsLike(path: string): Promise<void> {
  const h5 = await loadHdf5();
  const f = new h5.File(path, 'w');
  const g = f.create_group('ResponseData');
  g.create_attribute('pandas_type', 'frame');
  g.create_attribute('ndim', 2);
  g.create_dataset({ name: 'block0_values', data: responses, shape: [VOXELS, TRIALS], chunks: [2, TRIALS], compression: 'gzip', compression_opts: 1 });
  g.create_dataset({ name: 'block0_items', data: Array.from({ length: TRIALS }, (_, i) => `${i}`) });
  g.create_dataset({ name: 'block1_items', data: ['voxel_id'] });
  g.create_dataset({ name: 'block1_values', data: voxelIds, shape: [VOXELS, 1] });
  f.close();
}

describe('HDF5 reading (NSD-like betas)', () => {
  let path: string;
  beforeAll(async () => {
    path = join(dir, 'betas_session01.hdf5');
    await writeNsdLike(path);
  });

  it('reports shape, dtype, chunks and filters', async () => {
    await withHdf5(path, (file) => {
      const info = file.info('/betas');
      expect(info.shape).toEqual(BETAS_SHAPE);
      expect(info.dtype).toBe('int16');
      expect(info.itemSize).toBe(2);
      expect(info.chunks).toEqual([7, 1, 1, 1]);
      expect(info.filters).toEqual([{ id: 1, name: 'deflate', cdValues: [4] }]);
      expect(file.list('/')).toEqual([{ name: 'betas', path: '/betas', kind: 'dataset' }]);
    });
  });

  it('reads a hyperslab in C order with the dataset type, dropping axes given as numbers', async () => {
    await withHdf5(path, (file) => {
      const ranges: Array<[number, number] | number> = [[1, 4], 2, [0, 5], [3, 6]];
      const slice = file.readSlice('/betas', ranges);
      expect(slice).toBeInstanceOf(Int16Array);
      expect(sliceShape(ranges, BETAS_SHAPE)).toEqual([3, 5, 3]);
      const expected: number[] = [];
      for (let t = 1; t < 4; t++) for (let y = 0; y < 5; y++) for (let x = 3; x < 6; x++) expected.push(betaAt(t, 2, y, x));
      expect(values(slice)).toEqual(expected);
    });
  });

  it('reads one voxel across all trials (the per-voxel NSD access pattern)', async () => {
    await withHdf5(path, (file) => {
      const series = file.readSlice('/betas', [[0, 7], 3, 1, 5]);
      expect(values(series)).toEqual([0, 1, 2, 3, 4, 5, 6].map((t) => betaAt(t, 3, 1, 5)));
    });
  });

  it('splits reads below the byte cap and returns exactly the single-read result', async () => {
    await withHdf5(path, (file) => {
      const whole = file.read('/betas', { maxBytesPerRead: Infinity });
      expect(values(whole)).toEqual(values(betas));
      const all = BETAS_SHAPE.map((n) => [0, n] as [number, number]);
      // 100 bytes: one trial is 240 bytes, one (z) plane 60 bytes, so the split goes down to the second axis.
      for (const cap of [100, 240, 1000, 2]) {
        const pieces = hyperslabPieces(all, 2, cap);
        const bytes = pieces.map((p) => p.bounds.reduce((n, [s, e]) => n * (e - s), 2));
        expect(Math.max(...bytes)).toBeLessThanOrEqual(Math.max(cap, 2));
        expect(bytes.reduce((a, b) => a + b, 0)).toBe(betas.byteLength);
        // In output order, each piece starting where the previous one ended.
        pieces.forEach((p, i) => expect(p.offset).toBe(bytes.slice(0, i).reduce((a, b) => a + b, 0) / 2));
        expect(values(file.read('/betas', { maxBytesPerRead: cap }))).toEqual(values(whole));
      }
      expect(hyperslabPieces(all, 2, 100)[1]).toEqual({ bounds: [[0, 1], [1, 2], [0, 5], [0, 6]], offset: 30 });
      const subWhole = file.readSlice('/betas', [[2, 6], [1, 3]], { maxBytesPerRead: Infinity });
      const sub = file.readSlice('/betas', [[2, 6], [1, 3]], { maxBytesPerRead: 70 });
      expect(values(sub)).toEqual(values(subWhole));
      const subPieces = hyperslabPieces([[2, 6], [1, 3], [0, 5], [0, 6]], 2, 70);
      expect(Math.max(...subPieces.map((p) => p.bounds.reduce((n, [s, e]) => n * (e - s), 2)))).toBeLessThanOrEqual(70);
    });
  });

  it('answers thousands of back-to-back requests, each with its own reply (the synchronous worker protocol)', async () => {
    await withHdf5(path, (file) => {
      const answers: Array<boolean | number> = [];
      for (let i = 0; i < 3000; i++) answers.push(i % 3 === 2 ? Number(file.readSlice('/betas', [i % 7, 1, 2, 3])[0]) : file.has(i % 3 ? '/nope' : '/betas'));
      expect(answers).toEqual(Array.from({ length: 3000 }, (_, i) => (i % 3 === 2 ? betaAt(i % 7, 1, 2, 3) : i % 3 === 0)));
    });
  });

  it('rejects slices outside the shape with a UserError naming the dataset', async () => {
    await withHdf5(path, (file) => {
      expect(() => file.readSlice('/betas', [[0, 8]])).toThrow(/axis 0 .*7×4×5×6/);
      expect(() => file.readSlice('/betas', [0, 0, 0, 6])).toThrow(UserError);
      expect(() => file.readSlice('/betas', [0, 0, 0, 0, 0])).toThrow(/5 slice ranges .* 4-D/);
      expect(() => file.readSlice('/nope', [])).toThrow(/expected an HDF5 dataset at '\/nope', found nothing/);
    });
  });
});

describe('HDF5 reading (THINGS-like pandas table)', () => {
  it('lists groups and datasets, reads attributes, strings, float64 and int64 blocks', async () => {
    const path = join(dir, 'sub-01_ResponseData.h5');
    await writeThingsLike(path);
    await withHdf5(path, (file) => {
      expect(file.list('/')).toEqual([{ name: 'ResponseData', path: '/ResponseData', kind: 'group' }]);
      expect(file.datasetPaths()).toEqual([
        '/ResponseData/block0_items',
        '/ResponseData/block0_values',
        '/ResponseData/block1_items',
        '/ResponseData/block1_values',
      ]);
      expect(file.attributes('/ResponseData')).toEqual({ pandas_type: 'frame', ndim: 2 });
      expect(file.readStrings('/ResponseData/block1_items')).toEqual(['voxel_id']);
      const ids = file.read('/ResponseData/block1_values');
      expect(ids).toBeInstanceOf(BigInt64Array);
      expect(values(ids)).toEqual(values(voxelIds));
      // Voxels 1..3, trials 2..5.
      const block = file.readSlice('/ResponseData/block0_values', [[1, 4], [2, 6]], { maxBytesPerRead: 40 });
      expect(block).toBeInstanceOf(Float64Array);
      const expected: number[] = [];
      for (let v = 1; v < 4; v++) for (let t = 2; t < 6; t++) expected.push(responses[v * TRIALS + t]!);
      expect(values(block)).toEqual(expected);
      expect(() => file.readStrings('/ResponseData/block0_values')).toThrow(/type float64, expected strings/);
      expect(() => file.read('/ResponseData/block1_items')).toThrow(/type string, expected a numeric type/);
    });
  });
});

describe('HDF5 edge shapes', () => {
  it('reads a scalar dataset as a one-element array and an empty dataset as an empty one', async () => {
    const h5 = await loadHdf5();
    const path = join(dir, 'edges.h5');
    const f = new h5.File(path, 'w');
    f.create_dataset({ name: 'scalar', data: 3.5 });
    f.create_dataset({ name: 'empty', data: new Float32Array(0), shape: [0, 4] });
    f.close();
    await withHdf5(path, (file) => {
      expect(file.info('/scalar').shape).toEqual([]);
      expect(file.read('/scalar')).toEqual(Float64Array.from([3.5]));
      expect(file.read('/empty')).toEqual(new Float32Array(0));
    });
  });
});

describe('HDF5 compression plugins (h5wasm-plugins)', () => {
  const data = Float32Array.from({ length: 40 * 30 }, (_, i) => ((i % 37) - 18) * 0.25);
  const PLUGINS: Array<[string, number, number[]]> = [
    ['blosc', 32001, [2, 2, 4, 0, 5, 1, 0]],
    ['zstd', 32015, [3]],
    ['lz4', 32004, [0]],
  ];

  it('registers the plugin folder: blosc, zstd and lz4 are available', async () => {
    await loadHdf5();
    const available = availableHdf5Filters();
    for (const [, id] of PLUGINS) expect(available.has(id)).toBe(true);
    expect(available.get(1)).toMatch(/deflate/);
  });

  it.each(PLUGINS)('round-trips a %s-compressed dataset', async (name, id, options) => {
    const h5 = await loadHdf5();
    const path = join(dir, `${name}.h5`);
    const f = new h5.File(path, 'w');
    f.create_dataset({ name: 'data', data, shape: [40, 30], chunks: [10, 30], compression: id, compression_opts: options });
    f.close();
    await withHdf5(path, (file) => {
      expect(file.info('/data').filters.map((f) => f.id)).toEqual([id]);
      expect(values(file.read('/data', { maxBytesPerRead: 1000 }))).toEqual(values(data));
      expect(values(file.readSlice('/data', [[5, 7], 3]))).toEqual([data[5 * 30 + 3], data[6 * 30 + 3]]);
    });
  });
});

describe('HDF5 filter guard', () => {
  const data = Float32Array.from({ length: 20 * 10 }, (_, i) => i * 0.5);

  async function writeBlosc(path: string): Promise<void> {
    const h5 = await loadHdf5();
    // Earliest format: version-1 object headers carry no checksum, so a test can patch the filter id.
    const f = new h5.File(path, 'w', { libver: ['earliest', 'v108'] });
    f.create_dataset({ name: 'data', data, shape: [20, 10], chunks: [5, 10], compression: 32001, compression_opts: [2, 2, 4, 0, 5, 1, 0] });
    f.close();
  }

  it('in a process without the plugins, refuses a blosc dataset that h5wasm alone returns as garbage', async () => {
    const path = join(dir, 'blosc-guard.h5');
    await writeBlosc(path);
    // A fresh process: the HDF5 library keeps plugins it has loaded, so this one must never have seen them.
    const script = `
      import { useDefaultHdf5Plugins, openHdf5, loadHdf5 } from ${JSON.stringify(fileURLToPath(new URL('../../../core/io/hdf5.ts', import.meta.url)))};
      useDefaultHdf5Plugins(false);
      const file = await openHdf5(process.argv[2]);
      let guard;
      try { file.read('/data'); guard = 'no error'; } catch (e) { guard = e.name + ': ' + e.message; }
      file.close();
      const h5wasm = await loadHdf5();
      const raw = new h5wasm.File(process.argv[2], 'r');
      const values = Array.from(raw.get('data').value);
      raw.close();
      process.stdout.write(JSON.stringify({ guard, raw: values }));
    `;
    const scriptPath = join(dir, 'guard-child.mts');
    await writeFile(scriptPath, script);
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', scriptPath, path], { cwd: root });
    const { guard, raw } = JSON.parse(stdout) as { guard: string; raw: number[] };
    // Without the guard: no error, wrong numbers.
    expect(raw).toHaveLength(data.length);
    expect(raw).not.toEqual(values(data));
    // With it: our error, naming the file, the dataset, the filter, and the fix.
    expect(guard).toMatch(/^UserError: /);
    expect(guard).toContain(path);
    expect(guard).toContain("'/data'");
    expect(guard).toMatch(/filter 32001 \(HDF5 blosc filter\)/);
    expect(guard).toContain("install the npm package 'h5wasm-plugins'");
  });

  it('refuses a filter no plugin provides (the id patched to an unregistered one), suggesting h5repack', async () => {
    const path = join(dir, 'unknown-filter.h5');
    await writeBlosc(path);
    const bytes = await readFile(path);
    // Filter pipeline message entry: id (u16 LE) then name length, flags, value count, then the name.
    const at = bytes.indexOf('HDF5 blosc filter') - 8;
    expect(bytes.readUInt16LE(at)).toBe(32001);
    bytes.writeUInt16LE(32099, at);
    await writeFile(path, bytes);
    await withHdf5(path, (file) => {
      expect(file.info('/data').filters.map((f) => f.id)).toEqual([32099]);
      expect(() => file.read('/data')).toThrow(UserError);
      expect(() => file.readSlice('/data', [0])).toThrow(/filter 32099 .*not available.*h5repack/);
    });
  });
});

describe('HDF5 bad files', () => {
  it('names a missing file', async () => {
    await expect(openHdf5(join(dir, 'missing.h5'))).rejects.toThrow(/missing\.h5: file not found/);
  });

  it('rejects a file that is not HDF5, and an empty one', async () => {
    const junk = join(dir, 'junk.h5');
    await writeFile(junk, 'this is a text file, not HDF5'.repeat(40));
    await expect(openHdf5(junk)).rejects.toThrow(/not an HDF5 file/);
    const empty = join(dir, 'empty.h5');
    await writeFile(empty, '');
    await expect(openHdf5(empty)).rejects.toThrow(UserError);
  });

  it.each([true, false])('rejects truncated files with the expected and actual sizes (superblock v0: %s)', async (oldFormat) => {
    const path = join(dir, 'full.h5');
    await writeNsdLike(path, oldFormat);
    const bytes = await readFile(path);
    expect(bytes[8]).toBe(oldFormat ? 0 : 2);
    for (const keep of [4, 20, 60, Math.floor(bytes.length / 2), bytes.length - 1]) {
      const cut = join(dir, `cut-${keep}.h5`);
      await writeFile(cut, bytes.subarray(0, keep));
      const error = await openHdf5(cut).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UserError);
      if (keep >= 60) expect((error as Error).message).toContain(`declares ${bytes.length} bytes, the file has ${keep}`);
    }
  });

  it('opens a file behind a 512-byte user block (as MATLAB v7.3 writes)', async () => {
    const path = join(dir, 'plain.h5');
    await writeNsdLike(path);
    const bytes = await readFile(path);
    const blocked = join(dir, 'userblock.h5');
    await writeFile(blocked, Buffer.concat([Buffer.alloc(512, 0x20), bytes]));
    await withHdf5(blocked, (file) => {
      expect(values(file.readSlice('/betas', [2, 1, 3]))).toEqual([0, 1, 2, 3, 4, 5].map((x) => betaAt(2, 1, 3, x)));
    });
  });
});

describe('HDF5 watchdog', () => {
  // Byte-flipped by the fuzzer: reading '/ResponseData/block1_items' loops forever in libhdf5 (see its .md).
  const STALLING = fileURLToPath(new URL('../../fixtures/io/hdf5_stall_flipped_byte.h5', import.meta.url));

  afterEach(() => {
    setHdf5Timeout(undefined);
    delete process.env.NEURODECODE_HDF5_TIMEOUT_MS;
  });

  it('stops a read that loops forever inside libhdf5 and throws a UserError naming the file and the dataset', async () => {
    const good = join(dir, 'watchdog-good.h5');
    await writeNsdLike(good);
    const bystander = await openHdf5(good);
    const file = await openHdf5(STALLING, { timeoutMs: 1500 });
    // Everything but the damaged string dataset still reads.
    expect(file.datasetPaths()).toHaveLength(3);
    expect(file.read('/ResponseData/block0_values')).toEqual(Float64Array.from({ length: 40 }, (_, i) => i / 7));
    const started = Date.now();
    let error: unknown;
    try {
      file.readStrings('/ResponseData/block1_items');
    } catch (e) {
      error = e;
    }
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(
      /hdf5_stall_flipped_byte\.h5: reading dataset '\/ResponseData\/block1_items' stalled for more than 1\.5 s .*looks corrupt.*NEURODECODE_HDF5_TIMEOUT_MS/,
    );
    expect(elapsed).toBeGreaterThanOrEqual(1400);
    expect(elapsed).toBeLessThan(10_000);
    // The stopped worker took every open file with it: each says so, and closing is harmless.
    expect(() => file.read('/ResponseData/block0_values')).toThrow(/stopped after a stalled read.*open this file again/);
    expect(() => bystander.readSlice('/betas', [0, 0, 0, 0])).toThrow(UserError);
    file.close();
    bystander.close();
    // The next open starts a fresh worker.
    await withHdf5(good, (h5) => expect(values(h5.readSlice('/betas', [[0, 7], 3, 1, 5]))).toEqual([0, 1, 2, 3, 4, 5, 6].map((t) => betaAt(t, 3, 1, 5))));
  });

  it('takes its default from setHdf5Timeout, else NEURODECODE_HDF5_TIMEOUT_MS, else 120 s, and checks them', async () => {
    expect(hdf5Timeout()).toBe(DEFAULT_HDF5_TIMEOUT_MS);
    process.env.NEURODECODE_HDF5_TIMEOUT_MS = '1000';
    expect(hdf5Timeout()).toBe(1000);
    await expect(withHdf5(STALLING, (file) => file.readStrings('/ResponseData/block1_items'))).rejects.toThrow(/stalled for more than 1 s/);
    setHdf5Timeout(30_000);
    expect(hdf5Timeout()).toBe(30_000);
    process.env.NEURODECODE_HDF5_TIMEOUT_MS = 'soon';
    setHdf5Timeout(undefined);
    expect(() => hdf5Timeout()).toThrow(/environment variable NEURODECODE_HDF5_TIMEOUT_MS: expected a positive number of milliseconds, found 'soon'/);
    expect(() => setHdf5Timeout(-5)).toThrow(UserError);
    await expect(openHdf5(STALLING, { timeoutMs: 0 })).rejects.toThrow(/option 'timeoutMs'/);
  });
});
