/** Training losses on (batch, dims) predictions and targets; each returns a scalar (mean over the batch). */
import type * as tfc from '@tensorflow/tfjs-core';
import type { TfModule } from '../compute/tfjs.js';
import { matMul } from './layers.js';

export type LossFn = (tf: TfModule, pred: tfc.Tensor2D, target: tfc.Tensor2D) => tfc.Scalar;

/** Mean of squared errors over every element (PyTorch MSELoss, reduction 'mean'). */
export const mse: LossFn = (tf, pred, target) => tf.mean(tf.squaredDifference(pred, target));

function l2normalize(tf: TfModule, x: tfc.Tensor2D): tfc.Tensor2D {
  // As torch.nn.functional.normalize: x / max(‖x‖, 1e-8).
  return tf.div(x, tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-8));
}

/** Mean over rows of 1 − cos(pred_i, target_i). */
export const cosine: LossFn = (tf, pred, target) => {
  const cos = tf.sum(tf.mul(l2normalize(tf, pred), l2normalize(tf, target)), 1);
  return tf.mean(tf.sub(1, cos));
};

/** wMse·MSE + wCos·(1 − cos) (Mind Reader: 0.4 and 0.6). */
export function mseCosine(wMse: number, wCos: number): LossFn {
  return (tf, pred, target) => tf.add(tf.mul(mse(tf, pred, target), wMse), tf.mul(cosine(tf, pred, target), wCos));
}

/**
 * Symmetric InfoNCE (CLIP style): logits = norm(pred)·norm(target)ᵀ / temperature, cross-entropy with the
 * matching row as the class, averaged over both directions (brain → target and target → brain).
 */
export function infoNce(temperature: number): LossFn {
  return (tf, pred, target) => {
    const p = l2normalize(tf, pred);
    const t = l2normalize(tf, target);
    const logits = tf.div(matMul(tf, p, tf.transpose(t)), temperature) as tfc.Tensor2D;
    const n = pred.shape[0];
    const labels = tf.oneHot(tf.range(0, n, 1, 'int32') as tfc.Tensor1D, n);
    const forward = tf.losses.softmaxCrossEntropy(labels, logits);
    const backward = tf.losses.softmaxCrossEntropy(labels, tf.transpose(logits));
    return tf.div(tf.add(forward, backward), 2) as tfc.Scalar;
  };
}

/** Sum of weighted losses. */
export function combine(parts: Array<[LossFn, number]>): LossFn {
  return (tf, pred, target) => {
    let total: tfc.Scalar | undefined;
    for (const [fn, w] of parts) {
      if (w === 0) continue;
      const term = tf.mul(fn(tf, pred, target), w) as tfc.Scalar;
      total = total ? (tf.add(total, term) as tfc.Scalar) : term;
    }
    return total ?? tf.scalar(0);
  };
}
