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

export interface Conv1dOptions {
  stride?: number;
  /** Zeros added on both sides of the length axis. */
  padding?: number;
  bias?: boolean;
  /**
   * Input and output are (B, L, C) instead of PyTorch's (B, C, L). The computation is channels-last either way: a
   * network that stays channels-last saves the two transposes around each convolution.
   */
  channelsLast?: boolean;
  /**
   * 'relu': ReLU(conv(x)) with the ReLU fused into the convolution kernel, so that one tensor fewer (and its
   * gradient) is kept for the backward pass. Default none, as nn.Conv1d.
   */
  activation?: 'relu';
}

/**
 * nn.Conv1d: weight (out, in, k), bias (out), U(±1/√(in·k)), zero padding both sides; (B, C_in, L) →
 * (B, C_out, L_out) with L_out = ⌊(L + 2·padding − k)/stride⌋ + 1, or channels-last with `channelsLast`.
 */
export class Conv1d {
  readonly weight: tfc.Variable;
  readonly bias: tfc.Variable | undefined;
  readonly stride: number;
  readonly padding: number;
  readonly channelsLast: boolean;
  readonly activation: 'relu' | undefined;

  constructor(
    private readonly store: ParamStore,
    name: string,
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    options: Conv1dOptions = {},
  ) {
    const s = store.scope(name);
    const bound = 1 / Math.sqrt(inChannels * kernelSize);
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? 0;
    this.channelsLast = options.channelsLast ?? false;
    this.activation = options.activation;
    if (!(Number.isInteger(this.stride) && this.stride >= 1)) throw new Error(`Conv1d ${name}: stride must be an integer ≥ 1, got ${this.stride}`);
    if (!(Number.isInteger(this.padding) && this.padding >= 0)) throw new Error(`Conv1d ${name}: padding must be an integer ≥ 0, got ${this.padding}`);
    this.weight = s.param('weight', [outChannels, inChannels, kernelSize], init.uniform(bound));
    this.bias = options.bias === false ? undefined : s.param('bias', [outChannels], init.uniform(bound));
  }

  apply(x: tfc.Tensor, _ctx?: ForwardContext): tfc.Tensor {
    const { tf } = this.store;
    const channelAxis = this.channelsLast ? 2 : 1;
    if (x.rank !== 3 || x.shape[channelAxis] !== this.inChannels) {
      const layout = this.channelsLast ? '(B, L, C)' : '(B, C, L)';
      throw new Error(`Conv1d expects ${layout} with C = ${this.inChannels}, got shape [${x.shape.join(', ')}]`);
    }
    const options = { stride: this.stride, padding: this.padding, activation: this.activation };
    if (this.channelsLast) return conv1dChannelsLast(tf, x, this.weight, this.bias, options);
    return swapLastAxes(tf, conv1dChannelsLast(tf, swapLastAxes(tf, x), this.weight, this.bias, options));
  }
}

/** (B, M, N) → (B, N, M); a reshape when either axis has size 1. */
function swapLastAxes(tf: TfModule, x: tfc.Tensor): tfc.Tensor {
  const [b, m, n] = x.shape as [number, number, number];
  return m === 1 || n === 1 ? tf.reshape(x, [b, n, m]) : tf.transpose(x, [0, 2, 1]);
}

/** How conv1dChannelsLast convolves. */
export interface ConvOptions {
  stride?: number;
  padding?: number;
  activation?: 'relu';
}

type ConvOp = (x: tfc.Tensor3D, weight: tfc.Tensor3D, bias?: tfc.Tensor1D) => tfc.Tensor3D;
const convOps = new WeakMap<TfModule, Map<string, ConvOp>>();

/**
 * PyTorch's conv1d on channels-last x (B, L, C_in) with weight (out, in, k) and bias (out) → (B, L_out, out),
 * trainable on every backend. k = 1 (stride 1, no padding) is one product; otherwise a custom-gradient op
 * (`convOp`) whose forward pass is the native convolution kernel with the padding, bias and activation fused in,
 * so that it keeps only its output alive for the backward pass (no padded copy, no separate bias sum or ReLU).
 */
export function conv1dChannelsLast(
  tf: TfModule,
  x: tfc.Tensor,
  weight: tfc.Tensor,
  bias: tfc.Tensor | undefined,
  options: ConvOptions = {},
): tfc.Tensor3D {
  const stride = options.stride ?? 1;
  const padding = options.padding ?? 0;
  const relu = options.activation === 'relu';
  const [outChannels, inChannels, k] = weight.shape as [number, number, number];
  const [, length] = x.shape as [number, number, number];
  if (Math.floor((length + 2 * padding - k) / stride) + 1 < 1) {
    throw new Error(`Conv1d: length ${length} (+ padding ${padding}) is shorter than the kernel ${k}`);
  }
  if (k === 1 && stride === 1 && padding === 0) {
    const product = linear(tf, x, tf.reshape(weight, [outChannels, inChannels]));
    const y = bias ? tf.add(product, bias) : product;
    return (relu ? tf.relu(y) : y) as tfc.Tensor3D;
  }
  const op = convOp(tf, stride, padding, relu);
  return bias ? op(x as tfc.Tensor3D, weight as tfc.Tensor3D, bias as tfc.Tensor1D) : op(x as tfc.Tensor3D, weight as tfc.Tensor3D);
}

