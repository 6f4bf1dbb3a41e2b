import { describe, expect, it } from 'vitest';
import { UserError } from '../../core/errors.js';
import * as pearson from '../../metrics/pearson/index.js';
import { createMetric, latent } from './helpers.js';

describe('pearson (latent, per item across dimensions)', () => {
  it('matches hand-computed correlations', async () => {
    const metric = await createMetric(pearson, 'pearson');
    // Item 0: an affine copy (r = 1). Item 1: reversed (r = −1).
    const result = await metric.compute(
      latent(
        [
          [3, 5, 7],
          [3, 2, 1],
        ],
        [
          [0, 1, 2],
          [1, 2, 3],
        ],
      ),
      { seed: 0 },
    );
    expect(result.perItem[0]).toBeCloseTo(1, 12);
    expect(result.perItem[1]).toBeCloseTo(-1, 12);
    expect(result.value).toBeCloseTo(0, 12);
    // x = (1,3,2,4), y = (1,2,3,4): centred (−1.5,.5,−.5,1.5)·(−1.5,−.5,.5,1.5) = 4, both norms² 5 → r = 0.8.
    const four = await metric.compute(latent([[1, 3, 2, 4]], [[1, 2, 3, 4]]), { seed: 0 });
    expect(four.perItem[0]).toBeCloseTo(0.8, 12);
    expect(metric.direction).toBe('higher');
  });

  it('gives NaN (not 0) for a constant vector, so the mean cannot pass silently', async () => {
    const metric = await createMetric(pearson, 'pearson');
    const result = await metric.compute(
      latent(
        [
          [2, 2, 2],
          [1, 2, 3],
        ],
        [
          [1, 2, 3],
          [1, 2, 3],
        ],
      ),
      { seed: 0 },
    );
    expect(result.perItem[0]).toBeNaN();
    expect(result.perItem[1]).toBeCloseTo(1, 12);
    expect(result.value).toBeNaN();
  });

  it('refuses mismatched item counts', async () => {
    const metric = await createMetric(pearson, 'pearson');
    expect(() => metric.compute(latent([[1, 2]], [[1, 2], [3, 4]]), { seed: 0 })).toThrow(UserError);
  });
});
