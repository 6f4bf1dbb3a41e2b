/**
 * Layers on tfjs-core ops with PyTorch's semantics, parameter names and initialisation, so that a model here and
 * its PyTorch original compute the same function from the same state_dict.
 *
 * Every matrix product goes through `matMul` below: its gradient uses explicit transposes and plain products,
 * because the wasm backend's matMul with a transposed operand (what tfjs's own gradient uses) is 5–10× slower.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { TfModule } from '../compute/tfjs.js';
import { Rng } from '../rng.js';
import { init, mixSeed, type ParamStore } from './params.js';

/** How a forward pass runs: training mode (dropout on, BatchNorm batch statistics) and the seed of its randomness. */
export interface ForwardContext {
  training: boolean;
  /** Dropout masks derive from this and the layer's index: two passes with the same context are identical. */
  seed: number;
  /**
   * false: a training pass that recomputes one already made with this context (BatchNorm then leaves its running
   * statistics alone, so they are updated once per batch). Default true.
   */
  updateStatistics?: boolean;
}

type MatMul = (a: tfc.Tensor2D, b: tfc.Tensor2D) => tfc.Tensor2D;
const matMuls = new WeakMap<TfModule, MatMul>();

/** a·b (2-D) whose gradient is dA = dY·transpose(B), dB = transpose(A)·dY with explicit, plain products. */
export function matMul(tf: TfModule, a: tfc.Tensor2D, b: tfc.Tensor2D): tfc.Tensor2D {
  let f = matMuls.get(tf);
  if (!f) {
    const custom = tf.customGrad((x, y, save) => {
      const a2 = x as tfc.Tensor2D;
      const b2 = y as tfc.Tensor2D;
      (save as tfc.GradSaveFunc)([a2, b2]);
      return {
        value: tf.matMul(a2, b2),
        gradFunc: (dy: tfc.Tensor, saved: tfc.Tensor[]) => {
          const [sa, sb] = saved as [tfc.Tensor2D, tfc.Tensor2D];
          const d = dy as tfc.Tensor2D;
          return [tf.matMul(d, tf.transpose(sb)), tf.matMul(tf.transpose(sa), d)];
        },
      };
    });
    f = (a2, b2) => custom(a2, b2) as tfc.Tensor2D;
    matMuls.set(tf, f);
  }
  return f(a, b);
}

/** x·Wᵀ (+ b) for W in PyTorch layout (out, in); x of any rank ≥ 2, the last axis is `in`. */
export function linear(tf: TfModule, x: tfc.Tensor, weight: tfc.Tensor, bias?: tfc.Tensor): tfc.Tensor {
  const inDim = x.shape[x.shape.length - 1]!;
  const flat = x.rank === 2 ? (x as tfc.Tensor2D) : tf.reshape(x, [-1, inDim]) as tfc.Tensor2D;
  let y: tfc.Tensor = matMul(tf, flat, tf.transpose(weight as tfc.Tensor2D));
  if (bias) y = tf.add(y, bias);
  return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), weight.shape[0]!]);
}

export function relu(tf: TfModule, x: tfc.Tensor): tfc.Tensor {
  return tf.relu(x);
}

/** PyTorch's LeakyReLU (negative slope 0.01 by default). */
export function leakyRelu(tf: TfModule, x: tfc.Tensor, slope = 0.01): tfc.Tensor {
  return tf.leakyRelu(x, slope);
}

/** nn.Linear: weight (out, in), bias (out), both U(±1/√in). */
export class Linear {
  readonly weight: tfc.Variable;
  readonly bias: tfc.Variable | undefined;
  constructor(
    private readonly store: ParamStore,
    name: string,
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: { bias?: boolean } = {},
  ) {
    const s = store.scope(name);
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = s.param('weight', [outFeatures, inFeatures], init.uniform(bound));
    this.bias = options.bias === false ? undefined : s.param('bias', [outFeatures], init.uniform(bound));
  }

