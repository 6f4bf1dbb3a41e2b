import { afterEach, describe, expect, it } from 'vitest';
import type { PluginModule } from '../../core/contracts.js';
import { parseSpecFile, type ExperimentSpec } from '../../core/pipeline.js';
import { ExperimentRunner } from '../../core/runner.js';
import type { Matrix } from '../../core/tensor.js';
import { makeTestCore, type TestCore } from '../helpers/core.js';
import { tinyDataset } from '../helpers/tiny-dataset.js';
import { featureGraph, writeNeurodecodeFolder } from '../helpers/models.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** A mapper that records the atlas it was handed at fit time and predicts zeros. */
const seenAtlases: Array<Record<string, Int32Array> | undefined> = [];
const atlasSpy: PluginModule = {
  manifest: {
    name: 'atlas-spy',
    version: '0.0.1',
    apiVersion: '1.0',
    provides: [{ kind: 'mapper', id: 'atlas-spy', summary: 'test', optionsSchema: { type: 'object', properties: {} } }],
  },
  register(r) {
    const fitted = (cols: number) => ({
      predict: async (X: Matrix) => ({ rows: X.rows, cols, data: new Float32Array(X.rows * cols) }),
      save: async () => {},
      summary: {},
    });
    r.mapper('atlas-spy', {
      create: () => ({
        fit: async (_X, Y, context) => {
          seenAtlases.push(context.atlas);
          return fitted(Y.cols);
        },
      }),
      load: async () => fitted(9),
    });
  },
};

/** A generator whose fitted model has one space, `coarse`; it declares `declared` before fit, or nothing (optional). */
const coarseGenerator = (declared?: string[]): PluginModule => ({
  manifest: {
    name: 'coarse-generator',
    version: '0.0.1',
    apiVersion: '1.0',
    provides: [{ kind: 'generator', id: 'coarse', summary: 'test', optionsSchema: { type: 'object', properties: {} } }],
  },
  register(r) {
    r.generator('coarse', {
      ...(declared ? { targetSpaces: () => declared } : {}),
      create: () => ({
        fit: async () => ({
          targets: () => [{ name: 'coarse', dims: 9 }],
          encode: async (stimuli) => ({ coarse: { rows: stimuli.images.count, cols: 9, data: Float32Array.from(stimuli.images.data) } }),
          generate: async () => {
            throw new Error('not reached');
          },
        }),
      }),
    });
  },
});

function spec(options: { testItems?: number; pipelines?: number; dataset?: Record<string, number> } = {}): ExperimentSpec {
  const pipelines = Array.from({ length: options.pipelines ?? 1 }, (_, i) => ({
    name: `p${i}`,
    dataset: { id: 'tiny', options: { testItems: options.testItems ?? 10, ...options.dataset } },
    generator: 'pixels',
    mappers: { '*': { id: 'ridge', options: { alpha: 0.1 + i } } },
    metrics: ['mse', 'pixcorr'],
  }));
  return parseSpecFile({ pipelines }, 'test');
}

let core: TestCore | undefined;
afterEach(async () => {
  await core?.cleanup();
  core = undefined;
});

