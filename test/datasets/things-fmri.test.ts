/**
 * things-fmri on generated miniature trees in the real formats: a pandas fixed-format ResponseData.h5 written with
 * h5wasm (voxels × trials float block, voxel_id block), the two metadata CSVs, THINGS-style image folders. A second
 * tree written by pandas itself (test/fixtures/things-fmri/pandas) pins the on-disk layout.
 */
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile, copyFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactCache } from '../../core/cache.js';
import { createLinalg } from '../../core/compute/linalg.js';
import { UserError } from '../../core/errors.js';
import { loadHdf5 } from '../../core/io/hdf5.js';
import { writeImage } from '../../core/io/image.js';
import { silentLogger } from '../../core/logging.js';
import { parseSpecFile } from '../../core/pipeline.js';
import { createProgress, silentProgress, type ProgressEvent } from '../../core/progress.js';
import { Rng } from '../../core/rng.js';
import { ExperimentRunner } from '../../core/runner.js';
import type { PluginServices } from '../../core/services.js';
import { validateWithSchema } from '../../core/validation.js';
import { planSlabs } from '../../datasets/things-fmri/responses.js';
import { thingsFmriOptionsSchema, type ThingsFmriOptions } from '../../datasets/things-fmri/schema.js';
import { ThingsFmriDataset } from '../../datasets/things-fmri/things.js';
import { makeTestCore } from '../helpers/core.js';

const VOXELS = 50;
const TRAIN = 40;
const TEST_IMAGES = 4;
const REPEATS = 3;
const TRIALS = TRAIN + TEST_IMAGES * REPEATS;
const NAN_VOXEL = 7;
/** ROI columns of the generated VoxelMetadata, in THINGS-data's naming. */
const ROI_COLUMNS = ['V1', 'V2', 'V3', 'hV4', 'VO1', 'VO2', 'LO1 (prf)', 'TO1', 'TO2', 'lFFA', 'rFFA', 'lPPA', 'rPPA', 'lLOC', 'rLOC', 'IT'];

interface Truth {
  /** responses[v * TRIALS + t] */
  responses: Float64Array;
  trialType: string[];
  stimulus: string[];
  concept: string[];
  colours: Map<string, [number, number, number]>;
  /** roi column → member voxels */
  members: Map<string, Set<number>>;
}

/** Voxel v belongs to ROI column (v + k) % 9 === 0 for the k-th column; voxels with v % 5 === 4 belong to none. */
function roiMember(v: number, k: number): boolean {
  return v % 5 !== 4 && (v + k) % 9 === 0;
}

function makeTruth(): Truth {
  const rng = new Rng(11);
  const trialType: string[] = [];
  const stimulus: string[] = [];
  const concept: string[] = [];
  const colours = new Map<string, [number, number, number]>();
  const concepts = ['aardvark', 'air_conditioner', 'bird', 'cat', 'dog', 'egg'];
  // Train and test trials interleaved, as in the sessions: test image j's repeats are spread out.
  let train = 0;
  let repeat = 0;
  for (let t = 0; t < TRIALS; t++) {
    const isTest = t % 4 === 3 && repeat < TEST_IMAGES * REPEATS;
    if (isTest || train >= TRAIN) {
      const j = repeat++ % TEST_IMAGES;
      trialType.push('test');
      concept.push(concepts[j]!);
      stimulus.push(`${concepts[j]}_${String(j).padStart(2, '0')}s.jpg`);
    } else {
      const c = concepts[train % concepts.length]!;
      trialType.push('train');
      concept.push(c);
      stimulus.push(`${c}_${String(train).padStart(2, '0')}b.jpg`);
      train++;
    }
    if (!colours.has(stimulus[t]!)) colours.set(stimulus[t]!, [rng.uniform(), rng.uniform(), rng.uniform()]);
  }
  // Voxels respond linearly to the stimulus colour, plus a little noise (so ridge can decode pixels).
  const weights = Array.from({ length: VOXELS }, () => [rng.normal(), rng.normal(), rng.normal()] as const);
  const responses = new Float64Array(VOXELS * TRIALS);
  for (let v = 0; v < VOXELS; v++) {
    for (let t = 0; t < TRIALS; t++) {
      const c = colours.get(stimulus[t]!)!;
      responses[v * TRIALS + t] = weights[v]![0] * c[0] + weights[v]![1] * c[1] + weights[v]![2] * c[2] + 0.02 * rng.normal();
    }
  }
  responses[NAN_VOXEL * TRIALS + 5] = NaN;
  const members = new Map(ROI_COLUMNS.map((name, k) => [name, new Set(Array.from({ length: VOXELS }, (_, v) => v).filter((v) => roiMember(v, k)))]));
  return { responses, trialType, stimulus, concept, colours, members };
}