  apply(x: tfc.Tensor, _ctx?: ForwardContext): tfc.Tensor {
    return linear(this.store.tf, x, this.weight, this.bias);
  }
}

/** nn.LayerNorm over the last axis: biased variance, eps 1e-5, weight 1, bias 0. */
export class LayerNorm {
  readonly weight: tfc.Variable;
  readonly bias: tfc.Variable;
  constructor(
    private readonly store: ParamStore,
    name: string,
    readonly features: number,
    private readonly options: { eps?: number } = {},
  ) {
    const s = store.scope(name);
    this.weight = s.param('weight', [features], init.constant(1));
    this.bias = s.param('bias', [features], init.constant(0));
  }

  apply(x: tfc.Tensor, _ctx?: ForwardContext): tfc.Tensor {
    const { tf } = this.store;
    const { mean, variance } = tf.moments(x, -1, true);
    const normed = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, this.options.eps ?? 1e-5)));
    return tf.add(tf.mul(normed, this.weight), this.bias);
  }
}

/**
 * nn.BatchNorm1d on (B, C) or (B, C, L): training normalises with the batch's biased variance and updates the
 * running statistics with momentum 0.1 and the unbiased variance; evaluation uses the running statistics.
 */
export class BatchNorm1d {
  readonly weight: tfc.Variable;
  readonly bias: tfc.Variable;
  readonly runningMean: tfc.Variable;
  readonly runningVar: tfc.Variable;
  readonly batchesTracked: tfc.Variable;
  private readonly eps: number;
  private readonly momentum: number;

  constructor(
    private readonly store: ParamStore,
    name: string,
    readonly features: number,
    options: { eps?: number; momentum?: number } = {},
  ) {
    const s = store.scope(name);
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum ?? 0.1;
    this.weight = s.param('weight', [features], init.constant(1));
    this.bias = s.param('bias', [features], init.constant(0));
    this.runningMean = s.buffer('running_mean', [features], 0);
    this.runningVar = s.buffer('running_var', [features], 1);
    this.batchesTracked = s.buffer('num_batches_tracked', [], 0);
  }

  apply(x: tfc.Tensor, ctx: ForwardContext): tfc.Tensor {
    const { tf } = this.store;
    if (x.rank !== 2 && x.rank !== 3) throw new Error(`BatchNorm1d expects (B, C) or (B, C, L), got rank ${x.rank}`);
    const axes = x.rank === 2 ? [0] : [0, 2];
    const shape = x.rank === 2 ? [1, this.features] : [1, this.features, 1];
    let mean: tfc.Tensor;
    let variance: tfc.Tensor;
    if (ctx.training) {
      const m = tf.moments(x, axes);
      mean = m.mean;
      variance = m.variance;
      const n = axes.reduce((a, axis) => a * x.shape[axis]!, 1);
      if (n < 2) throw new Error('BatchNorm1d in training needs more than one value per channel (batch size ≥ 2)');
      const momentum = this.momentum;
      if (ctx.updateStatistics === false) return this.normalize(x, mean, variance, shape);
      // Running statistics are state: their update is not on the path to the loss, so it gets no gradient.
      const newMean = tf.tidy(() => tf.add(tf.mul(this.runningMean, 1 - momentum), tf.mul(m.mean, momentum)));
      const newVar = tf.tidy(() =>
        tf.add(tf.mul(this.runningVar, 1 - momentum), tf.mul(m.variance, (momentum * n) / (n - 1))),
      );
      this.runningMean.assign(newMean);
      this.runningVar.assign(newVar);
      this.batchesTracked.assign(tf.add(this.batchesTracked, 1));
    } else {
      mean = this.runningMean;
      variance = this.runningVar;
    }
    return this.normalize(x, mean, variance, shape);
  }

