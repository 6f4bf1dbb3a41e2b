/**
 * chebnet-gcn's first ChebConv as an input projection (ONNX Runtime engine): the prepared Chebyshev terms by hand,
 * the network from their product equals the all-tfjs network, and training with either engine agrees.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { testServices } from '../helpers/services.js';
import { createLinalg } from '../../core/compute/linalg.js';
import type { TfModule } from '../../core/compute/tfjs.js';
import { Rng } from '../../core/rng.js';
import type { Matrix } from '../../core/tensor.js';
import { ensureGradients } from '../../core/training/gradients.js';
import { matMul } from '../../core/training/layers.js';
import { schemaDefaults } from '../../core/training/neural-mapper.js';
import { ParamStore } from '../../core/training/params.js';
import { stackWeights } from '../../core/training/trainer.js';
import { chebyshevTerms } from '../../plugins/chebnet-gcn/chebconv.js';
import { chebyshevPolynomials, scaledLaplacian } from '../../plugins/chebnet-gcn/laplacian.js';
import { chebnetFactory } from '../../plugins/chebnet-gcn/mapper.js';
import { ChebnetGcn, featureIndex } from '../../plugins/chebnet-gcn/model.js';
import { chebnetOptionsSchema } from '../../plugins/chebnet-gcn/schema.js';

let tf: TfModule;
const services = testServices({ linalg: createLinalg(), tfBackend: 'wasm' });
beforeAll(async () => {
  ({ tf } = await services.tensorflow.load());
  await ensureGradients(tf);
});

describe('chebyshevTerms', () => {
  it('stacks [F | L̃F] per node, by hand: 2 nodes, voxels [0, 2] and [1] (padded), K = 2', () => {
    const [a, b, c, d] = [0.5, -0.25, 2, -1];
    const polynomials = chebyshevPolynomials({ nodes: 2, scaled: Float64Array.of(a, b, c, d) }, 2);
    const { index, width } = featureIndex([[0, 2], [1]], 3);
    const x = [3, 5, 7, -1, 2, 4];
    const P = chebyshevTerms({ rows: 2, cols: 3, data: Float32Array.from(x) }, index, width, polynomials);
    expect([P.rows, P.cols]).toEqual([4, 4]);
    const expected = [0, 3].flatMap((o) => {
      const [x0, x1, x2] = [x[o]!, x[o + 1]!, x[o + 2]!];
      // node 0: F = [x0, x2]; node 1: F = [x1, 0]; row n of L̃F = Σ_m L̃[n][m]·F_m.
      return [x0, x2, a * x0 + b * x1, a * x2, x1, 0, c * x0 + d * x1, c * x2];
    });
    expect(Array.from(P.data)).toEqual(expected.map((v) => Math.fround(v)));
  });
});

describe('the network from the projection equals the all-tfjs network', () => {
  it('eval and train mode, a directed graph with K = 4 (T_2, T_3 non-trivial), nodes of unequal width', () => {
    const store = new ParamStore(tf, 2);
    const rng = new Rng(6);
    const nodeVoxels = [[0, 1, 2, 3], [4, 5], [6, 7, 8]];
    const op = scaledLaplacian(3, [{ source: 0, target: 1, weight: 0.8 }, { source: 1, target: 2, weight: 0.6 }, { source: 2, target: 0, weight: 0.7 }]);
    const arch = { chebK: [4, 3] as [number, number], hidden: 6, convChannels: 3, residualBlocks: 2, sharedResidual: true, dense: 8 };
    const net = new ChebnetGcn(store, { scaled: op.scaled, nodeVoxels }, 9, 5, arch);
    const projection = net.inputProjection();
    expect(projection.rowsPerItem).toBe(3);
    const X: Matrix = { rows: 5, cols: 9, data: Float32Array.from({ length: 45 }, () => rng.normal()) };
    const W = stackWeights(projection.weights, 'columns');
    for (const training of [false, true]) {
      const ctx = { training, seed: 0, updateStatistics: false };
      const [direct, projected, viaFeatures] = tf.tidy(() => {
        const P = projection.prepareInputs!(X);
        const Z = matMul(tf, tf.tensor2d(P.data, [P.rows, P.cols]), tf.transpose(tf.tensor2d(W.data, [W.rows, W.cols])));
        const viaFeatures = tf.add(matMul(tf, projection.output!.features([Z], ctx) as tfc.Tensor2D, tf.transpose(net.fc2.weight as tfc.Tensor2D)), net.fc2.bias!);
        return [net.forward(tf.tensor2d(X.data, [5, 9]), ctx), projection.forwardFromProducts([Z], ctx) as tfc.Tensor2D, viaFeatures].map((t) => Array.from(t.dataSync()));
      }) as [number[], number[], number[]];
      const scale = Math.max(...direct.map(Math.abs));
      expect(Math.max(...direct.map((v, i) => Math.abs(v - projected[i]!))) / scale, `training ${training}`).toBeLessThan(1e-5);
      expect(Math.max(...direct.map((v, i) => Math.abs(v - viaFeatures[i]!))) / scale, `features, training ${training}`).toBeLessThan(1e-5);
    }
    store.dispose();
  });
});

/** Defaults from the schema, with overrides (what the registry hands a factory). */
function chebnetOptions(overrides: Record<string, unknown>): Record<string, unknown> {
  return { ...schemaDefaults(chebnetOptionsSchema), ...overrides };
}

describe('engines', () => {
  it('training with the first ChebConv and the last Linear on ONNX Runtime follows the all-tfjs path', async () => {
    const rng = new Rng(12);
    const rows = 48;
    const voxels = 14;
    const X = new Float32Array(rows * voxels);
    for (let t = 0; t < rows; t++) {
      const shared = rng.normal();
      for (let v = 0; v < voxels; v++) X[t * voxels + v] = shared * (v < 9 ? 1 : 0.2) + 0.5 * rng.normal();
    }
    const Y = { rows, cols: 5, data: Float32Array.from({ length: rows * 5 }, () => rng.normal()) };
    const range = (from: number, to: number) => Int32Array.from({ length: to - from }, (_, i) => from + i);
    const atlas = { V1: range(0, 5), V2: range(5, 9), V3: range(9, 12), hV4: range(12, 14) };
    const common = { hidden: 8, dense: 12, convChannels: 3, threshold: 0.3, direction: 'undirected', epochs: 3, batchSize: 16, weightDecay: 1e-3, validationFraction: 0.25 };
    const fit = async (projectionEngine: string) => {
      const mapper = await chebnetFactory.create(chebnetOptions({ ...common, projectionEngine }), services);
      const fitted = await mapper.fit({ rows, cols: voxels, data: X }, Y, { seed: 3, atlas });
      const summary = fitted.summary as { projectionEngine: string; graph: { edges: string[] }; lossHistory: number[]; validationHistory: number[] };
      expect(summary.projectionEngine).toBe(projectionEngine);
      return { prediction: (await fitted.predict({ rows, cols: voxels, data: X })).data, summary };
    };
    const a = await fit('tensorflow');
    const b = await fit('onnxruntime');
    expect(a.summary.graph.edges.length).toBeGreaterThan(0);
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < a.prediction.length; i++) {
      worst = Math.max(worst, Math.abs(a.prediction[i]! - b.prediction[i]!));
      scale = Math.max(scale, Math.abs(a.prediction[i]!));
    }
    expect(worst / scale).toBeLessThan(1e-3);
    expect(worst).toBeGreaterThan(0); // the two engines really ran
    b.summary.validationHistory.forEach((v, i) => expect(v).toBeCloseTo(a.summary.validationHistory[i]!, 4));
  });
});
