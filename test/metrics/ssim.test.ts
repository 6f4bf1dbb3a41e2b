import { describe, expect, it } from 'vitest';
import { UserError } from '../../core/errors.js';
import * as ssim from '../../metrics/ssim/index.js';
import { createMetric, imageBatch } from './helpers.js';
import { reference, referenceImages } from './reference.js';

const TOLERANCE = 1e-6;

describe('ssim and ssim-columns against scikit-image 0.19.3', () => {
  const input = { kind: 'image', pred: referenceImages('pred'), truth: referenceImages('truth') } as const;

  it('ssim (2-D Gaussian) matches structural_similarity on rgb2gray images', async () => {
    const result = await (await createMetric(ssim, 'ssim')).compute(input, { seed: 0 });
    reference.images.forEach((c, i) => expect(Math.abs(result.perItem[i]! - c.ssim)).toBeLessThan(TOLERANCE));
    const mean = reference.images.reduce((s, c) => s + c.ssim, 0) / reference.images.length;
    expect(Math.abs(result.value - mean)).toBeLessThan(TOLERANCE);
  });

  it('ssim-columns matches structural_similarity(multichannel=True) on the 2-D grayscale array', async () => {
    const result = await (await createMetric(ssim, 'ssim-columns')).compute(input, { seed: 0 });
    reference.images.forEach((c, i) => expect(Math.abs(result.perItem[i]! - c.ssimColumns)).toBeLessThan(TOLERANCE));
  });

  it('uses a one-channel image as is (no grayscale conversion)', async () => {
    const red = { kind: 'image', pred: referenceImages('pred', true), truth: referenceImages('truth', true) } as const;
    const twoD = await (await createMetric(ssim, 'ssim')).compute(red, { seed: 0 });
    const columns = await (await createMetric(ssim, 'ssim-columns')).compute(red, { seed: 0 });
    reference.images.forEach((c, i) => {
      expect(Math.abs(twoD.perItem[i]! - c.ssimRed)).toBeLessThan(TOLERANCE);
      expect(Math.abs(columns.perItem[i]! - c.ssimColumnsRed)).toBeLessThan(TOLERANCE);
    });
  });

  it('is exactly 1 for identical images, and the two conventions differ on different ones', async () => {
    const truth = referenceImages('truth');
    const same = await (await createMetric(ssim, 'ssim')).compute({ kind: 'image', pred: truth, truth }, { seed: 0 });
    same.perItem.forEach((v) => expect(v).toBeCloseTo(1, 12));
    expect(Math.abs(reference.images[1]!.ssim - reference.images[1]!.ssimColumns)).toBeGreaterThan(0.1);
  });

  it('dataRange scales the stabilising constants', async () => {
    const wide = await (await createMetric(ssim, 'ssim', { dataRange: 255 })).compute(input, { seed: 0 });
    const unit = await (await createMetric(ssim, 'ssim')).compute(input, { seed: 0 });
    expect(wide.perItem[3]).not.toBeCloseTo(unit.perItem[3]!, 3);
  });

  it('refuses mismatched sizes, too-small images and four channels', async () => {
    const metric = await createMetric(ssim, 'ssim');
    const a = imageBatch(1, 16, 16, 3, new Float32Array(16 * 16 * 3));
    const b = imageBatch(1, 16, 12, 3, new Float32Array(16 * 12 * 3));
    await expect(metric.compute({ kind: 'image', pred: a, truth: b }, { seed: 0 })).rejects.toThrow(/resize/);
    const small = imageBatch(1, 10, 16, 3, new Float32Array(10 * 16 * 3));
    await expect(metric.compute({ kind: 'image', pred: small, truth: small }, { seed: 0 })).rejects.toThrow(UserError);
    const rgba = imageBatch(1, 16, 16, 4, new Float32Array(16 * 16 * 4));
    await expect(metric.compute({ kind: 'image', pred: rgba, truth: rgba }, { seed: 0 })).rejects.toThrow(/4 channels/);
  });
});
