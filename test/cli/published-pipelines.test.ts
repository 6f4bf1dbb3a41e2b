/**
 * The published pipeline files (cli/experiments/brain-diffuser.json, gru-two-stage.json, mind-reader.json) as a user
 * runs them: `compare <file> --dataset <small synthetic> --limit 4` through the built CLI, the model names of the
 * files pointed to the tiny model folders by neurodecode.config.json.
 *
 * The files keep the papers' settings; a test first checks that they do. Two settings are then made small in a copy
 * of each file, because the tiny models are not where the time goes — they already have the sizes the defaults
 * expect (VDVAE's real 13,344 / 91,168 latents, Versatile Diffusion encoding 512² inits, 512-d Lafite conditioning):
 * - Versatile Diffusion's `initSize` 512 → 64: at 512² the tiny UNet runs 37 guided steps on a 64×64 latent, whose
 *   level-0 self-attention spans 4,096 positions — about 20 s per item on 2 cores (measured), ×(items + floor) × 3
 *   pipelines. The 50 DDIM steps, strength, guidance and mix stay the paper's.
 * - Mind Reader's CNN (64 channels over 15,744 padded positions, 40 epochs, two targets): about 20 s per epoch on
 *   tfjs-wasm with 36 training rows, i.e. half an hour; here the e2e test's tiny width, no padding, 2 epochs.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSpecFile, type PipelineSpec } from '../../core/pipeline.js';
import type { MetricRow } from '../../core/runner.js';
import { runCli } from '../helpers/cli.js';
import { writeMetricModels } from '../helpers/models.js';
import { writeLafiteModels } from '../helpers/tiny-lafite.js';
import { writeTinyVdvae } from '../helpers/tiny-vdvae.js';
import { writeTinyVersatileDiffusion } from '../helpers/tiny-versatile-diffusion.js';

type Row = MetricRow;
interface Outcome {
  pipeline: string;
  trainItems: number;
  mappers: Array<{ space: string; mapper: string; summary: Record<string, unknown> }>;
}
interface Result {
  rows: Row[];
  outcomes: Outcome[];
  files: string[];
}

const DATASET = JSON.stringify({ id: 'synthetic', options: { subjects: 1, trainImages: 40, testImages: 6, voxels: 200, imageSize: 32 } });
const LIMIT = 4;

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nd-published-'));
  const models = {
    ...(await writeMetricModels(join(tmp, 'models'))),
    ...(await writeLafiteModels(join(tmp, 'models'))),
    vdvae: await writeTinyVdvae(join(tmp, 'models', 'vdvae')),
    'versatile-diffusion': await writeTinyVersatileDiffusion(join(tmp, 'models', 'versatile-diffusion')),
  };
  await writeFile(join(tmp, 'neurodecode.config.json'), JSON.stringify({ models }));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

type RawPipeline = { generator: { options: Record<string, Record<string, unknown>> }; mappers: Record<string, { options: Record<string, unknown> }> };
const readRaw = async (file: string) => JSON.parse(await readFile(`cli/experiments/${file}`, 'utf8')) as RawPipeline & { pipelines?: RawPipeline[] };
const pipelinesOf = async (file: string): Promise<PipelineSpec[]> => parseSpecFile(await readRaw(file), file).pipelines;

/** The file copied into tmp with `shrink` applied to each pipeline (see the header for why). */
async function smallCopy(file: string, shrink: (p: RawPipeline) => void): Promise<string> {
  const raw = await readRaw(file);
  for (const p of raw.pipelines ?? [raw]) shrink(p);
  await writeFile(join(tmp, file), JSON.stringify(raw));
  return file;
}
const smallInit = (p: RawPipeline) => Object.assign(p.generator.options.versatileDiffusion!, { initSize: 64 });

async function compare(file: string, out: string, extra: string[] = []): Promise<{ result: Result; stderr: string }> {
  const run = await runCli(['compare', file, '--dataset', DATASET, '--limit', String(LIMIT), '--json', '--out', out, ...extra], tmp);
  expect(run.code, run.stderr).toBe(0);
  return { result: JSON.parse(run.stdout) as Result, stderr: run.stderr };
}

const BRAIN_DIFFUSER_TABLE = ['pixcorr', 'ssim-columns', 'alexnet-2', 'alexnet-5', 'inception', 'clip', 'effnet-b', 'swav'];

/** Every row of the pipeline finite, its value and its trivial floor, each row on the --limit items. */
function expectFinite(rows: Row[]): void {
  expect(rows.length).toBeGreaterThan(0);
  for (const r of rows) {
    expect(Number.isFinite(r.value), `${r.pipeline} ${r.target} ${r.metric}`).toBe(true);
    expect(Number.isFinite(r.trivial), `${r.pipeline} ${r.target} ${r.metric} trivial`).toBe(true);
    if (r.target === 'image' || r.target === 'stage 1') expect(r.limited).toEqual({ items: LIMIT, of: 6 });
  }
}