/** The pandas fixed-format layout: float block stored transposed (voxels × trials), voxel_id as an int64 block. */
async function writeResponseData(path: string, truth: Truth, options: { filter?: number; voxels?: number } = {}): Promise<void> {
  const h5 = await loadHdf5();
  const voxels = options.voxels ?? VOXELS;
  const f = new h5.File(path, 'w', options.filter ? { libver: ['earliest', 'v108'] } : undefined);
  const g = f.create_group('ResponseData');
  g.create_attribute('pandas_type', 'frame');
  g.create_attribute('pandas_version', '0.15.2');
  g.create_attribute('ndim', 2);
  g.create_attribute('nblocks', 2);
  const names = Array.from({ length: TRIALS }, (_, t) => `${t}`);
  g.create_dataset({ name: 'axis0', data: ['voxel_id', ...names] });
  g.create_dataset({ name: 'axis1', data: BigInt64Array.from({ length: voxels }, (_, v) => BigInt(v)), shape: [voxels] });
  g.create_dataset({ name: 'block0_items', data: names });
  const values = truth.responses.subarray(0, voxels * TRIALS);
  if (options.filter) {
    g.create_dataset({ name: 'block0_values', data: values, shape: [voxels, TRIALS], chunks: [5, TRIALS], compression: options.filter, compression_opts: [2, 2, 8, 0, 5, 1, 0] });
  } else {
    g.create_dataset({ name: 'block0_values', data: values, shape: [voxels, TRIALS], chunks: [8, TRIALS], compression: 'gzip', compression_opts: 1 });
  }
  g.create_dataset({ name: 'block1_items', data: ['voxel_id'] });
  g.create_dataset({ name: 'block1_values', data: BigInt64Array.from({ length: voxels }, (_, v) => BigInt(1000 + v)), shape: [voxels, 1] });
  f.close();
}

/** Noise ceilings in percent, as THINGS-data stores them: nc_testset = v·1.5 (voxel 3 missing), nc_singletrial = v·0.5. */
function voxelCsv(
  truth: Truth,
  testsetCeiling: (v: number) => string = (v) => (v === 3 ? 'nan' : (v * 1.5).toFixed(1)),
  flag: (member: boolean, v: number, roi: string) => string | number = (member) => (member ? 1 : 0),
): string {
  const header = ['voxel_id', 'subject_id', 'voxel_x', 'voxel_y', 'voxel_z', 'nc_singletrial', 'nc_testset', 'prf-eccentricity', ...ROI_COLUMNS];
  const lines = [header.map((h) => (h.includes(' ') ? `"${h}"` : h)).join(',')];
  for (let v = 0; v < VOXELS; v++) {
    const rois = ROI_COLUMNS.map((name) => flag(truth.members.get(name)!.has(v), v, name));
    lines.push([1000 + v, 1, v % 5, Math.floor(v / 5), 3, (v * 0.5).toFixed(1), testsetCeiling(v), 2.5, ...rois].join(','));
  }
  return lines.join('\n') + '\n';
}

