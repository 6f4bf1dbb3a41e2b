import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactCache } from '../../core/cache.js';
import { loadHdf5 } from '../../core/io/hdf5.js';
import { encodeNpy, encodeNpyStrings, writeNpy } from '../../core/io/npy.js';
import { silentLogger } from '../../core/logging.js';
import { parseSpecFile, readSpecFile } from '../../core/pipeline.js';
import { silentProgress } from '../../core/progress.js';
import { Rng } from '../../core/rng.js';
import { ExperimentRunner } from '../../core/runner.js';
import type { PluginServices } from '../../core/services.js';
import { validateWithSchema } from '../../core/validation.js';
import { ArraysDataset, type ArrayStimuli } from '../../datasets/arrays/arrays.js';
import { arraysOptionsSchema, type ArraysOptions } from '../../datasets/arrays/schema.js';
import { makeTestCore, type TestCore } from '../helpers/core.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nd-arrays-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let counter = 0;
async function freshDir(name: string): Promise<string> {
  const d = join(dir, `${name}-${counter++}`);
  await mkdir(d, { recursive: true });
  return d;
}

function services(cacheDir: string | null = null): PluginServices {
  return { log: silentLogger, progress: silentProgress, cache: new ArtifactCache(cacheDir, silentLogger) } as unknown as PluginServices;
}

function dataset(options: Record<string, unknown>, cacheDir: string | null = null): ArraysDataset {
  return new ArraysDataset(validateWithSchema<ArraysOptions>(arraysOptionsSchema, options, 'test'), services(cacheDir));
}

// ─────────────── Brain-Diffuser miniature: processed_data/subj01/*.npy ───────────────

const BD = { train: 60, test: 12, voxels: 24, size: 8 };

interface BdTruth {
  fmri: { train: Float64Array; test: Float64Array };
  stim: { train: Uint8Array; test: Uint8Array };
  captions: { train: string[]; test: string[] };
}

/** Images are mixtures of 3 fixed patterns; voxels are linear in the mixing weights (so ridge can decode pixels). */
async function writeBrainDiffuser(root: string, seed = 1): Promise<BdTruth> {
  const rng = new Rng(seed);
  const pixels = BD.size * BD.size * 3;
  const patterns = Array.from({ length: 3 }, () => Float64Array.from({ length: pixels }, () => rng.uniform()));
  const weights = Float64Array.from({ length: BD.voxels * 3 }, () => rng.normal());
  const folder = join(root, 'processed_data', 'subj01');
  await mkdir(folder, { recursive: true });
  const truth = { fmri: {}, stim: {}, captions: {} } as BdTruth;
  for (const [split, n] of [['train', BD.train], ['test', BD.test]] as const) {
    const fmri = new Float64Array(n * BD.voxels);
    const stim = new Uint8Array(n * pixels);
    const captions: string[] = [];
    for (let i = 0; i < n; i++) {
      const a = [rng.uniform(), rng.uniform(), rng.uniform()];
      for (let p = 0; p < pixels; p++) stim[i * pixels + p] = Math.round((255 * (a[0]! * patterns[0]![p]! + a[1]! * patterns[1]![p]! + a[2]! * patterns[2]![p]!)) / 3);
      for (let v = 0; v < BD.voxels; v++) fmri[i * BD.voxels + v] = a.reduce((s, x, k) => s + x * weights[v * 3 + k]!, 0) + 0.01 * rng.normal() + 1 / 3;
      // Five captions per image as in the COCO annotations; one image has only four (NumPy pads with '').
      captions.push(`${split} image ${i}`, `a picture ${i}`, 'ünïcode ✓', `x${i}`, i === 2 ? '' : `fifth ${i}`);
    }
    await writeNpy(join(folder, `nsd_${split}_fmriavg_nsdgeneral_sub1.npy`), { shape: [n, BD.voxels], data: fmri });
    await writeNpy(join(folder, `nsd_${split}_stim_sub1.npy`), { shape: [n, BD.size, BD.size, 3], data: stim });
    await writeFile(join(folder, `nsd_${split}_cap_sub1.npy`), encodeNpyStrings({ shape: [n, 5], strings: captions }));
    truth.fmri[split] = fmri;
    truth.stim[split] = stim;
    truth.captions[split] = captions;
  }
  return truth;
}

