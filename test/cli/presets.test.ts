/**
 * `compare --preset`: the five published pipeline files parse and validate against the registry, name ROIs the
 * datasets really have, keep the papers' settings; preset names resolve (an unknown one lists the known ones); and
 * a small run of Takagi's file (a copy with the tiny Stable Diffusion graphs and small sizes, as
 * published-pipelines.test.ts does) prints the papers' table with the published values beside the run's.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ATLAS_ROIS } from '../../datasets/nsd/schema.js';
import { ROI_NAMES } from '../../datasets/synthetic/cortex.js';
import { DEFAULT_ROIS as THINGS_ROIS } from '../../datasets/things-fmri/schema.js';
import type { PipelineSpec } from '../../core/pipeline.js';
import { PRESET_FILES, readPresets, resolvePresetNames } from '../../cli/presets.js';
import { PUBLISHED } from '../../cli/published-values.js';
import { PRESETS as SD_PRESETS } from '../../generators/stable-diffusion/schema.js';
import { runCli } from '../helpers/cli.js';
import { makeTestCore, type TestCore } from '../helpers/core.js';
import { writeMetricModels } from '../helpers/models.js';
import { writeTinyStableDiffusion } from '../helpers/tiny-stable-diffusion.js';

/**
 * The atlas names each dataset gives. NSD: the labels of its `prf-visualrois` and `streams` files
 * (nsddata/freesurfer/subjXX/label/*.mgz.ctab; V1–V3 also as ventral ∪ dorsal halves, datasets/nsd/atlas.ts) —
 * both files are in the default `atlasRois`; THINGS: its default `rois`; the simulation: its ROI list.
 */
const NSD_ROIS = ['V1v', 'V1d', 'V2v', 'V2d', 'V3v', 'V3d', 'hV4', 'V1', 'V2', 'V3', 'early', 'midventral', 'midlateral', 'midparietal', 'ventral', 'lateral', 'parietal'];
const REAL_ROIS: Record<string, readonly string[]> = { nsd: NSD_ROIS, 'things-fmri': THINGS_ROIS, synthetic: ROI_NAMES };

let core: TestCore;
let tmp: string;
beforeAll(async () => {
  core = await makeTestCore({ cacheDir: null });
  tmp = await mkdtemp(join(tmpdir(), 'nd-presets-'));
});
afterAll(async () => {
  await core.cleanup();
  await rm(tmp, { recursive: true, force: true });
});

const presetPipelines = async (name: string): Promise<PipelineSpec[]> => (await readPresets([name])).flatMap((s) => s.pipelines);