function stimulusCsv(truth: Truth, drop = 0): string {
  const lines = ['trial_type,session,run,subject_id,trial_id,stimulus,concept'];
  for (let t = 0; t < TRIALS - drop; t++) lines.push([truth.trialType[t], 1 + Math.floor(t / 20), 1 + (t % 10), 1, t, truth.stimulus[t], truth.concept[t]].join(','));
  return lines.join('\n') + '\n';
}

async function writeImages(dir: string, truth: Truth): Promise<void> {
  for (const [i, stimulus] of truth.stimulus.entries()) {
    const path = join(dir, 'object_images', truth.concept[i]!, stimulus);
    const colour = truth.colours.get(stimulus)!.map((c) => Math.round(c * 255));
    await mkdir(join(dir, 'object_images', truth.concept[i]!), { recursive: true });
    const data = new Uint8Array(16 * 16 * 3).map((_, k) => colour[k % 3]!);
    await writeImage(path, { width: 16, height: 16, channels: 3, data }, { quality: 100 });
  }
}

async function writeSubject(dir: string, subject: string, truth: Truth): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeResponseData(join(dir, `${subject}_ResponseData.h5`), truth);
  await writeFile(join(dir, `${subject}_VoxelMetadata.csv`), voxelCsv(truth));
  await writeFile(join(dir, `${subject}_StimulusMetadata.csv`), stimulusCsv(truth));
}

let tmp: string;
let root: string;
let imageDir: string;
const truth = makeTruth();

function services(cacheDir: string | null = null, events?: ProgressEvent[]): PluginServices {
  return {
    log: silentLogger,
    progress: events ? createProgress((e) => events.push(e)) : silentProgress,
    linalg: createLinalg(),
    cache: new ArtifactCache(cacheDir, silentLogger),
  } as unknown as PluginServices;
}

function dataset(options: Partial<ThingsFmriOptions>, s = services()): ThingsFmriDataset {
  const validated = validateWithSchema<ThingsFmriOptions>(thingsFmriOptionsSchema, { root, ...options }, 'things-fmri');
  return new ThingsFmriDataset(validated, s);
}

