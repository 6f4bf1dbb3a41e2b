/**
 * Target spaces wider than `targetBlockColumns`: the runner encodes them in row chunks to column blocks on disk and
 * fits ridge a block at a time (`fitColumns`); the results equal the whole-matrix run, the fitted model is cached and
 * served again, the blocks are removed when the run ends, and a mapper without `fitColumns` gets the whole matrix.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PluginModule } from '../../core/contracts.js';
import { parseSpecFile } from '../../core/pipeline.js';
import { ExperimentRunner } from '../../core/runner.js';
import type { Matrix } from '../../core/tensor.js';
import { makeTestCore, type TestCore } from '../helpers/core.js';

/** A mapper without fitColumns that records the targets it was handed and predicts their mean. */
const seen: Array<{ rows: number; cols: number }> = [];
const wholeSpy: PluginModule = {
  manifest: {
    name: 'whole-spy',
    version: '0.0.1',
    apiVersion: '1.0',
    provides: [{ kind: 'mapper', id: 'whole-spy', summary: 'test', optionsSchema: { type: 'object', properties: {} } }],
  },
  register(r) {
    const fitted = (mean: Float32Array) => ({
      predict: async (X: Matrix) => ({ rows: X.rows, cols: mean.length, data: Float32Array.from({ length: X.rows * mean.length }, (_, k) => mean[k % mean.length]!) }),
      save: async () => {},
      summary: {},
    });
    r.mapper('whole-spy', {
      create: () => ({
        fit: async (_X, Y) => {
          seen.push({ rows: Y.rows, cols: Y.cols });
          const mean = new Float32Array(Y.cols);
          for (let i = 0; i < Y.rows; i++) for (let j = 0; j < Y.cols; j++) mean[j]! += Y.data[i * Y.cols + j]! / Y.rows;
          return fitted(mean);
        },
      }),
      load: async () => fitted(new Float32Array(3072)),
    });
  },
};

/** Fewer training rows (40) than voxels (200): ridge's dual form; 32 × 32 RGB images: 3,072 pixel columns. */
const SYNTHETIC = { subjects: 1, trainImages: 40, testImages: 8, voxels: 200, imageSize: 32 };
const pipeline = (mapper: string, options: Record<string, unknown> = {}) =>
  parseSpecFile(
    { dataset: { id: 'synthetic', options: SYNTHETIC }, generator: 'pixels', mappers: { '*': { id: mapper, options } }, metrics: ['mse', 'pixcorr'] },
    'test',
  );

let cores: TestCore[] = [];
afterEach(async () => {
  for (const c of cores) await c.cleanup();
  cores = [];
});
async function coreWith(targetBlockColumns?: number) {
  const core = await makeTestCore({ modules: [wholeSpy], ...(targetBlockColumns ? { targetBlockColumns } : {}) });
  cores.push(core);
  return core;
}

describe('column-block targets', () => {
  // 3,072 pixel columns → blocks of 1,000, 1,000, 1,000, 72; or 308 blocks of 10, when the 40 training rows are
  // also encoded in two chunks (8,192 × 10 values per chunk: 26 rows).
  it.each([
    ['a fixed alpha', { alpha: 0.5 }, 1000, 4],
    ['CV, one alpha per target', { alphas: [0.01, 1, 100], folds: 3, alphaPer: 'per-target' }, 1000, 4],
    ['a fixed alpha, rows encoded in two chunks', { alpha: 0.5 }, 10, 308],
  ])('ridge fitted a block at a time gives the whole-matrix results: %s', async (_name, options, width, blocks) => {
    const whole = await new ExperimentRunner(await coreWith()).run(pipeline('ridge', options));
    const core = await coreWith(width);
    const events: string[] = [];
    const streamed = await new ExperimentRunner(core, { onEvent: (e) => events.push(e.message) }).run(pipeline('ridge', options));
    expect(events).toContain(`pixels: ${blocks} column blocks of ${width} streamed from disk`);
    expect(streamed.rows.map((r) => [r.target, r.metric])).toEqual(whole.rows.map((r) => [r.target, r.metric]));
    streamed.rows.forEach((row, k) => {
      const reference = whole.rows[k]!;
      expect(row.value!).toBeCloseTo(reference.value!, 6);
      expect(row.trivial!).toBeCloseTo(reference.trivial!, 6);
    });
    expect(streamed.outcomes[0]!.mappers[0]).toMatchObject({ fit: 'miss', predict: 'miss', summary: { columnBlocks: blocks, form: 'dual' } });

    // The model went into the cache as fitColumns wrote it (groups across blocks, one factor per alpha)...
    const mappers = join(core.config.cacheDir!, 'mappers');
    const [entry] = await readdir(mappers);
    const meta = JSON.parse(await readFile(join(mappers, entry!, 'ridge.json'), 'utf8')) as { groups: unknown[]; targets: number };
    expect(meta.targets).toBe(3072);
    expect(meta.groups.length).toBeGreaterThanOrEqual(blocks);
    // ...the streamed blocks are gone, and a rerun is served from the cache with equal numbers.
    expect(await readdir(join(core.config.cacheDir!, 'scratch'))).toEqual([]);
    const again = await new ExperimentRunner(core).run(pipeline('ridge', options));
    expect(again.outcomes[0]!.mappers[0]).toMatchObject({ fit: 'hit', predict: 'hit' });
    expect(again.rows.map((r) => r.value)).toEqual(streamed.rows.map((r) => r.value));
  });

  it('a mapper without fitColumns receives the whole target matrix', async () => {
    seen.length = 0;
    const result = await new ExperimentRunner(await coreWith(1000)).run(pipeline('whole-spy'));
    expect(seen).toEqual([{ rows: result.outcomes[0]!.trainItems, cols: 3072 }]);
    // It predicts the training mean: its latent mse equals the trivial floor's.
    const mse = result.rows.find((r) => r.target === 'pixels' && r.metric === 'mse')!;
    expect(mse.value!).toBeCloseTo(mse.trivial!, 6);
  });
});
