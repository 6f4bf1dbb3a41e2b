/**
 * nsd on a generated miniature NSD tree in the official layout and formats: a 6×5×4 volume, 3 sessions of the real
 * 750 trials (sessions 1–2 as HDF5 `/betas` (750, Z, Y, X) chunked (750,1,1,1) plus their NIfTI twins, session 3 as
 * NIfTI only), a full-size nsd_expdesign.mat (MATLAB v5, compressed), ROI NIfTIs with ctab tables, a small imgBrick,
 * nsd_stim_info_merged.csv and COCO caption JSONs. test/fixtures/nsd/reference.json holds Brain-Diffuser's arrays
 * computed by its own loops (numpy + nibabel + scipy) on this tree (see test/fixtures/nsd/README.md).
 */
import { cp, mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactCache } from '../../core/cache.js';
import { createLinalg } from '../../core/compute/linalg.js';
import { UserError } from '../../core/errors.js';
import { loadHdf5 } from '../../core/io/hdf5.js';
import { writeNifti } from '../../core/io/nifti.js';
import { silentLogger } from '../../core/logging.js';
import { parseSpecFile } from '../../core/pipeline.js';
import { createProgress, silentProgress, type ProgressEvent } from '../../core/progress.js';
import { Rng } from '../../core/rng.js';
import { ExperimentRunner } from '../../core/runner.js';
import type { PluginServices } from '../../core/services.js';
import { validateWithSchema } from '../../core/validation.js';
import { parseCtab } from '../../datasets/nsd/atlas.js';
import { planRuns } from '../../datasets/nsd/betas.js';
import { NsdDataset } from '../../datasets/nsd/nsd.js';
import { nsdOptionsSchema, type NsdOptions } from '../../datasets/nsd/schema.js';
import { makeTestCore } from '../helpers/core.js';

const [NX, NY, NZ] = [6, 5, 4];
const N = NX * NY * NZ;
const T = 750;
const SESSIONS = 3;
const TRAIN_IMAGES = 60; // masterordering values 1001..1060
const TEST_IMAGES = 30; // masterordering values 1..30 (shared)
const BRICK = 120; // images in the miniature imgBrick
const IMG = 8; // their height and width
const PRF_LABELS = ['V1v', 'V1d', 'V2v', 'V2d', 'V3v', 'V3d', 'hV4'];

const fileIndex = (x: number, y: number, z: number) => x + NX * (y + NY * z);

/** nsdgeneral: 1 in an asymmetric blob, −1 on the x = 0 face (outside the brain), 0 elsewhere. */
function nsdgeneral(): Int16Array {
  const mask = new Int16Array(N);
  for (let z = 0; z < NZ; z++) {
    for (let y = 0; y < NY; y++) {
      for (let x = 0; x < NX; x++) mask[fileIndex(x, y, z)] = x === 0 ? -1 : (x + 2 * y + 3 * z) % 3 !== 0 ? 1 : 0;
    }
  }
  return mask;
}

/** prf-visualrois labels 1..7 on some voxels (also outside nsdgeneral, which the atlas must ignore). */
function prfLabels(): Int16Array {
  return Int16Array.from({ length: N }, (_, i) => (i % 4 === 0 ? 0 : 1 + (i % 7)));
}

/** 1-based design values, as in the .mat: trial t shows masterordering[t]; subjectim[s, j] is a 73k image (1-based). */
function design(): { masterordering: number[]; subjectim: number[][] } {
  const rng = new Rng(3);
  const masterordering = Array.from({ length: 30000 }, (_, t) => {
    if (t >= SESSIONS * T) return 1001;
    return t % 5 === 2 ? 1 + Math.floor(rng.uniform() * TEST_IMAGES) : 1001 + Math.floor(rng.uniform() * TRAIN_IMAGES);
  });
  // Shared images (j < 1000) are the same for every subject; the others differ per subject.
  const subjectim = Array.from({ length: 8 }, (_, s) => Array.from({ length: 10000 }, (_, j) => 1 + (j < 1000 ? j % 40 : 40 + ((j - 1000 + 7 * s) % 80))));
  return { masterordering, subjectim };
}