describe('arrays: Brain-Diffuser processed_data', () => {
  let root: string;
  let truth: BdTruth;
  beforeAll(async () => {
    root = await freshDir('bd');
    truth = await writeBrainDiffuser(root);
  });

  it('streams float64 fMRI to float32 rows, reads uint8 HWC images and unicode captions', async () => {
    const ds = dataset({ brainDiffuser: { root, subject: 1 }, chunkRows: 7 });
    const info = await ds.describe();
    expect(info.subjects).toEqual(['subj01']);
    expect(info.imageShape).toEqual([8, 8, 3]);
    expect(info.captions).toBe(true);
    expect(info.summaries[0]).toMatchObject({ trainItems: 60, testItems: 12, voxels: 24 });

    const data = await ds.load('subj01');
    expect([data.train.fmri.rows, data.train.fmri.cols, data.test.fmri.rows]).toEqual([60, 24, 12]);
    expect(data.train.fmri.data).toEqual(Float32Array.from(truth.fmri.train));
    expect(data.test.fmri.data).toEqual(Float32Array.from(truth.fmri.test));
    expect(data.train.stimuli.ids.slice(0, 2)).toEqual(['train-0', 'train-1']);
    expect([...data.train.repeats.slice(0, 3)]).toEqual([1, 1, 1]);

    const images = await data.test.stimuli.images();
    expect([images.count, images.height, images.width, images.channels]).toEqual([12, 8, 8, 3]);
    // Item 5, pixel (h=2, w=7, c=1): C-order offset in the (12, 8, 8, 3) uint8 array.
    const at = ((5 * 8 + 2) * 8 + 7) * 3 + 1;
    expect(images.data[at]).toBeCloseTo(truth.stim.test[at]! / 255, 6);
    expect(Math.max(...images.data)).toBeLessThanOrEqual(1);

    const captions = await data.train.stimuli.captions!();
    expect(captions).toHaveLength(60);
    expect(captions[0]).toEqual(['train image 0', 'a picture 0', 'ünïcode ✓', 'x0', 'fifth 0']);
    expect(captions[2]).toEqual(['train image 2', 'a picture 2', 'ünïcode ✓', 'x2']);
  });

  it('downscales while streaming with an area average (imageSize)', async () => {
    const data = await dataset({ brainDiffuser: { root, subject: 1 }, imageSize: 4 }).load('subj01');
    const images = await data.test.stimuli.images();
    expect([images.height, images.width, images.channels]).toEqual([4, 4, 3]);
    // Output (1, 2) channel 0 of item 3 = mean of the 2×2 block rows 2–3, columns 4–5.
    const src = (h: number, w: number) => truth.stim.test[((3 * 8 + h) * 8 + w) * 3]! / 255;
    const expected = (src(2, 4) + src(2, 5) + src(3, 4) + src(3, 5)) / 4;
    expect(images.data[((3 * 4 + 1) * 4 + 2) * 3]).toBeCloseTo(expected, 6);
  });

  it('refuses an image batch beyond maxImageBytes and names imageSize as the way out', async () => {
    const data = await dataset({ brainDiffuser: { root, subject: 1 }, maxImageBytes: 10000 }).load('subj01');
    await expect(data.train.stimuli.images()).rejects.toThrow(/more than maxImageBytes.*set imageSize/);
  });

  it('caches the prepared fMRI: a second load hits, an edited file misses, no cache still works', async () => {
    const own = await freshDir('bd-cache');
    const mine = await writeBrainDiffuser(own, 2);
    const cache = join(own, 'cache');
    const first = dataset({ brainDiffuser: { root: own, subject: 1 } }, cache);
    const a = await first.load('subj01');
    expect(first.cacheOutcomes.get('subj01')).toBe('miss');
    const second = dataset({ brainDiffuser: { root: own, subject: 1 } }, cache);
    const b = await second.load('subj01');
    expect(second.cacheOutcomes.get('subj01')).toBe('hit');
    expect(b.train.fmri.data).toEqual(a.train.fmri.data);

    const path = join(own, 'processed_data', 'subj01', 'nsd_test_fmriavg_nsdgeneral_sub1.npy');
    const changed = mine.fmri.test.map((v) => v + 1);
    await writeNpy(path, { shape: [BD.test, BD.voxels], data: changed });
    await utimes(path, new Date(), new Date(Date.now() + 5000));
    const third = dataset({ brainDiffuser: { root: own, subject: 1 } }, cache);
    const c = await third.load('subj01');
    expect(third.cacheOutcomes.get('subj01')).toBe('miss');
    expect(c.test.fmri.data).toEqual(Float32Array.from(changed));

    // Downscaled images are cached too: a fresh instance reads the same batch back.
    const small = await dataset({ brainDiffuser: { root: own, subject: 1 }, imageSize: 4 }, cache).load('subj01');
    const smallAgain = await dataset({ brainDiffuser: { root: own, subject: 1 }, imageSize: 4 }, cache).load('subj01');
    expect((await smallAgain.train.stimuli.images()).data).toEqual((await small.train.stimuli.images()).data);
    expect((await readdir(join(cache, 'datasets'))).length).toBe(3); // fMRI before and after the edit, train images

    const uncached = dataset({ brainDiffuser: { root: own, subject: 1 } }, null);
    const d = await uncached.load('subj01');
    expect(uncached.cacheOutcomes.get('subj01')).toBe('disabled');
    expect(d.test.fmri.data).toEqual(c.test.fmri.data);
  });
});

