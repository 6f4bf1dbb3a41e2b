import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSpecFile, type ExperimentSpec } from '../../core/pipeline.js';
import { ExperimentRunner } from '../../core/runner.js';
import { pixelMetricImages } from '../../core/vision/index.js';
import { perTestScratch } from '../helpers/core.js';
import { patternImage } from '../helpers/vision.js';
import { alexNetTapsGraph, featureGraph, writeNeurodecodeFolder } from '../helpers/models.js';

const METRICS = ['alexnet-2', 'alexnet-5', 'lpips'];

function spec(options: Record<string, unknown> = {}): ExperimentSpec {
  return parseSpecFile(
    {
      pipelines: [
        {
          name: 'p',
          dataset: { id: 'synthetic', options: { subjects: 1, testImages: 20, trainImages: 300, voxels: 400, imageSize: 32 } },
          generator: 'pixels',
          mappers: { '*': 'ridge' },
          metrics: METRICS.map((id) => ({ id, options })),
        },
      ],
    },
    'test',
  );
}

const scratch = perTestScratch('nd-alexnet-');

describe('AlexNet metrics (alexnet-2, alexnet-5, lpips)', () => {
  it('run end to end on the synthetic dataset from one tiny five-tap graph, in both conventions', async () => {
    const dir = await scratch.dir();
    const folder = await writeNeurodecodeFolder(join(dir, 'alexnet'), { graphs: { features: alexNetTapsGraph() } });
    const core = await scratch.core({ models: { alexnet: folder } });
    for (const convention of ['brain-diffuser', 'mindeye']) {
      const result = await new ExperimentRunner(core).run(spec({ convention }));
      const rows = Object.fromEntries(METRICS.map((m) => [m, result.rows.find((r) => r.metric === m && r.subject !== 'mean')!]));
      for (const m of ['alexnet-2', 'alexnet-5']) {
        expect(rows[m]).toMatchObject({ target: 'image', direction: 'higher' });
        // ridge reconstructions of the synthetic scenes are identified well above chance (0.5)
        expect(rows[m]!.value!).toBeGreaterThan(0.6);
        expect(rows[m]!.value!).toBeLessThanOrEqual(1);
      }
      expect(rows.lpips).toMatchObject({ target: 'image', direction: 'lower' });
      expect(rows.lpips!.value!).toBeGreaterThan(0);
      expect(rows.lpips!.value!).toBeLessThan(rows.lpips!.trivial!);
    }
  });

  it('an unconfigured alexnet model is refused at start, naming export.py', async () => {
    const core = await scratch.core();
    const outcome = new ExperimentRunner(core).run(spec());
    await expect(outcome).rejects.toThrow(/metric 'alexnet-2' in p: model 'alexnet' is not configured/);
    await expect(outcome).rejects.toThrow(/make the folder with: python3 metrics\/alexnet\/export\.py/);
  });

  it('a model folder without the five taps is refused at start', async () => {
    const dir = await scratch.dir();
    const folder = await writeNeurodecodeFolder(join(dir, 'wrong'), { graphs: { features: featureGraph({ inputName: 'images' }) } });
    const core = await scratch.core({ models: { alexnet: folder } });
    await expect(new ExperimentRunner(core).run(spec())).rejects.toThrow(/model signature does not match: .*output 'relu1': missing/);
  });

  it('images of different sizes: alexnet-2 resizes each side (same scenes at 425 and 64 identify perfectly); lpips refuses', async () => {
    const dir = await scratch.dir();
    const core = await scratch.core({ models: { alexnet: await writeNeurodecodeFolder(join(dir, 'alexnet'), { graphs: { features: alexNetTapsGraph() } }) } });
    const scenes = [0, 1, 2, 3].map((kind) => patternImage(64, 64, 3, kind).data);
    const truth = { count: 4, height: 64, width: 64, channels: 3, data: Float32Array.from(scenes.flatMap((d) => Array.from(d))) };
    const pred = await pixelMetricImages(truth, 'mindeye'); // the same four scenes, bilinear to 425 × 425
    const input = { kind: 'image', pred, truth } as const;
    const two = (await core.registry.create('metric', 'alexnet-2', {})).instance;
    expect(Array.from((await two.compute(input, { seed: 0 })).perItem)).toEqual([1, 1, 1, 1]);
    const lpips = (await core.registry.create('metric', 'lpips', {})).instance;
    await expect(lpips.compute(input, { seed: 0 })).rejects.toThrow(/metric 'lpips'.*reconstructions are 425×425, ground truths 64×64; LPIPS compares images of one size/);
  });
});
