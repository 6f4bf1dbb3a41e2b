/**
 * The 1-D CNN mappers on the shared training core. Module and parameter names are those of the reference PyTorch
 * modules (see README), so `state_dict` keys and ours coincide. Activations are channels-last (B, L, C)
 * throughout, which saves a transpose around every convolution; weights keep PyTorch's layout.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { UserError } from '../../core/errors.js';
import { BatchNorm1d, Conv1d, Linear, linear, type ForwardContext } from '../../core/training/layers.js';
import type { ModelShapes, NeuralModel } from '../../core/training/neural-mapper.js';
import type { ParamStore } from '../../core/training/params.js';
import { checkpoint } from './checkpoint.js';
import { positionsHidden } from './positions-head.js';
import type { CnnArchitecture } from './presets.js';

type Layer = (x: tfc.Tensor, ctx: ForwardContext) => tfc.Tensor;

/** PyTorch's Conv1d (names, shapes, init) on channels-last activations; `relu` fuses the ReLU that follows it. */
function convLayer(store: ParamStore, name: string, inChannels: number, outChannels: number, kernel: number, stride = 1, padding = 0, relu = false): Layer {
  const conv = new Conv1d(store, name, inChannels, outChannels, kernel, { stride, padding, channelsLast: true, activation: relu ? 'relu' : undefined });
  return (x) => conv.apply(x);
}

/** BatchNorm1d over (B, L, C): statistics per channel over batch and positions, as PyTorch on (B, C, L). */
function batchNormLayer(store: ParamStore, name: string, channels: number): Layer {
  const { tf } = store;
  const bn = new BatchNorm1d(store, name, channels);
  return (x, ctx) => tf.reshape(bn.apply(tf.reshape(x, [-1, channels]), ctx), x.shape);
}

/**
 * A residual branch as an nn.Sequential on (B, L, C): Conv1d ('same' padding) with ReLU between convolutions (and
 * after the last when `branchReluLast`), BatchNorm1d after each ReLU and after the last convolution when
 * `batchNorm`. Children are numbered as PyTorch numbers them, ReLUs included (net.0, net.2, net.4 without BatchNorm).
 */
export function residualBranch(store: ParamStore, arch: Pick<CnnArchitecture, 'channels' | 'branchKernels' | 'branchReluLast' | 'batchNorm'>): Layer {
  const layers: Layer[] = [];
  let index = 0;
  arch.branchKernels.forEach((k, j) => {
    if (k % 2 !== 1) throw new Error(`residual kernels must be odd for 'same' padding, got ${k}`);
    const last = j === arch.branchKernels.length - 1;
    const relu = !last || arch.branchReluLast;
    layers.push(convLayer(store, String(index++), arch.channels, arch.channels, k, 1, (k - 1) / 2, relu));
    if (relu) index++; // the ReLU (fused into the convolution) is a child of PyTorch's Sequential
    if (arch.batchNorm) {
      layers.push(batchNormLayer(store, String(index++), arch.channels));
    }
  });
  return (x, ctx) => layers.reduce((h, layer) => layer(h, ctx), x);
}

/** The padded input length, checked against the voxel count. */
export function paddedLength(voxels: number, padTo: number): number {
  if (padTo === 0) return voxels;
  if (padTo < voxels) {
    throw new UserError(`padTo is ${padTo} but the data have ${voxels} voxels: expected padTo ≥ ${voxels}, or 0 for no padding`, 'mapper cnn options');
  }
  return padTo;
}

/** Output length of Conv1d(k, stride, padding) on `length` positions (PyTorch's floor formula). */
export function convLength(length: number, kernel: number, stride: number, padding: number): number {
  return Math.floor((length + 2 * padding - kernel) / stride) + 1;
}

