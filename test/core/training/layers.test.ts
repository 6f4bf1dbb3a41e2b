import { readFileSync } from 'node:fs';
import type * as tfc from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTensorflowProvider, type TfModule } from '../../../core/compute/tfjs.js';
import {
  BatchNorm1d,
  Conv1d,
  Dropout,
  GRU,
  LayerNorm,
  MaxPool1d,
  MultiheadAttention,
  ParamStore,
  conv1dChannelsLast,
  cosine,
  ensureGradients,
  infoNce,
  mse,
  mseCosine,
} from '../../../core/training/index.js';

type Nested = number | Nested[];
const layers = JSON.parse(readFileSync('test/fixtures/training/layers.json', 'utf8')) as Record<string, Record<string, unknown>>;
const gruFixture = JSON.parse(readFileSync('test/fixtures/gru/gru-layer.json', 'utf8')) as Record<string, unknown>;

let tf: TfModule;
beforeAll(async () => {
  tf = (await createTensorflowProvider({ backend: 'cpu' }).load()).tf;
});

const flat = (x: unknown): number[] => (Array.isArray(x) ? (x as Nested[]).flatMap((v) => flat(v)) : [x as number]);
function shapeOf(x: unknown): number[] {
  const s: number[] = [];
  let v = x;
  while (Array.isArray(v)) {
    s.push(v.length);
    v = v[0];
  }
  return s;
}
const tensor = (x: unknown) => tf.tensor(flat(x), shapeOf(x), 'float32');

/** Overwrites the store's tensors with a PyTorch state_dict, under an optional prefix; every tensor must match. */
function loadState(store: ParamStore, dict: unknown, prefix = ''): void {
  const values = new Map<string, Float32Array>();
  for (const [name, value] of Object.entries(dict as Record<string, unknown>)) values.set(prefix + name, Float32Array.from(flat(value)));
  for (const e of store.entries()) {
    const v = values.get(e.name);
    expect(v, `fixture has ${e.name}`).toBeDefined();
    expect(v!.length).toBe(e.variable.size);
  }
  store.restore(values);
}

function expectClose(actual: tfc.Tensor, expected: unknown, tolerance = 1e-5): void {
  expect(actual.shape).toEqual(shapeOf(expected));
  const a = actual.dataSync();
  const e = flat(expected);
  let worst = 0;
  for (let i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs(a[i]! - e[i]!));
  expect(worst).toBeLessThan(tolerance);
}

const evalCtx = { training: false, seed: 0 };

describe('GRU equals PyTorch nn.GRU', () => {
  it('bidirectional, batch_first, sequence length 3', () => {
    const store = new ParamStore(tf, 1);
    const gru = new GRU(store, 'gru', 4, 3, { bidirectional: true });
    loadState(store, gruFixture.state_dict, 'gru.');
    expectClose(gru.apply(tensor(gruFixture.x), evalCtx), gruFixture.output);
    expectClose(gru.apply(tensor(gruFixture.x_len1), evalCtx), gruFixture.output_len1);
  });

  it('precomputed input products give the same output', () => {
    const store = new ParamStore(tf, 1);
    const gru = new GRU(store, 'gru', 4, 3, { bidirectional: true });
    loadState(store, gruFixture.state_dict, 'gru.');
    const x = tensor(gruFixture.x);
    const products = gru.inputWeights.map((w) => tf.reshape(tf.matMul(tf.reshape(x, [6, 4]), w, false, true), [2, 3, 9]));
    expectClose(gru.apply(undefined, evalCtx, products), gruFixture.output);
  });

  it('initialises U(±1/√hidden) from the seed, names as PyTorch', () => {
    const store = new ParamStore(tf, 7);
    new GRU(store, 'g', 5, 4, { bidirectional: true });
    expect(store.entries().map((e) => e.name)).toEqual([
      'g.weight_ih_l0', 'g.weight_hh_l0', 'g.bias_ih_l0', 'g.bias_hh_l0',
      'g.weight_ih_l0_reverse', 'g.weight_hh_l0_reverse', 'g.bias_ih_l0_reverse', 'g.bias_hh_l0_reverse',
    ]);
    const w = store.entries()[0]!.variable.dataSync();
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(0.5);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.4);
    const again = new ParamStore(tf, 7);
    new GRU(again, 'g', 5, 4, { bidirectional: true });
    expect(Array.from(again.entries()[0]!.variable.dataSync())).toEqual(Array.from(w));
  });
});

