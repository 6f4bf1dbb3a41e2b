/**
 * `compare --preset`: the five published pipeline files parse and validate against the registry, name ROIs the
 * datasets really have, keep the papers' settings; preset names resolve (an unknown one lists the known ones).
 * published-pipelines.test.ts runs them all (`--preset published` on two datasets) with the tiny models and checks
 * the papers' table with the published values beside the run's.
 */
import { mkdtemp, rm } from 'node:fs/promises';
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