  private normalize(x: tfc.Tensor, mean: tfc.Tensor, variance: tfc.Tensor, shape: number[]): tfc.Tensor {
    const { tf } = this.store;
    const normed = tf.div(tf.sub(x, tf.reshape(mean, shape)), tf.sqrt(tf.add(tf.reshape(variance, shape), this.eps)));
    return tf.add(tf.mul(normed, tf.reshape(this.weight, shape)), tf.reshape(this.bias, shape));
  }
}

/** nn.Dropout: zeroes with probability p in training and scales the rest by 1/(1−p). Masks from our seeded Rng. */
export class Dropout {
  private readonly index: number;
  constructor(
    private readonly store: ParamStore,
    readonly p: number,
  ) {
    if (!(p >= 0 && p < 1)) throw new Error(`dropout probability must be in [0, 1), got ${p}`);
    this.index = store.nextLayerIndex();
  }

  apply(x: tfc.Tensor, ctx: ForwardContext): tfc.Tensor {
    if (!ctx.training || this.p === 0) return x;
    const { tf } = this.store;
    const rng = new Rng(mixSeed(ctx.seed, this.index));
    const scale = 1 / (1 - this.p);
    const mask = new Float32Array(x.size);
    for (let i = 0; i < mask.length; i++) mask[i] = rng.uniform() < this.p ? 0 : scale;
    return tf.mul(x, tf.tensor(mask, x.shape, 'float32'));
  }
}

interface GruDirection {
  weightIh: tfc.Variable;
  weightHh: tfc.Variable;
  biasIh: tfc.Variable;
  biasHh: tfc.Variable;
}

/**
 * One nn.GRU layer (num_layers = 1), batch_first, optionally bidirectional, any sequence length, h0 = 0:
 *   r = σ(W_ir x + b_ir + W_hr h + b_hr),  z = σ(W_iz x + b_iz + W_hz h + b_hz),
 *   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),  h' = (1 − z) ⊙ n + z ⊙ h.
 * Weights (3H, in) and (3H, H) with rows r, z, n, named weight_ih_l0 / weight_hh_l0 / bias_ih_l0 / bias_hh_l0
 * and `_reverse` for the backward direction; all U(±1/√H).
 */
export class GRU {
  readonly directions: GruDirection[];

  constructor(
    private readonly store: ParamStore,
    name: string,
    readonly inputSize: number,
    readonly hiddenSize: number,
    options: { bidirectional?: boolean } = {},
  ) {
    const s = store.scope(name);
    const u = init.uniform(1 / Math.sqrt(hiddenSize));
    const h3 = 3 * hiddenSize;
    const suffixes = options.bidirectional ? ['', '_reverse'] : [''];
    this.directions = suffixes.map((sfx) => ({
      weightIh: s.param(`weight_ih_l0${sfx}`, [h3, inputSize], u),
      weightHh: s.param(`weight_hh_l0${sfx}`, [h3, hiddenSize], u),
      biasIh: s.param(`bias_ih_l0${sfx}`, [h3], u),
      biasHh: s.param(`bias_hh_l0${sfx}`, [h3], u),
    }));
  }

  /** The input weights, one (3H, in) per direction: x·W_ihᵀ is the layer's data-facing product. */
  get inputWeights(): tfc.Variable[] {
    return this.directions.map((d) => d.weightIh);
  }

  /**
   * x (B, T, in) → (B, T, H·directions). `inputProducts`, when given, are x·W_ihᵀ per direction, (B, T, 3H),
   * computed elsewhere (e.g. by ONNX Runtime); the input biases are added here.
   */
  apply(x: tfc.Tensor | undefined, _ctx: ForwardContext, inputProducts?: tfc.Tensor[]): tfc.Tensor {
    const { tf } = this.store;
    const outputs = this.directions.map((d, i) => {
      const product = inputProducts?.[i] ?? linear(tf, x!, d.weightIh);
      const gates = tf.add(product, d.biasIh); // (B, T, 3H)
      return this.run(gates, d, i === 1);
    });
    return outputs.length === 1 ? outputs[0]! : tf.concat(outputs, 2);
  }