/** Explicit zero padding of the length (width) axis of an NHWC tensor with a unit height. */
const widthPadding = (p: number): [[number, number], [number, number], [number, number], [number, number]] => [[0, 0], [0, 0], [p, p], [0, 0]];

/**
 * The convolution as a custom-gradient op: forward Conv2D (XNNPACK on wasm) on (B, 1, L, C) with a (1, k, in, out)
 * filter; dX by `convInputGradient`, dW by `convFilterGradient`, db = Σ dY, with dY masked by (y > 0) after a fused
 * ReLU. Own gradient because tfjs-backend-wasm has no Conv2DBackpropFilter kernel.
 */
function convOp(tf: TfModule, stride: number, padding: number, relu: boolean): ConvOp {
  let ops = convOps.get(tf);
  if (!ops) convOps.set(tf, (ops = new Map()));
  const key = `${stride}/${padding}/${relu}`;
  let op = ops.get(key);
  if (op) return op;
  const custom = tf.customGrad((...args) => {
    const [xIn, wIn, bIn] = args as [tfc.Tensor3D, tfc.Tensor3D, tfc.Tensor1D | undefined];
    const [batch, length, inChannels] = xIn.shape;
    const [outChannels, , k] = wIn.shape;
    const filter = tf.reshape(tf.transpose(wIn, [2, 1, 0]), [1, k, inChannels, outChannels]) as tfc.Tensor4D;
    const x4 = tf.reshape(xIn, [batch, 1, length, inChannels]) as tfc.Tensor4D;
    const y4 = tf.fused.conv2d({ x: x4, filter, strides: [1, stride], pad: widthPadding(padding), bias: bIn, activation: relu ? 'relu' : 'linear' });
    const y = tf.reshape(y4, [batch, y4.shape[2], outChannels]) as tfc.Tensor3D;
    (args[args.length - 1] as tfc.GradSaveFunc)(relu ? [xIn, wIn, y] : [xIn, wIn]);
    return {
      value: y,
      gradFunc: (dyIn: tfc.Tensor | tfc.Tensor[], saved: tfc.Tensor[]) => {
        const [xs, ws, ys] = saved as [tfc.Tensor3D, tfc.Tensor3D, tfc.Tensor3D | undefined];
        const dy = (ys ? tf.mul(dyIn as tfc.Tensor3D, tf.step(ys)) : dyIn) as tfc.Tensor3D;
        const grads = [convInputGradient(tf, dy, xs.shape, ws, stride, padding), convFilterGradient(tf, dy, xs, ws.shape, stride, padding)];
        if (bIn) grads.push(tf.sum(dy, [0, 1]));
        return grads;
      },
    };
  });
  op = (x, w, b) => (b ? custom(x, w, b) : custom(x, w)) as tfc.Tensor3D;
  ops.set(key, op);
  return op;
}

/**
 * dX, the transposed convolution of dY. Stride 1: a plain convolution of dY, padded by k − 1 − padding, with the
 * flipped, in/out-swapped filter (the native forward kernel; on wasm about 6× faster than Conv2DBackpropInput).
 * Larger strides: Conv2DBackpropInput into the padded length, cropped.
 */
function convInputGradient(tf: TfModule, dy: tfc.Tensor3D, xShape: number[], w: tfc.Tensor3D, stride: number, padding: number): tfc.Tensor3D {
  const [batch, length, inChannels] = xShape as [number, number, number];
  const [outChannels, , k] = w.shape as [number, number, number];
  const outLength = dy.shape[1];
  if (stride === 1) {
    const flipped = tf.reshape(tf.reverse(tf.transpose(w, [2, 0, 1]), 0), [1, k, outChannels, inChannels]) as tfc.Tensor4D;
    const reach = k - 1 - padding; // dY positions beyond each end that touch x
    const cropped = reach >= 0 ? dy : tf.slice(dy, [0, -reach, 0], [batch, outLength + 2 * reach, outChannels]);
    const dy4 = tf.reshape(cropped, [batch, 1, cropped.shape[1], outChannels]) as tfc.Tensor4D;
    return tf.reshape(tf.conv2d(dy4, flipped, 1, widthPadding(Math.max(reach, 0))), [batch, length, inChannels]);
  }
  const filter = tf.reshape(tf.transpose(w, [2, 1, 0]), [1, k, inChannels, outChannels]) as tfc.Tensor4D;
  const dy4 = tf.reshape(dy, [batch, 1, outLength, outChannels]) as tfc.Tensor4D;
  const full = tf.conv2dTranspose(dy4, filter, [batch, 1, length + 2 * padding, inChannels], [1, stride], 'valid');
  return tf.reshape(padding > 0 ? tf.slice(full, [0, 0, padding, 0], [batch, 1, length, inChannels]) : full, [batch, length, inChannels]);
}

