/**
 * How the runner drives generators: --limit, the trivial floor on a seeded subset for costly generators, several
 * samples scored first or averaged, and the `two-stage` composition with its `stage 1` rows.
 */
import { describe, expect, it } from 'vitest';
import type { GenerateContext, PluginModule } from '../../core/contracts.js';
import { seededNoise } from '../../core/diffusion/noise.js';
import { DEFAULT_TRIVIAL_ITEMS, parseSpecFile } from '../../core/pipeline.js';
import { ExperimentRunner } from '../../core/runner.js';
import type { ImageBatch, Matrix } from '../../core/tensor.js';
import { perTestScratch } from '../helpers/core.js';
import { tinyDataset } from '../helpers/tiny-dataset.js';

const calls: Array<{ role: string; ids: string[]; from: boolean }> = [];

/** Sample s of item i: the predicted (or given) pixels, odd ones shifted by 0.2·s, clipped; costly, `samples` and `scoring` as options. */
const jitter: PluginModule = {
  manifest: {
    name: 'jitter-generator',
    version: '0.0.1',
    apiVersion: '1.1',
    provides: [
      {
        kind: 'generator',
        id: 'jitter',
        summary: 'test',
        optionsSchema: {
          type: 'object',
          properties: {
            samples: { type: 'integer', default: 2 },
            scoring: { enum: ['first', 'mean'], default: 'first' },
            space: { type: 'string', default: 'jitter' },
            // Hand a following stage grey images (Generation.next) instead of samples[0].
            greyNext: { type: 'boolean', default: false },
          },
        },
      },
    ],
  },
  register(r) {
    r.generator('jitter', {
      costly: () => true,
      targetSpaces: (options) => [options.space as string],
      create(options) {
        const space = options.space as string;
        const images = (data: Float32Array, rows: number, s: number): ImageBatch => ({
          count: rows,
          height: 3,
          width: 3,
          channels: 1,
          data: data.map((v, p) => Math.min(1, Math.max(0, v + 0.2 * s * (p % 2)))),
        });
        const make = (data: Float32Array, rows: number) => ({
          samples: Array.from({ length: options.samples as number }, (_, s) => images(data, rows, s)),
          scoring: options.scoring as 'first' | 'mean',
          ...(options.greyNext ? { next: { ...images(data, rows, 0), data: new Float32Array(data.length).fill(0.5) } } : {}),
        });
        return {
          fit: async () => ({
            targets: () => [{ name: space, dims: 9 }],
            encode: async (stimuli) => ({ [space]: { rows: stimuli.images.count, cols: 9, data: Float32Array.from(stimuli.images.data) } }),
            generate: async (predicted: Record<string, Matrix>, context: GenerateContext) => {
              calls.push({ role: context.role, ids: context.ids, from: false });
              return make(predicted[space]!.data, predicted[space]!.rows);
            },
            generateFrom: async (init: ImageBatch, _predicted: Record<string, Matrix>, context: GenerateContext) => {
              calls.push({ role: context.role, ids: context.ids, from: true });
              return make(init.data, init.count);
            },
          }),
        };
      },
    });
  },
};

const scratch = perTestScratch('nd-generation-');

function pipeline(generator: unknown, extra: Record<string, unknown> = {}, testItems = 30) {
  return parseSpecFile(
    { name: 'p', dataset: { id: 'tiny', options: { testItems } }, generator, mappers: { '*': { id: 'ridge', options: { alpha: 0.1 } } }, metrics: ['mse', 'pixcorr'], ...extra },
    'test.json',
  );
}

async function run(spec: ReturnType<typeof pipeline>, limit?: number) {
  calls.length = 0;
  const core = await scratch.core({ modules: [tinyDataset, jitter] });
  return new ExperimentRunner(core, limit === undefined ? {} : { limit }).run(spec);
}

const value = (rows: Awaited<ReturnType<typeof run>>['rows'], metric: string, target: string) => rows.find((r) => r.metric === metric && r.target === target)!;

