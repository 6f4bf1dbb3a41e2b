import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PluginServices } from '../../core/services.js';
import type { ImageBatch } from '../../core/tensor.js';
import { TOKENS } from '../../core/tokens.js';
import { createClipMetric } from '../../metrics/clip/clip.js';
import { parseSpecFile, type ExperimentSpec } from '../../core/pipeline.js';
import { ExperimentRunner } from '../../core/runner.js';
import { perTestScratch } from '../helpers/core.js';
import { writeClipVisionFolder } from '../helpers/models.js';

function spec(options: Record<string, unknown> = {}): ExperimentSpec {
  return parseSpecFile(
    {
      pipelines: [
        {
          name: 'p',
          dataset: { id: 'synthetic', options: { subjects: 1, testImages: 20, trainImages: 300, voxels: 400, imageSize: 32 } },
          generator: 'pixels',
          mappers: { '*': 'ridge' },
          metrics: [{ id: 'clip', options }],
        },
      ],
    },
    'test',
  );
}

const scratch = perTestScratch('nd-clip-');

/** Solid-colour 8×8 images (values in [0, 1]); `channels` 1 repeats the first value as gray. */
function solid(colours: number[][], channels = 3): ImageBatch {
  const data = new Float32Array(colours.length * 64 * channels);
  colours.forEach((c, i) => {
    for (let p = 0; p < 64; p++) for (let k = 0; k < channels; k++) data[(i * 64 + p) * channels + k] = c[k]!;
  });
  return { count: colours.length, height: 8, width: 8, channels, data };
}

describe('clip metric', () => {
  it('identifies every reconstruction that equals its ground truth (known answer: 1 for each item), and warns once for gray', async () => {
    const dir = await scratch.dir();
    const folder = await writeClipVisionFolder(join(dir, 'clip'));
    const core = await scratch.core({ models: { 'clip-vit-large-patch14': folder } });
    const services = core.container.get<PluginServices>(TOKENS.Services);
    const metric = await createClipMetric({ model: 'clip-vit-large-patch14', convention: 'mindeye' }, services);
    // non-proportional colours: the embeddings (colour · W) of different images are not perfectly correlated
    const images = solid([[0.9, 0.1, 0.2], [0.2, 0.8, 0.1], [0.1, 0.3, 0.9], [0.6, 0.6, 0.1]]);
    const result = await metric.compute({ kind: 'image', pred: images, truth: images }, { seed: 0 });
    expect(Array.from(result.perItem!)).toEqual([1, 1, 1, 1]);
    expect(result.value).toBe(1);
    const gray = solid([[0.1], [0.5], [0.9]], 1);
    await metric.compute({ kind: 'image', pred: gray, truth: gray }, { seed: 0 });
    await metric.compute({ kind: 'image', pred: gray, truth: gray }, { seed: 0 });
    expect(core.warnings.filter((w) => w.includes("metric 'clip'") && w.includes('grayscale'))).toHaveLength(1);
  });

  it('runs end to end on a transformers.js folder with the image_embeds signature, in both conventions', async () => {
    const dir = await scratch.dir();
    const folder = await writeClipVisionFolder(join(dir, 'clip'));
    const core = await scratch.core({ models: { 'clip-vit-large-patch14': folder } });
    for (const convention of ['brain-diffuser', 'mindeye']) {
      const result = await new ExperimentRunner(core).run(spec({ convention }));
      const row = result.rows.find((r) => r.metric === 'clip' && r.subject !== 'mean')!;
      expect(row).toMatchObject({ target: 'image', direction: 'higher' });
      // ridge reconstructions of the synthetic scenes are identified above chance (0.5) on their colour means
      expect(row.value!).toBeGreaterThan(0.6);
      expect(row.value!).toBeLessThanOrEqual(1);
    }
  });

  it('an unconfigured model is refused at start, naming export.py', async () => {
    const core = await scratch.core();
    const outcome = new ExperimentRunner(core).run(spec());
    await expect(outcome).rejects.toThrow(/metric 'clip' in p: model 'clip-vit-large-patch14' is not configured/);
    await expect(outcome).rejects.toThrow(/metrics\/clip\/export\.py/);
  });

  it('a CLIPVisionModel export without image_embeds is refused, naming the outputs found', async () => {
    const dir = await scratch.dir();
    const folder = await writeClipVisionFolder(join(dir, 'noproj'), { projection: false });
    const core = await scratch.core({ models: { 'clip-vit-large-patch14': folder } });
    await expect(new ExperimentRunner(core).run(spec())).rejects.toThrow(/output 'image_embeds': missing.*outputs: pooler_output/);
  });
});