interface Tree {
  root: string;
  /** colour of each 73k image (0..BRICK-1) */
  colours: Array<[number, number, number]>;
  /** raw int16 betas of session s: betas[s][t * N + fileIndex] */
  betas: Int16Array[];
}

/** Voxel responses are linear in the image colour plus trial noise, ×300 as int16. */
async function writeTree(root: string): Promise<Tree> {
  const rng = new Rng(17);
  const { masterordering, subjectim } = design();
  const colours = Array.from({ length: BRICK }, () => [rng.uniform(), rng.uniform(), rng.uniform()] as [number, number, number]);
  const weights = Array.from({ length: N }, () => [rng.normal(), rng.normal(), rng.normal()]);
  const betas: Int16Array[] = [];
  const betaDir = join(root, 'nsddata_betas/ppdata/subj01/func1pt8mm/betas_fithrf_GLMdenoise_RR');
  await mkdir(betaDir, { recursive: true });
  const h5 = await loadHdf5();
  for (let s = 0; s < SESSIONS; s++) {
    const data = new Int16Array(T * N);
    for (let t = 0; t < T; t++) {
      const m = masterordering[s * T + t]!;
      const c = colours[subjectim[0]![m - 1]! - 1]!;
      for (let i = 0; i < N; i++) {
        const w = weights[i]!;
        data[t * N + i] = Math.round(300 * (w[0]! * c[0] + w[1]! * c[1] + w[2]! * c[2] + 0.3 * rng.normal()));
      }
    }
    betas.push(data);
    const name = join(betaDir, `betas_session${String(s + 1).padStart(2, '0')}`);
    await writeNifti(`${name}.nii.gz`, { shape: [NX, NY, NZ, T], data, affine: affine() });
    if (s < 2) {
      const f = new h5.File(`${name}.hdf5`, 'w');
      f.create_dataset({ name: 'betas', data, shape: [T, NZ, NY, NX], dtype: '<h', chunks: [T, 1, 1, 1] });
      f.close();
    }
  }
  const roiDir = join(root, 'nsddata/ppdata/subj01/func1pt8mm/roi');
  await mkdir(roiDir, { recursive: true });
  await writeNifti(join(roiDir, 'nsdgeneral.nii.gz'), { shape: [NX, NY, NZ], data: nsdgeneral(), affine: affine() });
  await writeNifti(join(roiDir, 'prf-visualrois.nii.gz'), { shape: [NX, NY, NZ], data: prfLabels(), affine: affine() });
  await writeNifti(join(roiDir, 'streams.nii.gz'), { shape: [NX, NY, NZ], data: Int16Array.from({ length: N }, (_, i) => (i % 3 === 0 ? 2 : 0)), affine: affine() });
  const labelDir = join(root, 'nsddata/freesurfer/subj01/label');
  await mkdir(labelDir, { recursive: true });
  await writeFile(join(labelDir, 'prf-visualrois.mgz.ctab'), ['0 Unknown 0 0 0 0', ...PRF_LABELS.map((name, i) => `${i + 1} ${name} 10 20 30 0`)].join('\n') + '\n');
  const expDir = join(root, 'nsddata/experiments/nsd');
  await mkdir(expDir, { recursive: true });
  await writeFile(join(expDir, 'nsd_expdesign.mat'), matFile([
    compressed(int32Matrix('masterordering', [1, 30000], masterordering)),
    compressed(int32Matrix('subjectim', [8, 10000], columnMajor(subjectim))),
    compressed(int32Matrix('sharedix', [1, 1000], Array.from({ length: 1000 }, (_, j) => subjectim[0]![j]!))),
  ]));
  const csv = [',cocoId,cocoSplit,nsdId,shared1000'];
  for (let id = 0; id < BRICK; id++) csv.push(`${id},${5000 + id},${id % 2 ? 'val2017' : 'train2017'},${id},${id < 40 ? 'True' : 'False'}`);
  await writeFile(join(expDir, 'nsd_stim_info_merged.csv'), csv.join('\n') + '\n');
  const annotations = (odd: number) => ({
    annotations: Array.from({ length: BRICK }, (_, id) => id)
      .filter((id) => id % 2 === odd)
      .flatMap((id) => [{ image_id: 5000 + id, id: 2 * id, caption: `image ${id} first ` }, { image_id: 5000 + id, id: 2 * id + 1, caption: `image ${id} second` }]),
  });
  await mkdir(join(root, 'annotations'));
  await writeFile(join(root, 'annotations/captions_train2017.json'), JSON.stringify(annotations(0)));
  await writeFile(join(root, 'annotations/captions_val2017.json'), JSON.stringify(annotations(1)));
  const stimDir = join(root, 'nsddata_stimuli/stimuli/nsd');
  await mkdir(stimDir, { recursive: true });
  const brick = new Uint8Array(BRICK * IMG * IMG * 3);
  for (let id = 0; id < BRICK; id++) for (let p = 0; p < IMG * IMG; p++) for (let c = 0; c < 3; c++) brick[(id * IMG * IMG + p) * 3 + c] = Math.round(255 * colours[id]![c]!);
  const f = new h5.File(join(stimDir, 'nsd_stimuli.hdf5'), 'w');
  f.create_dataset({ name: 'imgBrick', data: brick, shape: [BRICK, IMG, IMG, 3], dtype: '<B', chunks: [1, IMG, IMG, 3] });
  f.close();
  return { root, colours, betas };
}