/** Voxels in the default ROIs, in file order. */
function expectedVoxels(rois: string[] = ['V1', 'V2', 'V3', 'hV4', 'VO1', 'VO2', 'TO1', 'TO2', 'FFA', 'PPA', 'LOC']): number[] {
  const columns = rois.flatMap((r) => ROI_COLUMNS.filter((c) => c === r || c === `l${r}` || c === `r${r}` || c === `${r} (prf)`));
  return Array.from({ length: VOXELS }, (_, v) => v).filter((v) => columns.some((c) => truth.members.get(c)!.has(v)));
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nd-things-'));
  root = join(tmp, 'things');
  imageDir = join(tmp, 'THINGS');
  await writeSubject(root, 'sub-01', truth);
  // sub-02 in betas_csv/ with one file missing; sub-03 absent.
  await mkdir(join(root, 'betas_csv'), { recursive: true });
  await writeResponseData(join(root, 'betas_csv', 'sub-02_ResponseData.h5'), truth);
  await writeFile(join(root, 'betas_csv', 'sub-02_StimulusMetadata.csv'), stimulusCsv(truth));
  await writeImages(imageDir, truth);
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('things-fmri matrices', () => {
  it('builds train rows (one trial each) and test rows (repeats averaged) equal to the generated responses', async () => {
    const data = await dataset({}).load('sub-01');
    const voxels = expectedVoxels();
    const trainTrials = truth.trialType.flatMap((t, i) => (t === 'train' ? [i] : []));
    expect(data.subject).toBe('sub-01');
    expect(data.train.fmri.rows).toBe(TRAIN);
    expect(data.train.fmri.cols).toBe(voxels.length);
    expect(data.train.stimuli.ids).toEqual(trainTrials.map((t) => truth.stimulus[t]));
    expect([...data.train.repeats]).toEqual(new Array(TRAIN).fill(1));
    trainTrials.forEach((t, row) =>
      voxels.forEach((v, col) => {
        const expected = truth.responses[v * TRIALS + t]!;
        const actual = data.train.fmri.data[row * voxels.length + col]!;
        if (Number.isNaN(expected)) expect(actual).toBeNaN();
        else expect(actual).toBeCloseTo(expected, 6);
      }),
    );
    // Test: 4 images in order of first appearance, each the mean of its 3 repeats.
    const testIds = [...new Set(truth.stimulus.filter((_, t) => truth.trialType[t] === 'test'))];
    expect(data.test.stimuli.ids).toEqual(testIds);
    expect([...data.test.repeats]).toEqual([3, 3, 3, 3]);
    testIds.forEach((id, row) => {
      const trials = truth.stimulus.flatMap((s, t) => (s === id && truth.trialType[t] === 'test' ? [t] : []));
      expect(trials).toHaveLength(REPEATS);
      voxels.forEach((v, col) => {
        const mean = trials.reduce((sum, t) => sum + truth.responses[v * TRIALS + t]!, 0) / REPEATS;
        expect(data.test.fmri.data[row * voxels.length + col]!).toBeCloseTo(mean, 6);
      });
    });
  });

  it('maps ROIs (l/r merged, "(prf)" variants) to voxel columns and reads the noise ceiling as a fraction', async () => {
    const rois = ['V1', 'FFA', 'LO1', 'IT'];
    const data = await dataset({ rois }).load('1');
    const voxels = expectedVoxels(rois);
    expect(data.train.fmri.cols).toBe(voxels.length);
    const cols = (set: Set<number>[]) => voxels.flatMap((v, c) => (set.some((s) => s.has(v)) ? [c] : []));
    const m = (name: string) => truth.members.get(name)!;
    expect([...data.atlas.V1!]).toEqual(cols([m('V1')]));
    expect([...data.atlas.FFA!]).toEqual(cols([m('lFFA'), m('rFFA')]));
    expect([...data.atlas.LO1!]).toEqual(cols([m('LO1 (prf)')]));
    expect([...data.atlas.IT!]).toEqual(cols([m('IT')]));
    expect(Object.keys(data.atlas)).toEqual(rois);
    // nc_testset is in percent (v * 1.5); voxel 3's is missing → NaN.
    voxels.forEach((v, c) => {
      if (v === 3) expect(data.noiseCeiling![c]).toBeNaN();
      else expect(data.noiseCeiling![c]).toBeCloseTo((v * 1.5) / 100, 6);
    });
  });

  it('keeps single test trials when asked, with the single-trial noise ceiling', async () => {
    const data = await dataset({ averageTestRepeats: false }).load('sub-01');
    expect([...data.noiseCeiling!]).toEqual(expectedVoxels().map((v) => Math.fround((v * 0.5) / 100)));
    const testTrials = truth.trialType.flatMap((t, i) => (t === 'test' ? [i] : []));
    expect(data.test.fmri.rows).toBe(TEST_IMAGES * REPEATS);
    expect([...data.test.repeats]).toEqual(new Array(12).fill(1));
    expect(data.test.stimuli.ids).toEqual(testTrials.map((t) => truth.stimulus[t]));
    const voxels = expectedVoxels();
    testTrials.forEach((t, row) => expect(data.test.fmri.data[row * voxels.length + 2]!).toBeCloseTo(truth.responses[voxels[2]! * TRIALS + t]!, 6));
  });

  it('takes the noise-ceiling unit from the options, never from the values, and checks the range', async () => {
    const voxels = expectedVoxels();
    // An explicit column overrides the default.
    const chosen = await dataset({ noiseCeilingColumn: 'nc_singletrial' }).load('sub-01');
    expect([...chosen.noiseCeiling!]).toEqual(voxels.map((v) => Math.fround((v * 0.5) / 100)));
    // Percentages read as fractions would exceed 1.
    await expect(dataset({ noiseCeilingUnit: 'fraction' }).load('sub-01')).rejects.toThrow(
      /sub-01_VoxelMetadata\.csv: row \d+, column 'nc_testset': noise ceiling [\d.]+ is outside 0–1 \(option 'noiseCeilingUnit' is 'fraction'\)/,
    );
    // A column of fractions: refused as percentages, read as given with unit 'fraction'.
    const fractions = join(tmp, 'fractions');
    await writeSubject(fractions, 'sub-01', truth);
    await writeFile(join(fractions, 'sub-01_VoxelMetadata.csv'), voxelCsv(truth, (v) => (v / 100).toFixed(2)));
    await expect(dataset({ root: fractions }).load('sub-01')).rejects.toThrow(/every noise ceiling is at most 0\.49, which looks like fractions.*'noiseCeilingUnit' to 'fraction'/);
    const data = await dataset({ root: fractions, noiseCeilingUnit: 'fraction' }).load('sub-01');
    expect([...data.noiseCeiling!]).toEqual(voxels.map((v) => Math.fround(v / 100)));
    // No such column: no ceiling.
    expect((await dataset({ noiseCeilingColumn: 'nc_other' }).load('sub-01')).noiseCeiling).toBeUndefined();
  });

  it('plans slabs below the byte cap, merging nearby rows only', () => {
    expect(planSlabs([0, 1, 2, 20, 21, 40], 100, 1000, 8)).toEqual([[0, 3], [20, 22], [40, 41]]);
    expect(planSlabs([0, 5, 9, 12], 100, 1000, 8)).toEqual([[0, 10], [12, 13]]);
    expect(planSlabs([0, 1, 2, 3], 100, 250, 8)).toEqual([[0, 2], [2, 4]]);
  });

  it('reads a ResponseData.h5 written by pandas to_hdf(format="fixed") (voxels × trials, pickled trial names)', async () => {
    const dir = join(tmp, 'pandas');
    const fixture = new URL('../fixtures/things-fmri/pandas/', import.meta.url);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'sub-01_ResponseData.h5'), gunzipSync(await readFile(new URL('sub-01_ResponseData.h5.gz', fixture))));
    for (const name of ['sub-01_VoxelMetadata.csv', 'sub-01_StimulusMetadata.csv']) await copyFile(new URL(name, fixture), join(dir, name));
    const ds = dataset({ root: dir, rois: ['V1', 'FFA'] });
    const data = await ds.load('sub-01');
    // V1 = voxels 0, 1; FFA = lFFA voxel 3 + rFFA voxel 4. Value of voxel v, trial t: v·10 + t + 0.25.
    expect(data.train.fmri.cols).toBe(4);
    expect([...data.train.fmri.data]).toEqual([0, 1, 2, 3].flatMap((t) => [0, 1, 3, 4].map((v) => v * 10 + t + 0.25)));
    expect(data.test.stimuli.ids).toEqual(['dog_01b.jpg', 'egg_01b.jpg']);
    // dog = mean of trials 4 and 6, egg = mean of trials 5 and 7; voxel 4's trial 5 is NaN in the file.
    expect([...data.test.fmri.data.subarray(0, 4)]).toEqual([0, 1, 3, 4].map((v) => v * 10 + 5.25));
    expect([...data.test.fmri.data.subarray(4, 7)]).toEqual([0, 1, 3].map((v) => v * 10 + 6.25));
    expect(data.test.fmri.data[7]).toBeNaN();
    expect([...data.atlas.FFA!]).toEqual([2, 3]);
    expect([...data.noiseCeiling!].map((x) => Math.round(x * 100) / 100)).toEqual([0.1, 0.2, 0.4, 0.5]);
  });
});

