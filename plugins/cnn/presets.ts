/**
 * The three published 1-D CNN mappers as data: architecture and training defaults per preset. Kept apart from the
 * network code so that the manifest (and `plugins inspect`) can describe them without importing TensorFlow.js.
 */
import type { TrainingOptions } from '../../core/training/schema.js';

export const CNN_PRESETS = ['fmri-to-image', 'fmri-to-text', 'mind-reader'] as const;
export type CnnPreset = (typeof CNN_PRESETS)[number];

/** How the residual stack turns into targets. */
export type CnnHead =
  /** CS292F: Conv1d(C→1, k1), flatten the V positions, dense layers to T. */
  | 'dense'
  /** Mind Reader: Conv1d(C→T, k1), then per target a small dense net across the positions (1×1 convs). */
  | 'positions';

export interface CnnArchitecture {
  preset: CnnPreset;
  channels: number;
  /** Stem Conv1d(1→channels): kernel and stride (padding (kernel − stride)/2, as the reference code). */
  stemKernel: number;
  stemStride: number;
  /** ReLU after the stem convolution. */
  stemRelu: boolean;
  residualBlocks: number;
  /** Kernel size of each convolution of a residual branch ('same' padding). */
  branchKernels: number[];
  /** ReLU after the branch's last convolution (before the sum). */
  branchReluLast: boolean;
  /** ReLU after x + branch(x). */
  reluAfterSum: boolean;
  /** One branch module applied `residualBlocks` times (CS292F's notebooks) instead of one per block. */
  shareBlockWeights: boolean;
  /** BatchNorm1d after each ReLU and after the last convolution of a branch. */
  batchNorm: boolean;
  head: CnnHead;
  /** `dense` head: widths of the hidden dense layers. */
  hiddenSizes: number[];
  /** `positions` head: width of its hidden 1×1 convolution. */
  headHidden: number;
  /** Zero-pad the voxels to this length (0: no padding). */
  padTo: number;
}

/** The shared training options whose default depends on the preset. */
export type CnnTrainingDefaults = Pick<TrainingOptions, 'learningRate' | 'batchSize' | 'weightDecay' | 'epochs' | 'patience' | 'loss'>;

type ArchitectureDefaults = Omit<CnnArchitecture, 'preset'>;

export const PRESET_ARCHITECTURES: Record<CnnPreset, ArchitectureDefaults> = {
  // subawocit/cs292f image_encoder.ipynb, `NeuralNetwork` (seed 001 §2.5.1)
  'fmri-to-image': {
    channels: 64,
    stemKernel: 1,
    stemStride: 1,
    stemRelu: false,
    residualBlocks: 2,
    branchKernels: [11, 11],
    branchReluLast: true,
    reluAfterSum: false,
    shareBlockWeights: true,
    batchNorm: false,
    head: 'dense',
    hiddenSizes: [512, 512],
    headHidden: 0,
    padTo: 0,
  },
  // subawocit/cs292f text_encoder.ipynb, `NeuralNetwork` (seed 001 §2.4)
  'fmri-to-text': {
    channels: 64,
    stemKernel: 1,
    stemStride: 1,
    stemRelu: false,
    residualBlocks: 3,
    branchKernels: [7, 7, 7],
    branchReluLast: false,
    reluAfterSum: false,
    shareBlockWeights: true,
    batchNorm: false,
    head: 'dense',
    hiddenSizes: [1024, 2048],
    headHidden: 0,
    padTo: 0,
  },
  // sklin93/mind-reader fmri_clip.py `fmri_clip_res` with ResBlock_1d_BN (seed 003 §2.2)
  'mind-reader': {
    channels: 64,
    stemKernel: 4,
    stemStride: 2,
    stemRelu: true,
    residualBlocks: 4,
    branchKernels: [3, 3, 1],
    branchReluLast: false,
    reluAfterSum: true,
    shareBlockWeights: false,
    batchNorm: false,
    head: 'positions',
    hiddenSizes: [],
    headHidden: 128,
    padTo: 15744,
  },
};

/** Seed 001 Table 2 (NSD column), 100 epochs, patience 5; Mind Reader's fmri_clip.py defaults (40 epochs, best kept). */
export const PRESET_TRAINING: Record<CnnPreset, CnnTrainingDefaults> = {
  'fmri-to-image': { learningRate: 5e-4, batchSize: 256, weightDecay: 0, epochs: 100, patience: 5, loss: 'mse' },
  'fmri-to-text': { learningRate: 1e-4, batchSize: 16, weightDecay: 0, epochs: 100, patience: 5, loss: 'mse' },
  'mind-reader': { learningRate: 2e-4, batchSize: 32, weightDecay: 1e-5, epochs: 40, patience: 40, loss: 'mse-cosine' },
};