const affine = () => [[1.8, 0, 0, -5], [0, 1.8, 0, -4], [0, 0, 1.8, -3], [0, 0, 0, 1]];

function columnMajor(rows: number[][]): number[] {
  const out: number[] = [];
  for (let j = 0; j < rows[0]!.length; j++) for (const row of rows) out.push(row[j]!);
  return out;
}

// A minimal MATLAB Level-5 writer (int32 matrices, compressed), after the MAT-File Format specification.
function element(type: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + Math.ceil(payload.length / 8) * 8);
  const view = new DataView(out.buffer);
  view.setUint32(0, type, true);
  view.setUint32(4, payload.length, true);
  out.set(payload, 8);
  return out;
}

/** int32 class: Brain-Diffuser indexes NumPy arrays with these values, so the real file holds integers, not doubles. */
function int32Matrix(name: string, dims: number[], data: number[]): Uint8Array {
  const flags = new Uint8Array(8);
  new DataView(flags.buffer).setUint32(0, 12, true); // mxINT32_CLASS
  const dimBytes = new Uint8Array(4 * dims.length);
  dims.forEach((d, i) => new DataView(dimBytes.buffer).setInt32(4 * i, d, true));
  const values = new Uint8Array(new Int32Array(data).buffer);
  return element(14, Buffer.concat([element(6, flags), element(5, dimBytes), element(1, Buffer.from(name, 'latin1')), element(5, values)]));
}

function compressed(matrix: Uint8Array): Uint8Array {
  const z = deflateSync(matrix);
  const out = new Uint8Array(8 + z.length);
  new DataView(out.buffer).setUint32(0, 15, true);
  new DataView(out.buffer).setUint32(4, z.length, true);
  out.set(z, 8);
  return out;
}

function matFile(elements: Uint8Array[]): Uint8Array {
  const header = new Uint8Array(128).fill(0x20);
  header.set(Buffer.from('MATLAB 5.0 MAT-file, written by neurodecode nsd tests', 'latin1'));
  header.fill(0, 116, 124);
  new DataView(header.buffer).setUint16(124, 0x0100, true);
  header.set(Buffer.from('IM', 'latin1'), 126);
  return Buffer.concat([header, ...elements]);
}

function services(cacheDir: string | null = null, events?: ProgressEvent[]): PluginServices {
  return {
    log: silentLogger,
    progress: events ? createProgress((e) => events.push(e)) : silentProgress,
    linalg: createLinalg(),
    cache: new ArtifactCache(cacheDir, silentLogger),
  } as unknown as PluginServices;
}

let tmp: string;
let tree: Tree;

function dataset(options: Partial<NsdOptions>, s = services(), root = tree.root): NsdDataset {
  const validated = validateWithSchema<NsdOptions>(nsdOptionsSchema, { root, imageSize: 8, ...options }, 'nsd');
  return new NsdDataset(validated, s);
}

