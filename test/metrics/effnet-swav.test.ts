import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSpecFile, type ExperimentSpec } from '../../core/pipeline.js';
import { ExperimentRunner } from '../../core/runner.js';
import { perTestScratch } from '../helpers/core.js';
import { featureGraph, pooledFeatureGraph, writeNeurodecodeFolder } from '../helpers/models.js';

const NETS = [
  { id: 'effnet-b', model: 'effnet-b1', channels: 1280 },
  { id: 'swav', model: 'swav-resnet50', channels: 2048 },
];

function spec(options: Record<string, unknown> = {}): ExperimentSpec {
  return parseSpecFile(
    {
      pipelines: [
        {
          name: 'p',
          dataset: { id: 'synthetic', options: { subjects: 1, testImages: 12, trainImages: 200, voxels: 300, imageSize: 32 } },
          generator: 'pixels',
          mappers: { '*': 'ridge' },
          metrics: NETS.map(({ id }) => ({ id, options })),
        },
      ],
    },
    'test',
  );
}

const scratch = perTestScratch('nd-effswav-');

describe('correlation-distance feature metrics (effnet-b, swav)', () => {
  it('run end to end from tiny graphs of the real signature, in both conventions', async () => {
    const dir = await scratch.dir();
    const models: Record<string, string> = {};
    for (const n of NETS) models[n.model] = await writeNeurodecodeFolder(join(dir, n.model), { graphs: { features: pooledFeatureGraph(n.channels) } });
    const core = await scratch.core({ models });
    for (const convention of ['brain-diffuser', 'mindeye']) {
      const result = await new ExperimentRunner(core).run(spec({ convention }));
      for (const { id } of NETS) {
        const row = result.rows.find((r) => r.metric === id && r.subject !== 'mean')!;
        expect(row).toMatchObject({ target: 'image', direction: 'lower' });
        // a correlation distance lies in [0, 2]; ridge reconstructions beat the mean-image floor
        expect(row.value!).toBeGreaterThanOrEqual(0);
        expect(row.value!).toBeLessThan(row.trivial!);
      }
    }
  });

  it('an unconfigured model is refused at start, naming export.py', async () => {
    const core = await scratch.core();
    const outcome = new ExperimentRunner(core).run(spec());
    await expect(outcome).rejects.toThrow(/metric 'effnet-b' in p: model 'effnet-b1' is not configured/);
    await expect(outcome).rejects.toThrow(/python3 metrics\/effnet-b\/export\.py/);
  });

  it('a model folder without the avgpool output is refused at start', async () => {
    const dir = await scratch.dir();
    const wrong = await writeNeurodecodeFolder(join(dir, 'wrong'), { graphs: { features: featureGraph({ inputName: 'images' }) } });
    const core = await scratch.core({ models: { 'effnet-b1': wrong, 'swav-resnet50': wrong } });
    await expect(new ExperimentRunner(core).run(spec())).rejects.toThrow(/model signature does not match: .*output 'avgpool': missing/);
  });

  it('score 0 for every item when the reconstructions are the ground truths, and 1 − r by hand for two constant images', async () => {
    const dir = await scratch.dir();
    // avgpool_k = normalised mean of channel k mod 3: for constant images, known in closed form.
    const graph = pooledFeatureGraph(1280, (rgb, k) => (k % 3 === rgb ? 1 : 0));
    const core = await scratch.core({ models: { 'effnet-b1': await writeNeurodecodeFolder(join(dir, 'effnet-b1'), { graphs: { features: graph } }) } });
    const { instance } = await core.registry.create('metric', 'effnet-b', { convention: 'brain-diffuser' });
    const constant = (...rgb: number[][]) => ({
      count: rgb.length,
      height: 8,
      width: 8,
      channels: 3,
      data: Float32Array.from(rgb.flatMap((c) => Array.from({ length: 64 }, () => c).flat())),
    });
    const a = [51 / 255, 102 / 255, 204 / 255];
    const b = [204 / 255, 153 / 255, 0];
    const same = await instance.compute({ kind: 'image', pred: constant(a, b), truth: constant(a, b) }, { seed: 0 });
    for (const v of same.perItem) expect(v).toBeCloseTo(0, 6);
    const swapped = await instance.compute({ kind: 'image', pred: constant(b, a), truth: constant(a, b) }, { seed: 0 });
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    const f = (v: number[]) => Array.from({ length: 1280 }, (_, k) => (v[k % 3]! - mean[k % 3]!) / std[k % 3]!);
    const pearson = (x: number[], y: number[]) => {
      const mx = x.reduce((s, v) => s + v, 0) / x.length;
      const my = y.reduce((s, v) => s + v, 0) / y.length;
      const sxy = x.reduce((s, v, i) => s + (v - mx) * (y[i]! - my), 0);
      return sxy / Math.sqrt(x.reduce((s, v) => s + (v - mx) ** 2, 0) * y.reduce((s, v) => s + (v - my) ** 2, 0));
    };
    const expected = 1 - pearson(f(a), f(b));
    expect(swapped.perItem[0]).toBeCloseTo(expected, 4);
    expect(swapped.perItem[1]).toBeCloseTo(expected, 4);
  });
});
