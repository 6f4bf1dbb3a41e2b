import { describe, expect, it } from 'vitest';
import { UserError } from '../../core/errors.js';
import * as mae from '../../metrics/mae/index.js';
import * as mse from '../../metrics/mse/index.js';
import { createMetric, imageBatch, latent } from './helpers.js';

describe('mse and mae (latent)', () => {
  // Item 0 errors (1, −2, 0.5): squares 1, 4, 0.25 → 1.75; abs 1, 2, 0.5 → 3.5/3. Item 1 is exact.
  const input = latent(
    [
      [1, 0, 3.5],
      [2, 2, 2],
    ],
    [
      [0, 2, 3],
      [2, 2, 2],
    ],
  );

  it('mse is the mean squared error over dimensions per item, then over items', async () => {
    const metric = await createMetric(mse, 'mse');
    const result = await metric.compute(input, { seed: 0 });
    expect(metric.direction).toBe('lower');
    expect(Array.from(result.perItem)).toEqual([1.75, 0]);
    expect(result.value).toBeCloseTo(0.875, 12);
  });

  it('mae is the mean absolute error over dimensions per item, then over items', async () => {
    const metric = await createMetric(mae, 'mae');
    const result = await metric.compute(input, { seed: 0 });
    expect(result.perItem[0]).toBeCloseTo(3.5 / 3, 12);
    expect(result.perItem[1]).toBe(0);
    expect(result.value).toBeCloseTo(3.5 / 6, 12);
  });

  it('refuses mismatched shapes and images with a UserError naming the metric', async () => {
    const metric = await createMetric(mse, 'mse');
    expect(() => metric.compute(latent([[1, 2]], [[1, 2, 3]]), { seed: 0 })).toThrow(UserError);
    expect(() => metric.compute(latent([[1, 2]], [[1, 2, 3]]), { seed: 0 })).toThrow(/metric mse.*1×2.*1×3/);
    const image = imageBatch(1, 1, 1, 3, new Float32Array(3));
    expect(() => metric.compute({ kind: 'image', pred: image, truth: image }, { seed: 0 })).toThrow(UserError);
  });
});
