/**
 * The network of seed 000 (Table 1) on input (batch, 1, voxels):
 *   BiGRU(H) → LayerNorm → Dropout → BiGRU(H) → LayerNorm → Linear(2H → 200) → BatchNorm → ReLU → Dropout → Linear(targets)
 * and the two ablations of §3.3.1, which replace the middle (between the first BiGRU + LayerNorm and the second
 * BiGRU) with a conv block (cnn-hybrid) or self-attention with a residual and LayerNorm (transformer-hybrid).
 * Tensor names follow a PyTorch module with attributes gru1, norm1, conv1, conv2, attention, norm_attention,
 * gru2, norm2, fc1, bn1, fc2.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import {
  BatchNorm1d,
  Conv1d,
  Dropout,
  GRU,
  LayerNorm,
  Linear,
  linear,
  MaxPool1d,
  MultiheadAttention,
  neuralMapperFactory,
  relu,
  type ForwardContext,
  type ModelShapes,
  type NeuralModel,
  type NeuralSpec,
  type ParamStore,
} from '../../core/training/index.js';
import { UserError } from '../../core/errors.js';
import { GRU_TRAINING_DEFAULTS, gruOptionsSchema, type GruOptions } from './schema.js';

export function buildGruNetwork(store: ParamStore, shapes: ModelShapes, o: GruOptions): NeuralModel {
  const tf = store.tf;
  const H = o.hiddenSize;
  const width = 2 * H;
  const gru1 = new GRU(store, 'gru1', shapes.inputs, H, { bidirectional: true });
  const norm1 = new LayerNorm(store, 'norm1', width);
  const middle = buildMiddle(store, o, width);
  const gru2 = new GRU(store, 'gru2', middle.channels, H, { bidirectional: true });
  const norm2 = new LayerNorm(store, 'norm2', width);
  const fc1 = new Linear(store, 'fc1', width, o.denseSize);
  const bn1 = new BatchNorm1d(store, 'bn1', o.denseSize);
  const dropout2 = new Dropout(store, o.dropout);
  const fc2 = new Linear(store, 'fc2', o.denseSize, shapes.outputs);

  /** Everything up to the last layer's input (B, denseSize). */
  const features = (products: tfc.Tensor2D[], ctx: ForwardContext): tfc.Tensor2D => {
    const batch = products[0]!.shape[0];
    const gates = products.map((p) => tf.reshape(p, [batch, 1, 3 * H]));
    let h = norm1.apply(gru1.apply(undefined, ctx, gates)); // (B, 1, 2H)
    h = middle.apply(h, ctx); // (B, L, channels)
    h = norm2.apply(gru2.apply(h, ctx)); // (B, L, 2H)
    // The fully connected head reads the last step (L = 1 except in cnn-hybrid).
    const steps = h.shape[1]!;
    const last = steps === 1 ? tf.reshape(h, [batch, width]) : tf.reshape(tf.slice(h, [0, steps - 1, 0], [batch, 1, width]), [batch, width]);
    return dropout2.apply(relu(tf, bn1.apply(fc1.apply(last), ctx)), ctx) as tfc.Tensor2D;
  };
  const fromProducts = (products: tfc.Tensor2D[], ctx: ForwardContext): tfc.Tensor2D => fc2.apply(features(products, ctx)) as tfc.Tensor2D;
  return {
    forward: (x, ctx) => fromProducts(gru1.inputWeights.map((w) => linear(tf, x, w) as tfc.Tensor2D), ctx),
    inputProjection: {
      weights: gru1.inputWeights,
      forwardFromProducts: fromProducts,
      output: { weight: fc2.weight, bias: fc2.bias, features },
    },
    summary: { variant: o.variant },
  };
}

interface Middle {
  /** Features per step of what it returns (the second GRU's input size). */
  channels: number;
  apply(h: tfc.Tensor, ctx: ForwardContext): tfc.Tensor;
}

function buildMiddle(store: ParamStore, o: GruOptions, features: number): Middle {
  const tf = store.tf;
  if (o.variant === 'gru') {
    const dropout1 = new Dropout(store, o.dropout);
    return { channels: features, apply: (h, ctx) => dropout1.apply(h, ctx) };
  }
  if (o.variant === 'cnn-hybrid') {
    // (B, 1, 2H) read as PyTorch's (batch, channels = 1, length = 2H): two Conv1d + ReLU + MaxPool1d, computed
    // channels-last (B, length, channels), which is also the steps-first layout the second GRU reads.
    const [c1, c2] = o.convChannels as [number, number];
    const pad = Math.floor(o.convKernel / 2);
    const conv1 = new Conv1d(store, 'conv1', 1, c1, o.convKernel, { padding: pad, channelsLast: true, activation: 'relu' });
    const conv2 = new Conv1d(store, 'conv2', c1, c2, o.convKernel, { padding: pad, channelsLast: true, activation: 'relu' });
    const pool = new MaxPool1d(tf, o.poolSize, o.poolSize, { channelsLast: true });
    let length = features;
    for (let i = 0; i < 2; i++) length = Math.floor((length + 2 * pad - o.convKernel + 1 - o.poolSize) / o.poolSize) + 1;
    if (length < 1) throw new UserError(`convKernel ${o.convKernel} and poolSize ${o.poolSize} leave no steps of the ${features} features`, 'mapper gru');
    return {
      channels: c2,
      apply: (h) => {
        const sequence = tf.reshape(h, [h.shape[0]!, features, 1]); // one channel, channels-last
        return pool.apply(conv2.apply(pool.apply(conv1.apply(sequence)))); // (B, length, c2); ReLUs fused
      },
    };
  }
  if (features % o.heads !== 0) throw new UserError(`heads=${o.heads} must divide 2·hiddenSize = ${features}`, 'mapper gru');
  const attention = new MultiheadAttention(store, 'attention', features, o.heads);
  const norm = new LayerNorm(store, 'norm_attention', features);
  const dropout1 = new Dropout(store, o.dropout);
  return { channels: features, apply: (h, ctx) => norm.apply(tf.add(h, dropout1.apply(attention.apply(h, ctx), ctx))) };
}

export const gruSpec: NeuralSpec<GruOptions> = {
  id: 'gru',
  defaults: GRU_TRAINING_DEFAULTS,
  optionsSchema: gruOptionsSchema,
  build: (store, shapes, options) => buildGruNetwork(store, shapes, options),
};

export const gruMapperFactory = neuralMapperFactory(gruSpec);
