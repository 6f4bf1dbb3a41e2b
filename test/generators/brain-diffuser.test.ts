/**
 * Brain-Diffuser end to end in one process on the tiny VDVAE and Versatile Diffusion models: one ridge per space
 * (VDVAE latents, CLIP-text, CLIP-vision) from the same X, VDVAE's 512² upsampling (here 64²) as the init of Versatile
 * Diffusion, the stage-1 rows, and the noise-sensitivity option.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSpecFile } from '../../core/pipeline.js';
import { ExperimentRunner } from '../../core/runner.js';
import { perTestScratch } from '../helpers/core.js';
import { writeTinyVdvae } from '../helpers/tiny-vdvae.js';
import { writeTinyVersatileDiffusion } from '../helpers/tiny-versatile-diffusion.js';

const scratch = perTestScratch('nd-brain-diffuser-');

describe('brain-diffuser', () => {
  it('VDVAE → Versatile Diffusion: three spaces, stage 1 scored, finite; stage1Noise changes the final images only, the same in every run', async () => {
    const dir = await scratch.dir();
    const models = { vdvae: await writeTinyVdvae(join(dir, 'vdvae')), 'versatile-diffusion': await writeTinyVersatileDiffusion(join(dir, 'vd')) };
    const core = await scratch.core({ models, cacheDir: null });
    const pipeline = (extra: Record<string, unknown>) =>
      parseSpecFile(
        {
          name: 'brain-diffuser',
          dataset: { id: 'synthetic', options: { subjects: 1, trainImages: 60, testImages: 6, voxels: 200, imageSize: 32 } },
          generator: { id: 'brain-diffuser', options: { vdvae: { outputSize: 64 }, versatileDiffusion: { initSize: 64, steps: 10 }, ...extra } },
          mappers: { '*': { id: 'ridge', options: { alpha: 5e4 } } },
          metrics: ['pixcorr', 'ssim', 'mse'],
          trivialItems: 2,
        },
        'test.json',
      );
    const plain = await new ExperimentRunner(core).run(pipeline({}));
    const outcome = plain.outcomes[0]!;
    expect(outcome.mappers.map((m) => m.space)).toEqual(['vdvae', 'clip-vision', 'clip-text']);
    expect(plain.rows.filter((r) => r.target === 'stage 1').map((r) => r.metric)).toEqual(['pixcorr', 'ssim']);
    for (const row of plain.rows) expect(Number.isFinite(row.value), `${row.target} ${row.metric}`).toBe(true);
    expect([outcome.reconstructions.count, outcome.reconstructions.height, outcome.reconstructions.channels]).toEqual([6, 32, 3]);

    const noisy = await new ExperimentRunner(core).run(pipeline({ stage1Noise: { amplitude: 64 } }));
    const stage1 = (r: typeof plain) => r.rows.find((row) => row.target === 'stage 1' && row.metric === 'pixcorr')!.value;
    expect(stage1(noisy)).toBe(stage1(plain));
    expect(noisy.outcomes[0]!.reconstructions.data).not.toEqual(outcome.reconstructions.data);
    const again = await new ExperimentRunner(core).run(pipeline({ stage1Noise: { amplitude: 64 } }));
    expect(again.outcomes[0]!.reconstructions.data).toEqual(noisy.outcomes[0]!.reconstructions.data);
  }, 300_000);
});
