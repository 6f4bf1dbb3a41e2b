import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSpecFile, type ExperimentSpec } from '../../core/pipeline.js';
import { ExperimentRunner } from '../../core/runner.js';
import type { ImageBatch } from '../../core/tensor.js';
import { perTestScratch, type TestCore } from '../helpers/core.js';
import { pooledFeatureGraph, writeNeurodecodeFolder } from '../helpers/models.js';

function spec(metrics: Array<{ id: string; options?: Record<string, unknown> }>): ExperimentSpec {
  return parseSpecFile(
    {
      pipelines: [
        {
          name: 'p',
          dataset: { id: 'synthetic', options: { subjects: 1, testImages: 12, trainImages: 200, voxels: 300, imageSize: 32 } },
          generator: 'pixels',
          mappers: { '*': 'ridge' },
          metrics,
        },
      ],
    },
    'test',
  );
}

const scratch = perTestScratch('nd-inception-');

/** A core whose `inception-v3` is the toy graph of the real signature (`images` → `avgpool` [batch, 2048]). */
async function inceptionCore(weight?: (rgb: number, k: number) => number): Promise<TestCore> {
  const dir = await scratch.dir();
  const folder = await writeNeurodecodeFolder(join(dir, 'inception-v3'), { graphs: { features: pooledFeatureGraph(2048, weight) } });
  return scratch.core({ models: { 'inception-v3': folder } });
}

/** Solid-colour 8×8 RGB images. */
function solid(colours: number[][]): ImageBatch {
  const data = Float32Array.from(colours.flatMap((c) => Array.from({ length: 64 }, () => c).flat()));
  return { count: colours.length, height: 8, width: 8, channels: 3, data };
}

describe('inception and n-way metrics', () => {
  it('run end to end from a tiny graph of the real signature, in both conventions', async () => {
    const core = await inceptionCore();
    for (const convention of ['brain-diffuser', 'mindeye']) {
      const result = await new ExperimentRunner(core).run(
        spec([
          { id: 'inception', options: { convention } },
          { id: 'n-way', options: { convention, n: 5, repeats: 4 } },
        ]),
      );
      for (const id of ['inception', 'n-way']) {
        const row = result.rows.find((r) => r.metric === id && r.subject !== 'mean')!;
        expect(row).toMatchObject({ target: 'image', direction: 'higher' });
        expect(row.value!).toBeLessThanOrEqual(1);
      }
      const row = (id: string) => result.rows.find((r) => r.metric === id && r.subject !== 'mean')!;
      // ridge reconstructions of the synthetic scenes are identified above chance (0.5 two-way, 0.2 five-way)
      expect(row('inception').value!).toBeGreaterThan(0.6);
      expect(row('n-way').value!).toBeGreaterThan(0.2);
      expect(row('n-way').note).toContain('5-way, 4 repeats');
    }
  });

  it('n-way: 1 for reconstructions equal to their truths, 0 when each equals another image, and seeded', async () => {
    // avgpool_k = normalised mean of channel k mod 3: distinct non-proportional colours have distinct directions.
    const core = await inceptionCore((rgb, k) => (k % 3 === rgb ? 1 : 0));
    const { instance } = await core.registry.create('metric', 'n-way', { n: 3, repeats: 5 });
    const colours = [[0.9, 0.1, 0.2], [0.2, 0.8, 0.1], [0.1, 0.3, 0.9], [0.6, 0.6, 0.1], [0.3, 0.1, 0.7]];
    const truth = solid(colours);
    const same = await instance.compute({ kind: 'image', pred: truth, truth }, { seed: 1 });
    expect(Array.from(same.perItem)).toEqual([1, 1, 1, 1, 1]);
    // each reconstruction is the next item's truth: its own truth never wins when that item is drawn, and
    // otherwise wins only if it beats both distractors; with n = 5 = count every other image is drawn.
    const shifted = solid([...colours.slice(1), colours[0]!]);
    const { instance: all } = await core.registry.create('metric', 'n-way', { n: 5, repeats: 2 });
    const lost = await all.compute({ kind: 'image', pred: shifted, truth }, { seed: 1 });
    expect(Array.from(lost.perItem)).toEqual([0, 0, 0, 0, 0]);
    const a = await instance.compute({ kind: 'image', pred: shifted, truth }, { seed: 7 });
    const b = await instance.compute({ kind: 'image', pred: shifted, truth }, { seed: 7 });
    expect(Array.from(a.perItem)).toEqual(Array.from(b.perItem));
  });

  it('inception: two-way identification gives 1 for reconstructions equal to their truths', async () => {
    const core = await inceptionCore((rgb, k) => (k % 3 === rgb ? 1 : 0));
    const { instance } = await core.registry.create('metric', 'inception', { convention: 'mindeye' });
    const images = solid([[0.9, 0.1, 0.2], [0.2, 0.8, 0.1], [0.1, 0.3, 0.9], [0.6, 0.6, 0.1]]);
    const result = await instance.compute({ kind: 'image', pred: images, truth: images }, { seed: 0 });
    expect(Array.from(result.perItem)).toEqual([1, 1, 1, 1]);
  });

  it('n larger than the test set: n/a for the run and the floor, the note naming n and the count; the other metrics still run', async () => {
    const core = await inceptionCore();
    const result = await new ExperimentRunner(core).run(spec([{ id: 'n-way', options: { n: 50 } }, { id: 'inception' }]));
    const row = result.rows.find((r) => r.metric === 'n-way')!;
    expect(row).toMatchObject({ value: null, low: null, high: null, trivial: null, items: 12, note: '50-way' });
    expect(row.problem).toBe('50-way needs ≥ 50 test images, 12 here (option n ≤ 12 for a 12-way score)');
    expect(result.outcomes[0]!.perItem['image/n-way']!.every(Number.isNaN)).toBe(true);
    expect(Number.isFinite(result.rows.find((r) => r.metric === 'inception')!.value)).toBe(true);
  });

  it('an unconfigured model is refused at start, naming export.py', async () => {
    const core = await scratch.core();
    const outcome = new ExperimentRunner(core).run(spec([{ id: 'n-way' }]));
    await expect(outcome).rejects.toThrow(/metric 'n-way' in p: model 'inception-v3' is not configured/);
    await expect(outcome).rejects.toThrow(/python3 metrics\/inception\/export\.py/);
  });
});