describe('generation in the runner', () => {
  it('--limit generates and scores only the first N test items, and every row says so', async () => {
    const result = await run(pipeline('pixels'), 4);
    for (const row of result.rows) {
      expect(row.items).toBe(4);
      expect(row.limited).toEqual({ items: 4, of: 30 });
    }
    expect(result.outcomes[0]!.testIds).toEqual(['img1000', 'img1001', 'img1002', 'img1003']);
    expect(result.outcomes[0]!.reconstructions.count).toBe(4);
    expect(result.outcomes[0]!.limited).toEqual({ items: 4, of: 30 });
  });

  it('a costly generator gets its trivial floor on a seeded subset of test items; trivialItems changes it', async () => {
    const result = await run(pipeline({ id: 'jitter' }));
    const trivial = calls.filter((c) => c.role === 'trivial');
    expect(trivial).toHaveLength(1);
    expect(trivial[0]!.ids).toHaveLength(DEFAULT_TRIVIAL_ITEMS);
    // Sorted, distinct, a seeded choice: the same on a second run.
    const ids = trivial[0]!.ids;
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)))).toEqual(ids);
    expect(value(result.rows, 'pixcorr', 'image').trivialItems).toBe(DEFAULT_TRIVIAL_ITEMS);
    expect(value(result.rows, 'mse', 'jitter').trivialItems).toBeUndefined(); // latent floors cost nothing
    await run(pipeline({ id: 'jitter' }));
    expect(calls.find((c) => c.role === 'trivial')!.ids).toEqual(ids);

    const all = await run(pipeline({ id: 'jitter' }, { trivialItems: 'all' }));
    expect(calls.find((c) => c.role === 'trivial')!.ids).toHaveLength(30);
    expect(value(all.rows, 'pixcorr', 'image').trivialItems).toBeUndefined();
    await run(pipeline({ id: 'jitter' }, { trivialItems: 5 }));
    expect(calls.find((c) => c.role === 'trivial')!.ids).toHaveLength(5);
    // A cheap generator keeps the whole floor by default.
    await run(pipeline('pixels'));
    expect(calls).toHaveLength(0);
  });

  it('scores the first sample, or averages each item over the samples when the generation asks for it', async () => {
    const metrics = { trivialItems: 'all', metrics: ['pixcorr'] };
    const first = await run(pipeline({ id: 'jitter', options: { samples: 1 } }, metrics));
    const shifted = await run(pipeline({ id: 'jitter', options: { samples: 3, scoring: 'first' } }, metrics));
    expect(value(shifted.rows, 'pixcorr', 'image').value).toBe(value(first.rows, 'pixcorr', 'image').value);
    const mean = await run(pipeline({ id: 'jitter', options: { samples: 3, scoring: 'mean' } }, metrics));
    const row = value(mean.rows, 'pixcorr', 'image');
    expect(row.note).toBe('mean of 3 samples');
    // Each item's value is the mean over its 3 samples: sample s has its odd pixels shifted by 0.2·s (less correlated).
    const perItem = mean.outcomes[0]!.perItem['image/pixcorr']!;
    expect(perItem).toHaveLength(30);
    expect(row.value).toBeCloseTo(perItem.reduce((a, b) => a + b, 0) / 30, 12);
    expect(row.value).toBeLessThan(value(first.rows, 'pixcorr', 'image').value!);
  });

  it('two-stage: the first stage gives the init images of the second, and is scored as `stage 1`', async () => {
    const spec = pipeline({ id: 'two-stage', options: { first: { id: 'pixels' }, second: { id: 'jitter', options: { samples: 1 } } } }, { trivialItems: 'all' });
    const result = await run(spec);
    expect(calls.map((c) => [c.role, c.from])).toEqual([
      ['model', true],
      ['trivial', true],
    ]);
    const alone = await run(pipeline('pixels'));
    // Stage 1 is exactly the pixels pipeline; the mappers fitted for both spaces.
    expect(value(result.rows, 'pixcorr', 'stage 1').value).toBe(value(alone.rows, 'pixcorr', 'image').value);
    expect(result.outcomes[0]!.mappers.map((m) => m.space)).toEqual(['pixels', 'jitter']);
    expect(result.rows.filter((r) => r.target === 'stage 1').map((r) => r.metric)).toEqual(['pixcorr']);
  });

  it("two-stage hands the first stage's `next` images on when it has them", async () => {
    const spec = pipeline({ id: 'two-stage', options: { first: { id: 'jitter', options: { samples: 1, greyNext: true } }, second: { id: 'jitter', options: { samples: 1, space: 'refined' } } } });
    const result = await run(spec);
    expect([...new Set(result.outcomes[0]!.reconstructions.data)]).toEqual([0.5]);
  });

  it('two-stage stage1Noise: N(0, 1) × amplitude on the 0–255 stage-1 image, clipped, keyed on (seed, item); stage 1 scored without it', async () => {
    const noisy = (amplitude: number) => pipeline({ id: 'two-stage', options: { first: { id: 'pixels' }, second: { id: 'jitter', options: { samples: 1 } }, stage1Noise: { amplitude } } }, { trivialItems: 'all' });
    const result = await run(noisy(32));
    const alone = await run(pipeline('pixels'));
    const clean = alone.outcomes[0]!.reconstructions;
    const size = clean.height * clean.width * clean.channels;
    const ids = result.outcomes[0]!.testIds;
    const expected = new Float32Array(clean.data.length);
    for (const [i, id] of ids.entries()) {
      const eps = seededNoise({ seed: 0, item: id, sample: 0, stream: 'stage1-noise' }, size);
      for (let k = 0; k < size; k++) expected[i * size + k] = Math.min(255, Math.max(0, 255 * clean.data[i * size + k]! + 32 * eps[k]!)) / 255;
    }
    // The jitter second stage with one sample gives back its init image (clipped to [0, 1], already so).
    expect(result.outcomes[0]!.reconstructions.data).toEqual(expected);
    expect(value(result.rows, 'pixcorr', 'stage 1').value).toBe(value(alone.rows, 'pixcorr', 'image').value);
    expect((await run(noisy(32))).outcomes[0]!.reconstructions.data).toEqual(expected);
    await expect(run(noisy(0))).rejects.toThrow(/stage1Noise/);
  });

  it('two-stage refuses two stages with one target space name, and a second stage that cannot start from images', async () => {
    const clash = pipeline({ id: 'two-stage', options: { first: { id: 'jitter', options: { space: 'pixels' } }, second: { id: 'pixels' } } });
    await expect(run(clash)).rejects.toThrow(/both stages have the target space 'pixels' \('jitter' and 'pixels'\)/);
    const noInit = pipeline({ id: 'two-stage', options: { first: { id: 'jitter' }, second: { id: 'pixels' } } });
    await expect(run(noInit)).rejects.toThrow(/second stage 'pixels' cannot start from given images/);
    const badOption = pipeline({ id: 'two-stage', options: { first: { id: 'jitter', options: { samples: 'x' } }, second: { id: 'jitter' } } });
    await expect(run(badOption)).rejects.toThrow(/generator 'jitter' options/);
  });
});
