/**
 * Training options shared by every neural mapper, defined once; a plugin's schema spreads
 * `trainingOptionsProperties(itsDefaults)` into its own `properties`.
 */
import { combine, cosine, infoNce, mse, type LossFn } from './losses.js';

export const LOSSES = ['mse', 'cosine', 'mse-cosine', 'infonce', 'mse-cosine-infonce'] as const;
export type LossName = (typeof LOSSES)[number];
export const PROJECTION_ENGINES = ['auto', 'tensorflow', 'onnxruntime'] as const;

export interface TrainingOptions {
  learningRate: number;
  batchSize: number;
  epochs: number;
  /** L2 term added to the gradient, as PyTorch's Adam(weight_decay=…). */
  weightDecay: number;
  loss: LossName;
  /** Weights of the terms of the mixed losses. */
  mseWeight: number;
  cosineWeight: number;
  infoNceWeight: number;
  temperature: number;
  /** Fraction of the TRAINING rows held out for early stopping (0: no validation, train all epochs). */
  validationFraction: number;
  /** Epochs without a better validation loss before stopping (0: never stop early). */
  patience: number;
  /** z-score each voxel with the training mean and std. */
  standardize: boolean;
  /**
   * Where the data-facing first product X·W runs: `auto` = ONNX Runtime on the wasm/cpu backends (much faster
   * matrix products), TensorFlow.js on native tfjs-node backends.
   */
  projectionEngine: (typeof PROJECTION_ENGINES)[number];
  /**
   * Rows per forward/backward pass (absent: the whole batch in one pass). A step's gradients are accumulated over
   * its passes, weighted by rows, so memory is bounded by the pass, not the batch; prediction and validation use
   * passes of at most this many rows too.
   */
  microBatchSize?: number;
}

export type TrainingDefaults = Pick<TrainingOptions, 'learningRate' | 'batchSize' | 'epochs'> & Partial<TrainingOptions>;

/** JSON-schema properties of the shared options, with a plugin's defaults. */
export function trainingOptionsProperties(defaults: TrainingDefaults): Record<string, Record<string, unknown>> {
  return {
    learningRate: { type: 'number', exclusiveMinimum: 0, default: defaults.learningRate, description: 'Adam learning rate' },
    batchSize: { type: 'integer', minimum: 1, default: defaults.batchSize, description: 'rows per training step' },
    epochs: { type: 'integer', minimum: 1, default: defaults.epochs, description: 'maximum epochs' },
    weightDecay: { type: 'number', minimum: 0, default: defaults.weightDecay ?? 0, description: "L2 term in the gradient (PyTorch Adam's weight_decay)" },
    loss: { enum: [...LOSSES], default: defaults.loss ?? 'mse', description: 'training loss' },
    mseWeight: { type: 'number', minimum: 0, default: defaults.mseWeight ?? 0.4, description: 'weight of MSE in the mixed losses' },
    cosineWeight: { type: 'number', minimum: 0, default: defaults.cosineWeight ?? 0.6, description: 'weight of 1 − cos in the mixed losses' },
    infoNceWeight: { type: 'number', minimum: 0, default: defaults.infoNceWeight ?? 1, description: 'weight of InfoNCE in mse-cosine-infonce' },
    temperature: { type: 'number', exclusiveMinimum: 0, default: defaults.temperature ?? 0.5, description: 'InfoNCE temperature' },
    validationFraction: {
      type: 'number',
      minimum: 0,
      maximum: 0.5,
      default: defaults.validationFraction ?? 0.1,
      description: 'fraction of the training rows held out for early stopping (never the test set)',
    },
    patience: { type: 'integer', minimum: 0, default: defaults.patience ?? 5, description: 'epochs without improvement before stopping; 0 = never' },
    standardize: { type: 'boolean', default: defaults.standardize ?? true, description: 'z-score voxels with training statistics' },
    projectionEngine: {
      enum: [...PROJECTION_ENGINES],
      default: defaults.projectionEngine ?? 'auto',
      description: 'engine of the first, data-facing matrix product (auto: ONNX Runtime on wasm/cpu backends)',
    },
    microBatchSize: {
      type: 'integer',
      minimum: 1,
      description:
        'rows per forward/backward pass (default: the whole batch): each step accumulates the passes\' row-weighted gradients, the same step as the whole batch for mean losses without BatchNorm (which then normalises each pass); bounds memory, e.g. on the 4 GB WebAssembly heap',
    },
  };
}

/** The loss function the options name. */
export function lossFromOptions(o: TrainingOptions): LossFn {
  switch (o.loss) {
    case 'mse':
      return mse;
    case 'cosine':
      return cosine;
    case 'mse-cosine':
      return combine([[mse, o.mseWeight], [cosine, o.cosineWeight]]);
    case 'infonce':
      return infoNce(o.temperature);
    case 'mse-cosine-infonce':
      return combine([[mse, o.mseWeight], [cosine, o.cosineWeight], [infoNce(o.temperature), o.infoNceWeight]]);
  }
}