describe('layers equal PyTorch', () => {
  it('LayerNorm', () => {
    const f = layers.layernorm!;
    const store = new ParamStore(tf, 0);
    const ln = new LayerNorm(store, 'ln', 5);
    loadState(store, f.state_dict, 'ln.');
    expectClose(ln.apply(tensor(f.x)), f.output);
  });

  for (const name of ['batchnorm2d', 'batchnorm3d']) {
    it(`BatchNorm1d ${name === 'batchnorm2d' ? '(B, C)' : '(B, C, L)'}: training output, running statistics, eval output`, () => {
      const f = layers[name]!;
      const store = new ParamStore(tf, 0);
      const bn = new BatchNorm1d(store, 'bn', 4);
      loadState(store, f.state_dict, 'bn.');
      expectClose(bn.apply(tensor(f.x), { training: true, seed: 0 }), f.train_output);
      const after = f.state_after as Record<string, unknown>;
      expectClose(bn.runningMean, after.running_mean);
      expectClose(bn.runningVar, after.running_var);
      expect(bn.batchesTracked.dataSync()[0]).toBe(1);
      expectClose(bn.apply(tensor(f.x_eval), evalCtx), f.eval_output);
    });
  }

  it('Conv1d with stride and padding', () => {
    const f = layers.conv1d!;
    const store = new ParamStore(tf, 0);
    const conv = new Conv1d(store, 'conv', 2, 3, 3, { stride: f.stride as number, padding: f.padding as number });
    loadState(store, f.state_dict, 'conv.');
    expectClose(conv.apply(tensor(f.x)), f.output);
  });

  it('MaxPool1d', () => {
    const f = layers.maxpool1d!;
    expectClose(new MaxPool1d(tf, f.kernel as number, f.stride as number).apply(tensor(f.x)), f.output);
  });

  it('MultiheadAttention (self-attention, batch_first)', () => {
    const f = layers.mha!;
    const store = new ParamStore(tf, 0);
    const mha = new MultiheadAttention(store, 'mha', 6, f.heads as number);
    loadState(store, f.state_dict, 'mha.');
    expectClose(mha.apply(tensor(f.x), evalCtx), f.output);
  });

  it('losses: MSE, 1 − cos, their mix and symmetric InfoNCE', () => {
    const f = layers.losses!;
    const p = tensor(f.pred) as tfc.Tensor2D;
    const q = tensor(f.target) as tfc.Tensor2D;
    expect(mse(tf, p, q).dataSync()[0]).toBeCloseTo(f.mse as number, 5);
    expect(cosine(tf, p, q).dataSync()[0]).toBeCloseTo(f.cosine as number, 5);
    expect(mseCosine(0.4, 0.6)(tf, p, q).dataSync()[0]).toBeCloseTo(0.4 * (f.mse as number) + 0.6 * (f.cosine as number), 5);
    expect(infoNce(0.5)(tf, p, q).dataSync()[0]).toBeCloseTo(f.infonce_t05 as number, 5);
  });
});

describe('Dropout', () => {
  it('is the identity in eval; in training zeroes ≈p, scales the rest by 1/(1−p), repeats for the same context', () => {
    const store = new ParamStore(tf, 0);
    const drop = new Dropout(store, 0.25);
    const x = tf.ones([100, 100]);
    expect(drop.apply(x, evalCtx)).toBe(x);
    const a = drop.apply(x, { training: true, seed: 3 }).dataSync();
    const zeros = a.filter((v) => v === 0).length;
    expect(zeros / a.length).toBeGreaterThan(0.23);
    expect(zeros / a.length).toBeLessThan(0.27);
    expect(new Set(a)).toEqual(new Set([0, 1 / 0.75].map((v) => Math.fround(v))));
    expect(Array.from(drop.apply(x, { training: true, seed: 3 }).dataSync())).toEqual(Array.from(a));
    expect(Array.from(drop.apply(x, { training: true, seed: 4 }).dataSync())).not.toEqual(Array.from(a));
  });
});

/** PyTorch layout (B, C, L) → channels-last (B, L, C), as nested arrays. */
const channelsLast = (x: unknown): number[][][] => (x as number[][][]).map((item) => item[0]!.map((_, l) => item.map((channel) => channel[l]!)));