// ─────────────── MATLAB v5: fmriTrn / fmriTest / stimTrn / stimTest, flattened 28×28 ───────────────

const MI = { INT8: 1, UINT8: 2, INT32: 5, UINT32: 6, DOUBLE: 9, MATRIX: 14 } as const;

function element(type: number, payload: Uint8Array, allowSmall = true): Uint8Array {
  if (allowSmall && payload.length <= 4) {
    const out = new Uint8Array(8);
    new DataView(out.buffer).setUint32(0, (payload.length << 16) | type, true);
    out.set(payload, 4);
    return out;
  }
  const out = new Uint8Array(8 + Math.ceil(payload.length / 8) * 8);
  new DataView(out.buffer).setUint32(0, type, true);
  new DataView(out.buffer).setUint32(4, payload.length, true);
  out.set(payload, 8);
  return out;
}

function int32s(type: number, values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  values.forEach((v, i) => new DataView(out.buffer).setUint32(i * 4, v >>> 0, true));
  return element(type, out);
}

/** A double (class 6) or logical (uint8 with the logical flag) MATLAB matrix; `columnMajor` as MATLAB stores it. */
function matMatrix(name: string, dims: number[], columnMajor: ArrayLike<number>, logical = false): Uint8Array {
  const data = logical ? element(MI.UINT8, Uint8Array.from(columnMajor)) : element(MI.DOUBLE, new Uint8Array(Float64Array.from(columnMajor).buffer));
  const flags = logical ? 9 | 0x0200 : 6;
  return element(MI.MATRIX, Buffer.concat([int32s(MI.UINT32, [flags, 0]), int32s(MI.INT32, dims), element(MI.INT8, Buffer.from(name, 'latin1')), data]), false);
}

function matFile(elements: Uint8Array[]): Uint8Array {
  const header = new Uint8Array(128).fill(0x20);
  header.set(Buffer.from('MATLAB 5.0 MAT-file, written by neurodecode tests', 'latin1'));
  header.fill(0, 116, 124);
  new DataView(header.buffer).setUint16(124, 0x0100, true);
  header.set(Buffer.from('IM', 'latin1'), 126);
  return new Uint8Array(Buffer.concat([header, ...elements]));
}

/** A "7": a top bar on row 3 (columns 6–21) and a stroke going down-left; item i shifts it i columns right. */
function seven(item: number): (r: number, c: number) => number {
  return (r, c) => {
    const x = c - item;
    if (r === 3 && x >= 6 && x <= 21) return 1;
    if (r > 3 && r <= 24 && x === 21 - Math.floor((r - 3) / 2)) return 0.5;
    return 0;
  };
}

/** items × n matrix given by f(item, column), as MATLAB stores it (column-major). */
function columnMajor(items: number, n: number, f: (i: number, k: number) => number): Float64Array {
  const out = new Float64Array(items * n);
  for (let k = 0; k < n; k++) for (let i = 0; i < items; i++) out[i + items * k] = f(i, k);
  return out;
}

/** MATLAB `reshape(img, 1, 784)`: pixel (r, c) goes to column r + 28 c. */
const stimValue = (offset: number) => (i: number, k: number) => seven(i + offset)(k % 28, Math.floor(k / 28));
const fmriValue = (offset: number) => (i: number, v: number) => 10 * (i + offset) + v;