describe('published pipelines', () => {
  it("the files hold the papers' settings and the generators' default model names", async () => {
    const [bd] = await pipelinesOf('brain-diffuser.json');
    const gru = await pipelinesOf('gru-two-stage.json');
    const [mr] = await pipelinesOf('mind-reader.json');
    const ridge = (alpha: number) => ({ id: 'ridge', options: { alpha, restandardizePredictions: true } });
    expect(bd!.mappers).toMatchObject({ vdvae: ridge(50_000), 'clip-text': ridge(100_000), 'clip-vision': ridge(60_000) });
    expect(bd!.generator).toMatchObject({ id: 'brain-diffuser', options: { vdvae: { model: 'vdvae', layers: 31 }, versatileDiffusion: { model: 'versatile-diffusion' } } });
    expect(gru.map((p) => p.generator.options.vdvae)).toEqual([{ model: 'vdvae', layers: 15 }, { model: 'vdvae', layers: 31 }]);
    for (const p of gru) expect(p.mappers).toMatchObject({ vdvae: { id: 'gru', options: {} }, 'clip-text': ridge(100_000), 'clip-vision': ridge(60_000) });
    for (const p of [bd!, ...gru]) {
      expect(p.dataset).toMatchObject({ id: 'nsd', options: { preset: 'brain-diffuser' } });
      expect(p.metrics.map((m) => [m.id, m.options.convention, m.set])).toEqual(BRAIN_DIFFUSER_TABLE.map((id) => [id, 'brain-diffuser', '@brain-diffuser']));
    }
    expect(mr!.generator).toEqual(expect.objectContaining({ id: 'lafite', options: { model: 'lafite-mind-reader', clipModel: 'clip-vit-base-patch32' } }));
    expect(Object.values(mr!.mappers).map((m) => m.options)).toEqual([{ preset: 'mind-reader' }, { preset: 'mind-reader' }]);
    expect(mr!.metrics.map((m) => m.id)).toEqual(['fid', 'n-way', 'retrieval-forward', 'retrieval-backward']);
    for (const p of [bd!, ...gru, mr!]) expect(p.subjects).toEqual(['subj01']);
  });

  it('brain-diffuser.json: one ridge per space, the paper table on both stages, results.json written', async () => {
    const { result } = await compare(await smallCopy('brain-diffuser.json', smallInit), 'bd');
    const [outcome] = result.outcomes;
    expect(outcome!.mappers.map((m) => [m.space, m.mapper, m.summary.alpha])).toEqual([
      ['vdvae', 'ridge', 50_000],
      ['clip-vision', 'ridge', 60_000],
      ['clip-text', 'ridge', 100_000],
    ]);
    const rows = result.rows;
    expect(rows.filter((r) => r.target === 'image').map((r) => r.metric)).toEqual(BRAIN_DIFFUSER_TABLE);
    expect(rows.filter((r) => r.target === 'stage 1').map((r) => r.metric)).toEqual(BRAIN_DIFFUSER_TABLE);
    expectFinite(rows);
    expect(result.files.some((f) => f.endsWith('results.json') && existsSync(f))).toBe(true);
    // The report's item grid has the stage-1 (VDVAE) images before the final ones, one file per item.
    const manifest = JSON.parse(await readFile(join(tmp, 'bd', 'images', 'index.json'), 'utf8')) as { groups: Array<{ columns: Array<{ stage?: string; files: string[] }> }> };
    expect(manifest.groups[0]!.columns.map((c) => [c.stage ?? 'final', c.files.length])).toEqual([['stage 1', LIMIT], ['final', LIMIT]]);
  }, 300_000);

  it('gru-two-stage.json: both GRU pipelines, 13,344 and 91,168 VDVAE targets, stage 1 rows', async () => {
    const { result, stderr } = await compare(await smallCopy('gru-two-stage.json', smallInit), 'gru');
    const names = ['GRU two-stage, VDVAE 15 layers (13,344 latents)', 'GRU two-stage, VDVAE 31 layers (91,168 latents)'];
    expect(result.outcomes.map((o) => o.pipeline)).toEqual(names);
    for (const o of result.outcomes) expect(o.mappers.map((m) => [m.space, m.mapper])).toEqual([['vdvae', 'gru'], ['clip-vision', 'ridge'], ['clip-text', 'ridge']]);
    // 40 training images × 218 voxels (the simulation's "voxels": 200) → the VDVAE latents of 15 / 31 layers.
    expect(stderr).toContain(`[${names[0]} · subj01] fitting gru → vdvae (40 × 218 → 13344)`);
    expect(stderr).toContain(`[${names[1]} · subj01] fitting gru → vdvae (40 × 218 → 91168)`);
    // Table 1's network at 218 voxels: 2 BiGRU(100) 192,000 + 181,200, LayerNorms 800, Dense 200 40,200, BatchNorm
    // 400, output Dense 200·d + d — 2,682,144 for d = 13,344 and 18,324,768 for d = 91,168.
    expect(result.outcomes.map((o) => o.mappers[0]!.summary.parameters)).toEqual([3_096_744, 18_739_368]);
    for (const name of names) {
      const rows = result.rows.filter((r) => r.pipeline === name);
      expect(rows.filter((r) => r.target === 'stage 1').map((r) => r.metric)).toEqual(BRAIN_DIFFUSER_TABLE);
      expect(rows.filter((r) => r.target === 'image').map((r) => r.metric)).toEqual(BRAIN_DIFFUSER_TABLE);
      expectFinite(rows);
    }
    expect(existsSync(join(tmp, 'gru', 'results.json'))).toBe(true);
  }, 300_000);

  it("mind-reader.json: cnn → clip-image and clip-text, Lafite, @mind-reader; n-way is n/a on 4 items, saying it needs 50", async () => {
    const tiny = { channels: 4, headHidden: 8, padTo: 0, epochs: 2, batchSize: 16 };
    const file = await smallCopy('mind-reader.json', (p) => Object.values(p.mappers).forEach((m) => Object.assign(m.options, tiny)));
    const { result, stderr } = await compare(file, 'mr');
    expect(result.outcomes[0]!.mappers.map((m) => [m.space, m.mapper]).sort()).toEqual([['clip-image', 'cnn'], ['clip-text', 'cnn']]);
    const nWay = result.rows.find((r) => r.metric === 'n-way')!;
    expect(nWay).toMatchObject({ target: 'image', value: null, trivial: null, note: '50-way' });
    expect(nWay.problem).toBe(`50-way needs ≥ 50 test images, ${LIMIT} here (option n ≤ ${LIMIT} for a ${LIMIT}-way score)`);
    expect(stderr).toMatch(/warning: n-way on image: 50-way needs ≥ 50 test images, 4 here .*; reported as n\/a/);
    const others = result.rows.filter((r) => r !== nWay);
    expect(new Set(others.map((r) => r.metric))).toEqual(new Set(['fid', 'retrieval-forward', 'retrieval-backward']));
    expect(others.filter((r) => r.metric.startsWith('retrieval')).every((r) => r.note === `${LIMIT}-way`)).toBe(true);
    expectFinite(others);
    expect(existsSync(join(tmp, 'mr', 'results.json'))).toBe(true);
  }, 300_000);
});

