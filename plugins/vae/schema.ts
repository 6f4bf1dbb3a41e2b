/** Options of the `vae` mapper (JSON schema with defaults, and the matching TypeScript type). */
import { trainingOptionsProperties, type TrainingDefaults, type TrainingOptions } from '../../core/training/schema.js';

export interface VaeOptions extends TrainingOptions {
  /** Widths of the encoder's two dense layers (LeakyReLU between them). */
  encoderWidths: [number, number];
  /** Width of the decoder's three dense + BatchNorm1d + LeakyReLU blocks. */
  decoderWidth: number;
  /** Skip connections around the decoder's second and third blocks (z = z + block(z)). */
  decoderSkips: boolean;
  /** Weight of the fMRI reconstruction MSE in the training loss. */
  reconstructionWeight: number;
  /** Weight of the KL divergence to N(0, I) (0 in CS292F's code). */
  klWeight: number;
}

/** Seed 001 Table 2 (NSD and THINGS-fMRI: lr 5e-4, batch 256), 100 epochs, early stopping patience 5. */
export const VAE_TRAINING_DEFAULTS: TrainingDefaults = { learningRate: 5e-4, batchSize: 256, epochs: 100, patience: 5, loss: 'mse' };

export const vaeOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    encoderWidths: {
      type: 'array',
      items: { type: 'integer', minimum: 1 },
      minItems: 2,
      maxItems: 2,
      default: [512, 256],
      description: "widths of the encoder's two dense layers",
    },
    decoderWidth: { type: 'integer', minimum: 1, default: 4096, description: "width of the decoder's three dense blocks" },
    decoderSkips: { type: 'boolean', default: true, description: 'skip connections around decoder blocks 2 and 3 (the paper; its code has none)' },
    reconstructionWeight: { type: 'number', minimum: 0, default: 1, description: 'weight of the fMRI reconstruction MSE' },
    klWeight: { type: 'number', minimum: 0, default: 0, description: 'weight of the KL divergence to N(0, I) (0 as in CS292F)' },
    ...trainingOptionsProperties(VAE_TRAINING_DEFAULTS),
  },
} as const;
