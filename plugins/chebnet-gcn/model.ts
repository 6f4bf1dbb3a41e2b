/**
 * The CS292F GCN mapper (seed 001 §2.5.3; roi_image_encoder.ipynb, class GNN), with its state_dict names:
 *
 *   node features (N, B, W)  ← each node's voxels of the z-scored row, zero-padded to the longest node
 *   conv1  ChebConv(W → 512, K=4), ReLU
 *   conv   ChebConv(512 → 512, K=3) → bn (PyG BatchNorm = BatchNorm1d over all nodes) → LeakyReLU, added to its input
 *   global mean pool over nodes → (B, 512) → (B, 1, 512)
 *   nnconv Conv1d(1 → 16, k1) + LeakyReLU; 2 × [x + LeakyReLU(Conv1d(16 → 16, k3, p1)(x))] (`net`, one block reused)
 *   downsample Conv1d(16 → 1, k1) → flatten (B, 512) → fc: Linear(512 → 1024), LeakyReLU, Linear(1024 → targets)
 *
 * `inputProjection()` expresses conv1 (on prepared Chebyshev terms) and fc.2 as core's input projection, so that
 * their products run on ONNX Runtime on the wasm/cpu backends.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { TfModule } from '../../core/compute/tfjs.js';
import { BatchNorm1d, Conv1d, Linear, leakyRelu, type ForwardContext } from '../../core/training/layers.js';
import type { ParamStore } from '../../core/training/params.js';
import type { InputProjection } from '../../core/training/neural-mapper.js';
import { ChebConv, chebyshevTerms } from './chebconv.js';
import { chebyshevPolynomials } from './laplacian.js';
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
  readonly nnconv: Conv1d;
  readonly blocks: Conv1d[];
  readonly downsample: Conv1d;
  readonly fc0: Linear;
  readonly fc2: Linear;
  readonly nodes: number;
  readonly width: number;
  /** Voxel column of each node's feature slot (N·W), `inputs` for padding. */
  private readonly featureIndex: Int32Array;
  /** T_k(L̃), k < conv1's K, dense N × N. */
  private readonly polynomials: Float64Array[];
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
    this.featureIndex = index;
    this.polynomials = chebyshevPolynomials({ nodes: this.nodes, scaled: graph.scaled }, options.chebK[0]);
    this.index = tf.tensor1d(index, 'int32');
    this.scaled = tf.tensor2d(Float32Array.from(graph.scaled), [this.nodes, this.nodes], 'float32');
    const { hidden, chebK, convChannels: c } = options;
    this.conv1 = new ChebConv(store, 'conv1', width, hidden, chebK[0], true);
    this.conv = new ChebConv(store, 'conv', hidden, hidden, chebK[1]);
    this.bn = new BatchNorm1d(store, 'bn.module', hidden);
    // Channels-last (B, 512, C): no transposes around the convolutions.
    this.nnconv = new Conv1d(store, 'nnconv.0', 1, c, 1, { channelsLast: true });
    const blockCount = options.sharedResidual ? Math.min(1, options.residualBlocks) : options.residualBlocks;
    this.blocks = Array.from({ length: blockCount }, (_, i) => new Conv1d(store, options.sharedResidual ? 'net.0' : `net.${i}.0`, c, c, 3, { padding: 1, channelsLast: true }));
    this.downsample = new Conv1d(store, 'downsample', c, 1, 1, { channelsLast: true });
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
    const first = this.tf.relu(this.conv1.apply(this.nodeFeatures(x), this.scaled)) as tfc.Tensor3D;
    return this.fc2.apply(this.features(first, ctx)) as tfc.Tensor2D;
  }

  /**
   * conv1 as one product per node and row, for ONNX Runtime: P (B·N, K·W) holds, for row b and node n, the
   * Chebyshev terms [T_0(L̃)X | T_1(L̃)X | …]_n (parameter-free: computed once per fit) and the weight is
   * [lins.0 lins.1 …] (out, K·W), shared by the nodes. Also the last Linear (`fc.2`).
   */
  inputProjection(): InputProjection {
    const features = ([z]: tfc.Tensor2D[], ctx: ForwardContext) => this.features(this.firstFromProducts(z!), ctx);
    return {
      weights: this.conv1.lins,
      stack: 'columns',
      rowsPerItem: this.nodes,
      prepareInputs: (x) => chebyshevTerms(x, this.featureIndex, this.width, this.polynomials),
      forwardFromProducts: (products, ctx) => this.fc2.apply(features(products, ctx)) as tfc.Tensor2D,
      output: { weight: this.fc2.weight, bias: this.fc2.bias, features },
    };
  }

  /** conv1's products without bias (B·N, out), item-major → ReLU(· + bias) node-major (N, B, out). */
  firstFromProducts(z: tfc.Tensor2D): tfc.Tensor3D {
    const { tf, nodes } = this;
    const b = z.shape[0] / nodes;
    const h = tf.relu(tf.add(z, this.conv1.bias));
    return tf.transpose(tf.reshape(h, [b, nodes, this.options.hidden]), [1, 0, 2]) as tfc.Tensor3D;
  }

  /** From conv1's output (after its ReLU), node-major (N, B, hidden), to the input of the last Linear (B, dense). */
  features(first: tfc.Tensor3D, ctx: ForwardContext): tfc.Tensor2D {
    const { tf, nodes } = this;
    const b = first.shape[1];
    const { hidden } = this.options;
    let h = first;
    const a = this.bn.apply(tf.reshape(this.conv.apply(h, this.scaled), [nodes * b, hidden]), ctx);
    h = tf.add(h, tf.reshape(leakyRelu(tf, a), [nodes, b, hidden]));
    // The pooled vector as a 1-channel sequence, channels-last: (B, 512, 1) ≅ PyTorch's (B, 1, 512).
    let c = leakyRelu(tf, this.nnconv.apply(tf.reshape(tf.mean(h, 0), [b, hidden, 1]))) as tfc.Tensor3D;
    for (let i = 0; i < this.options.residualBlocks; i++) {
      const block = this.blocks[this.options.sharedResidual ? 0 : i]!;
      c = tf.add(c, leakyRelu(tf, block.apply(c))) as tfc.Tensor3D;
    }
    const flat = tf.reshape(this.downsample.apply(c), [b, hidden]);
    return leakyRelu(tf, this.fc0.apply(flat)) as tfc.Tensor2D;
  }
}