async function writeDigits(folder: string): Promise<void> {
  const bytes = matFile([
    matMatrix('fmriTrn', [6, 5], columnMajor(6, 5, fmriValue(0))),
    matMatrix('fmriTest', [3, 5], columnMajor(3, 5, fmriValue(6))),
    matMatrix('stimTrn', [6, 784], columnMajor(6, 784, stimValue(0))),
    matMatrix('stimTest', [3, 784], columnMajor(3, 784, stimValue(6))),
    matMatrix('labelTrn', [6, 1], [7, 7, 1, 2, 3, 4]),
    matMatrix('labelTest', [3, 1], [5, 6, 7]),
    matMatrix('roiV1', [1, 5], [1, 0, 1, 1, 0], true),
  ]);
  await writeFile(join(folder, 'digits.mat'), bytes);
}

const digitSpec = {
  file: 'digits.mat',
  image: { shape: [28, 28], range: 1, layout: 'F' },
  train: { fmri: '#fmriTrn', stimuli: '#stimTrn', labels: '#labelTrn' },
  test: { fmri: { variable: 'fmriTest' }, stimuli: '#stimTest', labels: '#labelTest' },
  rois: { V1: '#roiV1' },
};

describe('arrays: MATLAB .mat with flattened 28×28 images', () => {
  let folder: string;
  beforeAll(async () => {
    folder = await freshDir('mat');
    await writeDigits(folder);
    await writeFile(join(folder, 'spec.json'), JSON.stringify(digitSpec));
  });

  it('reads a spec file: column-major fMRI rows, F-flattened images un-transposed, labels and a logical ROI', async () => {
    const ds = dataset({ spec: join(folder, 'spec.json') });
    expect((await ds.describe()).summaries).toEqual([{ subject: 'sub-01', trainItems: 6, testItems: 3, voxels: 5, rois: { V1: 3 } }]);
    const data = await ds.load('sub-01');
    expect([data.train.fmri.rows, data.train.fmri.cols]).toEqual([6, 5]);
    expect([...data.train.fmri.data.slice(5, 10)]).toEqual([10, 11, 12, 13, 14]); // row 1
    expect([...data.test.fmri.data.slice(0, 5)]).toEqual([60, 61, 62, 63, 64]);
    const images = await data.train.stimuli.images();
    expect([images.count, images.height, images.width, images.channels]).toEqual([6, 28, 28, 1]);
    const pixel = (item: number, r: number, c: number) => images.data[item * 784 + r * 28 + c]!;
    // The bar is horizontal (row 3), not vertical: a transposed read would put it in column 3.
    expect(pixel(0, 3, 6)).toBe(1);
    expect(pixel(0, 3, 21)).toBe(1);
    expect(pixel(0, 6, 3)).toBe(0);
    expect(pixel(0, 5, 20)).toBe(0.5);
    expect(pixel(2, 3, 23)).toBe(1); // shifted two columns right
    let sum = 0;
    for (let r = 0; r < 28; r++) {
      for (let c = 0; c < 28; c++) {
        expect(pixel(4, r, c)).toBe(seven(4)(r, c));
        sum += pixel(4, r, c);
      }
    }
    expect(sum).toBe(16 + 0.5 * 21);
    expect([...(data.train.stimuli as ArrayStimuli).labels!]).toEqual([7, 7, 1, 2, 3, 4]);
    expect([...data.atlas.V1!]).toEqual([0, 2, 3]);
  });

  it('takes the same fields inline in the options, relative to root', async () => {
    const data = await dataset({ ...digitSpec, root: folder }).load('sub-01');
    const images = await data.test.stimuli.images();
    expect(images.data[0 * 784 + 3 * 28 + 12]).toBe(1); // test item 0 is the "7" shifted 6 columns
    expect(images.data[0 * 784 + 3 * 28 + 11]).toBe(0);
  });

  it("reads flattened .mat images without a declared layout in MATLAB's column-major order, never transposed", async () => {
    const { layout: _layout, ...image } = digitSpec.image;
    const ds = dataset({ ...digitSpec, image, root: folder });
    const images = await (await ds.load('sub-01')).train.stimuli.images();
    // The "7" is asymmetric: its bar is on row 3 (columns 6–21); read as HWC it would be in column 3.
    expect(images.data[0 * 784 + 3 * 28 + 6]).toBe(1);
    expect(images.data[0 * 784 + 6 * 28 + 3]).toBe(0);
    expect((await ds.describe()).notes).toContain('image layout F (default for this file; set image.layout to change it)');
    const hwc = await (await dataset({ ...digitSpec, image: { ...image, layout: 'HWC' }, root: folder }).load('sub-01')).train.stimuli.images();
    expect(hwc.data[0 * 784 + 6 * 28 + 3]).toBe(1); // an explicit layout is obeyed
  });

  it('names the variables present when one is missing', async () => {
    const ds = dataset({ ...digitSpec, root: folder, train: { fmri: '#fmriTrain', stimuli: '#stimTrn' } });
    await expect(ds.load('sub-01')).rejects.toThrow(/sub-01 train.fmri: no variable 'fmriTrain'.*variables present: fmriTrn, fmriTest, stimTrn, stimTest/);
  });
});