describe('things-fmri cache, progress, describe', () => {
  it('prepares once with progress per slab, then loads from the cache; describe counts the NaN voxel', async () => {
    const cacheDir = join(tmp, 'cache');
    const events: ProgressEvent[] = [];
    const first = dataset({}, services(cacheDir, events));
    const a = await first.load('sub-01');
    expect(first.cacheOutcomes.get('sub-01')).toBe('miss');
    const start = events.find((e) => e.type === 'start')!;
    expect(start.type === 'start' && start.label).toMatch(/ResponseData/);
    expect(events.filter((e) => e.type === 'tick')).toHaveLength(start.type === 'start' ? start.total : -1);

    const second = dataset({}, services(cacheDir));
    const b = await second.load('sub-01');
    expect(second.cacheOutcomes.get('sub-01')).toBe('hit');
    expect(b.train.fmri.data).toEqual(a.train.fmri.data);
    expect(b.test.fmri.data).toEqual(a.test.fmri.data);
    expect(b.atlas).toEqual(a.atlas);
    expect(b.test.stimuli.ids).toEqual(a.test.stimuli.ids);

    const info = await second.describe();
    expect(info.subjects).toEqual(['sub-01']);
    expect(info.captions).toBe(true);
    expect(info.summaries[0]).toMatchObject({ subject: 'sub-01', trainItems: TRAIN, testItems: TEST_IMAGES, voxels: expectedVoxels().length });
    expect(info.summaries[0]!.rois.FFA).toBe(expectedVoxels(['FFA']).length);
    const nanVoxelSelected = expectedVoxels().includes(NAN_VOXEL);
    expect(nanVoxelSelected).toBe(true);
    expect(info.notes).toContain("sub-01: 1 selected voxels with NaN/infinite values (dropped by core's preprocessing)");
    expect(info.notes).toContain("sub-02 needs 'sub-02_VoxelMetadata.csv' or 'betas_csv/sub-02_VoxelMetadata.csv' (not found)");
    expect(info.notes.some((n) => n.startsWith('sub-03: not present'))).toBe(true);

    // Another option set is another cache entry.
    const other = dataset({ rois: ['V1'] }, services(cacheDir));
    await other.load('sub-01');
    expect(other.cacheOutcomes.get('sub-01')).toBe('miss');
  });

  it('describes from the metadata alone before any load', async () => {
    const info = await dataset({}).describe();
    expect(info.summaries.map((s) => [s.subject, s.trainItems, s.testItems, s.voxels])).toEqual([['sub-01', TRAIN, TEST_IMAGES, expectedVoxels().length]]);
    expect(info.notes.some((n) => n.includes('NaN voxels are counted at the first load'))).toBe(true);
  });
});