  private run(gates: tfc.Tensor, d: GruDirection, reverse: boolean): tfc.Tensor {
    const { tf } = this.store;
    const [batch, steps] = gates.shape as [number, number, number];
    const H = this.hiddenSize;
    let h: tfc.Tensor = tf.zeros([batch, H]);
    const outs: tfc.Tensor[] = new Array<tfc.Tensor>(steps);
    const perStep = steps === 1 ? [tf.reshape(gates, [batch, 3 * H])] : tf.unstack(gates, 1);
    for (let k = 0; k < steps; k++) {
      const t = reverse ? steps - 1 - k : k;
      const [ir, iz, inn] = tf.split(perStep[t]!, 3, 1) as [tfc.Tensor, tfc.Tensor, tfc.Tensor];
      const [hr, hz, hn] = tf.split(linear(tf, h, d.weightHh, d.biasHh), 3, 1) as [tfc.Tensor, tfc.Tensor, tfc.Tensor];
      const r = tf.sigmoid(tf.add(ir, hr));
      const z = tf.sigmoid(tf.add(iz, hz));
      const n = tf.tanh(tf.add(inn, tf.mul(r, hn)));
      h = tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, h));
      outs[t] = h;
    }
    return steps === 1 ? tf.reshape(outs[0]!, [batch, 1, H]) : tf.stack(outs, 1);
  }
}

/** nn.Conv1d on (B, C_in, L): weight (out, in, k), bias (out), U(±1/√(in·k)); zero padding both sides. */
export class Conv1d {
  readonly weight: tfc.Variable;
  readonly bias: tfc.Variable | undefined;
  private readonly stride: number;
  private readonly padding: number;

  constructor(
    private readonly store: ParamStore,
    name: string,
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    options: { stride?: number; padding?: number; bias?: boolean } = {},
  ) {
    const s = store.scope(name);
    const bound = 1 / Math.sqrt(inChannels * kernelSize);
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? 0;
    this.weight = s.param('weight', [outChannels, inChannels, kernelSize], init.uniform(bound));
    this.bias = options.bias === false ? undefined : s.param('bias', [outChannels], init.uniform(bound));
  }

  /**
   * As im2col + one matrix product: patches (B·L_out, C_in·k) times Wᵀ. The wasm backend has no gradient kernel
   * for conv filters, and our matMul is its fastest path anyway.
   */
  apply(x: tfc.Tensor, _ctx?: ForwardContext): tfc.Tensor {
    const { tf } = this.store;
    const [b, c, length] = x.shape as [number, number, number];
    const k = this.kernelSize;
    const padded = this.padding > 0 ? tf.pad(x, [[0, 0], [0, 0], [this.padding, this.padding]]) : x;
    const out = Math.floor((length + 2 * this.padding - k) / this.stride) + 1;
    if (out < 1) throw new Error(`Conv1d: length ${length} (+ padding) is shorter than the kernel ${k}`);
    const views = stridedViews(tf, padded, k, this.stride, out); // k × (B, C, L_out)
    const patches = tf.reshape(tf.transpose(tf.stack(views, 3), [0, 2, 1, 3]), [b * out, c * k]); // (c, t) order as W
    const y = linear(tf, patches, tf.reshape(this.weight, [this.outChannels, c * k]), this.bias);
    return tf.transpose(tf.reshape(y, [b, out, this.outChannels]), [0, 2, 1]);
  }
}

/**
 * The k views x[:, :, j + s·i] (i < out) of (B, C, L): with the length padded (or cut) to a multiple of s and
 * reshaped to (B, C, L/s, s), view j is the plain slice at [j div s, j mod s]. Slice and reshape have gradients
 * on every backend (stridedSlice has none; gather's needs a kernel wasm lacks).
 */