// ─────────────── HDF5 (variables = dataset paths), CHW images ───────────────

describe('arrays: .h5', () => {
  it('reads dataset paths, CHW uint8 images and string captions', async () => {
    const folder = await freshDir('h5');
    const h5 = await loadHdf5();
    const f = new h5.File(join(folder, 'data.h5'), 'w');
    const chw = (n: number) => Uint8Array.from({ length: n * 3 * 4 * 6 }, (_, i) => (i * 7) % 256);
    f.create_group('fmri');
    f.create_dataset({ name: 'fmri/train', data: Float32Array.from({ length: 5 * 4 }, (_, i) => i / 2), shape: [5, 4] });
    f.create_dataset({ name: 'fmri/test', data: Float32Array.from({ length: 2 * 4 }, (_, i) => -i), shape: [2, 4] });
    f.create_dataset({ name: 'stim_train', data: chw(5), shape: [5, 3, 4, 6] });
    f.create_dataset({ name: 'stim_test', data: chw(2), shape: [2, 3, 4, 6] });
    f.create_dataset({ name: 'cap_test', data: ['a cat', 'a dog'] });
    f.close();
    const data = await dataset({
      file: join(folder, 'data.h5'),
      image: { shape: [4, 6, 3], layout: 'CHW' },
      train: { fmri: '#/fmri/train', stimuli: '#stim_train' },
      test: { fmri: '#/fmri/test', stimuli: '#stim_test', captions: '#cap_test' },
    }).load('sub-01');
    expect([...data.train.fmri.data.slice(4, 8)]).toEqual([2, 2.5, 3, 3.5]);
    expect([...data.test.fmri.data.slice(4, 8)]).toEqual([-4, -5, -6, -7]);
    const images = await data.train.stimuli.images();
    expect([images.height, images.width, images.channels]).toEqual([4, 6, 3]);
    const stored = chw(5);
    // HWC (item 3, h 1, w 5, c 2) ← CHW (item 3, c 2, h 1, w 5).
    expect(images.data[((3 * 4 + 1) * 6 + 5) * 3 + 2]).toBeCloseTo(stored[3 * 72 + (2 * 4 + 1) * 6 + 5]! / 255, 6);
    expect(await data.test.stimuli.captions!()).toEqual([['a cat'], ['a dog']]);
    await expect(
      dataset({ file: join(folder, 'data.h5'), train: { fmri: '#/fmri/nope', stimuli: '#stim_train' }, test: { fmri: '#/fmri/test', stimuli: '#stim_test' } }).load('sub-01'),
    ).rejects.toThrow(/no variable '\/fmri\/nope'.*variables present: \/cap_test, \/fmri\/test, \/fmri\/train, \/stim_test, \/stim_train/);
  });
});

// ─────────────── .npz (variables = member names), image shape inferred ───────────────

function npz(folder: string, members: Record<string, { shape: number[]; data: Float32Array | Float64Array | Uint8Array }>): Promise<string> {
  const path = join(folder, 'data.npz');
  const files = Object.fromEntries(Object.entries(members).map(([name, a]) => [`${name}.npy`, encodeNpy(a)]));
  return writeFile(path, zipSync(files, { level: 6 })).then(() => path);
}

const npzSplits = { train: { fmri: '#fmri_train', stimuli: '#stim_train' }, test: { fmri: '#fmri_test', stimuli: '#stim_test' } };