describe('things-fmri images and captions', () => {
  it('reads the stimuli lazily from object_images/<concept>/<file>, resized, and concept captions', async () => {
    const data = await dataset({ images: imageDir, imageSize: 8 }).load('sub-01');
    const images = await data.test.stimuli.images();
    expect([images.count, images.height, images.width, images.channels]).toEqual([TEST_IMAGES, 8, 8, 3]);
    data.test.stimuli.ids.forEach((id, i) => {
      const colour = truth.colours.get(id)!;
      for (let ch = 0; ch < 3; ch++) expect(Math.abs(images.data[i * 192 + 9 * 3 + ch]! - Math.round(colour[ch]! * 255) / 255)).toBeLessThan(0.02);
    });
    const captions = await data.test.stimuli.captions!();
    expect(captions).toEqual(data.test.stimuli.ids.map((id) => [truth.concept[truth.stimulus.indexOf(id)]!.replace(/_/g, ' ')]));
    expect(captions.flat()).toContain('air conditioner');
  });

  it('names the missing image, and the missing option', async () => {
    const victim = join(imageDir, 'object_images', truth.concept[0]!, truth.stimulus[0]!);
    await rename(victim, `${victim}.bak`);
    try {
      const data = await dataset({ images: imageDir, imageSize: 8 }).load('sub-01');
      await expect(data.train.stimuli.images()).rejects.toThrow(new RegExp(`missing stimulus image 'object_images/${truth.concept[0]}/${truth.stimulus[0]}'`));
    } finally {
      await rename(`${victim}.bak`, victim);
    }
    const noImages = await dataset({}).load('sub-01');
    await expect(noImages.test.stimuli.images()).rejects.toThrow(/option 'images' is not set/);
  });
});

