/** Options of the `chebnet-gcn` mapper (JSON schema with defaults, and the matching TypeScript type). */
import { trainingOptionsProperties, type TrainingDefaults, type TrainingOptions } from '../../core/training/schema.js';
import type { GraphDirection } from './graph.js';

export interface ChebnetOptions extends TrainingOptions {
  /** Graph nodes: each a list of atlas ROIs merged into one node (default V1, V2, V3+hV4 as the paper). */
  nodes: string[][];
  /** Keep an edge where |Pearson r| > threshold. */
  threshold: number;
  direction: GraphDirection;
  edgeWeight: 'r' | 'abs';
  emptyGraph: 'error' | 'allow';
  /** λmax of the scaled Laplacian; absent = PyTorch Geometric's default (2·max Laplacian entry: 2 for weights ≥ 0). */
  lambdaMax?: number;
  /** Chebyshev orders K of the two ChebConv layers. */
  chebK: [number, number];
  /** Channels of both ChebConv layers. */
  hidden: number;
  /** Channels of the Conv1d stage after pooling. */
  convChannels: number;
  residualBlocks: number;
  /** Their code applies ONE Conv1d block repeatedly (`for j in range(2): x = x + self.net(x)`): shared weights. */
  sharedResidual: boolean;
  /** Width of the hidden dense layer. */
  dense: number;
}

/** Seed 001 Table 2, NSD column for the GCN: learning rate 0.001, batch 64; 100 epochs, patience 5 (§2.6). */
export const CHEBNET_TRAINING_DEFAULTS: TrainingDefaults = { learningRate: 0.001, batchSize: 64, epochs: 100, patience: 5 };

export const chebnetOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    nodes: {
      type: 'array',
      minItems: 1,
      items: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
      default: [['V1'], ['V2'], ['V3', 'hV4']],
      description: 'graph nodes, each a list of atlas ROIs whose voxels form one node',
    },
    threshold: { type: 'number', minimum: 0, maximum: 1, default: 0.5, description: 'keep edges with |Pearson r| > threshold' },
    direction: {
      enum: ['bottom-up', 'undirected'],
      default: 'bottom-up',
      description: 'bottom-up: only edges from an earlier node to a later one (upper triangle), as their code',
    },
    edgeWeight: { enum: ['r', 'abs'], default: 'r', description: 'edge weight: Pearson r, or |r|' },
    emptyGraph: { enum: ['error', 'allow'], default: 'error', description: 'a graph with no edge after thresholding: error, or train on isolated nodes' },
    lambdaMax: { type: 'number', exclusiveMinimum: 0, description: "λmax of the scaled Laplacian; omit for PyTorch Geometric's default" },
    chebK: {
      type: 'array',
      items: { type: 'integer', minimum: 1, maximum: 10 },
      minItems: 2,
      maxItems: 2,
      default: [4, 3],
      description: 'Chebyshev orders of the two ChebConv layers',
    },
    hidden: { type: 'integer', minimum: 1, default: 512, description: 'channels of both ChebConv layers' },
    convChannels: { type: 'integer', minimum: 1, default: 16, description: 'channels of the Conv1d stage after pooling' },
    residualBlocks: { type: 'integer', minimum: 0, default: 2, description: 'residual Conv1d(k3, p1) + LeakyReLU blocks' },
    sharedResidual: { type: 'boolean', default: true, description: 'one block applied repeatedly (their code) or separate blocks' },
    dense: { type: 'integer', minimum: 1, default: 1024, description: 'hidden dense layer width' },
    ...trainingOptionsProperties(CHEBNET_TRAINING_DEFAULTS),
  },
} as const;