async function userError(promise: Promise<unknown>): Promise<UserError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UserError);
  return error as UserError;
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nd-nsd-'));
  tree = await writeTree(join(tmp, 'nsd'));
  // Writes the tree for the Python reference (test/fixtures/nsd/README.md); a no-op in normal runs.
  if (process.env.NSD_WRITE_TREE) await cp(tree.root, process.env.NSD_WRITE_TREE, { recursive: true });
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

interface Reference {
  train_im_idx: number[];
  test_im_idx: number[];
  train_fmri: number[][];
  test_fmri: number[][];
  num_voxel: number;
}

describe('nsd: Brain-Diffuser construction', () => {
  it("equals Brain-Diffuser's prepare_nsddata.py (÷300) on the miniature tree, rows and voxel order", async () => {
    const reference = JSON.parse(await readFile(new URL('../fixtures/nsd/reference.json', import.meta.url), 'utf8')) as Reference;
    const data = await dataset({ preset: 'brain-diffuser', sessions: SESSIONS }).load('1');
    expect(data.subject).toBe('subj01');
    expect(data.train.stimuli.ids).toEqual(reference.train_im_idx.map(String));
    expect(data.test.stimuli.ids).toEqual(reference.test_im_idx.map(String));
    expect(data.train.fmri.cols).toBe(reference.num_voxel);
    for (const [split, expected] of [[data.train, reference.train_fmri], [data.test, reference.test_fmri]] as const) {
      expect(split.fmri.rows).toBe(expected.length);
      let worst = 0;
      expected.forEach((row, r) => row.forEach((value, v) => (worst = Math.max(worst, Math.abs(split.fmri.data[r * split.fmri.cols + v]! - value)))));
      expect(worst).toBeLessThan(2e-6);
    }
    expect(Array.from(data.test.repeats).reduce((a, b) => a + b, 0)).toBe(SESSIONS * T / 5);
  });

  it("orders voxels natively (file order) or as Brain-Diffuser does, the same values permuted", async () => {
    const native = await dataset({ sessions: [1], voxelOrder: 'native' }).load('subj01');
    const bd = await dataset({ sessions: [1], voxelOrder: 'brain-diffuser' }).load('subj01');
    const mask = nsdgeneral();
    const nativeOrder = [...mask.keys()].filter((i) => mask[i]! > 0);
    const bdOrder: number[] = [];
    for (let x = 0; x < NX; x++) for (let y = 0; y < NY; y++) for (let z = 0; z < NZ; z++) if (mask[fileIndex(x, y, z)]! > 0) bdOrder.push(fileIndex(x, y, z));
    expect(bdOrder).not.toEqual(nativeOrder);
    const V = nativeOrder.length;
    // Row 0 of the native matrix, by hand: mean over the trials of the first train image, ÷300.
    const first = Number(native.train.stimuli.ids[0]);
    const { masterordering, subjectim } = design();
    const trials = [...Array(T).keys()].filter((t) => masterordering[t]! > 1000 && subjectim[0]![masterordering[t]! - 1]! - 1 === first);
    for (let c = 0; c < V; c++) {
      const mean = trials.reduce((sum, t) => sum + tree.betas[0]![t * N + nativeOrder[c]!]!, 0) / trials.length / 300;
      expect(native.train.fmri.data[c]).toBeCloseTo(mean, 5);
      expect(bd.train.fmri.data[bdOrder.indexOf(nativeOrder[c]!)]).toBe(native.train.fmri.data[c]);
    }
  });

  it("keeps single train trials in trial order with 'single-trials', test still averaged", async () => {
    const data = await dataset({ sessions: [2], repeats: 'single-trials', voxelOrder: 'native' }).load('subj01');
    const { masterordering, subjectim } = design();
    const trainTrials = [...Array(T).keys()].map((i) => T + i).filter((t) => masterordering[t]! > 1000);
    expect(data.train.fmri.rows).toBe(trainTrials.length);
    expect(Array.from(data.train.repeats).every((r) => r === 1)).toBe(true);
    expect(data.train.stimuli.ids).toEqual(trainTrials.map((t) => String(subjectim[0]![masterordering[t]! - 1]! - 1)));
    const mask = nsdgeneral();
    const firstVoxel = mask.findIndex((v) => v > 0);
    const t5 = trainTrials[5]!;
    expect(data.train.fmri.data[5 * data.train.fmri.cols]).toBeCloseTo(tree.betas[1]![(t5 - T) * N + firstVoxel]! / 300, 6);
    expect(new Set(data.test.stimuli.ids).size).toBe(data.test.fmri.rows);
  });

  it('plans hyperslab runs along x rows only', () => {
    // 6 voxels per x row: 4 joins [1, 3) across a gap, 6 starts row 1; with no gap allowed every gap splits.
    expect(planRuns(Int32Array.from([1, 2, 4, 6, 7, 12, 13]), 6, 100, 4)).toEqual([[1, 5], [6, 8], [12, 14]]);
    expect(planRuns(Int32Array.from([1, 2, 4, 6, 7, 12, 13]), 6, 100, 0)).toEqual([[1, 3], [4, 5], [6, 8], [12, 14]]);
    expect(planRuns(Int32Array.from([1, 2, 3, 4]), 6, 2)).toEqual([[1, 3], [3, 5]]);
  });
});