export function buildCnn(store: ParamStore, shapes: ModelShapes, arch: CnnArchitecture): NeuralModel {
  const { tf } = store;
  const length = paddedLength(shapes.inputs, arch.padTo);
  const stemPadding = (arch.stemKernel - arch.stemStride) / 2;
  if (!Number.isInteger(stemPadding) || stemPadding < 0) throw new Error(`stem kernel ${arch.stemKernel} and stride ${arch.stemStride} give no symmetric padding`);
  const positions = convLength(length, arch.stemKernel, arch.stemStride, stemPadding);
  if (positions < 1) throw new UserError(`${length} voxels are too few for the stem convolution (kernel ${arch.stemKernel})`, 'mapper cnn');

  // CS292F names the stem `conv1d`; Mind Reader nests it as encoder.0.0 (Sequential(Conv1d, ReLU)).
  const encoder = store.scope('encoder');
  const [stemStore, stemName] = arch.head === 'dense' ? [store, 'conv1d'] : [encoder.scope('0'), '0'];
  const stem = convLayer(stemStore, stemName, 1, arch.channels, arch.stemKernel, arch.stemStride, stemPadding, arch.stemRelu);

  // Each branch with the trainable tensors it reads (for checkpointing).
  const branches: { apply: Layer; params: tfc.Variable[] }[] = [];
  const withParams = (build: () => Layer) => {
    const before = store.trainableVariables().length;
    const apply = build();
    return { apply, params: store.trainableVariables().slice(before) };
  };
  if (arch.head === 'dense') {
    const shared = arch.shareBlockWeights && arch.residualBlocks > 0 ? withParams(() => residualBranch(store.scope('net'), arch)) : undefined;
    for (let i = 0; i < arch.residualBlocks; i++) branches.push(shared ?? withParams(() => residualBranch(store.scope(`nets.${i}`), arch)));
  } else {
    if (arch.shareBlockWeights) throw new UserError('shareBlockWeights is only available for the CS292F presets', 'mapper cnn options');
    for (let i = 0; i < arch.residualBlocks; i++) branches.push(withParams(() => residualBranch(encoder.scope(`${i + 1}`).scope('net'), arch)));
  }
  const residualBlock = (branch: Layer): Layer => (h, ctx) => {
    const y = tf.add(h, branch(h, ctx));
    return arch.reluAfterSum ? tf.relu(y) : y;
  };

  const head = arch.head === 'dense' ? denseHead(store, arch, positions, shapes.outputs) : positionsHead(store, encoder, arch, positions, shapes.outputs);

  const forward = (x: tfc.Tensor2D, ctx: ForwardContext): tfc.Tensor2D => {
    const padded = length > shapes.inputs ? tf.pad(x, [[0, 0], [0, length - shapes.inputs]]) : x;
    let h: tfc.Tensor = stem(tf.reshape(padded, [x.shape[0], length, 1]), ctx);
    // Blocks are checkpointed in training: the backward pass recomputes them instead of keeping their insides.
    for (const branch of branches) h = ctx.training ? checkpoint(tf, residualBlock(branch.apply), h, ctx, branch.params) : residualBlock(branch.apply)(h, ctx);
    return head(h, ctx);
  };
  return { forward, summary: { preset: arch.preset, positions } };
}

/** CS292F: Conv1d(C→1, k1) `downsample`, flatten, then Linear/ReLU layers `fc.0`, `fc.2`, … to the targets. */
function denseHead(store: ParamStore, arch: CnnArchitecture, positions: number, outputs: number): (h: tfc.Tensor, ctx: ForwardContext) => tfc.Tensor2D {
  const { tf } = store;
  const downsample = convLayer(store, 'downsample', arch.channels, 1, 1);
  const widths = [positions, ...arch.hiddenSizes, outputs];
  const fc = store.scope('fc');
  const dense = widths.slice(1).map((w, i) => new Linear(fc, String(2 * i), widths[i]!, w));
  return (h, ctx) => {
    let y: tfc.Tensor = tf.reshape(downsample(h, ctx), [h.shape[0]!, positions]);
    dense.forEach((layer, i) => {
      y = layer.apply(y, ctx);
      if (i < dense.length - 1) y = tf.relu(y);
    });
    return y as tfc.Tensor2D;
  };
}

/**
 * Mind Reader: Conv1d(C→T, k1) as encoder.<blocks+1>, then on PyTorch's transpose (B, positions, T), i.e. with
 * positions as channels, ReLU · Conv1d(positions→H, k1) (`fc.1`) · ReLU · Conv1d(H→1, k1) (`fc.3`): per target
 * column a small dense net across the positions. The part up to `fc.1` runs as `positionsHidden`, which never
 * holds the (B, positions, T) activations whole (they do not fit the wasm heap at paper size).
 */
function positionsHead(
  store: ParamStore,
  encoder: ParamStore,
  arch: CnnArchitecture,
  positions: number,
  outputs: number,
): (h: tfc.Tensor, ctx: ForwardContext) => tfc.Tensor2D {
  const { tf } = store;
  const toTargets = new Conv1d(encoder, String(arch.residualBlocks + 1), arch.channels, outputs, 1, { channelsLast: true });
  const fc = store.scope('fc');
  const hidden = new Conv1d(fc, '1', positions, arch.headHidden, 1);
  const last = new Conv1d(fc, '3', arch.headHidden, 1, 1);
  const matrix = (conv: Conv1d) => tf.reshape(conv.weight, [conv.outChannels, conv.inChannels]) as tfc.Tensor2D;
  return (h) => {
    const z = positionsHidden(tf, h as tfc.Tensor3D, matrix(toTargets), toTargets.bias as tfc.Tensor1D, matrix(hidden), hidden.bias as tfc.Tensor1D);
    const y1 = tf.relu(z); // (B, T, H)
    return tf.reshape(linear(tf, y1, matrix(last), last.bias), [h.shape[0]!, outputs]);
  };
}
