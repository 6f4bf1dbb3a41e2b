import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as pixcorr from '../../metrics/pixcorr/index.js';
import * as ssim from '../../metrics/ssim/index.js';
import { UserError } from '../../core/errors.js';
import { pixelMetricImages } from '../../core/vision/index.js';
import { patternImage } from '../helpers/vision.js';
import { createMetric } from './helpers.js';

interface Case {
  name: string;
  height: number;
  width: number;
  truthKind: number;
  predKind: number;
  results: Record<'brain-diffuser' | 'mindeye', { pixcorr: number; 'ssim-columns': number }>;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/vision/pixel-metrics.json', import.meta.url), 'utf8')) as { cases: Case[] };

describe('pixcorr and ssim-columns under each paper convention (test/fixtures/vision/make_pixel_metrics.py)', () => {
  for (const c of fixture.cases) {
    const input = { kind: 'image', truth: patternImage(c.height, c.width, 3, c.truthKind), pred: patternImage(c.height, c.width, 3, c.predKind) } as const;

    for (const convention of ['brain-diffuser', 'mindeye'] as const) {
      it(`${c.name}: ${convention} resize to 425 then the metric, as the paper's evaluation script (≤ 1e-4)`, async () => {
        const want = c.results[convention];
        const r = await (await createMetric(pixcorr, 'pixcorr', { convention })).compute(input, { seed: 0 });
        expect(Math.abs(r.value - want.pixcorr)).toBeLessThanOrEqual(1e-4);
        const s = await (await createMetric(ssim, 'ssim-columns', { convention })).compute(input, { seed: 0 });
        expect(Math.abs(s.value - want['ssim-columns'])).toBeLessThanOrEqual(1e-4);
      });
    }

    it(`${c.name}: convention none compares at the given size, and differs from the resized values`, async () => {
      const plain = await (await createMetric(pixcorr, 'pixcorr')).compute(input, { seed: 0 });
      const resized = c.results['brain-diffuser'].pixcorr;
      expect(Number.isFinite(plain.value)).toBe(true);
      expect(Math.abs(plain.value - resized)).toBeGreaterThan(1e-4);
    });
  }

  it('under a convention the two sides may differ in size: a reconstruction equal to the resized truth scores 1', async () => {
    const truth = patternImage(64, 64, 3, 3);
    const pred = await pixelMetricImages(truth, 'brain-diffuser'); // 425 × 425, already 8-bit: resized to itself
    const input = { kind: 'image', pred, truth } as const;
    const options = { convention: 'brain-diffuser' };
    expect((await (await createMetric(pixcorr, 'pixcorr', options)).compute(input, { seed: 0 })).value).toBeCloseTo(1, 12);
    expect((await (await createMetric(ssim, 'ssim-columns', options)).compute(input, { seed: 0 })).value).toBeCloseTo(1, 12);
    // Without a convention the sizes must agree, and the error says how to resize.
    await expect((await createMetric(pixcorr, 'pixcorr')).compute(input, { seed: 0 })).rejects.toThrow(/set the metric's convention option/);
    const gray = patternImage(64, 64, 1, 3);
    await expect((await createMetric(pixcorr, 'pixcorr', options)).compute({ kind: 'image', pred, truth: gray }, { seed: 0 })).rejects.toThrow(UserError);
  });
});