function stridedViews(tf: TfModule, x: tfc.Tensor, k: number, s: number, out: number): tfc.Tensor[] {
  const [b, c, length] = x.shape as [number, number, number];
  const rows = Math.floor((k - 1) / s) + out;
  const fitted = rows * s > length ? tf.pad(x, [[0, 0], [0, 0], [0, rows * s - length]]) : tf.slice(x, [0, 0, 0], [b, c, rows * s]);
  const grid = tf.reshape(fitted, [b, c, rows, s]);
  const views: tfc.Tensor[] = [];
  for (let j = 0; j < k; j++) views.push(tf.reshape(tf.slice(grid, [0, 0, Math.floor(j / s), j % s], [b, c, out, 1]), [b, c, out]));
  return views;
}

/** nn.MaxPool1d on (B, C, L): windows of `kernelSize` every `stride` (default = kernel), floor mode, no padding. */
export class MaxPool1d {
  constructor(
    private readonly tf: TfModule,
    readonly kernelSize: number,
    readonly stride = kernelSize,
  ) {}

  apply(x: tfc.Tensor, _ctx?: ForwardContext): tfc.Tensor {
    const { tf, kernelSize: k, stride: s } = this;
    const length = x.shape[2]!;
    const out = Math.floor((length - k) / s) + 1;
    if (out < 1) throw new Error(`MaxPool1d: length ${length} is shorter than the kernel ${k}`);
    // Element-wise maxima of the k strided views (MaxPool's gradient kernel is missing on wasm).
    let y: tfc.Tensor | undefined;
    for (const view of stridedViews(tf, x, k, s, out)) y = y ? tf.maximum(y, view) : view;
    return y!;
  }
}

/**
 * nn.MultiheadAttention (batch_first, self-attention, no masks, attention dropout 0): in_proj_weight (3E, E)
 * xavier-uniform, in_proj_bias 0, out_proj.weight U(±1/√E), out_proj.bias 0.
 */
export class MultiheadAttention {
  readonly inProjWeight: tfc.Variable;
  readonly inProjBias: tfc.Variable;
  readonly outProj: Linear;
  private readonly headDim: number;

  constructor(
    private readonly store: ParamStore,
    name: string,
    readonly embedDim: number,
    readonly numHeads: number,
  ) {
    if (embedDim % numHeads !== 0) throw new Error(`embed dim ${embedDim} is not divisible by ${numHeads} heads`);
    this.headDim = embedDim / numHeads;
    const s = store.scope(name);
    this.inProjWeight = s.param('in_proj_weight', [3 * embedDim, embedDim], init.uniform(Math.sqrt(6 / (4 * embedDim))));
    this.inProjBias = s.param('in_proj_bias', [3 * embedDim], init.constant(0));
    this.outProj = new Linear(s, 'out_proj', embedDim, embedDim);
    store.tf.tidy(() => this.outProj.bias!.assign(store.tf.zeros([embedDim])));
  }

  /** x (B, L, E) → (B, L, E). */
  apply(x: tfc.Tensor, ctx: ForwardContext): tfc.Tensor {
    const { tf } = this.store;
    const [b, l, e] = x.shape as [number, number, number];
    const h = this.numHeads;
    const d = this.headDim;
    const qkv = linear(tf, x, this.inProjWeight, this.inProjBias); // (B, L, 3E)
    const heads = (t: tfc.Tensor) => tf.reshape(tf.transpose(tf.reshape(t, [b, l, h, d]), [0, 2, 1, 3]), [b * h, l, d]);
    const [q, k, v] = tf.split(qkv, 3, 2).map(heads) as [tfc.Tensor3D, tfc.Tensor3D, tfc.Tensor3D];
    const scores = tf.div(tf.matMul(q, tf.transpose(k, [0, 2, 1])), Math.sqrt(d));
    const attended = tf.matMul(tf.softmax(scores), v); // (B·h, L, d)
    const merged = tf.reshape(tf.transpose(tf.reshape(attended, [b, h, l, d]), [0, 2, 1, 3]), [b, l, e]);
    return this.outProj.apply(merged, ctx);
  }
}
