/**
 * Mind Reader's chunked head op (plugins/cnn/positions-head.ts) against the plain composition it replaces
 * (1×1 conv to targets, transpose, ReLU, 1×1 conv over positions), whose tfjs autodiff is the reference: forward
 * and all five gradients, with chunks of one, two (uneven last chunk) and all targets, on the cpu and wasm backends.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTensorflowProvider, type TfModule } from '../../core/compute/tfjs.js';
import { Rng } from '../../core/rng.js';
import { ensureGradients } from '../../core/training/gradients.js';
import { positionsHidden } from '../../plugins/cnn/positions-head.js';

let tf: TfModule;
const random = (shape: number[], seed: number) => {
  const rng = new Rng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
};
function maxDifference(a: tfc.Tensor, b: tfc.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;
}

describe.each(['cpu', 'wasm'])('positionsHidden equals the plain head (%s backend)', (backend) => {
  beforeAll(async () => {
    tf = (await createTensorflowProvider({ backend }).load()).tf;
    await ensureGradients(tf);
  });

  const [batch, positions, channels, targets, hidden] = [3, 7, 4, 5, 6];
  // Chunk budgets of batch·positions floats per target: 1 target, 2 targets (5 = 2 + 2 + 1), all targets.
  for (const perChunk of [1, 2, targets]) {
    it(`${perChunk} target(s) per chunk: forward and gradients of h, both weights and both biases`, () => {
      const inputs = [random([batch, positions, channels], 1), random([targets, channels], 2), random([targets], 3), random([hidden, positions], 4), random([hidden], 5)];
      const dz = random([batch, targets, hidden], 6);
      const plain = (h: tfc.Tensor, wT: tfc.Tensor, bT: tfc.Tensor, wH: tfc.Tensor, bH: tfc.Tensor) => {
        const t = tf.relu(tf.transpose(tf.add(tf.matMul(tf.reshape(h, [-1, channels]), wT, false, true), bT).reshape([batch, positions, targets]), [0, 2, 1]));
        return tf.add(tf.matMul(tf.reshape(t, [-1, positions]), wH, false, true), bH).reshape([batch, targets, hidden]);
      };
      const chunked = (h: tfc.Tensor, wT: tfc.Tensor, bT: tfc.Tensor, wH: tfc.Tensor, bH: tfc.Tensor) =>
        positionsHidden(tf, h as tfc.Tensor3D, wT as tfc.Tensor2D, bT as tfc.Tensor1D, wH as tfc.Tensor2D, bH as tfc.Tensor1D, perChunk * batch * positions);
      const [h, wT, bT, wH, bH] = inputs as [tfc.Tensor, tfc.Tensor, tfc.Tensor, tfc.Tensor, tfc.Tensor];
      expect(maxDifference(chunked(h, wT, bT, wH, bH), plain(h, wT, bT, wH, bH))).toBeLessThan(1e-4);
      const expected = tf.grads((...xs: tfc.Tensor[]) => tf.sum(tf.mul(plain(xs[0]!, xs[1]!, xs[2]!, xs[3]!, xs[4]!), dz)))(inputs);
      const actual = tf.grads((...xs: tfc.Tensor[]) => tf.sum(tf.mul(chunked(xs[0]!, xs[1]!, xs[2]!, xs[3]!, xs[4]!), dz)))(inputs);
      actual.forEach((g, i) => expect(maxDifference(g, expected[i]!), `gradient ${i}`).toBeLessThan(1e-3));
    });
  }
});