describe('--dataset', () => {
  const pixels = { name: 'ridge→pixels', dataset: 'nsd', generator: 'pixels', mappers: { '*': 'ridge' }, metrics: ['mse'] };
  const synthetic = (seed: number) => JSON.stringify({ id: 'synthetic', options: { seed, subjects: 1, trainImages: 20, testImages: 4, voxels: 200, imageSize: 32 } });

  it('given twice, every pipeline runs on each, named after its dataset; the options reach the dataset; a file after the flag stays a file', async () => {
    await writeFile(join(tmp, 'pixels.json'), JSON.stringify(pixels));
    await writeFile(join(tmp, 'second.json'), JSON.stringify({ ...pixels, name: 'second' }));
    const run = await runCli(['compare', 'pixels.json', '--dataset', synthetic(1), '--dataset', synthetic(2), 'second.json', '--json', '--out', 'two'], tmp);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as Result;
    expect(result.outcomes.map((o) => o.pipeline)).toEqual(['ridge→pixels (synthetic)', 'second (synthetic)', 'ridge→pixels (synthetic #2)', 'second (synthetic #2)']);
    expect(result.outcomes.map((o) => o.trainItems)).toEqual([20, 20, 20, 20]);
    const mse = result.rows.filter((r) => r.metric === 'mse').map((r) => r.value);
    expect(mse[1]).toBe(mse[0]); // the same pipeline on one simulation
    expect(mse[2]).not.toBe(mse[0]); // two simulations (seeds 1 and 2), not one twice
    // Their items share ids but not images: each dataset has its own baseline and its own grid.
    const comparisons = (JSON.parse(run.stdout) as { comparisons: Array<{ pipeline: string; baseline: string }> }).comparisons;
    expect(comparisons.map((c) => [c.pipeline, c.baseline])).toEqual([
      ['second (synthetic)', 'ridge→pixels (synthetic)'],
      ['second (synthetic #2)', 'ridge→pixels (synthetic #2)'],
    ]);
    expect(result.files.filter((f) => f.endsWith('.png')).map((f) => f.slice(f.lastIndexOf('/') + 1))).toEqual(['grid-subj01.png', 'grid-subj01-dataset2.png']);
  }, 120_000);

  it.each([
    ['{"id": "synthetic",', /^Error: --dataset: not valid JSON/],
    ['{"name": "synthetic"}', /^Error: --dataset: unknown key "name"; expected \{"id": …, "options": \{…\}\}/],
    ['{"id": "synthetic", "options": []}', /^Error: --dataset: "options" of 'synthetic' must be an object/],
    ['{"id": "synthetic", "options": {"voxels": 5}}', /^Error: --dataset synthetic: dataset 'synthetic' options: \/voxels: must be >= 200/],
    ['synthetc', /^Error: --dataset synthetc: .*'synthetic'/],
  ])('%s is refused naming the flag', async (value, message) => {
    await writeFile(join(tmp, 'pixels.json'), JSON.stringify(pixels));
    const run = await runCli(['compare', 'pixels.json', '--dataset', value], tmp);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
  });
});
