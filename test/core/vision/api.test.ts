import { describe, expect, it } from 'vitest';
import * as api from 'neurodecode';

describe('the plugin API exports the feature-metric numerics', () => {
  it('has the preprocessing, FID, LPIPS and set-bootstrap functions and constants', () => {
    for (const name of ['networkInput', 'pytorchFidInput', 'inceptionTransformInput', 'pixelMetricImages', 'resizeBilinear', 'frechetDistance', 'frechetFromStatistics', 'featureStatistics', 'lpipsDistance', 'lpipsInput', 'readLpipsWeights', 'bootstrapSetInterval'] as const) {
      expect(typeof api[name], name).toBe('function');
    }
    expect(api.MINDEYE_SIZES).toEqual({ alexnet: 256, inception: 342, clip: 224, effnet: 255, swav: 224 });
    expect(api.BRAIN_DIFFUSER_SIZE).toBe(224);
    expect(api.FRECHET_EPS).toBe(1e-6);
    expect(api.LPIPS_ALEX_CHANNELS).toEqual([64, 192, 384, 256, 256]);
  });
});
