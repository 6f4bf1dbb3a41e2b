import { describe, expect, it } from 'vitest';
import { UserError } from '../../core/errors.js';
import * as twoWay from '../../metrics/two-way/index.js';
import { createMetric, imageBatch, latent, normalRows } from './helpers.js';
import { reference } from './reference.js';

describe('two-way identification (Brain-Diffuser pairwise_corr_all)', () => {
  it('matches a hand-computed case, ties failing', async () => {
    // Truths are the unit vectors e0, e1, e2. r(e_i, e_j) = −0.5 for i ≠ j.
    // pred0 = e0: r = 1 with its own truth, −0.5 with the others → beats both → 1.
    // pred1 = e2 (wrong): own r(e1, e2) = −0.5; r(e0, e2) = −0.5 is a tie (fails), r(e2, e2) = 1 → 0.
    // pred2 = (0, 1, 2): own r(e2, ·) = 0.866, r(e1, ·) = 0, r(e0, ·) = −0.866 → 1.
    const metric = await createMetric(twoWay, 'two-way');
    const result = await metric.compute(
      latent(
        [
          [1, 0, 0],
          [0, 0, 1],
          [0, 1, 2],
        ],
        [
          [1, 0, 0],
          [0, 1, 0],
          [0, 0, 1],
        ],
      ),
      { seed: 0 },
    );
    expect(Array.from(result.perItem)).toEqual([1, 0, 1]);
    expect(result.value).toBeCloseTo(2 / 3, 12);
  });

  it('matches pairwise_corr_all computed with numpy', async () => {
    const metric = await createMetric(twoWay, 'two-way');
    const { truth, pred, perItem, value } = reference.twoWay;
    const result = await metric.compute(latent(pred, truth), { seed: 0 });
    perItem.forEach((v, i) => expect(result.perItem[i]).toBeCloseTo(v, 12));
    expect(result.value).toBeCloseTo(value, 12);
  });

  it('gives the same answer on images as on their flattened pixels, and about 0.5 on unrelated data', async () => {
    const metric = await createMetric(twoWay, 'two-way');
    const truth = normalRows(40, 48, 1);
    const pred = normalRows(40, 48, 2);
    const asLatent = await metric.compute(latent(pred, truth), { seed: 0 });
    const asImages = await metric.compute(
      {
        kind: 'image',
        pred: imageBatch(40, 4, 4, 3, Float32Array.from(pred.flat())),
        truth: imageBatch(40, 4, 4, 3, Float32Array.from(truth.flat())),
      },
      { seed: 0 },
    );
    expect(Array.from(asImages.perItem)).toEqual(Array.from(asLatent.perItem));
    expect(Math.abs(asLatent.value - 0.5)).toBeLessThan(0.1);
  });

  it('marks an item with a constant prediction NaN and needs two items', async () => {
    const metric = await createMetric(twoWay, 'two-way');
    const result = await metric.compute(
      latent(
        [
          [1, 1, 1],
          [0, 1, 0],
          [0, 0, 1],
        ],
        [
          [1, 0, 0],
          [0, 1, 0],
          [0, 0, 1],
        ],
      ),
      { seed: 0 },
    );
    expect(result.perItem[0]).toBeNaN();
    expect(result.perItem[1]).toBe(1);
    expect(result.perItem[2]).toBe(1);
    expect(result.value).toBeNaN();
    await expect(metric.compute(latent([[1, 2]], [[1, 2]]), { seed: 0 })).rejects.toThrow(UserError);
  });
});