describe('arrays: .npz', () => {
  it('reads members, infers a gray H×W layout from the stimulus array, keeps height and width apart', async () => {
    const folder = await freshDir('npz');
    const gray = (n: number) => Float32Array.from({ length: n * 5 * 4 }, (_, i) => (i % 20) / 19);
    const file = await npz(folder, {
      fmri_train: { shape: [3, 2], data: Float64Array.from([1, 2, 3, 4, 5, 6]) },
      fmri_test: { shape: [1, 2], data: Float64Array.from([7, 8]) },
      stim_train: { shape: [3, 5, 4], data: gray(3) },
      stim_test: { shape: [1, 5, 4], data: gray(1) },
    });
    const ds = dataset({ file, ...npzSplits });
    expect((await ds.describe()).imageShape).toEqual([5, 4, 1]);
    const data = await ds.load('sub-01');
    expect([...data.train.fmri.data]).toEqual([1, 2, 3, 4, 5, 6]);
    const images = await data.test.stimuli.images();
    expect([images.height, images.width]).toEqual([5, 4]);
    expect(images.data[2 * 4 + 3]).toBeCloseTo(11 / 19, 6); // (h 2, w 3)
  });
});

// ─────────────── Errors ───────────────

describe('arrays: bad input', () => {
  it('a missing file names the file and the field that needed it', async () => {
    const root = await freshDir('bd-missing');
    await writeBrainDiffuser(root);
    await rm(join(root, 'processed_data', 'subj01', 'nsd_test_stim_sub1.npy'));
    await expect(dataset({ brainDiffuser: { root, subject: 1 } }).load('subj01')).rejects.toThrow(/nsd_test_stim_sub1\.npy: file not found \(needed by subj01 test\.stimuli\)/);
    await expect(dataset({ brainDiffuser: { root, subject: 2 } }).describe()).rejects.toThrow(/subj02.*nsd_train_fmriavg_nsdgeneral_sub2\.npy: file not found/);
  });

  it('images whose count does not match the fMRI rows', async () => {
    const folder = await freshDir('npz-count');
    const file = await npz(folder, {
      fmri_train: { shape: [4, 2], data: new Float32Array(8) },
      fmri_test: { shape: [1, 2], data: new Float32Array(2) },
      stim_train: { shape: [3, 2, 2], data: new Float32Array(12) },
      stim_test: { shape: [1, 2, 2], data: new Float32Array(4) },
    });
    await expect(dataset({ file, ...npzSplits }).load('sub-01')).rejects.toThrow(/sub-01 train\.stimuli: 3 images whose count does not match the 4 fMRI rows/);
  });

  it('voxel counts of train and test that differ', async () => {
    const folder = await freshDir('npz-voxels');
    const file = await npz(folder, {
      fmri_train: { shape: [2, 5], data: new Float32Array(10) },
      fmri_test: { shape: [1, 6], data: new Float32Array(6) },
      stim_train: { shape: [2, 2, 2], data: new Float32Array(8) },
      stim_test: { shape: [1, 2, 2], data: new Float32Array(4) },
    });
    await expect(dataset({ file, ...npzSplits }).load('sub-01')).rejects.toThrow(/voxel counts of train \(5,.*\) and test \(6,.*\) differ/);
  });

  it('a wrong image shape for the declared layout', async () => {
    const folder = await freshDir('npy-shape');
    const ref = (name: string) => join(folder, `${name}.npy`);
    await writeNpy(ref('ft'), { shape: [2, 3], data: new Float32Array(6) });
    await writeNpy(ref('fs'), { shape: [1, 3], data: new Float32Array(3) });
    await writeNpy(ref('st'), { shape: [2, 8, 8, 3], data: new Uint8Array(384) });
    await writeNpy(ref('ss'), { shape: [1, 8, 8, 3], data: new Uint8Array(192) });
    const splits = { train: { fmri: ref('ft'), stimuli: ref('st') }, test: { fmri: ref('fs'), stimuli: ref('ss') } };
    await expect(dataset({ ...splits, image: { shape: [8, 8] } }).load('sub-01')).rejects.toThrow(
      /train\.stimuli: wrong image shape for the declared layout HWC 8×8: each item holds 192 values \(8×8×3\), the image needs 64/,
    );
    await expect(dataset({ ...splits, image: { shape: [8, 8, 3], layout: 'CHW' } }).load('sub-01')).rejects.toThrow(/items are 8×8×3, expected 3×8×8/);
    // A uint8 array declared as 0–1 holds values up to 255: the range is wrong, not silently clipped.
    await writeNpy(ref('st'), { shape: [2, 8, 8, 3], data: new Uint8Array(384).fill(200) });
    const data = await dataset({ ...splits, image: { shape: [8, 8, 3], range: 1 } }).load('sub-01');
    await expect(data.train.stimuli.images()).rejects.toThrow(/pixel value 200 outside 0–1/);
  });
});

