/**
 * PyTorch's Conv1d on channels-last tensors, trainable on every tfjs backend.
 *
 * Why not tf.conv1d's own gradient: tfjs-backend-wasm has no Conv2DBackpropFilter kernel, so a tf.conv1d cannot
 * be differentiated with respect to its filter there. The forward pass and the input gradient use the native
 * Conv2D / Conv2DBackpropInput kernels (XNNPACK on wasm); the filter gradient is k plain products
 * dW[:, :, j] = dYᵀ · X_j, X_j the input shifted by j (one transient slice at a time, so memory stays at one
 * input's size rather than k).
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { TfModule } from '../../core/compute/tfjs.js';
import { linear } from '../../core/training/layers.js';

type ConvFn = (x: tfc.Tensor3D, weight: tfc.Tensor3D) => tfc.Tensor3D;
const cache = new WeakMap<TfModule, Map<number, ConvFn>>();

/**
 * y = Conv1d(x) for x (B, L, C_in) channels-last, weight (out, in, k) in PyTorch layout, zero padding on both
 * sides; returns (B, L_out, out) with L_out = ⌊(L + 2·padding − k)/stride⌋ + 1.
 */
export function conv1dChannelsLast(
  tf: TfModule,
  x: tfc.Tensor,
  weight: tfc.Tensor,
  bias: tfc.Tensor | undefined,
  options: { stride?: number; padding?: number } = {},
): tfc.Tensor3D {
  const stride = options.stride ?? 1;
  const padding = options.padding ?? 0;
  const [outChannels, inChannels, k] = weight.shape as [number, number, number];
  let y: tfc.Tensor;
  if (k === 1 && stride === 1 && padding === 0) {
    y = linear(tf, x, tf.reshape(weight, [outChannels, inChannels]));
  } else {
    const padded = padding > 0 ? tf.pad(x, [[0, 0], [padding, padding], [0, 0]]) : x;
    y = validConv(tf, stride)(padded as tfc.Tensor3D, weight as tfc.Tensor3D);
  }
  return (bias ? tf.add(y, bias) : y) as tfc.Tensor3D;
}

function validConv(tf: TfModule, stride: number): ConvFn {
  let byStride = cache.get(tf);
  if (!byStride) cache.set(tf, (byStride = new Map()));
  let fn = byStride.get(stride);
  if (fn) return fn;
  const custom = tf.customGrad((xIn, wIn, save) => {
    const x = xIn as tfc.Tensor3D;
    const w = wIn as tfc.Tensor3D;
    (save as tfc.GradSaveFunc)([x, w]);
    const filter = tf.transpose(w, [2, 1, 0]) as tfc.Tensor3D; // (k, in, out)
    return {
      value: tf.conv1d(x, filter, stride, 'valid'),
      gradFunc: (dyIn: tfc.Tensor | tfc.Tensor[], saved: tfc.Tensor[]) => {
        const dy = dyIn as tfc.Tensor3D;
        const [xs, ws] = saved as [tfc.Tensor3D, tfc.Tensor3D];
        return [inputGradient(tf, dy, xs.shape, ws, stride), filterGradient(tf, dy, xs, ws.shape, stride)];
      },
    };
  });
  fn = (x, w) => custom(x, w) as tfc.Tensor3D;
  byStride.set(stride, fn);
  return fn;
}

/**
 * dX: the transposed convolution of dY. With stride 1 that is a plain convolution of dY padded by k − 1 with the
 * flipped, in/out-swapped filter (the native forward kernel: on wasm about 6× faster than its
 * Conv2DBackpropInput); with a larger stride, Conv2DBackpropInput with a unit height axis.
 */
function inputGradient(tf: TfModule, dy: tfc.Tensor3D, xShape: number[], w: tfc.Tensor3D, stride: number): tfc.Tensor3D {
  const [batch, length, inChannels] = xShape as [number, number, number];
  const [outChannels, , k] = w.shape as [number, number, number];
  if (stride === 1) {
    const flipped = tf.reverse(tf.transpose(w, [2, 0, 1]), 0) as tfc.Tensor3D; // (k, out, in), taps reversed
    const padded = k > 1 ? tf.pad(dy, [[0, 0], [k - 1, k - 1], [0, 0]]) : dy;
    return tf.conv1d(padded as tfc.Tensor3D, flipped, 1, 'valid');
  }
  const filter = tf.reshape(tf.transpose(w, [2, 1, 0]), [1, k, inChannels, outChannels]) as tfc.Tensor4D;
  const dy4 = tf.reshape(dy, [batch, 1, dy.shape[1], outChannels]) as tfc.Tensor4D;
  const dx = tf.conv2dTranspose(dy4, filter, [batch, 1, length, inChannels], [1, stride], 'valid');
  return tf.reshape(dx, [batch, length, inChannels]);
}

/** dW (out, in, k): for each tap j, dYᵀ · X_j with X_j = x[:, j + stride·t, :] over the output positions t. */
function filterGradient(tf: TfModule, dy: tfc.Tensor3D, x: tfc.Tensor3D, wShape: number[], stride: number): tfc.Tensor3D {
  const [batch, , inChannels] = x.shape;
  const [outChannels, , k] = wShape as [number, number, number];
  const outLength = dy.shape[1];
  const rows = batch * outLength;
  const dyT = tf.transpose(tf.reshape(dy, [rows, outChannels])) as tfc.Tensor2D; // (out, B·L_out)
  const taps: tfc.Tensor2D[] = [];
  for (let j = 0; j < k; j++) {
    const shifted =
      stride === 1
        ? tf.slice(x, [0, j, 0], [batch, outLength, inChannels])
        : tf.stridedSlice(x, [0, j, 0], [batch, j + stride * (outLength - 1) + 1, inChannels], [1, stride, 1]);
    taps.push(tf.matMul(dyT, tf.reshape(shifted, [rows, inChannels]) as tfc.Tensor2D)); // (out, in), plain operands
    shifted.dispose();
  }
  return tf.stack(taps, 2) as tfc.Tensor3D;
}