describe('preset files', () => {
  it.each(Object.keys(PRESET_FILES))('%s parses, its plugins and options validate, every subject by default, its ROIs are real', async (name) => {
    const pipelines = await presetPipelines(name);
    expect(pipelines.length).toBeGreaterThan(0);
    expect(DEFAULT_ATLAS_ROIS).toEqual(expect.arrayContaining(['prf-visualrois', 'streams']));
    for (const p of pipelines) {
      expect(p.subjects).toEqual(['all']);
      expect(p.method).toBe(p.name);
      const { registry } = core;
      registry.resolveOptions('dataset', p.dataset.id, p.dataset.options);
      registry.resolveOptions('generator', p.generator.id, p.generator.options);
      for (const m of [...Object.values(p.mappers)]) registry.resolveOptions('mapper', m.id, m.options);
      for (const m of p.metrics) registry.resolveOptions('metric', m.id, m.options);
      for (const [key, m] of Object.entries(p.mappers)) {
        if (m.rois === undefined) continue;
        expect(Array.isArray(m.rois), `${key}: a list per dataset`).toBe(false);
        for (const [dataset, rois] of Object.entries(m.rois as Record<string, string[]>)) {
          expect(REAL_ROIS[dataset], dataset).toBeDefined();
          expect(REAL_ROIS[dataset], `${p.name} ${key} on ${dataset}`).toEqual(expect.arrayContaining(rois));
        }
      }
    }
  });

  it("takagi.json: himalaya-style CV ridge per target, early → z and ventral → c, SD with 5 samples, Takagi's scoring", async () => {
    const [p] = await presetPipelines('takagi');
    const ridge = { alphas: [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1], folds: 5, alphaPer: 'per-target', fitIntercept: false, standardize: true };
    expect(p!.mappers.z).toMatchObject({ id: 'ridge', options: ridge, rois: { nsd: ['early'], 'things-fmri': ['V1', 'V2', 'V3', 'hV4'] } });
    expect(p!.mappers.c).toMatchObject({ id: 'ridge', options: ridge, rois: { nsd: ['ventral'] } });
    expect(p!.generator).toMatchObject({ id: 'stable-diffusion', options: { model: 'stable-diffusion', preset: 'takagi', samples: 5 } });
    // Takagi's scoring: the first of the 5 samples, the whole 77-token c (what the preset fills in).
    expect(core.registry.resolveOptions('generator', 'stable-diffusion', p!.generator.options)).toMatchObject({ preset: 'takagi', samples: 5, strength: 0.8, guidance: 5 });
    expect(SD_PRESETS.takagi).toMatchObject({ scoring: 'first', textTokens: 77 });
    expect(p!.dataset).toMatchObject({ id: 'nsd', options: { repeats: 'single-trials' } }); // trains on single trials
    expect(p!.metrics.map((m) => m.id)).toEqual(['pixcorr', 'ssim-columns', 'alexnet-2', 'alexnet-5', 'inception', 'clip', 'effnet-b', 'swav']);
  });

  it('hou-khoshnoo.json: cnn / vae / chebnet-gcn on V1–hV4 → z, the text CNN on the higher ventral stream → c, the SD preset', async () => {
    const pipelines = await presetPipelines('hou-khoshnoo');
    expect(pipelines.map((p) => [p.mappers.z!.id, p.mappers.z!.options.preset])).toEqual([['cnn', 'fmri-to-image'], ['vae', undefined], ['chebnet-gcn', undefined]]);
    for (const p of pipelines) {
      expect(p.mappers.z!.rois).toMatchObject({ nsd: ['V1', 'V2', 'V3', 'hV4'], 'things-fmri': ['V1', 'V2', 'V3', 'hV4'] });
      expect(p.mappers.c).toMatchObject({ id: 'cnn', options: { preset: 'fmri-to-text' }, rois: { nsd: ['ventral'], 'things-fmri': ['VO1', 'VO2', 'TO1', 'TO2', 'FFA', 'PPA', 'LOC'] } });
      expect(core.registry.resolveOptions('generator', 'stable-diffusion', p.generator.options)).toMatchObject({ preset: 'hou-khoshnoo', samples: 5 });
    }
    expect(SD_PRESETS['hou-khoshnoo']).toMatchObject({ scoring: 'mean', textTokens: 15 });
  });

  it('every published value belongs to a preset pipeline', async () => {
    const names = (await readPresets(['published'])).flatMap((s) => s.pipelines.map((p) => p.name));
    for (const v of PUBLISHED) expect(names, v.method).toContain(v.method);
  });
});

describe('--preset', () => {
  it("resolves 'published' to all five, each once, and a single name to itself", () => {
    expect(resolvePresetNames(['published'])).toEqual(['brain-diffuser', 'gru-two-stage', 'mind-reader', 'takagi', 'hou-khoshnoo']);
    expect(resolvePresetNames(['takagi', 'published'])).toEqual(['takagi', 'brain-diffuser', 'gru-two-stage', 'mind-reader', 'hou-khoshnoo']);
    expect(resolvePresetNames(['takagi'])).toEqual(['takagi']);
  });

  it('an unknown name is refused, listing the known ones; no file and no preset is refused too', async () => {
    const unknown = await runCli(['compare', '--preset', 'takagii'], tmp);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^Error: --preset: unknown preset 'takagii' \(known: published, brain-diffuser, gru-two-stage, mind-reader, takagi, hou-khoshnoo\)/);
    const none = await runCli(['compare'], tmp);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^Error: compare: name pipeline or experiment files, or --preset/);
  });

  it('runs the preset files on the --dataset given: their models are checked before any long step', async () => {
    const dataset = JSON.stringify({ id: 'synthetic', options: { subjects: 1, trainImages: 20, testImages: 4, voxels: 200, imageSize: 32 } });
    const run = await runCli(['compare', '--preset', 'takagi', '--dataset', dataset], tmp);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Error: generator 'stable-diffusion' in Takagi & Nishimoto (CVPR 2023)");
    expect(run.stderr).toContain("model 'stable-diffusion' is not configured");
  });
});

