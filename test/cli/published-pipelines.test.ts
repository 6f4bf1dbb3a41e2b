/**
 * The published methods as a user runs them all: ONE `compare --preset published` through the built CLI on two small
 * simulated datasets (two subjects at 40², one at 32²), `--limit 2`, the preset files' model names pointed to the
 * tiny model folders by neurodecode.config.json, and `--set` for the settings that hold no model size.
 *
 * The files keep the papers' settings; a test first checks that they do. The tiny models already have the sizes the
 * defaults expect (VDVAE's real 13,344 / 91,168 latents, Versatile Diffusion encoding 512² inits, 512-d Lafite
 * conditioning, SD's 77 × 768 c), so the time goes elsewhere, and only that is made small:
 * - Versatile Diffusion's `initSize` 512 → 64: at 512² the tiny UNet runs 37 guided steps on a 64×64 latent, whose
 *   level-0 self-attention spans 4,096 positions — about 20 s per item on 2 cores (measured), ×(items + floor) ×
 *   3 pipelines × 3 subjects. The 50 DDIM steps, strength, guidance and mix stay the paper's.
 * - Stable Diffusion: z at 40², a 64² init, 10 steps, 2 samples (takagi and hou-khoshnoo; strength, guidance and the
 *   presets' scoring stay); every pipeline's trivial floor on 2 items.
 * - The CNN / VAE / ChebNet-GCN mappers (Mind Reader's CNN: 64 channels over 15,744 padded positions, 40 epochs —
 *   about 20 s per epoch on tfjs-wasm with 36 rows, half an hour; seed 001's networks likewise): tiny widths, no
 *   padding, 2 epochs. The GRU keeps Table 1's network and trains 2 epochs (of 50, with early stopping): six GRU
 *   fits here, about 20 s of the run at 40 rows otherwise. Ridge and the ROIs stay as the files have them.
 * One run replaces the earlier five (each file on its own, and small copies of takagi and hou-khoshnoo), in about
 * the same wall time: it validates the models once, and 20 training images per subject keep it there.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishedComparison } from '../../cli/published-table.js';
import { parseSpecFile, type ExperimentSpec, type PipelineSpec } from '../../core/pipeline.js';
import type { MetricRow, PipelineOutcome } from '../../core/runner.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { writeMetricModels } from '../helpers/models.js';
import { writeLafiteModels } from '../helpers/tiny-lafite.js';
import { writeTinyStableDiffusion } from '../helpers/tiny-stable-diffusion.js';
import { writeTinyVdvae } from '../helpers/tiny-vdvae.js';
import { writeTinyVersatileDiffusion } from '../helpers/tiny-versatile-diffusion.js';

type Row = MetricRow;
type Outcome = Pick<PipelineOutcome, 'pipeline' | 'subject' | 'trainItems' | 'voxels' | 'provenance'> & {
  mappers: Array<{ space: string; mapper: string; summary: Record<string, unknown> }>;
};

const LIMIT = 2;
/** First dataset (names get ` (synthetic)`): two subjects, for the mean over subjects. */
const TWO_SUBJECTS = { id: 'synthetic', options: { subjects: 2, trainImages: 20, testImages: 6, voxels: 200, imageSize: 40 } };
/**
 * Second dataset (` (synthetic #2)`): one subject at 32². At 200 voxels its c ROIs have 63 voxels for 20 training
 * rows, where Takagi's ridge (alphas from 10⁻⁶, no intercept, z-scored voxels: an exactly singular kernel) once failed
 * ("K + alpha·I is not positive definite even in float64"); it now fits at the kernel's round-off floor.
 */
const ONE_SUBJECT = { id: 'synthetic', options: { subjects: 1, trainImages: 20, testImages: 6, voxels: 200, imageSize: 32 } };
const A = ' (synthetic)';
const B = ' (synthetic #2)';

