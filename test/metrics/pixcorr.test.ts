import { describe, expect, it } from 'vitest';
import { UserError } from '../../core/errors.js';
import * as pixcorr from '../../metrics/pixcorr/index.js';
import { createMetric, imageBatch, latent } from './helpers.js';
import { reference, referenceImages } from './reference.js';

describe('pixcorr', () => {
  // Inputs are float32 (k/255 rounded), numpy used float64: agreement to ~1e-9.
  it('matches numpy corrcoef of the flattened RGB pixels per image', async () => {
    const metric = await createMetric(pixcorr, 'pixcorr');
    const result = await metric.compute(
      { kind: 'image', pred: referenceImages('pred'), truth: referenceImages('truth') },
      { seed: 0 },
    );
    reference.images.forEach((c, i) => expect(result.perItem[i]).toBeCloseTo(c.pixcorr, 7));
  });

  it('is NaN for a constant image and refuses latents and mismatched batches', async () => {
    const metric = await createMetric(pixcorr, 'pixcorr');
    const flat = imageBatch(1, 2, 2, 1, new Float32Array([0.5, 0.5, 0.5, 0.5]));
    const ramp = imageBatch(1, 2, 2, 1, new Float32Array([0, 0.25, 0.5, 1]));
    const result = await metric.compute({ kind: 'image', pred: flat, truth: ramp }, { seed: 0 });
    expect(result.perItem[0]).toBeNaN();
    await expect(metric.compute(latent([[1, 2]], [[1, 2]]), { seed: 0 })).rejects.toThrow(UserError);
    const two = imageBatch(2, 2, 2, 1, new Float32Array(8));
    await expect(metric.compute({ kind: 'image', pred: ramp, truth: two }, { seed: 0 })).rejects.toThrow(/1 images.*2 images/);
  });
});
