/**
 * `export` and `predict` as a user runs them: a run's fitted mappers copied out of the cache, then used on the raw
 * test fMRI of the same dataset (its dead voxel still NaN, every voxel column present) must give the run's own
 * predictions — through preprocessing's dropped voxel and a ROI restriction.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNpy, writeNpy } from '../../core/io/npy.js';
import type { SubjectData } from '../../core/contracts.js';
import { makeTestCore } from '../helpers/core.js';
import { runCli } from '../helpers/cli.js';

const DATASET = { id: 'synthetic', options: { subjects: 1, trainImages: 60, testImages: 12, imageSize: 32, voxels: 300 } };
const EXPERIMENT = {
  name: 'export',
  pipelines: [
    { name: 'ridge→pixels', dataset: DATASET, generator: 'pixels', mappers: { '*': { id: 'ridge', options: { alpha: 10 } } }, metrics: ['mse'] },
    // V2 and hV4 only: columns from two separate stretches of the voxel matrix.
    { name: 'ridge→pca', dataset: DATASET, generator: 'pca', mappers: { '*': { id: 'ridge', options: { alpha: 1 }, rois: ['V2', 'hV4'] } }, metrics: ['mse'] },
  ],
};

let cwd: string;
let raw: SubjectData;
const cli = (args: string[]) => runCli(args, cwd);
const models = () => join(cwd, 'models');

/** The run's own predictions of a space: the `predictions` cache entry whose key describes that space. */
async function runPredictions(space: string): Promise<{ rows: number; cols: number; data: Float32Array }> {
  const dir = join(cwd, 'cache', 'predictions');
  for (const key of await readdir(dir)) {
    const seal = JSON.parse(await readFile(join(dir, key, 'sealed.json'), 'utf8')) as { description: string };
    if ((JSON.parse(seal.description) as { space: string }).space !== space) continue;
    const a = await readNpy(join(dir, key, 'prediction.npy'));
    return { rows: a.shape[0]!, cols: a.shape[1]!, data: a.data as Float32Array };
  }
  throw new Error(`no predictions of ${space}`);
}

async function writeFmri(name: string, rows: number, cols: number, data: Float32Array | Float64Array): Promise<string> {
  const file = join(cwd, name);
  await writeNpy(file, { shape: [rows, cols], data });
  return file;
}

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'nd-export-'));
  await writeFile(join(cwd, 'experiment.json'), JSON.stringify(EXPERIMENT));
  const run = await cli(['run', '--pipeline', join(cwd, 'experiment.json'), '--out', join(cwd, 'results')]);
  expect(run.code, run.stderr).toBe(0);
  const core = await makeTestCore({ cacheDir: null });
  try {
    raw = await (await core.registry.create('dataset', DATASET.id, DATASET.options)).instance.load('subj01');
  } finally {
    await core.cleanup();
  }
}, 120_000);
afterAll(() => rm(cwd, { recursive: true, force: true }));