/** The compute-only settings (see the header), as a user would give them. */
const SETTINGS = [
  'brain-diffuser.versatileDiffusion.initSize=64',
  'stable-diffusion.resolution=40',
  'stable-diffusion.initSize=64',
  'stable-diffusion.steps=10',
  'stable-diffusion.samples=2',
  'trivialItems=2',
  'cnn.channels=4',
  'cnn.headHidden=8',
  'cnn.hiddenSizes=[16]',
  'cnn.padTo=0',
  'cnn.epochs=2',
  'cnn.batchSize=16',
  'vae.encoderWidths=[16, 8]',
  'vae.decoderWidth=16',
  'vae.epochs=2',
  'vae.batchSize=16',
  'chebnet-gcn.hidden=8',
  'chebnet-gcn.convChannels=4',
  'chebnet-gcn.dense=16',
  'chebnet-gcn.epochs=2',
  'chebnet-gcn.batchSize=16',
  'chebnet-gcn.emptyGraph="allow"',
  'gru.epochs=2',
];

const BD = 'Brain-Diffuser (Ozcelik & VanRullen 2023): ridge → VDVAE 31 layers → Versatile Diffusion';
const GRU = ['GRU two-stage, VDVAE 15 layers (13,344 latents)', 'GRU two-stage, VDVAE 31 layers (91,168 latents)'];
const MR = 'Mind Reader (Lin, Sprague & Singh 2022): cnn (mind-reader preset) → Lafite';
const TAKAGI = 'Takagi & Nishimoto (CVPR 2023): ridge, early stream → z, ventral stream → c, Stable Diffusion img2img';
const HK = ['Hou & Khoshnoo, cnn → z', 'Hou & Khoshnoo, vae → z', 'Hou & Khoshnoo, chebnet-gcn → z'];
const METHODS = [BD, ...GRU, MR, TAKAGI, ...HK];

const BRAIN_DIFFUSER_TABLE = ['pixcorr', 'ssim-columns', 'alexnet-2', 'alexnet-5', 'inception', 'clip', 'effnet-b', 'swav'];

let tmp: string;
let run: CliResult;
let rows: Row[];
let outcomes: Outcome[];
let experiment: ExperimentSpec;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nd-published-'));
  const models = {
    ...(await writeMetricModels(join(tmp, 'models'))),
    ...(await writeLafiteModels(join(tmp, 'models'))),
    vdvae: await writeTinyVdvae(join(tmp, 'models', 'vdvae')),
    'versatile-diffusion': await writeTinyVersatileDiffusion(join(tmp, 'models', 'versatile-diffusion')),
    'stable-diffusion': await writeTinyStableDiffusion(join(tmp, 'models', 'sd')),
  };
  await writeFile(join(tmp, 'neurodecode.config.json'), JSON.stringify({ models }));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

type RawPipeline = { generator: { options: Record<string, Record<string, unknown>> }; mappers: Record<string, { options: Record<string, unknown> }> };
const readRaw = async (file: string) => JSON.parse(await readFile(`cli/experiments/${file}`, 'utf8')) as RawPipeline & { pipelines?: RawPipeline[] };
const pipelinesOf = async (file: string): Promise<PipelineSpec[]> => parseSpecFile(await readRaw(file), file).pipelines;

describe('published pipeline files', () => {
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
});

/** Every row finite, its value and its trivial floor, each image row on the --limit items. */
function expectFinite(these: Row[]): void {
  expect(these.length).toBeGreaterThan(0);
  for (const r of these) {
    expect(Number.isFinite(r.value), `${r.pipeline} ${r.subject} ${r.target} ${r.metric}`).toBe(true);
    expect(Number.isFinite(r.trivial), `${r.pipeline} ${r.subject} ${r.target} ${r.metric} trivial`).toBe(true);
    if (r.target === 'image' || r.target === 'stage 1') expect(r.limited).toEqual({ items: LIMIT, of: 6 });
  }
}