// ─────────────── End to end through core ───────────────

describe('arrays: through the ExperimentRunner', () => {
  let core: TestCore | undefined;
  afterEach(async () => {
    await core?.cleanup();
    core = undefined;
  });

  it('decodes the Brain-Diffuser miniature with ridge → pixels, scored by mse and pixcorr', async () => {
    const root = await freshDir('bd-e2e');
    await writeBrainDiffuser(root, 3);
    core = await makeTestCore();
    const spec = parseSpecFile(
      {
        pipelines: [
          {
            name: 'bd',
            dataset: { id: 'arrays', options: { brainDiffuser: { root, subject: 1 } } },
            generator: 'pixels',
            mappers: { '*': { id: 'ridge', options: { alpha: 0.01 } } },
            metrics: ['mse', 'pixcorr'],
          },
        ],
      },
      'test',
    );
    const result = await new ExperimentRunner(core).run(spec);
    expect(result.outcomes[0]!.subject).toBe('subj01');
    expect(result.outcomes[0]!.voxels).toBe(24);
    const mse = result.rows.find((r) => r.metric === 'mse')!;
    const pixcorr = result.rows.find((r) => r.metric === 'pixcorr')!;
    // Pixels are a linear function of 3 weights that 24 voxels encode almost noise-free.
    expect(mse.value!).toBeLessThan(0.05 * mse.trivial!);
    expect(pixcorr.value!).toBeGreaterThan(0.95);
  });

  it('resolves relative paths against the pipeline file that names them (spec, inline references, preset root), not the working directory', async () => {
    const folder = await freshDir('relative');
    await mkdir(join(folder, 'data'));
    await writeDigits(join(folder, 'data'));
    await writeFile(join(folder, 'data', 'spec.json'), JSON.stringify(digitSpec));
    const bd = join(folder, 'bd');
    await writeBrainDiffuser(bd, 3);
    const pipeline = (dataset: unknown) => ({ dataset, generator: 'pixels', mappers: { '*': { id: 'ridge', options: { alpha: 1 } } }, metrics: ['mse'] });
    await writeFile(
      join(folder, 'experiment.json'),
      JSON.stringify({
        pipelines: [
          { name: 'spec', ...pipeline({ id: 'arrays', options: { spec: 'data/spec.json' } }) },
          // Inline references without root: relative to this file; with a relative root: that folder, relative to this file.
          { name: 'inline', ...pipeline({ id: 'arrays', options: { ...digitSpec, file: 'data/digits.mat' } }) },
          { name: 'inline-root', ...pipeline({ id: 'arrays', options: { ...digitSpec, root: 'data' } }) },
          { name: 'preset', ...pipeline({ id: 'arrays', options: { brainDiffuser: { root: 'bd', subject: 1 } } }) },
        ],
      }),
    );
    expect(process.cwd()).not.toBe(folder);
    core = await makeTestCore();
    const result = await new ExperimentRunner(core).run(await readSpecFile(join(folder, 'experiment.json')));
    expect(result.outcomes.map((o) => [o.pipeline, o.trainItems, o.voxels])).toEqual([
      ['spec', 6, 5],
      ['inline', 6, 5],
      ['inline-root', 6, 5],
      ['preset', 60, 24],
    ]);
    // The dataset options recorded (and hashed into cache keys) hold absolute paths.
    const options = result.outcomes.map((o) => o.provenance.find((p) => p.kind === 'dataset')!.options);
    expect(options[0]!.spec).toBe(join(folder, 'data', 'spec.json'));
    expect(options[1]!.root).toBe(folder);
    expect(options[2]!.root).toBe(join(folder, 'data'));
    expect((options[3]!.brainDiffuser as { root: string }).root).toBe(bd);
  });
});