interface Row {
  pipeline: string;
  subject: string;
  target: string;
  metric: string;
  value: number | null;
}
interface Line {
  pipeline: string;
  dataset: string;
  subjects: string[];
  values: Record<string, number | null>;
  published: Array<{ dataset: string; subject: string; values: Record<string, number> }>;
}

describe('the published-values table on a small run', () => {
  beforeAll(async () => {
    const models = await writeMetricModels(join(tmp, 'models'));
    models['stable-diffusion'] = await writeTinyStableDiffusion(join(tmp, 'models', 'sd'));
    await writeFile(join(tmp, 'neurodecode.config.json'), JSON.stringify({ models }));
  });

  it("Takagi's file on two simulated subjects: the mean over them in the papers' columns, the published values beside it", async () => {
    // A copy with small sizes (the tiny graphs' z at 40², 10 steps, 2 samples, the floor on 2 items); name, ROIs and ridge stay.
    const raw = JSON.parse(await readFile('cli/experiments/takagi.json', 'utf8')) as { generator: { options: object }; trivialItems?: number };
    Object.assign(raw.generator.options, { resolution: 40, initSize: 64, steps: 10, samples: 2 });
    raw.trivialItems = 2;
    await writeFile(join(tmp, 'takagi.json'), JSON.stringify(raw));
    const dataset = JSON.stringify({ id: 'synthetic', options: { subjects: 2, trainImages: 40, testImages: 6, voxels: 200, imageSize: 40 } });
    const args = ['compare', 'takagi.json', '--dataset', dataset, '--subject', 'all', '--limit', '3'];

    const json = await runCli([...args, '--json', '--out', 'json'], tmp);
    expect(json.code, json.stderr).toBe(0);
    const result = JSON.parse(json.stdout) as { rows: Row[]; published: Line[]; outcomes: Array<{ subject: string; voxels: number }> };
    // The ROI restriction reached the mappers: z on V1–hV4, c on LOC and the category ROIs — the simulation's two
    // halves, so that per subject their columns add up to its voxels, neither seeing all of them.
    const fits = [...json.stderr.matchAll(/· (subj0\d)\] fitting ridge → (z|c) \(40 × (\d+) →/g)].map((m) => [m[1]!, m[2]!, Number(m[3])] as const);
    expect(fits.map(([subject, space]) => `${subject} ${space}`)).toEqual(['subj01 z', 'subj01 c', 'subj02 z', 'subj02 c']);
    for (const { subject, voxels } of result.outcomes) {
      const [z, c] = fits.filter((f) => f[0] === subject).map((f) => f[2]);
      expect(z! + c!).toBe(voxels);
      expect(Math.min(z!, c!)).toBeGreaterThan(voxels / 5);
    }
    const [line] = result.published;
    expect(line!.subjects).toEqual(['subj01', 'subj02']);
    const image = (metric: string) => result.rows.filter((r) => r.target === 'image' && r.metric === metric).map((r) => r.value!);
    expect(image('pixcorr')).toHaveLength(2);
    expect(line!.values.pixcorr).toBeCloseTo((image('pixcorr')[0]! + image('pixcorr')[1]!) / 2, 12);
    expect(line!.values.clip).toBeCloseTo((image('clip')[0]! + image('clip')[1]!) / 2, 12);
    expect(line!.published.map((p) => p.subject)).toEqual(['mean', 'subj01', 'sub-01']);
    expect(line!.published[0]!.values).toEqual({ 'alexnet-2': 0.83, 'alexnet-5': 0.83, inception: 0.76, clip: 0.77 });

    const text = await runCli([...args, '--out', 'text'], tmp);
    expect(text.code, text.stderr).toBe(0);
    const out = text.stdout.slice(text.stdout.indexOf('Published pipelines: this run'));
    const rowOf = (start: string) => out.split('\n').find((l) => l.includes(start))!.split('│').map((c) => c.trim());
    const header = rowOf('PixCorr');
    expect(header.slice(1, 11)).toEqual(['method', 'data', 'PixCorr ↑', 'SSIM ↑', 'AlexNet(2) ↑', 'AlexNet(5) ↑', 'Inception ↑', 'CLIP ↑', 'EffNet-B ↓', 'SwAV ↓']);
    const run = rowOf('synthetic · mean of 2');
    expect(run[3]).toBe(line!.values.pixcorr!.toFixed(4));
    expect(run[8]).toBe(line!.values.clip!.toFixed(4));
    expect(rowOf('published [1]').slice(2, 11)).toEqual(['nsd · mean', '—', '—', '0.8300', '0.8300', '0.7600', '0.7700', '—', '—']);
    expect(rowOf('published [2]').slice(2, 5)).toEqual(['nsd · subj01', '0.2659', '0.2141']);
    expect(rowOf('published [3]').slice(2, 5)).toEqual(['things-fmri · sub-01', '0.1293', '0.2407']);
    expect(out).toContain('[1] seed 000 Table 5, "Takagi et al. [35]"');
    expect(out).toContain('[2] seed 001 (Hou & Khoshnoo) Table 4, "Linear [2]" (their reproduction)');
  }, 180_000);

  it("Hou & Khoshnoo's file: the three z mappers on V1–hV4 (ChebNet's graph from the re-indexed atlas), the GCN line with seed 001's values", async () => {
    // Tiny networks, 2 epochs (the tiny models are not where the time goes: training paper-size networks is).
    const raw = JSON.parse(await readFile('cli/experiments/hou-khoshnoo.json', 'utf8')) as {
      pipelines: Array<{ generator: { options: object }; mappers: Record<string, { id: string; options?: Record<string, unknown> }>; trivialItems?: number }>;
    };
    const tiny: Record<string, Record<string, unknown>> = {
      cnn: { channels: 4, hiddenSizes: [16], epochs: 2, batchSize: 16 },
      vae: { encoderWidths: [16, 8], decoderWidth: 16, epochs: 2, batchSize: 16 },
      'chebnet-gcn': { hidden: 8, convChannels: 4, dense: 16, epochs: 2, batchSize: 16, emptyGraph: 'allow' },
    };
    for (const p of raw.pipelines) {
      Object.assign(p.generator.options, { resolution: 40, initSize: 64, steps: 10, samples: 2 });
      p.trivialItems = 2;
      for (const m of Object.values(p.mappers)) m.options = { ...m.options, ...tiny[m.id] };
    }
    await writeFile(join(tmp, 'hou-khoshnoo.json'), JSON.stringify(raw));
    const dataset = JSON.stringify({ id: 'synthetic', options: { subjects: 1, trainImages: 40, testImages: 6, voxels: 200, imageSize: 40 } });
    const run = await runCli(['compare', 'hou-khoshnoo.json', '--dataset', dataset, '--limit', '3', '--json', '--out', 'hk'], tmp);
    expect(run.code, run.stderr).toBe(0);
    const fits = [...run.stderr.matchAll(/fitting ([\w-]+) → (z|c) \(40 × (\d+) →/g)].map((m) => `${m[1]} → ${m[2]}: ${m[3]}`);
    const z = /cnn → z: (\d+)/.exec(fits.join('\n'))![1];
    const c = /cnn → c: (\d+)/.exec(fits.join('\n'))![1];
    // The text CNN is fitted once and shared by the three pipelines (same data, ROIs and options: one cache entry).
    expect(fits).toEqual([`cnn → z: ${z}`, `cnn → c: ${c}`, `vae → z: ${z}`, `chebnet-gcn → z: ${z}`]);
    const result = JSON.parse(run.stdout) as { published: Line[]; outcomes: Array<{ voxels: number }> };
    expect(Number(z) + Number(c)).toBe(result.outcomes[0]!.voxels);
    expect(result.published.map((l) => [l.pipeline, l.published.map((p) => `${p.dataset} ${p.subject}`)])).toEqual([
      ['Hou & Khoshnoo, cnn → z', []],
      ['Hou & Khoshnoo, vae → z', []],
      ['Hou & Khoshnoo, chebnet-gcn → z', ['nsd subj01', 'things-fmri sub-01']],
    ]);
    expect(result.published[2]!.published[0]!.values).toEqual({ pixcorr: 0.3246, 'ssim-columns': 0.3528, lpips: 0.7329 });
    for (const l of result.published) expect(Number.isFinite(l.values.lpips)).toBe(true);
  }, 180_000);
});
