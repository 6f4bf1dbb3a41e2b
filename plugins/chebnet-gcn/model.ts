/**
 * The CS292F GCN mapper (seed 001 §2.5.3; roi_image_encoder.ipynb, class GNN), with its state_dict names:
 *
 *   node features (N, B, W)  ← each node's voxels of the z-scored row, zero-padded to the longest node
 *   conv1  ChebConv(W → 512, K=4), ReLU
 *   conv   ChebConv(512 → 512, K=3) → bn (PyG BatchNorm = BatchNorm1d over all nodes) → LeakyReLU, added to its input
 *   global mean pool over nodes → (B, 512) → (B, 1, 512)
 *   nnconv Conv1d(1 → 16, k1) + LeakyReLU; 2 × [x + LeakyReLU(Conv1d(16 → 16, k3, p1)(x))] (`net`, one block reused)
 *   downsample Conv1d(16 → 1, k1) → flatten (B, 512) → fc: Linear(512 → 1024), LeakyReLU, Linear(1024 → targets)
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { TfModule } from '../../core/compute/tfjs.js';
import { BatchNorm1d, Linear, leakyRelu, type ForwardContext } from '../../core/training/layers.js';
import type { ParamStore } from '../../core/training/params.js';
import { ChebConv } from './chebconv.js';
import { ChannelsLastConv1d } from './conv1d.js';
import type { ChebnetOptions } from './schema.js';

export type ArchitectureOptions = Pick<ChebnetOptions, 'chebK' | 'hidden' | 'convChannels' | 'residualBlocks' | 'sharedResidual' | 'dense'>;

export interface GraphInput {
  /** Row-major N × N scaled Laplacian L̃. */
  scaled: Float64Array;
  /** Voxel columns of each node, in feature order. */
  nodeVoxels: ArrayLike<number>[];
}

/** Gather indices (N·W) into a row with one zero appended at column `inputs`: padding points there. */
export function featureIndex(nodeVoxels: ArrayLike<number>[], inputs: number): { index: Int32Array; width: number } {
  const width = Math.max(...nodeVoxels.map((v) => v.length));
  const index = new Int32Array(nodeVoxels.length * width).fill(inputs);
  nodeVoxels.forEach((voxels, n) => {
    for (let i = 0; i < voxels.length; i++) {
      const v = voxels[i]!;
      if (!(v >= 0 && v < inputs)) throw new Error(`node ${n} voxel index ${v} outside 0..${inputs - 1}`);
      index[n * width + i] = v;
    }
  });
  return { index, width };
}

export class ChebnetGcn {
  readonly conv1: ChebConv;
  readonly conv: ChebConv;
  readonly bn: BatchNorm1d;
  readonly nnconv: ChannelsLastConv1d;
  readonly blocks: ChannelsLastConv1d[];
  readonly downsample: ChannelsLastConv1d;
  readonly fc0: Linear;
  readonly fc2: Linear;
  readonly nodes: number;
  readonly width: number;
  private readonly index: tfc.Tensor1D;
  private readonly scaled: tfc.Tensor2D;
  private readonly tf: TfModule;

  constructor(
    store: ParamStore,
    graph: GraphInput,
    readonly inputs: number,
    readonly outputs: number,
    readonly options: ArchitectureOptions,
  ) {
    const { tf } = store;
    this.tf = tf;
    this.nodes = graph.nodeVoxels.length;
    const { index, width } = featureIndex(graph.nodeVoxels, inputs);
    this.width = width;
    this.index = tf.tensor1d(index, 'int32');
    this.scaled = tf.tensor2d(Float32Array.from(graph.scaled), [this.nodes, this.nodes], 'float32');
    const { hidden, chebK, convChannels: c } = options;
    this.conv1 = new ChebConv(store, 'conv1', width, hidden, chebK[0], true);
    this.conv = new ChebConv(store, 'conv', hidden, hidden, chebK[1]);
    this.bn = new BatchNorm1d(store, 'bn.module', hidden);
    this.nnconv = new ChannelsLastConv1d(store, 'nnconv.0', 1, c, 1);
    const blockCount = options.sharedResidual ? Math.min(1, options.residualBlocks) : options.residualBlocks;
    this.blocks = Array.from({ length: blockCount }, (_, i) => new ChannelsLastConv1d(store, options.sharedResidual ? 'net.0' : `net.${i}.0`, c, c, 3, 1));
    this.downsample = new ChannelsLastConv1d(store, 'downsample', c, 1, 1);
    this.fc0 = new Linear(store, 'fc.0', hidden, options.dense);
    this.fc2 = new Linear(store, 'fc.2', options.dense, outputs);
  }

  /** (B, inputs) → node-major features (N, B, W). */
  nodeFeatures(x: tfc.Tensor2D): tfc.Tensor3D {
    const { tf } = this;
    const b = x.shape[0];
    const padded = tf.concat([x, tf.zeros([b, 1])], 1);
    const gathered = tf.reshape(tf.gather(padded, this.index, 1), [b, this.nodes, this.width]);
    return tf.transpose(gathered, [1, 0, 2]) as tfc.Tensor3D;
  }

  forward(x: tfc.Tensor2D, ctx: ForwardContext): tfc.Tensor2D {
    const { tf, nodes } = this;
    const b = x.shape[0];
    const { hidden } = this.options;
    let h = tf.relu(this.conv1.apply(this.nodeFeatures(x), this.scaled)) as tfc.Tensor3D;
    const a = this.bn.apply(tf.reshape(this.conv.apply(h, this.scaled), [nodes * b, hidden]), ctx);
    h = tf.add(h, tf.reshape(leakyRelu(tf, a), [nodes, b, hidden]));
    // The pooled vector as a 1-channel sequence, channels-last: (B, 512, 1) ≅ PyTorch's (B, 1, 512).
    let c = leakyRelu(tf, this.nnconv.apply(tf.reshape(tf.mean(h, 0), [b, hidden, 1]))) as tfc.Tensor3D;
    for (let i = 0; i < this.options.residualBlocks; i++) {
      const block = this.blocks[this.options.sharedResidual ? 0 : i]!;
      c = tf.add(c, leakyRelu(tf, block.apply(c))) as tfc.Tensor3D;
    }
    const flat = tf.reshape(this.downsample.apply(c), [b, hidden]);
    return this.fc2.apply(leakyRelu(tf, this.fc0.apply(flat))) as tfc.Tensor2D;
  }
}
