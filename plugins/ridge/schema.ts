/** Options of the `ridge` mapper (JSON schema with defaults, and the matching TypeScript type). */
export interface RidgeOptions {
  /** Fixed regularisation; when absent, alpha is chosen by k-fold cross-validation over `alphas`. */
  alpha?: number;
  alphas: number[];
  folds: number;
  /** `shared`: one alpha for all targets (scikit-learn RidgeCV); `per-target`: one per target (himalaya). */
  alphaPer: 'shared' | 'per-target';
  fitIntercept: boolean;
  /** z-score voxels with the training mean and std (ddof=1), as Brain-Diffuser does. */
  standardize: boolean;
  /**
   * Brain-Diffuser's transductive step: z-score each predicted dimension over the whole test batch, then map it
   * to the training targets' mean and std. Uses test-batch statistics, so it is off unless asked for.
   */
  restandardizePredictions: boolean;
}

export const ridgeOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    alpha: { type: 'number', exclusiveMinimum: 0, description: 'fixed alpha; omit to choose by cross-validation' },
    alphas: {
      type: 'array',
      items: { type: 'number', exclusiveMinimum: 0 },
      minItems: 1,
      default: [1, 10, 100, 1e3, 1e4, 1e5, 1e6],
      description: 'grid searched when alpha is not fixed',
    },
    folds: { type: 'integer', minimum: 2, default: 5, description: 'cross-validation folds' },
    alphaPer: { enum: ['shared', 'per-target'], default: 'shared', description: 'one alpha for all targets or one per target' },
    fitIntercept: { type: 'boolean', default: true },
    standardize: { type: 'boolean', default: true, description: 'z-score voxels with training statistics (ddof=1)' },
    restandardizePredictions: {
      type: 'boolean',
      default: false,
      description: "Brain-Diffuser's transductive re-standardisation of predictions (uses test-batch statistics)",
    },
  },
} as const;