describe('export and predict', () => {
  it("exports every fitted mapper, and predict on the raw test fMRI gives the run's predictions", async () => {
    const exported = await cli(['export', '--run', join(cwd, 'results'), '--out', models(), '--json']);
    expect(exported.code, exported.stderr).toBe(0);
    const out = JSON.parse(exported.stdout) as { models: string[] };
    expect(out.models).toEqual([join(models(), 'ridge→pixels', 'subj01', 'pixels'), join(models(), 'ridge→pca', 'subj01', 'pca')]);

    const { rows, cols, data } = raw.test.fmri;
    // The raw matrix still holds the voxel preprocessing dropped: predict must cut it away as the run did.
    expect(data.some((v) => !Number.isFinite(v))).toBe(true);
    const fmri = await writeFmri('test-fmri.npy', rows, cols, Float64Array.from(data)); // float64, as NumPy writes by default
    for (const [pipeline, space, dims] of [['ridge→pixels', 'pixels', 32 * 32 * 3], ['ridge→pca', 'pca', 59]] as const) {
      const folder = join(models(), pipeline, 'subj01', space);
      const mapper = JSON.parse(await readFile(join(folder, 'mapper.json'), 'utf8')) as {
        mapper: { id: string; plugin: string; code: string };
        voxels: { of: number; ranges: number[][]; rois?: string[] };
        dataset: { id: string; subject: string; options: Record<string, unknown> };
      };
      expect(mapper.mapper).toMatchObject({ id: 'ridge', plugin: 'neurodecode-ridge', code: expect.stringMatching(/^[0-9a-f]{16}$/) });
      expect(mapper.dataset).toMatchObject({ id: 'synthetic', subject: 'subj01', options: expect.objectContaining(DATASET.options) });
      expect(mapper.voxels.of).toBe(cols);
      const used = mapper.voxels.ranges.reduce((n, [s, e]) => n + e! - s!, 0);
      if (space === 'pca') {
        expect(mapper.voxels.rois).toEqual(['V2', 'hV4']);
        expect(used).toBeLessThan(cols / 2);
      } else {
        expect(used).toBe(cols - 1); // the one dead voxel
      }

      const file = join(cwd, `${space}.npy`);
      const r = await cli(['predict', '--model', folder, '--fmri', fmri, '--out', file]);
      expect(r.code, r.stderr).toBe(0);
      const predicted = await readNpy(file);
      expect(predicted.shape).toEqual([rows, dims]);
      expect(predicted.data).toBeInstanceOf(Float32Array);
      const expected = await runPredictions(space);
      expect([expected.rows, expected.cols]).toEqual([rows, dims]);
      let worst = 0;
      for (let i = 0; i < expected.data.length; i++) worst = Math.max(worst, Math.abs(predicted.data[i]! - expected.data[i]!));
      expect(worst).toBeLessThan(1e-6);
      // Real predictions, not a constant: they vary across items.
      expect(Math.abs(predicted.data[0]! - predicted.data[dims]!)).toBeGreaterThan(1e-4);
    }
  }, 120_000);

  it('exports a model that ridge fitted a column block at a time into its cache entry (targetBlockColumns)', async () => {
    const dir = join(cwd, 'blocks');
    await mkdir(dir);
    await writeFile(join(dir, 'neurodecode.config.json'), JSON.stringify({ targetBlockColumns: 1024 }));
    await writeFile(join(dir, 'pixels.json'), JSON.stringify(EXPERIMENT.pipelines[0]));
    const run = await runCli(['run', '--pipeline', 'pixels.json', '--out', 'results'], dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/pixels: 3 column blocks of 1024 streamed from disk/);
    expect((await runCli(['export', '--run', 'results'], dir)).code).toBe(0);
    const { rows, cols, data } = raw.test.fmri;
    const fmri = await writeFmri('blocks/test-fmri.npy', rows, cols, data);
    const r = await runCli(['predict', '--model', join('results', 'models', 'ridge→pixels', 'subj01', 'pixels'), '--fmri', fmri], dir);
    expect(r.code, r.stderr).toBe(0);
    const predicted = (await readNpy(join(dir, 'test-fmri.pixels.npy'))).data;
    const predictions = join(dir, 'cache', 'predictions');
    const [key] = await readdir(predictions);
    const expected = (await readNpy(join(predictions, key!, 'prediction.npy'))).data;
    expect(predicted.length).toBe(rows * 32 * 32 * 3);
    let worst = 0;
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(predicted[i]! - expected[i]!));
    expect(worst).toBeLessThan(1e-6);
  }, 60_000);

  it('refuses fMRI of the wrong width and a NaN in a voxel the model uses, naming the file', async () => {
    const folder = join(models(), 'ridge→pixels', 'subj01', 'pixels');
    const { rows, cols, data } = raw.test.fmri;
    const narrow = await writeFmri('narrow.npy', rows, cols - 1, data.slice(0, rows * (cols - 1)));
    const wide = await cli(['predict', '--model', folder, '--fmri', narrow]);
    expect(wide.code).toBe(1);
    expect(wide.stderr).toContain(`${narrow}: ${cols - 1} voxel columns per item, but the model expects ${cols}`);

    const bad = Float32Array.from(data);
    const used = data.findIndex((v, i) => i >= cols && Number.isFinite(v)); // row 1's first usable voxel
    bad[used] = Number.NaN;
    const nan = await writeFmri('nan.npy', rows, cols, bad);
    const r = await cli(['predict', '--model', folder, '--fmri', nan]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${nan}: non-finite value (NaN) at row 1, column ${used - cols}, a voxel the model uses`);
    expect(existsSync(join(cwd, 'nan.pixels.npy'))).toBe(false);
  }, 60_000);

  it('refuses a folder that is not an exported model, and a model file altered after export', async () => {
    const fmri = join(cwd, 'test-fmri.npy');
    const notModel = await cli(['predict', '--model', join(cwd, 'results'), '--fmri', fmri]);
    expect(notModel.code).toBe(1);
    expect(notModel.stderr).toContain(`${join(cwd, 'results')}: not an exported model folder: it has no mapper.json`);

    const folder = join(models(), 'ridge→pca', 'subj01', 'pca');
    await writeFile(join(folder, 'model', 'ridge.json'), '{}');
    const altered = await cli(['predict', '--model', folder, '--fmri', fmri]);
    expect(altered.code).toBe(1);
    expect(altered.stderr).toContain(`${folder}: model/ridge.json does not match its size and SHA-256 in mapper.json`);
  }, 60_000);

  it('names a mapper no longer in the cache, and a run made with --no-cache, saying to rerun without --no-cache', async () => {
    const again = await cli(['export', '--run', join(cwd, 'results'), '--out', models()]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exported here: pass --force/);

    expect((await cli(['cache', 'clean', '--kind', 'mappers'])).code).toBe(0);
    const gone = await cli(['export', '--run', join(cwd, 'results'), '--out', join(cwd, 'models-2')]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/results\.json: \/outcomes\/0\/mappers\/0: mapper 'ridge' → pixels of ridge→pixels \(subj01\) is no longer in the cache \(mappers\/[0-9a-f]{32} under /);
    expect(gone.stderr).toMatch(/run the experiment again without --no-cache/);

    const uncached = await cli(['run', '--pipeline', join(cwd, 'experiment.json'), '--out', join(cwd, 'uncached'), '--no-cache']);
    expect(uncached.code, uncached.stderr).toBe(0);
    const r = await cli(['export', '--run', join(cwd, 'uncached')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/mapper 'ridge' → pixels of ridge→pixels \(subj01\) was fitted with --no-cache, so no fitted model was kept: run the experiment again without --no-cache/);
  }, 120_000);
});