describe('ExperimentRunner', () => {
  it('runs a pipeline end to end, drops the NaN voxel, and beats the trivial predictor', async () => {
    core = await makeTestCore({ modules: [tinyDataset] });
    const result = await new ExperimentRunner(core).run(spec());
    const outcome = result.outcomes[0]!;
    expect(outcome.droppedVoxels).toEqual({ nonFinite: 1, constant: 0 });
    expect(outcome.voxels).toBe(11);
    const mse = result.rows.find((r) => r.metric === 'mse')!;
    expect(mse.target).toBe('pixels');
    expect(mse.value).not.toBeNull();
    // 11 noisy voxels of a 9-pixel linear image: ridge recovers the pixels far better than the mean image.
    expect(mse.value!).toBeLessThan(0.2 * mse.trivial!);
    expect(mse.low!).toBeLessThanOrEqual(mse.value!);
    expect(mse.high!).toBeGreaterThanOrEqual(mse.value!);
    const pixcorr = result.rows.find((r) => r.metric === 'pixcorr')!;
    expect(pixcorr.target).toBe('image');
    expect(pixcorr.value!).toBeGreaterThan(0.9);
    expect(outcome.provenance.map((p) => `${p.kind}:${p.id}`)).toEqual(['dataset:tiny', 'generator:pixels', 'mapper:ridge', 'metric:mse', 'metric:pixcorr']);
  });

  it('drops an all-NaN train row with its image and an all-NaN test row as a missing item, keeping the voxels', async () => {
    core = await makeTestCore({ modules: [tinyDataset] });
    const events: string[] = [];
    const result = await new ExperimentRunner(core, { onEvent: (e) => events.push(e.message) }).run(spec({ dataset: { missingTrainRow: 5, missingTestRow: 2 } }));
    const outcome = result.outcomes[0]!;
    expect(outcome.droppedRows).toEqual({ train: ['img5'], test: ['img1002'] });
    // Only the always-NaN voxel 3 goes: the missing trials no longer take every voxel with them.
    expect(outcome.droppedVoxels).toEqual({ nonFinite: 1, constant: 0 });
    expect(outcome.voxels).toBe(11);
    expect([outcome.trainItems, outcome.testItems]).toEqual([59, 9]);
    expect(outcome.testIds).not.toContain('img1002');
    expect(outcome.testIds).toHaveLength(9);
    expect(outcome.truth.count).toBe(9);
    for (const row of result.rows) expect(row.items).toBe(9);
    // Images stayed aligned with their fMRI rows: ridge still recovers the pixels.
    const mse = result.rows.find((r) => r.metric === 'mse')!;
    expect(mse.value!).toBeLessThan(0.2 * mse.trivial!);
    expect(events.some((m) => /1 train rows dropped .*: img5/.test(m))).toBe(true);
    expect(events.some((m) => /1 test rows dropped .*missing from every metric\): img1002/.test(m))).toBe(true);
  });

  it('re-uses fitted mappers and predictions from the cache on a second identical run', async () => {
    core = await makeTestCore({ modules: [tinyDataset] });
    const first = await new ExperimentRunner(core).run(spec());
    const second = await new ExperimentRunner(core).run(spec());
    expect(first.outcomes[0]!.mappers[0]).toMatchObject({ fit: 'miss', predict: 'miss' });
    expect(second.outcomes[0]!.mappers[0]).toMatchObject({ fit: 'hit', predict: 'hit' });
    expect(second.rows).toEqual(first.rows);
  });

  it('resumes an interrupted experiment with what was finished', async () => {
    core = await makeTestCore({ modules: [tinyDataset] });
    const controller = new AbortController();
    const interrupted = new ExperimentRunner(core, {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.pipeline === 'p0' && e.message.includes('predicted')) controller.abort(new Error('killed'));
      },
    });
    await expect(interrupted.run(spec({ pipelines: 2 }))).rejects.toThrow('killed');
    const resumed = await new ExperimentRunner(core).run(spec({ pipelines: 2 }));
    expect(resumed.outcomes.map((o) => o.mappers[0]!.fit)).toEqual(['hit', 'miss']);
  });

  it('refuses an empty test set and an unknown subject with clear messages', async () => {
    core = await makeTestCore({ modules: [tinyDataset] });
    await expect(new ExperimentRunner(core).run(spec({ testItems: 0 }))).rejects.toThrow(/subject s1 has an empty test set/);
    const bad = spec();
    bad.pipelines[0]!.subjects = ['s9'];
    await expect(new ExperimentRunner(core).run(bad)).rejects.toThrow(/dataset 'tiny' has no subject 's9' \(it has s1\)/);
  });

  it('hands the mapper the atlas re-indexed to the voxels left after dropping the NaN voxel', async () => {
    core = await makeTestCore({ modules: [tinyDataset, atlasSpy], cacheDir: null });
    const s = spec();
    s.pipelines[0]!.mappers['*'] = { id: 'atlas-spy', options: {} };
    seenAtlases.length = 0;
    await new ExperimentRunner(core).run(s);
    expect(seenAtlases).toHaveLength(1);
    const atlas = seenAtlases[0]!;
    // Voxel 3 is NaN and dropped: columns above it shift down by one, and it leaves both ROIs.
    expect(Array.from(atlas.all!)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(Array.from(atlas.odd!)).toEqual([1, 4, 6, 8, 10]);
  });

  it('refuses a mappers key that names no target space of the generator, before any long step', async () => {
    core = await makeTestCore({ modules: [tinyDataset] });
    const bad = spec();
    bad.pipelines[0]!.mappers = { pca: { id: 'ridge', options: {} }, '*': { id: 'ridge', options: {} } };
    // validate() runs before anything is loaded or fitted: the declared spaces of `pixels` suffice.
    await expect(new ExperimentRunner(core).validate(bad)).rejects.toThrow(
      /test pipelines\[0\]: \/mappers: 'pca' is not a target space of generator 'pixels' \(its spaces: pixels; or use "\*"\)/,
    );
    const missing = spec();
    missing.pipelines[0]!.mappers = {};
    await expect(new ExperimentRunner(core).validate(missing)).rejects.toThrow(/\/mappers: no mapper for target space 'pixels' of generator 'pixels'/);
  });

  it('checks mappers against a generator that declares no spaces once it is fitted, before fitting any mapper', async () => {
    core = await makeTestCore({ modules: [tinyDataset, coarseGenerator()] });
    const bad = spec();
    bad.pipelines[0]!.generator = { id: 'coarse', options: {} };
    bad.pipelines[0]!.mappers = { fine: { id: 'ridge', options: {} } };
    await new ExperimentRunner(core).validate(bad); // nothing to check against yet
    const events: string[] = [];
    const runner = new ExperimentRunner(core, { onEvent: (e) => events.push(e.message) });
    await expect(runner.run(bad)).rejects.toThrow(/\/mappers: 'fine' is not a target space of generator 'coarse' \(its spaces: coarse/);
    expect(events.filter((e) => /^fitting (?!generator)/.test(e))).toEqual([]);
  });

  it("refuses a generator whose fitted spaces are not the ones its factory declared (the plugin's bug)", async () => {
    core = await makeTestCore({ modules: [tinyDataset, coarseGenerator(['fine'])] });
    const s = spec();
    s.pipelines[0]!.generator = { id: 'coarse', options: {} };
    await expect(new ExperimentRunner(core).run(s)).rejects.toThrow(
      /generator 'coarse': fitted targets\(\) are coarse, but its factory's targetSpaces\(\) declared fine/,
    );
  });

  it('validates every plugin and option before starting', async () => {
    core = await makeTestCore({ modules: [tinyDataset] });
    const bad = spec();
    bad.pipelines[0]!.mappers['*'] = { id: 'ridge', options: { alpha: -1 } };
    await expect(new ExperimentRunner(core).run(bad)).rejects.toThrow(/mapper 'ridge' options: \/alpha: must be > 0/);
  });
});

