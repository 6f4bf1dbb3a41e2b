/** Options of the `gru` mapper: the shared training options plus the architecture (JSON schema and type). */
import { trainingOptionsProperties, type TrainingDefaults, type TrainingOptions } from '../../core/training/schema.js';

export const GRU_VARIANTS = ['gru', 'cnn-hybrid', 'transformer-hybrid'] as const;

export interface GruOptions extends TrainingOptions {
  /** seed 000 §3.3.1: the GRU network (Table 1) or one of the two ablation variants. */
  variant: (typeof GRU_VARIANTS)[number];
  /** Hidden units per direction of each bidirectional GRU (Table 1: 100, so 200 features out). */
  hiddenSize: number;
  /** Width of the first fully connected layer (Table 1: 200). */
  denseSize: number;
  /** Probability of both dropout layers (Table 1 leaves it open). */
  dropout: number;
  /** cnn-hybrid: output channels of the two Conv1d layers, their kernel size and the max-pool size. */
  convChannels: number[];
  convKernel: number;
  poolSize: number;
  /** transformer-hybrid: attention heads (must divide 2·hiddenSize). */
  heads: number;
}

/** Adam's usual learning rate, the batch 128, and 50 epochs bounded by early stopping (patience 5). */
export const GRU_TRAINING_DEFAULTS: TrainingDefaults = { learningRate: 1e-3, batchSize: 128, epochs: 50 };

export const gruOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    variant: { enum: [...GRU_VARIANTS], default: 'gru', description: 'gru (Table 1), or the cnn-hybrid / transformer-hybrid ablations' },
    hiddenSize: { type: 'integer', minimum: 1, default: 100, description: 'GRU units per direction' },
    denseSize: { type: 'integer', minimum: 1, default: 200, description: 'first fully connected layer' },
    dropout: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.2, description: 'probability of both dropout layers' },
    convChannels: {
      type: 'array',
      items: { type: 'integer', minimum: 1 },
      minItems: 2,
      maxItems: 2,
      default: [32, 64],
      description: 'cnn-hybrid: channels of the two Conv1d layers',
    },
    convKernel: { type: 'integer', minimum: 1, default: 3, description: 'cnn-hybrid: Conv1d kernel (zero padding keeps the length)' },
    poolSize: { type: 'integer', minimum: 1, default: 2, description: 'cnn-hybrid: MaxPool1d kernel and stride' },
    heads: { type: 'integer', minimum: 1, default: 4, description: 'transformer-hybrid: attention heads' },
    ...trainingOptionsProperties(GRU_TRAINING_DEFAULTS),
  },
} as const;