const rowsOf = (pipeline: string, subject?: string) => rows.filter((r) => r.pipeline === pipeline && (subject === undefined || r.subject === subject));
const outcomeOf = (pipeline: string, subject = 'subj01') => outcomes.find((o) => o.pipeline === pipeline && o.subject === subject)!;
/** The `fitting <mapper> → <space> (<rows> × <columns> → <targets>)` lines of one pipeline on one subject. */
const fitsOf = (pipeline: string, subject = 'subj01') =>
  [...run.stderr.matchAll(/^\[(.+) · (subj\d+)\] fitting ([\w-]+) → ([\w-]+) \((\d+) × (\d+) → (\d+)\)$/gm)]
    .filter((m) => m[1] === pipeline && m[2] === subject)
    .map((m) => ({ mapper: m[3]!, space: m[4]!, rows: Number(m[5]), columns: Number(m[6]), targets: Number(m[7]) }));

describe('compare --preset published, two datasets, one run', () => {
  beforeAll(async () => {
    const args = ['compare', '--preset', 'published', '--dataset', JSON.stringify(TWO_SUBJECTS), '--dataset', JSON.stringify(ONE_SUBJECT)];
    run = await runCli([...args, '--limit', String(LIMIT), '--out', 'out', ...SETTINGS.flatMap((s) => ['--set', s])], tmp);
    expect(run.code, run.stderr.slice(-3000)).toBe(0);
    ({ rows, outcomes } = JSON.parse(await readFile(join(tmp, 'out', 'results.json'), 'utf8')) as { rows: Row[]; outcomes: Outcome[] });
    ({ experiment } = JSON.parse(await readFile(join(tmp, 'out', 'run.json'), 'utf8')) as { experiment: ExperimentSpec });
  }, 900_000);

  it('all five presets (eight pipelines) on both datasets, every subject of each; results.json and report.html written', () => {
    const names = [...METHODS.map((m) => m + A), ...METHODS.map((m) => m + B)];
    expect(experiment.pipelines.map((p) => p.name)).toEqual(names);
    expect(experiment.pipelines.map((p) => p.method)).toEqual([...METHODS, ...METHODS]);
    const ran = (dataset: string) => outcomes.filter((o) => o.pipeline.endsWith(dataset)).map((o) => `${o.pipeline.slice(0, -dataset.length)} · ${o.subject}`);
    expect(ran(A).sort()).toEqual(METHODS.flatMap((m) => [`${m} · subj01`, `${m} · subj02`]).sort());
    expect(ran(B).sort()).toEqual(METHODS.map((m) => `${m} · subj01`).sort());
    for (const o of outcomes) expect(o.trainItems, o.pipeline).toBe(20);
    for (const file of ['results.json', 'run.json', 'report.html']) expect(existsSync(join(tmp, 'out', file)), file).toBe(true);
  });

  it('the --set values are the options that ran (run.json, provenance), each flag reported; the papers\' settings stay', () => {
    expect(run.stderr).toContain('--set brain-diffuser.versatileDiffusion.initSize=64: 6 of 16 pipelines');
    expect(run.stderr).toContain('--set trivialItems=2: 16 of 16 pipelines');
    expect(run.stderr).toContain('--set vae.epochs=2: 2 of 16 pipelines');
    expect(run.stderr).toContain('--set gru.epochs=2: 4 of 16 pipelines');
    expect(run.stdout).toContain('\n--set brain-diffuser.versatileDiffusion.initSize=64: 6 of 16 pipelines\n'); // under the table too
    const bd = experiment.pipelines.find((p) => p.name === BD + B)!;
    expect(bd.generator.options).toEqual({ vdvae: { model: 'vdvae', layers: 31 }, versatileDiffusion: { model: 'versatile-diffusion', initSize: 64 } });
    expect(bd.source).toMatch(/cli\/experiments\/brain-diffuser\.json with --dataset synthetic #2 with --set brain-diffuser\.versatileDiffusion\.initSize=64, --set trivialItems=2$/);
    expect(experiment.pipelines.map((p) => p.trivialItems)).toEqual(Array(16).fill(2));
    const provenance = (pipeline: string, kind: string) => outcomeOf(pipeline).provenance.filter((p) => p.kind === kind).map((p) => p.options);
    expect(provenance(TAKAGI + A, 'generator')[0]).toMatchObject({ preset: 'takagi', resolution: 40, initSize: 64, steps: 10, samples: 2, strength: 0.8, guidance: 5 });
    expect(provenance(HK[1]! + B, 'mapper')).toEqual(
      expect.arrayContaining([expect.objectContaining({ encoderWidths: [16, 8], decoderWidth: 16, epochs: 2, batchSize: 16 })]),
    );
    // Takagi's ridge keeps the file's cross-validation (no --set reaches it).
    expect(provenance(TAKAGI + A, 'mapper')[0]).toMatchObject({ alphas: [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1], folds: 5, alphaPer: 'per-target', fitIntercept: false });
  });

  it('brain-diffuser: one ridge per space, the paper table on both stages; the report grid has the stage-1 images first', async () => {
    for (const [pipeline, subject] of [[BD + A, 'subj01'], [BD + A, 'subj02'], [BD + B, 'subj01']] as const) {
      expect(outcomeOf(pipeline, subject).mappers.map((m) => [m.space, m.mapper, m.summary.alpha])).toEqual([
        ['vdvae', 'ridge', 50_000],
        ['clip-vision', 'ridge', 60_000],
        ['clip-text', 'ridge', 100_000],
      ]);
      const mine = rowsOf(pipeline, subject);
      expect(mine.filter((r) => r.target === 'image').map((r) => r.metric)).toEqual(BRAIN_DIFFUSER_TABLE);
      expect(mine.filter((r) => r.target === 'stage 1').map((r) => r.metric)).toEqual(BRAIN_DIFFUSER_TABLE);
      expectFinite(mine);
    }
    // The report's item grid: the stage-1 (VDVAE) images before the final ones, one file per item.
    const manifest = JSON.parse(await readFile(join(tmp, 'out', 'images', 'index.json'), 'utf8')) as {
      groups: Array<{ subject: string; columns: Array<{ pipeline: string; stage?: string; files: string[] }> }>;
    };
    expect(manifest.groups).toHaveLength(3); // (dataset, subject) pairs
    for (const group of manifest.groups) {
      const columns = group.columns.filter((c) => c.pipeline.startsWith(BD));
      expect(columns.map((c) => [c.stage ?? 'final', c.files.length])).toEqual([['stage 1', LIMIT], ['final', LIMIT]]);
    }
  });

  it('gru-two-stage: both GRU pipelines, 13,344 and 91,168 VDVAE targets, stage 1 rows', () => {
    for (const name of GRU) {
      for (const o of outcomes.filter((x) => x.pipeline.startsWith(name))) {
        expect(o.mappers.map((m) => [m.space, m.mapper])).toEqual([['vdvae', 'gru'], ['clip-vision', 'ridge'], ['clip-text', 'ridge']]);
      }
    }
    // 20 training images × the subject's voxels → the VDVAE latents of 15 / 31 layers.
    const v = outcomeOf(GRU[0]! + B).voxels;
    expect(run.stderr).toContain(`[${GRU[0]}${B} · subj01] fitting gru → vdvae (20 × ${v} → 13344)`);
    expect(run.stderr).toContain(`[${GRU[1]}${B} · subj01] fitting gru → vdvae (20 × ${v} → 91168)`);
    // Table 1's network at v voxels: 2 BiGRU(100) 6·(100·(v + 100) + 200) + 181,200, LayerNorms 800, Dense 200
    // 40,200, BatchNorm 400, output Dense 200·d + d — at v = 218, 3,096,744 for d = 13,344 and 18,739,368 for 91,168.
    const parameters = (voxels: number, d: number) => 6 * (100 * (voxels + 100) + 200) + 181_200 + 800 + 40_200 + 400 + 201 * d;
    expect([parameters(218, 13_344), parameters(218, 91_168)]).toEqual([3_096_744, 18_739_368]);
    expect(GRU.map((name) => outcomeOf(name + B).mappers[0]!.summary.parameters)).toEqual([parameters(v, 13_344), parameters(v, 91_168)]);
    for (const name of GRU) {
      for (const [pipeline, subject] of [[name + A, 'subj01'], [name + A, 'subj02'], [name + B, 'subj01']] as const) {
        const mine = rowsOf(pipeline, subject);
        expect(mine.filter((r) => r.target === 'stage 1').map((r) => r.metric)).toEqual(BRAIN_DIFFUSER_TABLE);
        expect(mine.filter((r) => r.target === 'image').map((r) => r.metric)).toEqual(BRAIN_DIFFUSER_TABLE);
        expectFinite(mine);
      }
    }
  });

  it('mind-reader: cnn → clip-image and clip-text, Lafite, @mind-reader; n-way is n/a on 2 items, saying it needs 50', () => {
    for (const pipeline of [MR + A, MR + B]) {
      expect(outcomeOf(pipeline).mappers.map((m) => [m.space, m.mapper]).sort()).toEqual([['clip-image', 'cnn'], ['clip-text', 'cnn']]);
      const mine = rowsOf(pipeline);
      const nWay = mine.filter((r) => r.metric === 'n-way');
      expect(nWay).toHaveLength(pipeline === MR + A ? 2 : 1);
      for (const r of nWay) {
        expect(r).toMatchObject({ target: 'image', value: null, trivial: null, note: '50-way' });
        expect(r.problem).toBe(`50-way needs ≥ 50 test images, ${LIMIT} here (option n ≤ ${LIMIT} for a ${LIMIT}-way score)`);
      }
      const others = mine.filter((r) => r.metric !== 'n-way');
      expect(new Set(others.map((r) => r.metric))).toEqual(new Set(['fid', 'retrieval-forward', 'retrieval-backward']));
      expect(others.filter((r) => r.metric.startsWith('retrieval')).every((r) => r.note === `${LIMIT}-way`)).toBe(true);
      expectFinite(others);
    }
    expect(run.stderr).toContain(`warning: n-way on image: 50-way needs ≥ 50 test images, ${LIMIT} here (option n ≤ ${LIMIT} for a ${LIMIT}-way score); reported as n/a`);
  });

  it('takagi: ridge on the early ROIs → z and on the category ROIs → c, the two halves of every subject\'s voxels', () => {
    for (const [pipeline, subject] of [[TAKAGI + A, 'subj01'], [TAKAGI + A, 'subj02'], [TAKAGI + B, 'subj01']] as const) {
      const fits = fitsOf(pipeline, subject);
      expect(fits.map((f) => `${f.mapper} → ${f.space}`)).toEqual(['ridge → z', 'ridge → c']);
      const [z, c] = fits.map((f) => f.columns);
      const { voxels } = outcomeOf(pipeline, subject);
      expect(z! + c!).toBe(voxels);
      expect(Math.min(z!, c!)).toBeGreaterThan(voxels / 5);
      const mine = rowsOf(pipeline, subject);
      expect(mine.filter((r) => r.target === 'image').map((r) => r.metric)).toEqual(BRAIN_DIFFUSER_TABLE);
      expectFinite(mine.filter((r) => r.target === 'image'));
    }
  });

  it("hou-khoshnoo: the three z mappers on V1–hV4 (ChebNet's graph from the re-indexed atlas), one text CNN shared by the three", () => {
    for (const [dataset, subject] of [[A, 'subj01'], [A, 'subj02'], [B, 'subj01']] as const) {
      const fits = HK.flatMap((name) => fitsOf(name + dataset, subject).map((f) => `${f.mapper} → ${f.space}: ${f.columns}`));
      const z = /cnn → z: (\d+)/.exec(fits.join('\n'))![1];
      const c = /cnn → c: (\d+)/.exec(fits.join('\n'))![1];
      // The text CNN is fitted once and shared by the three pipelines (same data, ROIs and options: one cache entry).
      expect(fits).toEqual([`cnn → z: ${z}`, `cnn → c: ${c}`, `vae → z: ${z}`, `chebnet-gcn → z: ${z}`]);
      expect(Number(z) + Number(c)).toBe(outcomeOf(HK[0]! + dataset, subject).voxels);
    }
    for (const name of HK) {
      for (const pipeline of [name + A, name + B]) {
        const image = rowsOf(pipeline).filter((r) => r.target === 'image');
        expect(new Set(image.map((r) => r.metric))).toEqual(new Set([...BRAIN_DIFFUSER_TABLE, 'lpips']));
        expectFinite(image);
      }
    }
  });

  it("the papers' table: per method and dataset the mean over its subjects, the published values beside it", () => {
    const lines = publishedComparison(rows, experiment.pipelines);
    expect(lines.map((l) => [l.pipeline, l.subjects])).toEqual([...METHODS.map((m) => [m + A, ['subj01', 'subj02']]), ...METHODS.map((m) => [m + B, ['subj01']])]);
    const image = (pipeline: string, metric: string) => rowsOf(pipeline).filter((r) => r.target === 'image' && r.metric === metric).map((r) => r.value!);
    for (const line of lines.filter((l) => l.pipeline.endsWith(A) && l.method !== MR)) {
      const pixcorr = image(line.pipeline, 'pixcorr');
      expect(pixcorr).toHaveLength(2);
      expect(line.values.pixcorr).toBeCloseTo((pixcorr[0]! + pixcorr[1]!) / 2, 12);
    }
    const takagi = lines.find((l) => l.pipeline === TAKAGI + A)!;
    expect(takagi.published.map((p) => p.subject)).toEqual(['mean', 'subj01', 'sub-01']);
    expect(takagi.published[0]!.values).toEqual({ 'alexnet-2': 0.83, 'alexnet-5': 0.83, inception: 0.76, clip: 0.77 });
    expect(lines.filter((l) => l.method.startsWith('Hou')).map((l) => [l.pipeline, l.published.map((p) => `${p.dataset} ${p.subject}`)])).toEqual(
      [A, B].flatMap((d) => [
        [HK[0]! + d, []],
        [HK[1]! + d, []],
        [HK[2]! + d, ['nsd subj01', 'things-fmri sub-01']],
      ]),
    );
    expect(lines.find((l) => l.pipeline === HK[2]! + B)!.published[0]!.values).toEqual({ pixcorr: 0.3246, 'ssim-columns': 0.3528, lpips: 0.7329 });

    // What the run printed: the papers' columns, this run's means, the published lines with their sources.
    const out = run.stdout.slice(run.stdout.indexOf('Published pipelines: this run'));
    const cells = (line: string) => line.split('│').map((c) => c.trim());
    const header = cells(out.split('\n').find((l) => l.includes('PixCorr'))!);
    expect(header.slice(1, 11)).toEqual(['method', 'data', 'PixCorr ↑', 'SSIM ↑', 'AlexNet(2) ↑', 'AlexNet(5) ↑', 'Inception ↑', 'CLIP ↑', 'EffNet-B ↓', 'SwAV ↓']);
    const lineCells = out.split('\n').map(cells);
    const at = lineCells.findIndex((c) => c[1] === TAKAGI + A);
    expect(lineCells[at]!.slice(2, 4)).toEqual(['synthetic · mean of 2', takagi.values.pixcorr!.toFixed(4)]);
    expect(lineCells[at]![8]).toBe(takagi.values.clip!.toFixed(4));
    expect(lineCells[at + 1]!.slice(1, 4)).toEqual([TAKAGI + B, 'synthetic · subj01', lines.find((l) => l.pipeline === TAKAGI + B)!.values.pixcorr!.toFixed(4)]);
    // Under the method its papers' lines, each with a footnote number; the footnotes name paper, table and row.
    const published = lineCells.slice(at + 2, at + 5);
    expect(published.map((c) => c.slice(2, 5))).toEqual([
      ['nsd · mean', '—', '—'],
      ['nsd · subj01', '0.2659', '0.2141'],
      ['things-fmri · sub-01', '0.1293', '0.2407'],
    ]);
    expect(published[0]!.slice(5, 11)).toEqual(['0.8300', '0.8300', '0.7600', '0.7700', '—', '—']);
    const [first, second] = published.map((c) => /^published \[(\d+)\]$/.exec(c[1]!)![1]);
    expect(out).toContain(`[${first}] seed 000 Table 5, "Takagi et al. [35]"`);
    expect(out).toContain(`[${second}] seed 001 (Hou & Khoshnoo) Table 4, "Linear [2]" (their reproduction)`);
  });
});

describe('--dataset', () => {
  const pixels = { name: 'ridge→pixels', dataset: 'nsd', generator: 'pixels', mappers: { '*': 'ridge' }, metrics: ['mse'] };
  const synthetic = (seed: number) => JSON.stringify({ id: 'synthetic', options: { seed, subjects: 1, trainImages: 20, testImages: 4, voxels: 200, imageSize: 32 } });
  interface Result {
    rows: Row[];
    outcomes: Outcome[];
    files: string[];
  }

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

describe('--set through the CLI', () => {
  const pixels = { name: 'ridge→pixels', dataset: { id: 'synthetic', options: { subjects: 1, trainImages: 20, testImages: 4, voxels: 200, imageSize: 32 } }, generator: 'pixels', mappers: { '*': 'ridge' }, metrics: ['mse'] };

  it('run --set: the option reaches the plugin (provenance), --json lists what each flag changed', async () => {
    await writeFile(join(tmp, 'pixels.json'), JSON.stringify(pixels));
    const run = await runCli(['run', '--pipeline', 'pixels.json', '--set', 'ridge.alpha=3', '--set', 'seed=5', '--json', '--out', 'set'], tmp);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { outcomes: Outcome[]; overrides: unknown };
    expect(result.overrides).toEqual([
      { set: 'ridge.alpha=3', pipelines: ['ridge→pixels'] },
      { set: 'seed=5', pipelines: ['ridge→pixels'] },
    ]);
    expect(result.outcomes[0]!.provenance.find((p) => p.kind === 'mapper')!.options).toMatchObject({ alpha: 3 });
    expect(run.stderr).toContain('--set ridge.alpha=3: ridge→pixels');
  });

  it.each([
    ['ridge.alpa=3', /^Error: --set: 'ridge.alpa=3': mapper 'ridge' has no option 'alpa' \(its options there: alpha, alphas,/],
    ['vae.epochs=2', /^Error: --set: 'vae.epochs=2': no pipeline has a plugin 'vae' \(plugin ids: synthetic, pixels, ridge, mse; places: dataset, generator, mappers.<\*>; fields: trivialItems, seed\)/],
    ['ridge.alpha=0', /^Error: --set: 'ridge.alpha=0': mapper 'ridge' options: \/alpha: must be > 0/],
  ])('compare --set %s is refused before any step, naming the flag', async (value, message) => {
    await writeFile(join(tmp, 'pixels.json'), JSON.stringify(pixels));
    const run = await runCli(['compare', 'pixels.json', '--set', value], tmp);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toContain('fitting');
  });
});