describe('ExperimentRunner: models the pipelines need are checked before the first long step', () => {
  const plugin = resolve('test/fixtures/model-metric-plugin');
  let models: string;
  afterEach(async () => {
    if (models) await rm(models, { recursive: true, force: true });
  });

  function modelSpec(metricOptions: Record<string, unknown> = {}): ExperimentSpec {
    const s = spec();
    s.pipelines[0]!.metrics = [{ id: 'feature-distance', options: metricOptions }];
    return s;
  }

  async function runCollecting(s: ExperimentSpec) {
    const events: string[] = [];
    const runner = new ExperimentRunner(core!, { onEvent: (e) => events.push(e.message) });
    return { events, outcome: runner.run(s) };
  }

  it('an unconfigured model is refused at start, naming it and how to name and make it', async () => {
    core = await makeTestCore({ modules: [tinyDataset], plugins: [plugin] });
    const { events, outcome } = await runCollecting(modelSpec());
    await expect(outcome).rejects.toThrow(
      /metric 'feature-distance' in p0: model 'tiny-features' is not configured; configured names: none\. Name it in neurodecode\.config\.json/,
    );
    await expect(outcome).rejects.toThrow(/make the folder with: writeNeurodecodeFolder/);
    expect(events).toEqual([]); // no mapper was fitted
  });

  it('a configured folder that does not exist is refused at start, naming the file expected', async () => {
    models = await mkdtemp(join(tmpdir(), 'nd-runner-models-'));
    core = await makeTestCore({ modules: [tinyDataset], plugins: [plugin], models: { 'tiny-features': join(models, 'absent') } });
    const { events, outcome } = await runCollecting(modelSpec());
    await expect(outcome).rejects.toThrow(
      `model 'tiny-features' (configured in neurodecode.config.json, for the test feature network) is missing: expected ${join(models, 'absent', 'model.json')}`,
    );
    expect(events).toEqual([]);
  });

  it('a configured model whose graph does not match what the plugin feeds is refused at start', async () => {
    models = await mkdtemp(join(tmpdir(), 'nd-runner-models-'));
    const dir = await writeNeurodecodeFolder(join(models, 'renamed'), { graphs: { features: featureGraph({ inputName: 'pixel_values' }) } });
    core = await makeTestCore({ modules: [tinyDataset], plugins: [plugin], models: { 'tiny-features': dir } });
    const { events, outcome } = await runCollecting(modelSpec());
    await expect(outcome).rejects.toThrow(`${join(dir, 'features.onnx')}: model signature does not match: input 'image': missing`);
    expect(events).toEqual([]);
  });

  it('a fine model runs: by configured name, and by folder path in the plugin option', async () => {
    models = await mkdtemp(join(tmpdir(), 'nd-runner-models-'));
    const dir = await writeNeurodecodeFolder(join(models, 'tiny'));
    core = await makeTestCore({ modules: [tinyDataset], plugins: [plugin], models: { 'tiny-features': dir } });
    const byName = await new ExperimentRunner(core).run(modelSpec());
    const row = byName.rows.find((r) => r.metric === 'feature-distance')!;
    expect(row).toMatchObject({ target: 'image', direction: 'lower', items: 10 });
    // ridge recovers the images far better than the mean image, and so their features
    expect(row.value!).toBeLessThan(0.5 * row.trivial!);
    const byPath = await new ExperimentRunner(core).run(modelSpec({ model: dir }));
    expect(byPath.rows.find((r) => r.metric === 'feature-distance')!.value).toBe(row.value);
  });
});