describe('things-fmri bad input', () => {
  it('names a missing root, a missing file (with the subject), and an unknown subject', async () => {
    await expect(dataset({ root: join(tmp, 'nowhere') }).describe()).rejects.toThrow(/nowhere: THINGS-fMRI root folder not found/);
    await expect(dataset({}).load('sub-02')).rejects.toThrow(/sub-02 needs 'sub-02_VoxelMetadata.csv' or 'betas_csv\/sub-02_VoxelMetadata.csv'/);
    await expect(dataset({}).load('sub-03')).rejects.toThrow(/sub-03 needs 'sub-03_ResponseData.h5' or 'betas_csv\/sub-03_ResponseData.h5'/);
    await expect(dataset({}).load('sub-07')).rejects.toThrow(/THINGS-fMRI has no subject 'sub-07' \(it has sub-01, sub-02, sub-03\)/);
    await expect(dataset({}).load('sub-07')).rejects.toBeInstanceOf(UserError);
  });

  it('finds files in betas_csv/ and reports shape mismatches between ResponseData and the CSVs', async () => {
    const dir = join(tmp, 'mismatch', 'betas_csv');
    await mkdir(dir, { recursive: true });
    await writeResponseData(join(dir, 'sub-01_ResponseData.h5'), truth);
    await writeFile(join(dir, 'sub-01_VoxelMetadata.csv'), voxelCsv(truth));
    await writeFile(join(dir, 'sub-01_StimulusMetadata.csv'), stimulusCsv(truth, 2));
    const ds = dataset({ root: join(tmp, 'mismatch') });
    await expect(ds.load('sub-01')).rejects.toThrow(
      `sub-01: betas_csv/sub-01_ResponseData.h5: ResponseData has ${TRIALS} trial columns but betas_csv/sub-01_StimulusMetadata.csv has ${TRIALS - 2} rows`,
    );
    await writeFile(join(dir, 'sub-01_StimulusMetadata.csv'), stimulusCsv(truth));
    await writeResponseData(join(dir, 'sub-01_ResponseData.h5'), truth, { voxels: VOXELS - 1 });
    await expect(ds.load('sub-01')).rejects.toThrow(`ResponseData has ${VOXELS - 1} voxel rows but betas_csv/sub-01_VoxelMetadata.csv has ${VOXELS} rows`);
    // describe reports the problem as a note instead of failing.
    const info = await ds.describe();
    expect(info.subjects).toEqual([]);
    expect(info.notes.some((n) => n.includes(`has ${VOXELS - 1} voxel rows`))).toBe(true);
  });

  it("reads ROI columns of True/False (pandas' booleans) like 1/0, and refuses any other value naming line and column", async () => {
    const dir = join(tmp, 'roi-flags');
    await writeSubject(dir, 'sub-01', truth);
    await writeFile(join(dir, 'sub-01_VoxelMetadata.csv'), voxelCsv(truth, undefined, (member) => (member ? 'True' : 'False')));
    const data = await dataset({ root: dir }).load('sub-01');
    expect(data.train.fmri.cols).toBe(expectedVoxels().length);
    expect(Array.from(data.atlas.V1!)).toEqual(Array.from((await dataset({}).load('sub-01')).atlas.V1!));
    for (const bad of ['2', '0.5', '-1']) {
      await writeFile(join(dir, 'sub-01_VoxelMetadata.csv'), voxelCsv(truth, undefined, (member, v, roi) => (v === 4 && roi === 'V2' ? bad : member ? 1 : 0)));
      await expect(dataset({ root: dir }).load('sub-01')).rejects.toThrow(`line 6 (row 5), column 'V2': expected 0/1 or True/False, found '${bad}'`);
    }
  });

  it('describe and run keep the cause of an unusable subject: a missing CSV column, a truncated ResponseData', async () => {
    const dir = join(tmp, 'unusable');
    await writeSubject(dir, 'sub-01', truth);
    const core = await makeTestCore();
    try {
      const spec = (subjects?: string[]) =>
        parseSpecFile({ dataset: { id: 'things-fmri', options: { root: dir } }, ...(subjects ? { subjects } : {}), generator: 'pixels', mappers: { '*': 'ridge' }, metrics: ['mse'] }, 'p.json');
      await writeFile(join(dir, 'sub-01_StimulusMetadata.csv'), stimulusCsv(truth).replace('trial_type', 'kind'));
      await expect(new ExperimentRunner(core).run(spec(['sub-01']))).rejects.toThrow(/cannot use subject 'sub-01': .*has no column 'trial_type'/);
      await expect(new ExperimentRunner(core).run(spec())).rejects.toThrow(/dataset 'things-fmri' has no usable subject: sub-01: .*has no column 'trial_type'/);
      await writeFile(join(dir, 'sub-01_StimulusMetadata.csv'), stimulusCsv(truth));
      await truncate(join(dir, 'sub-01_ResponseData.h5'), 3000);
      const info = await dataset({ root: dir }).describe();
      expect(info.subjects).toEqual([]);
      expect(info.unusable!['sub-01']).toMatch(/sub-01_ResponseData\.h5: truncated HDF5 file/);
      await expect(new ExperimentRunner(core).run(spec(['sub-01']))).rejects.toThrow(/cannot use subject 'sub-01': .*truncated HDF5 file/);
    } finally {
      await core.cleanup();
    }
  });

  it('refuses an unknown ROI and an HDF5 filter that is not available, before reading', async () => {
    await expect(dataset({ rois: ['V1', 'MT'] }).load('sub-01')).rejects.toThrow(/option 'rois': no column for ROI 'MT'.*ROI columns: .*lFFA/);
    const dir = join(tmp, 'filter');
    await mkdir(dir, { recursive: true });
    const path = join(dir, 'sub-01_ResponseData.h5');
    await writeResponseData(path, truth, { filter: 32001 });
    const bytes = await readFile(path);
    // Patch blosc's filter id (u16 LE, 8 bytes before its name) to one no plugin provides.
    const at = bytes.indexOf('HDF5 blosc filter') - 8;
    expect(bytes.readUInt16LE(at)).toBe(32001);
    bytes.writeUInt16LE(32099, at);
    await writeFile(path, bytes);
    await writeFile(join(dir, 'sub-01_VoxelMetadata.csv'), voxelCsv(truth));
    await writeFile(join(dir, 'sub-01_StimulusMetadata.csv'), stimulusCsv(truth));
    await expect(dataset({ root: dir }).load('sub-01')).rejects.toThrow(/block0_values' is compressed with HDF5 filter 32099 .*not available/);
  });
});

describe('things-fmri through core', () => {
  it('runs ridge → pixels with two metrics on the miniature tree', async () => {
    const core = await makeTestCore();
    try {
      const spec = parseSpecFile(
        {
          pipelines: [
            {
              name: 'things',
              dataset: { id: 'things-fmri', options: { root, images: imageDir, imageSize: 8 } },
              subjects: ['sub-01'],
              generator: 'pixels',
              mappers: { '*': { id: 'ridge', options: { alpha: 0.1 } } },
              metrics: ['mse', 'pixcorr'],
            },
          ],
        },
        'test',
      );
      const result = await new ExperimentRunner(core).run(spec);
      const outcome = result.outcomes[0]!;
      expect(outcome.droppedVoxels.nonFinite).toBe(1);
      expect(outcome.voxels).toBe(expectedVoxels().length - 1);
      const mse = result.rows.find((r) => r.metric === 'mse')!;
      // Voxels are linear in the stimulus colour: ridge beats the mean image by far.
      expect(mse.value!).toBeLessThan(0.2 * mse.trivial!);
      const pixcorr = result.rows.find((r) => r.metric === 'pixcorr')!;
      expect(Number.isFinite(pixcorr.value!)).toBe(true);
    } finally {
      await core.cleanup();
    }
  });
});