// Forward and autograd of sum(output · dy) against PyTorch (test/fixtures/training/conv1d.json), on both backends:
// the convolution's gradient is ours (wasm has no filter-gradient kernel), so it is checked where it runs.
describe.each(['cpu', 'wasm'])('Conv1d and MaxPool1d gradients equal PyTorch autograd (%s backend)', (backend) => {
  const cases = JSON.parse(readFileSync('test/fixtures/training/conv1d.json', 'utf8')) as Record<string, Record<string, unknown>>;
  beforeAll(async () => {
    tf = (await createTensorflowProvider({ backend }).load()).tf;
    await ensureGradients(tf);
  });

  const convCases = Object.keys(cases).filter((name) => !name.startsWith('maxpool'));
  for (const name of convCases) {
    for (const last of [false, true]) {
      it(`${name} (${last ? 'channels-last' : 'channels-first'})`, () => {
        const f = cases[name]!;
        const store = new ParamStore(tf, 0);
        const conv = new Conv1d(store, 'conv', f.in as number, f.out as number, f.kernel as number, {
          stride: f.stride as number,
          padding: f.padding as number,
          channelsLast: last,
        });
        loadState(store, f.state_dict, 'conv.');
        const layout = (v: unknown) => (last ? channelsLast(v) : v);
        const x = tensor(layout(f.x));
        const dy = tensor(layout(f.dy));
        expectClose(conv.apply(x), layout(f.output));
        const [gx, gw, gb] = tf.grads((xx: tfc.Tensor, w: tfc.Tensor, b: tfc.Tensor) => {
          const y = conv1dChannelsLast(tf, last ? xx : tf.transpose(xx, [0, 2, 1]), w, b, { stride: conv.stride, padding: conv.padding });
          return tf.sum(tf.mul(last ? y : tf.transpose(y, [0, 2, 1]), dy));
        })([x, conv.weight, conv.bias!]);
        expectClose(gx!, layout(f.grad_x), 1e-4);
        expectClose(gw!, f.grad_weight, 1e-4);
        expectClose(gb!, f.grad_bias, 1e-4);
        // The layer itself (its transposes included) gives the same input gradient.
        const [gLayer] = tf.grads((xx: tfc.Tensor) => tf.sum(tf.mul(conv.apply(xx), dy)))([x]);
        expectClose(gLayer!, layout(f.grad_x), 1e-4);
        // activation 'relu' (fused into the kernel) equals ReLU after the checked convolution, gradients included.
        const fused = new Conv1d(store, 'fused', f.in as number, f.out as number, f.kernel as number, {
          stride: f.stride as number,
          padding: f.padding as number,
          channelsLast: last,
          activation: 'relu',
        });
        fused.weight.assign(conv.weight);
        fused.bias!.assign(conv.bias!);
        const unfusedOut = tf.relu(conv.apply(x));
        expect(unfusedOut.min().dataSync()[0]).toBe(0); // some positions are cut
        expectClose(fused.apply(x), unfusedOut.arraySync());
        // Gradients with respect to x and to the layer's own weight and bias (read by the layer, passed as tensors).
        const lossOf = (layer: (t: tfc.Tensor) => tfc.Tensor) => (...xs: tfc.Tensor[]) => tf.sum(tf.mul(layer(xs[0]!), dy));
        const want = tf.grads(lossOf((t) => tf.relu(conv.apply(t))))([x, conv.weight, conv.bias!]);
        const got = tf.grads(lossOf((t) => fused.apply(t)))([x, fused.weight, fused.bias!]);
        got.forEach((g, i) => expectClose(g, want[i]!.arraySync(), 1e-4));
      });
    }
  }

  it('Conv1d without bias has only a weight, named as PyTorch', () => {
    const store = new ParamStore(tf, 0);
    new Conv1d(store, 'c', 2, 3, 5, { bias: false });
    expect(store.entries().map((e) => [e.name, e.variable.shape])).toEqual([['c.weight', [3, 2, 5]]]);
  });

  it('Conv1d refuses an input of the wrong layout or a length shorter than the kernel', () => {
    const store = new ParamStore(tf, 0);
    const conv = new Conv1d(store, 'c', 2, 3, 5, { channelsLast: true });
    expect(() => conv.apply(tf.zeros([1, 2, 8]))).toThrow(/expects \(B, L, C\) with C = 2, got shape \[1, 2, 8\]/);
    expect(() => conv.apply(tf.zeros([1, 4, 2]))).toThrow(/length 4 \(\+ padding 0\) is shorter than the kernel 5/);
  });

  for (const last of [false, true]) {
    it(`MaxPool1d(3, stride 2) forward and gradient (${last ? 'channels-last' : 'channels-first'})`, () => {
      const f = cases.maxpool_k3_s2!;
      const layout = (v: unknown) => (last ? channelsLast(v) : v);
      const pool = new MaxPool1d(tf, f.kernel as number, f.stride as number, { channelsLast: last });
      const x = tensor(layout(f.x));
      expectClose(pool.apply(x), layout(f.output));
      const [gx] = tf.grads((xx: tfc.Tensor) => tf.sum(tf.mul(pool.apply(xx), tensor(layout(f.dy)))))([x]);
      expectClose(gx!, layout(f.grad_x));
    });
  }
});