/**
 * dW (out, in, k): per tap j, (X_jᵀ · dY)ᵀ with X_j = x_padded[:, j + stride·t, :] over the output positions t,
 * as plain products with explicit transposes (on wasm X_jᵀ·dY is about 1.7× faster than dYᵀ·X_j, and a
 * transposed operand inside matMul about 5× slower). The padded input and one tap exist only during this call.
 */
function convFilterGradient(tf: TfModule, dy: tfc.Tensor3D, x: tfc.Tensor3D, wShape: number[], stride: number, padding: number): tfc.Tensor3D {
  const [batch, , inChannels] = x.shape;
  const [outChannels, , k] = wShape as [number, number, number];
  const outLength = dy.shape[1];
  const rows = batch * outLength;
  const padded = padding > 0 ? tf.pad(x, [[0, 0], [padding, padding], [0, 0]]) : x;
  const dy2 = tf.reshape(dy, [rows, outChannels]) as tfc.Tensor2D;
  const taps: tfc.Tensor2D[] = [];
  for (let j = 0; j < k; j++) {
    const tap = tf.tidy(() => {
      const shifted =
        stride === 1
          ? tf.slice(padded, [0, j, 0], [batch, outLength, inChannels])
          : tf.stridedSlice(padded, [0, j, 0], [batch, j + stride * (outLength - 1) + 1, inChannels], [1, stride, 1]);
      return tf.matMul(tf.transpose(tf.reshape(shifted, [rows, inChannels])) as tfc.Tensor2D, dy2); // (in, out)
    });
    taps.push(tap as tfc.Tensor2D);
  }
  if (padded !== x) padded.dispose();
  const dw = tf.transpose(tf.stack(taps, 0), [2, 1, 0]) as tfc.Tensor3D; // (k, in, out) → (out, in, k)
  tf.dispose(taps);
  return dw;
}

/**
 * The k views x[j + s·i] (i < out) along the length axis of (B, C, L), or of (B, L, C) when `channelsLast`: with
 * the length padded (or cut) to a multiple of s and split into (L/s, s), view j is the plain slice at
 * [j div s, j mod s]. Slice and reshape have gradients on every backend (stridedSlice has none; gather's needs a
 * kernel wasm lacks).
 */
function stridedViews(tf: TfModule, x: tfc.Tensor, k: number, s: number, out: number, channelsLast: boolean): tfc.Tensor[] {
  const [b, d1, d2] = x.shape as [number, number, number];
  const [c, length] = channelsLast ? [d2, d1] : [d1, d2];
  const rows = Math.floor((k - 1) / s) + out;
  const at = (lengthPart: number[], channels: number[]): number[] => (channelsLast ? [...lengthPart, ...channels] : [...channels, ...lengthPart]);
  const lengthAxis = channelsLast ? 1 : 2;
  const padding: [number, number][] = [[0, 0], [0, 0], [0, 0]];
  padding[lengthAxis] = [0, rows * s - length];
  const fitted = rows * s > length ? tf.pad(x, padding) : tf.slice(x, [0, 0, 0], [b, ...at([rows * s], [c])]);
  const grid = tf.reshape(fitted, [b, ...at([rows, s], [c])]);
  const views: tfc.Tensor[] = [];
  for (let j = 0; j < k; j++) {
    const view = tf.slice(grid, [0, ...at([Math.floor(j / s), j % s], [0])], [b, ...at([out, 1], [c])]);
    views.push(tf.reshape(view, [b, ...at([out], [c])]));
  }
  return views;
}

/**
 * nn.MaxPool1d on (B, C, L), or (B, L, C) with `channelsLast`: windows of `kernelSize` every `stride` (default =
 * kernel), floor mode, no padding.
 */
export class MaxPool1d {
  readonly channelsLast: boolean;
  constructor(
    private readonly tf: TfModule,
    readonly kernelSize: number,
    readonly stride = kernelSize,
    options: { channelsLast?: boolean } = {},
  ) {
    this.channelsLast = options.channelsLast ?? false;
  }

  apply(x: tfc.Tensor, _ctx?: ForwardContext): tfc.Tensor {
    const { tf, kernelSize: k, stride: s } = this;
    const length = x.shape[this.channelsLast ? 1 : 2]!;
    const out = Math.floor((length - k) / s) + 1;
    if (out < 1) throw new Error(`MaxPool1d: length ${length} is shorter than the kernel ${k}`);
    // Element-wise maxima of the k strided views (MaxPool's gradient kernel is missing on wasm).
    let y: tfc.Tensor | undefined;
    for (const view of stridedViews(tf, x, k, s, out, this.channelsLast)) y = y ? tf.maximum(y, view) : view;
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
