import { describe, expect, it } from 'vitest';
import { UserError } from '../../../core/errors.js';
import { matrix } from '../../../core/tensor.js';
import { unitRows } from '../../../metrics/common/correlation.js';
import { correlationDistance, nWayIdentification } from '../../../metrics/common/feature-comparisons.js';

describe('correlation distance (scipy spatial.distance.correlation per image)', () => {
  it('is 1 − Pearson r per row: 0 for a scaled copy, 2 for a negated one, 1 for an orthogonal one, NaN for a constant', () => {
    const truth = matrix(4, 3, [1, 2, 3, 1, 2, 3, 1, 0, -1, 5, 6, 7]);
    const pred = matrix(4, 3, [2, 4, 6, 3, 2, 1, 0, 1, 0, 4, 4, 4]);
    // Row 2: centred (1, 0, −1) and (−1/3, 2/3, −1/3) → r = 0 → distance 1.
    const d = correlationDistance(pred, truth);
    expect(d[0]).toBeCloseTo(0, 12);
    expect(d[1]).toBeCloseTo(2, 12);
    expect(d[2]).toBeCloseTo(1, 12);
    expect(d[3]).toBeNaN();
  });
});

describe('unit rows (cosine)', () => {
  it('divides each row by its norm; an all-zero row is NaN', () => {
    const unit = unitRows(matrix(2, 2, [3, 4, 0, 0]));
    expect(unit[0]).toBeCloseTo(0.6, 12);
    expect(unit[1]).toBeCloseTo(0.8, 12);
    expect(Number.isNaN(unit[2]!) && Number.isNaN(unit[3]!)).toBe(true);
  });
});

describe('n-way identification (Mind Reader)', () => {
  // Truths e0…e3; reconstructions: 0 = e0 (own cos 1, others 0 → always wins); 1 = (0.1, 0.6, 1, 0) (own 0.6,
  // beats e0's 0.1 and e3's 0, loses to e2's 1); 2 = (1, 0, 1, 0) (own cos 1/√2 ties with e0: ties fail; beats e1
  // and e3); 3 = zero (NaN).
  const truth = matrix(4, 4, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  const pred = matrix(4, 4, [1, 0, 0, 0, 0.1, 0.6, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0]);

  it('with n = the number of images every trial holds all of them: hand-computed wins, ties failing', async () => {
    const perItem = await nWayIdentification(pred, truth, { n: 4, repeats: 5, seed: 1 });
    expect(Array.from(perItem)).toEqual([1, 0, 0, Number.NaN]);
  });

  it('two-way trials: items 1 and 2 each beat two of the three other truths — 2 of 3 on average', async () => {
    const perItem = await nWayIdentification(pred, truth, { n: 2, repeats: 3000, seed: 7 });
    expect(perItem[0]).toBe(1);
    expect(perItem[1]).toBeCloseTo(2 / 3, 1);
    expect(perItem[2]).toBeCloseTo(2 / 3, 1);
    expect(perItem[3]).toBeNaN();
  });

  it('is reproducible from the seed and changes with it', async () => {
    const a = await nWayIdentification(pred, truth, { n: 2, repeats: 10, seed: 3 });
    expect(await nWayIdentification(pred, truth, { n: 2, repeats: 10, seed: 3 })).toEqual(a);
    const draws = await Promise.all([1, 2, 3, 4, 5].map(async (seed) => (await nWayIdentification(pred, truth, { n: 2, repeats: 10, seed }))[1]));
    expect(new Set(draws).size).toBeGreaterThan(1);
  });

  it('refuses n outside 2…images and repeats < 1', async () => {
    await expect(nWayIdentification(pred, truth, { n: 5, repeats: 1, seed: 0 })).rejects.toThrow(UserError);
    await expect(nWayIdentification(pred, truth, { n: 1, repeats: 1, seed: 0 })).rejects.toThrow(/n = 1: expected an integer from 2 to the number of test images \(4\)/);
    await expect(nWayIdentification(pred, truth, { n: 2, repeats: 0, seed: 0 })).rejects.toThrow(/repeats = 0/);
  });
});
