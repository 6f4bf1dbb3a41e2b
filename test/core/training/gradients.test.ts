/** Autodiff (including our matMul's custom gradient) against central finite differences, on the cpu backend. */
import type * as tfc from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTensorflowProvider, type TfModule } from '../../../core/compute/tfjs.js';
import { ensureGradients, infoNce, BatchNorm1d, Conv1d, Dropout, GRU, LayerNorm, Linear, MaxPool1d, MultiheadAttention, ParamStore, leakyRelu, mseCosine, relu } from '../../../core/training/index.js';
import { Rng } from '../../../core/rng.js';

let tf: TfModule;

function randomTensor(shape: number[], seed: number): tfc.Tensor {
  const rng = new Rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, () => rng.normal()), shape);
}

/** Checks up to `perVariable` entries of every trainable tensor's gradient against (f(θ+ε) − f(θ−ε)) / 2ε. */
function checkGradients(store: ParamStore, loss: () => tfc.Scalar, perVariable = 4): number {
  const { grads } = tf.variableGrads(loss, store.trainableVariables());
  const eps = 1e-2;
  let checked = 0;
  for (const v of store.trainableVariables()) {
    const g = grads[v.name]!.dataSync();
    const base = Float32Array.from(v.dataSync());
    const rng = new Rng(checked + 11);
    for (let k = 0; k < Math.min(perVariable, base.length); k++) {
      const i = rng.int(base.length);
      const at = (delta: number) => {
        const p = base.slice();
        p[i]! += delta;
        v.assign(tf.tensor(p, v.shape));
        return tf.tidy(() => loss().dataSync()[0]!);
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      v.assign(tf.tensor(base, v.shape));
      expect(Math.abs(g[i]! - numeric), `${v.name}[${i}]: autodiff ${g[i]}, numeric ${numeric}`).toBeLessThan(3e-3 + 3e-2 * Math.abs(numeric));
      checked++;
    }
  }
  return checked;
}

// Both backends: wasm lacks some gradient kernels (conv filters, MaxPool, UnsortedSegmentSum) that the layers avoid.
describe.each(['cpu', 'wasm'])('gradients agree with finite differences (%s backend)', (backend) => {
  beforeAll(async () => {
    tf = (await createTensorflowProvider({ backend }).load()).tf;
    await ensureGradients(tf);
  });

  it('BiGRU (3 steps) → LayerNorm → Dropout → Linear → BatchNorm (batch stats) → LeakyReLU → Linear, MSE + cosine', () => {
    const store = new ParamStore(tf, 3);
    const gru = new GRU(store, 'gru', 4, 3, { bidirectional: true });
    const ln = new LayerNorm(store, 'ln', 6);
    const drop = new Dropout(store, 0.3);
    const fc1 = new Linear(store, 'fc1', 6, 5);
    const bn = new BatchNorm1d(store, 'bn', 5);
    const fc2 = new Linear(store, 'fc2', 5, 3);
    const x = randomTensor([4, 3, 4], 1);
    const y = randomTensor([4, 3], 2) as tfc.Tensor2D;
    const ctx = { training: true, seed: 9 };
    const loss = () => {
      const h = drop.apply(ln.apply(gru.apply(x, ctx)), ctx);
      const last = tf.reshape(tf.slice(h, [0, 2, 0], [4, 1, 6]), [4, 6]);
      const out = fc2.apply(leakyRelu(tf, bn.apply(fc1.apply(last), ctx), 0.1)) as tfc.Tensor2D;
      return mseCosine(0.5, 0.5)(tf, out, y);
    };
    expect(checkGradients(store, loss)).toBeGreaterThan(40);
  });

  it('Linear → symmetric InfoNCE (temperature 0.5)', () => {
    const store = new ParamStore(tf, 5);
    const fc = new Linear(store, 'fc', 4, 3);
    const x = randomTensor([5, 4], 7);
    const y = randomTensor([5, 3], 8) as tfc.Tensor2D;
    expect(checkGradients(store, () => infoNce(0.5)(tf, fc.apply(x) as tfc.Tensor2D, y), 6)).toBe(9);
  });

  it('Conv1d → ReLU → MaxPool1d → MultiheadAttention → Linear', () => {
    const store = new ParamStore(tf, 4);
    const conv = new Conv1d(store, 'conv', 2, 4, 3, { padding: 1, stride: 1 });
    const pool = new MaxPool1d(tf, 2);
    const mha = new MultiheadAttention(store, 'mha', 4, 2);
    const fc = new Linear(store, 'fc', 4, 2);
    const x = randomTensor([3, 2, 8], 5);
    const y = randomTensor([3, 2], 6);
    const ctx = { training: true, seed: 1 };
    const loss = () => {
      const h = pool.apply(relu(tf, conv.apply(x))); // (3, 4, 4)
      const seq = mha.apply(tf.transpose(h, [0, 2, 1]), ctx); // (3, 4 steps, 4)
      const out = fc.apply(tf.mean(seq, 1));
      return tf.mean(tf.squaredDifference(out, y)) as tfc.Scalar;
    };
    expect(checkGradients(store, loss)).toBeGreaterThan(20);
  });
});
