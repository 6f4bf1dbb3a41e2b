/** Options of the `pca` generator (JSON schema with defaults, and the matching TypeScript type). */
export interface PcaOptions {
  /** Eigen-images kept; capped at min(training images − 1, pixel values) — see the README. */
  components: number;
  /** Scale each coefficient to unit variance over the training images (scikit-learn's `whiten`). */
  whiten: boolean;
  /** Extra random directions in the sketch (Halko et al.'s p). */
  oversamples: number;
  /** Power iterations of the range finder (Halko et al.'s q); each costs two passes over the images. */
  powerIterations: number;
}

export const pcaOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    components: { type: 'integer', minimum: 1, default: 256, description: 'eigen-images kept (capped at n_train − 1)' },
    whiten: { type: 'boolean', default: false, description: 'scale coefficients to unit variance on the training images' },
    oversamples: { type: 'integer', minimum: 0, default: 16, description: 'extra sketch directions of the randomized SVD' },
    powerIterations: {
      type: 'integer',
      minimum: 0,
      default: 4,
      description: 'power iterations of the randomized SVD (scikit-learn uses 4 when components ≥ 10 % of the rank)',
    },
  },
} as const;

/** The one target space this generator produces (declared before fit by its factory, see index.ts). */
export const PCA_SPACE = 'pca';
