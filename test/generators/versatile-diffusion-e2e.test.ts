/**
 * Brain-Diffuser's shape end to end in one process: the simulated dataset, two-stage {pixels → versatile-diffusion}
 * on the tiny random model, ridge for every space (pixels, clip-vision, clip-text), a couple of metrics (200 voxels:
 * the synthetic dataset's minimum).
 */
import { describe, expect, it } from 'vitest';
import { parseSpecFile } from '../../core/pipeline.js';
import { ExperimentRunner } from '../../core/runner.js';
import { perTestScratch } from '../helpers/core.js';
import { writeTinyVersatileDiffusion } from '../helpers/tiny-versatile-diffusion.js';

const scratch = perTestScratch('nd-vd-e2e-');

describe('two-stage pixels → versatile-diffusion in the runner', () => {
  it('fits ridge for the three spaces, generates from the stage-1 images, scores both stages with finite values', async () => {
    const core = await scratch.core();
    const model = await writeTinyVersatileDiffusion(await scratch.dir());
    const spec = parseSpecFile(
      {
        name: 'pixels→vd',
        dataset: { id: 'synthetic', options: { subjects: 1, trainImages: 60, testImages: 12, voxels: 200, imageSize: 32 } },
        generator: { id: 'two-stage', options: { first: { id: 'pixels' }, second: { id: 'versatile-diffusion', options: { model, initSize: 64 } } } },
        mappers: { '*': { id: 'ridge', options: { alpha: 10 } } },
        metrics: ['pixcorr', 'ssim', 'mse'],
        seed: 0,
      },
      'test.json',
    );
    const result = await new ExperimentRunner(core, {}).run(spec);
    const outcome = result.outcomes[0]!;
    expect(outcome.mappers.map((m) => m.space)).toEqual(['pixels', 'clip-vision', 'clip-text']);
    expect([outcome.reconstructions.count, outcome.reconstructions.height, outcome.reconstructions.width]).toEqual([12, 32, 32]);
    const of = (target: string) => result.rows.filter((r) => r.target === target);
    expect(of('stage 1').map((r) => r.metric)).toEqual(['pixcorr', 'ssim']);
    expect(of('image').map((r) => r.metric)).toEqual(['pixcorr', 'ssim']);
    expect(of('clip-vision').map((r) => r.metric)).toEqual(['mse']);
    expect(of('clip-text').map((r) => r.metric)).toEqual(['mse']);
    for (const row of result.rows) {
      expect(row.problem, `${row.target}/${row.metric}`).toBeUndefined();
      expect(Number.isFinite(row.value), `${row.target}/${row.metric}`).toBe(true);
      expect(Number.isFinite(row.trivial), `${row.target}/${row.metric} trivial`).toBe(true);
      expect(row.items).toBe(12);
    }
    // The second stage changed the images: its scores are not stage 1's.
    expect(of('image')[0]!.value).not.toBe(of('stage 1')[0]!.value);
    // Both stages' images and targets were cached per item.
    const kinds = (await core.cache.list()).entries.map((e) => e.kind);
    expect(kinds.filter((k) => k === 'vd-targets')).toHaveLength(72);
    expect(kinds.filter((k) => k === 'vd-images').length).toBeGreaterThanOrEqual(12);
  }, 180_000);
});
