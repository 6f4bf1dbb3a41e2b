/** Options of the `fid` metric. */
export interface FidOptions {
  /** A configured model name or a model folder (neurodecode layout, written by export.py). */
  model: string;
  /** np.cov's estimator: `sample` (ddof 1, pytorch-fid) or `population` (ddof 0, StyleGAN2-ADA's metrics code). */
  covariance: 'sample' | 'population';
  /** Bootstrap resamples of the image pairs for the interval; 0: no interval. */
  resamples: number;
}

export const fidOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    model: { type: 'string', default: 'fid-inception', description: 'model name (neurodecode.config.json "models") or folder' },
    covariance: { type: 'string', enum: ['sample', 'population'], default: 'sample', description: 'covariance estimator: sample (pytorch-fid) or population (StyleGAN2-ADA)' },
    resamples: { type: 'integer', minimum: 0, default: 100, description: 'bootstrap resamples of the image pairs for the interval (0: none)' },
  },
} as const;