describe('nsd: atlas, stimuli, captions', () => {
  it('builds the ROI atlas from NIfTI + ctab within the mask, merging V1v+V1d into V1', async () => {
    const data = await dataset({ sessions: [1], voxelOrder: 'native', atlasRois: ['prf-visualrois', 'streams', 'floc-faces'] }).load('subj01');
    const mask = nsdgeneral();
    const columns = [...mask.keys()].filter((i) => mask[i]! > 0);
    const prf = prfLabels();
    const members = (label: number) => columns.flatMap((index, c) => (prf[index] === label ? [c] : []));
    PRF_LABELS.forEach((name, k) => expect(Array.from(data.atlas[name]!)).toEqual(members(k + 1)));
    expect(Array.from(data.atlas.V1!)).toEqual([...members(1), ...members(2)].sort((a, b) => a - b));
    expect(Array.from(data.atlas['prf-visualrois']!)).toEqual(columns.flatMap((index, c) => (prf[index]! > 0 ? [c] : [])));
    // No ctab for streams: labels are named <file>-<index>.
    expect(Array.from(data.atlas['streams-2']!)).toEqual(columns.flatMap((index, c) => (index % 3 === 0 ? [c] : [])));
    expect(data.atlas['floc-faces']).toBeUndefined();
    expect(parseCtab('#c\n0 Unknown 0 0 0 0\n 3 FFA-2  1 2 3 0\n')).toEqual(new Map([[0, 'Unknown'], [3, 'FFA-2']]));
  });

  it('reads the stimuli per image from imgBrick and joins COCO captions on cocoId', async () => {
    const data = await dataset({ sessions: [1], imageSize: 4 }).load('subj01');
    const ids = data.test.stimuli.ids.slice(0, 3);
    const images = await data.test.stimuli.images();
    expect([images.count, images.height, images.width, images.channels]).toEqual([data.test.fmri.rows, 4, 4, 3]);
    ids.forEach((id, k) => {
      for (let c = 0; c < 3; c++) expect(images.data[k * 48 + c]).toBeCloseTo(Math.round(255 * tree.colours[Number(id)]![c]!) / 255, 5);
    });
    const captions = await data.test.stimuli.captions!();
    expect(captions.slice(0, 3)).toEqual(ids.map((id) => [`image ${id} first`, `image ${id} second`]));
  });

  it("prefers Brain-Diffuser's COCO_73k_annots_curated.npy when given", async () => {
    const { encodeNpyStrings } = await import('../../core/io/npy.js');
    const path = join(tmp, 'COCO_73k_annots_curated.npy');
    const strings = Array.from({ length: BRICK }, (_, id) => [`a${id}`, `b${id}`, '', '', '']).flat();
    await writeFile(path, encodeNpyStrings({ shape: [BRICK, 5], strings }));
    const data = await dataset({ sessions: [1], captions: path }).load('subj01');
    const id = data.train.stimuli.ids[0]!;
    expect((await data.train.stimuli.captions!())[0]).toEqual([`a${id}`, `b${id}`]);
  });
});

