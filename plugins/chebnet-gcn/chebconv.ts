/**
 * ChebConv (Defferrard et al. 2016) with PyTorch Geometric's parameters and arithmetic:
 *   out = Σ_k lins[k](Z_k) + bias,  Z_0 = x,  Z_1 = L̃x,  Z_k = 2 L̃ Z_(k−1) − Z_(k−2),
 * lins[k].weight (out, in) glorot-uniform without bias, bias zeros (PyG's reset_parameters).
 *
 * Node features are node-major, (N, B, F): propagation is then one (N × N)·(N × B·F) product and each linear map
 * one (N·B × F)·(F × out) product, both on reshapes of the same buffer. L̃ is fixed (part of the fitted graph).
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { TfModule } from '../../core/compute/tfjs.js';
import { linear, matMul } from '../../core/training/layers.js';
import { init, type ParamStore } from '../../core/training/params.js';
import type { Matrix } from '../../core/tensor.js';

/** PyG's `glorot`: U(±√(6 / (fan_in + fan_out))). */
export function glorotBound(inChannels: number, outChannels: number): number {
  return Math.sqrt(6 / (inChannels + outChannels));
}

/**
 * a·wᵀ for a that is data (no parameter upstream): only the weight's gradient, dW = dyᵀ·a, is computed. The
 * input gradient is returned as zeros because nothing needs it, which saves the layer's largest product.
 */
export function dataProduct(tf: TfModule, a: tfc.Tensor2D, w: tfc.Tensor2D): tfc.Tensor2D {
  const f = tf.customGrad((x, y, save) => {
    const a2 = x as tfc.Tensor2D;
    const w2 = y as tfc.Tensor2D;
    (save as tfc.GradSaveFunc)([a2]);
    return {
      value: matMul(tf, a2, tf.transpose(w2)),
      gradFunc: (dy: tfc.Tensor, saved: tfc.Tensor[]) => [tf.zerosLike(saved[0]!), matMul(tf, tf.transpose(dy as tfc.Tensor2D), saved[0] as tfc.Tensor2D)],
    };
  });
  return f(a, w) as tfc.Tensor2D;
}

export class ChebConv {
  readonly lins: tfc.Variable[];
  readonly bias: tfc.Variable;

  constructor(
    private readonly store: ParamStore,
    name: string,
    readonly inChannels: number,
    readonly outChannels: number,
    readonly K: number,
    /** True when the input is data (the first layer): skip the input gradient. */
    private readonly inputIsData = false,
  ) {
    if (!Number.isInteger(K) || K < 1) throw new Error(`ChebConv order K must be a positive integer, got ${K}`);
    const s = store.scope(name);
    const bound = glorotBound(inChannels, outChannels);
    this.lins = Array.from({ length: K }, (_, k) => s.param(`lins.${k}.weight`, [outChannels, inChannels], init.uniform(bound)));
    this.bias = s.param('bias', [outChannels], init.constant(0));
  }

  /** x (N, B, in), L̃ (N, N) → (N, B, out). */
  apply(x: tfc.Tensor3D, scaled: tfc.Tensor2D): tfc.Tensor3D {
    const { tf } = this.store;
    const [n, b, f] = x.shape;
    const propagate = (z: tfc.Tensor3D) => tf.reshape(matMul(tf, scaled, tf.reshape(z, [n, b * f])), [n, b, f]) as tfc.Tensor3D;
    const project = (z: tfc.Tensor3D, k: number) => {
      const rows = tf.reshape(z, [n * b, f]) as tfc.Tensor2D;
      return this.inputIsData ? dataProduct(tf, rows, this.lins[k] as tfc.Tensor2D) : linear(tf, rows, this.lins[k]!);
    };
    let out = project(x, 0);
    let previous = x;
    if (this.K > 1) {
      let current = propagate(x);
      out = tf.add(out, project(current, 1));
      for (let k = 2; k < this.K; k++) {
        const next = tf.sub(tf.mul(propagate(current), 2), previous) as tfc.Tensor3D;
        out = tf.add(out, project(next, k));
        previous = current;
        current = next;
      }
    }
    return tf.reshape(tf.add(out, this.bias), [n, b, this.outChannels]) as tfc.Tensor3D;
  }
}

/**
 * The input of a first-layer ChebConv as one product: for row b of x (B, inputs) and node n, row b·N + n holds
 * [Z_0 | Z_1 | … | Z_(K−1)] for that node, Z_k = T_k(L̃)·F with F (N, W) the row's node features (voxel columns by
 * `featureIndex`, which points at `inputs` for zero padding). Then Σ_k lins[k](Z_k) = P·[lins.0 lins.1 …]ᵀ.
 * Zero entries of T_k are skipped (sparse graphs: T_0 = I, few edges).
 */
export function chebyshevTerms(x: Matrix, featureIndex: Int32Array, width: number, polynomials: Float64Array[]): Matrix {
  const K = polynomials.length;
  const nodes = featureIndex.length / width;
  const cols = K * width;
  const out = new Float32Array(x.rows * nodes * cols);
  const features = new Float32Array(nodes * width);
  for (let b = 0; b < x.rows; b++) {
    const row = x.data.subarray(b * x.cols, (b + 1) * x.cols);
    for (let i = 0; i < features.length; i++) {
      const v = featureIndex[i]!;
      features[i] = v < x.cols ? row[v]! : 0;
    }
    for (let n = 0; n < nodes; n++) {
      const base = (b * nodes + n) * cols;
      polynomials.forEach((T, k) => {
        const target = out.subarray(base + k * width, base + (k + 1) * width);
        for (let m = 0; m < nodes; m++) {
          const t = T[n * nodes + m]!;
          if (t === 0) continue;
          const source = features.subarray(m * width, (m + 1) * width);
          for (let j = 0; j < width; j++) target[j]! += t * source[j]!;
        }
      });
    }
  }
  return { rows: x.rows * nodes, cols, data: out };
}