describe('nsd: describe and bad input', () => {
  it('describes subjects, sessions, ROIs with voxel counts, images, captions and the missing files', async () => {
    const info = await dataset({}).describe();
    expect(info.subjects).toEqual(['subj01']);
    const mask = nsdgeneral();
    const summary = info.summaries[0]!;
    expect(summary.voxels).toBe(mask.filter((v) => v > 0).length);
    expect(summary.testItems).toBe(TEST_IMAGES);
    expect(summary.rois.V1v).toBeGreaterThan(0);
    expect(info.captions).toBe(true);
    const notes = info.notes.join('\n');
    expect(notes).toContain('subj01: sessions present 1–3; summary over sessions 1–3');
    expect(notes).toContain(`images: ${BRICK} in nsddata_stimuli/stimuli/nsd/nsd_stimuli.hdf5`);
    expect(notes).toContain("'nsddata/ppdata/subj01/func1pt8mm/roi/floc-faces.nii.gz' (subj01 atlas)");
    expect(notes).toContain("'nsddata/freesurfer/subj01/label/streams.mgz.ctab' (subj01 label names)");
    const bd = await dataset({ preset: 'brain-diffuser' }).describe();
    // The preset wants 37 sessions: the subject is still summarised over the 3 present, and the rest are listed.
    expect(bd.subjects).toEqual(['subj01']);
    expect(bd.summaries[0]!.testItems).toBe(TEST_IMAGES);
    expect(bd.notes.join('\n')).toContain("'nsddata_betas/ppdata/subj01/func1pt8mm/betas_fithrf_GLMdenoise_RR/betas_sessionNN.hdf5' (or .nii.gz) for NN = 4–37 (subj01 sessions 4–37)");
  });

  it('names the missing root, the missing file with the subject and session that needed it, and unknown subjects', async () => {
    expect((await userError(dataset({}, services(), join(tmp, 'nowhere')).load('1'))).where).toBe(join(tmp, 'nowhere'));
    const error = await userError(dataset({ sessions: 5 }).load('subj01'));
    expect(error.message).toContain('subj01 sessions 4–5');
    expect(error.message).toContain("'nsddata_betas/ppdata/subj01/func1pt8mm/betas_fithrf_GLMdenoise_RR/betas_sessionNN.hdf5' (or .nii.gz) for NN = 4–5");
    const one = await userError(dataset({ sessions: [1, 7] }).load('subj01'));
    expect(one.message).toContain("subj01 session 7: 'nsddata_betas/ppdata/subj01/func1pt8mm/betas_fithrf_GLMdenoise_RR/betas_session07.hdf5' (or .nii.gz)");
    expect((await userError(dataset({}).load('subj09'))).message).toContain("no subject 'subj09'");
    expect((await userError(dataset({}).load('subj02'))).message).toContain("missing 'nsddata/ppdata/subj02/func1pt8mm/roi/nsdgeneral.nii.gz'");
    expect((await userError(dataset({ roi: 'floc-faces' }).load('1'))).message).toContain("roi 'floc-faces'");
  });

  it('refuses a mask whose shape differs from the betas', async () => {
    const root = join(tmp, 'mismatch');
    await cp(tree.root, root, { recursive: true });
    await writeNifti(join(root, 'nsddata/ppdata/subj01/func1pt8mm/roi/nsdgeneral.nii.gz'), { shape: [NX, NY, NZ + 1], data: Int16Array.from({ length: N + NX * NY }, () => 1) });
    const error = await userError(dataset({ sessions: [1] }, services(), root).load('1'));
    expect(error.message).toMatch(/betas have spatial shape 6×5×4 but the mask is 6×5×5.*subj01 session 1/);
  });

  it('describe opens every session header: a truncated HDF5 or .nii.gz makes the subject unusable, with the file named', async () => {
    const root = join(tmp, 'truncated');
    await cp(tree.root, root, { recursive: true });
    const betaDir = join(root, 'nsddata_betas/ppdata/subj01/func1pt8mm/betas_fithrf_GLMdenoise_RR');
    await truncate(join(betaDir, 'betas_session02.hdf5'), 4096);
    const hdf5 = await dataset({}, services(), root).describe();
    expect(hdf5.subjects).toEqual([]);
    expect(hdf5.unusable!.subj01).toContain('betas_session02.hdf5');
    expect(hdf5.unusable!.subj01).toContain('subj01 session 2');
    const only3 = await dataset({ sessions: [3] }, services(), root).describe();
    expect(only3.subjects).toEqual(['subj01']);
    const nifti = join(betaDir, 'betas_session03.nii.gz');
    const bytes = await readFile(nifti);
    await writeFile(nifti, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const gz = await dataset({ sessions: [3] }, services(), root).describe();
    expect(gz.unusable!.subj01).toMatch(/betas_session03\.nii\.gz: truncated or damaged gzip data.*subj01 session 3/);
  });

  it("run reports why a subject is unusable (an empty nsdgeneral mask), with or without 'subjects'", async () => {
    const root = join(tmp, 'empty-mask');
    await cp(tree.root, root, { recursive: true });
    await writeNifti(join(root, 'nsddata/ppdata/subj01/func1pt8mm/roi/nsdgeneral.nii.gz'), { shape: [NX, NY, NZ], data: new Int16Array(N), affine: affine() });
    const core = await makeTestCore();
    try {
      const spec = (subjects?: string[]) =>
        parseSpecFile({ dataset: { id: 'nsd', options: { root, imageSize: 4 } }, ...(subjects ? { subjects } : {}), generator: 'pixels', mappers: { '*': 'ridge' }, metrics: ['mse'] }, 'p.json');
      await expect(new ExperimentRunner(core).run(spec(['subj01']))).rejects.toThrow(/cannot use subject 'subj01': .*nsdgeneral\.nii\.gz: mask selects no voxel/);
      await expect(new ExperimentRunner(core).run(spec())).rejects.toThrow(/dataset 'nsd' has no usable subject: subj01: .*mask selects no voxel/);
    } finally {
      await core.cleanup();
    }
  });

  it('resumes an interrupted preparation at the next session (session 1 from the cache, session 2 rebuilt)', async () => {
    const root = join(tmp, 'resume');
    await cp(tree.root, root, { recursive: true });
    const session2 = join(root, 'nsddata_betas/ppdata/subj01/func1pt8mm/betas_fithrf_GLMdenoise_RR/betas_session02.hdf5');
    const intact = await readFile(session2);
    await truncate(session2, 4096); // the preparation dies while reading session 2
    const cacheDir = join(tmp, 'resume-cache');
    await userError(dataset({ sessions: 2 }, services(cacheDir), root).load('1'));
    await writeFile(session2, intact);
    const events: ProgressEvent[] = [];
    const resumed = dataset({ sessions: 2 }, services(cacheDir, events), root);
    const data = await resumed.load('1');
    expect(Object.fromEntries(resumed.cacheOutcomes)).toEqual({ 'session 01': 'hit', 'session 02': 'miss', assembled: 'miss' });
    expect(events.filter((e) => e.type === 'tick')).toHaveLength(2);
    const again = dataset({ sessions: 2 }, services(cacheDir), root);
    expect(Array.from((await again.load('1')).train.fmri.data)).toEqual(Array.from(data.train.fmri.data));
    expect(again.cacheOutcomes.get('assembled')).toBe('hit');
    const fresh = await dataset({ sessions: 2 }, services(null), root).load('1');
    expect(Array.from(fresh.train.fmri.data)).toEqual(Array.from(data.train.fmri.data));
  });
});

describe('nsd through core', () => {
  it('runs ridge → pixels on the miniature tree', async () => {
    const core = await makeTestCore();
    try {
      const spec = parseSpecFile(
        {
          pipelines: [
            {
              name: 'nsd',
              dataset: { id: 'nsd', options: { root: tree.root, sessions: SESSIONS, imageSize: 4 } },
              subjects: ['subj01'],
              generator: 'pixels',
              mappers: { '*': { id: 'ridge', options: { alpha: 1 } } },
              metrics: ['mse', 'pixcorr'],
            },
          ],
        },
        'test',
      );
      const result = await new ExperimentRunner(core).run(spec);
      expect(result.outcomes[0]!.voxels).toBe(nsdgeneral().filter((v) => v > 0).length);
      const mse = result.rows.find((r) => r.metric === 'mse')!;
      // Voxels are linear in the image colour: ridge beats the mean image by far.
      expect(mse.value!).toBeLessThan(0.2 * mse.trivial!);
    } finally {
      await core.cleanup();
    }
  });
});
