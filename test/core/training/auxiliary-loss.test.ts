/**
 * Auxiliary losses (ModelOutput.auxiliaryLoss): both engines add them to the target loss in the gradients, the
 * logged training loss and the validation loss; the ONNX Runtime engine with and without an output layer gives
 * the loss and gradients of the all-tfjs pass; and the 'columns' stacking of input weights with prepared inputs.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { testServices } from '../../helpers/services.js';
import { createLinalg } from '../../../core/compute/linalg.js';
import type { TfModule } from '../../../core/compute/tfjs.js';
import { Rng } from '../../../core/rng.js';
import type { PluginServices } from '../../../core/services.js';
import type { Matrix } from '../../../core/tensor.js';
import {
  Linear,
  ParamStore,
  ensureGradients,
  linear,
  mse,
  neuralMapperFactory,
  projectionEngineFor,
  relu,
  validationSplit,
  type ForwardContext,
  type NeuralModel,
  type NeuralSpec,
  type TrainingOptions,
} from '../../../core/training/index.js';
import { passLoss, type ModelOutput } from '../../../core/training/neural-mapper.js';
import { stackWeights } from '../../../core/training/trainer.js';

interface AuxOptions extends TrainingOptions {
  /** Weight of the reconstruction term. */
  reconstruction: number;
  /** Declare fc2 as the projection's output layer. */
  head: boolean;
}

/**
 * x → fc1 (input projection) → ReLU = h → fc2 = output; auxiliary loss: reconstruction·MSE(dec(h), x). Built
 * models are kept (the last one in `built`) so tests can evaluate them after a fit.
 */
let built: { store: ParamStore; model: NeuralModel<ModelOutput> } | undefined;
function buildAux(store: ParamStore, shapes: { inputs: number; outputs: number }, o: Pick<AuxOptions, 'reconstruction' | 'head'>): NeuralModel<ModelOutput> {
  const tf = store.tf;
  const fc1 = new Linear(store, 'fc1', shapes.inputs, 12);
  const fc2 = new Linear(store, 'fc2', 12, shapes.outputs);
  const dec = new Linear(store, 'dec', 12, shapes.inputs);
  const withAux = (h: tfc.Tensor2D, output: tfc.Tensor2D): ModelOutput => ({
    output,
    auxiliaryLoss: (x) => tf.mul(mse(tf, dec.apply(h) as tfc.Tensor2D, x), o.reconstruction) as tfc.Scalar,
  });
  const hidden = (products: tfc.Tensor2D[]) => relu(tf, tf.add(products[0]!, fc1.bias!)) as tfc.Tensor2D;
  const fromProducts = (products: tfc.Tensor2D[]) => {
    const h = hidden(products);
    return withAux(h, fc2.apply(h) as tfc.Tensor2D);
  };
  const model: NeuralModel<ModelOutput> = {
    forward: (x) => fromProducts([linear(tf, x, fc1.weight) as tfc.Tensor2D]),
    inputProjection: {
      weights: [fc1.weight],
      forwardFromProducts: fromProducts,
      ...(o.head
        ? {
            output: {
              weight: fc2.weight,
              bias: fc2.bias!,
              features: (products: tfc.Tensor2D[]) => {
                const h = hidden(products);
                return withAux(h, h);
              },
            },
          }
        : {}),
    },
  };
  built = { store, model };
  return model;
}

const auxSpec: NeuralSpec<AuxOptions> = {
  id: 'aux',
  defaults: { learningRate: 1e-2, batchSize: 16, epochs: 5 },
  optionsSchema: { properties: { reconstruction: { default: 1 }, head: { default: false } } },
  build: (store, shapes, o) => buildAux(store, shapes, o),
};

let tf: TfModule;
let services: PluginServices;
beforeAll(async () => {
  services = testServices({ linalg: createLinalg(), tfBackend: 'wasm' });
  tf = (await services.tensorflow.load()).tf;
  await ensureGradients(tf);
});

function data(n: number, p: number, t: number, seed: number): { X: Matrix; Y: Matrix } {
  const rng = new Rng(seed);
  return {
    X: { rows: n, cols: p, data: Float32Array.from({ length: n * p }, () => rng.normal()) },
    Y: { rows: n, cols: t, data: Float32Array.from({ length: n * t }, () => rng.normal()) },
  };
}

function rowsOf(m: Matrix, rows: Int32Array): Matrix {
  return { rows: rows.length, cols: m.cols, data: Float32Array.from(Array.from(rows).flatMap((r) => Array.from(m.data.subarray(r * m.cols, (r + 1) * m.cols)))) };
}

const toTensor = (m: Matrix) => tf.tensor2d(m.data, [m.rows, m.cols]);
const ADAM = { learningRate: 1e-2, weightDecay: 0 };

describe('auxiliary loss', () => {
  for (const head of [false, true]) {
    it(`one ONNX Runtime step gives the loss and gradients of the all-tfjs pass, auxiliary term included (${head ? 'with' : 'without'} output layer)`, async () => {
      const { X, Y } = data(20, 9, 4, 1);
      const train: ForwardContext = { training: true, seed: 3 };
      const run = async (engineName: 'tensorflow' | 'onnxruntime') => {
        const store = new ParamStore(tf, 5);
        const model = buildAux(store, { inputs: 9, outputs: 4 }, { reconstruction: 0.7, head });
        const engine = projectionEngineFor(engineName, 'wasm', model, services.linalg, ADAM);
        const y = toTensor(Y);
        const { loss, grads } = await engine.step(tf, model, (pred) => mse(tf, pred, y), { X }, train, store.trainableVariables());
        const names = new Map(store.entries().map((e) => [e.variable.name, e.name]));
        const out = { loss: (await loss.data())[0]!, grads: new Map(Object.entries(grads).map(([k, g]) => [names.get(k)!, Float32Array.from(g.dataSync())])) };
        tf.dispose([loss, y, ...Object.values(grads)]);
        store.dispose();
        return out;
      };
      const a = await run('tensorflow');
      const b = await run('onnxruntime');
      // The whole objective by hand: target MSE + 0.7 · reconstruction MSE.
      const store = new ParamStore(tf, 5);
      const model = buildAux(store, { inputs: 9, outputs: 4 }, { reconstruction: 0.7, head });
      const [target, whole] = tf.tidy(() => {
        const x = toTensor(X);
        const pass = model.forward(x, train);
        return [mse(tf, pass.output, toTensor(Y)).dataSync()[0]!, passLoss(tf, pass, x, (p) => mse(tf, p, toTensor(Y))).dataSync()[0]!];
      });
      store.dispose();
      expect(whole).toBeGreaterThan(target + 0.1);
      expect(a.loss).toBeCloseTo(whole, 6);
      expect(b.loss).toBeCloseTo(whole, 5);
      // The engine returns what tfjs updates: all but the input (and output) weights, which it updates itself.
      const own = head ? ['fc1.weight', 'fc2.weight'] : ['fc1.weight'];
      expect([...b.grads.keys()].sort()).toEqual([...a.grads.keys()].filter((k) => !own.includes(k)).sort());
      expect(a.grads.has('dec.weight')).toBe(true);
      for (const [name, g] of b.grads) {
        const ref = a.grads.get(name)!;
        const scale = Math.max(...ref.map(Math.abs));
        expect(Math.max(...g.map((v, i) => Math.abs(v - ref[i]!))) / scale, name).toBeLessThan(1e-5);
      }
    });
  }

  it('the logged training loss and the validation (early-stopping) loss include the auxiliary term', async () => {
    const { X, Y } = data(40, 9, 4, 2);
    for (const projectionEngine of ['tensorflow', 'onnxruntime'] as const) {
      // One full batch: the epoch's loss is the objective at the initial weights (a fresh store with the seed).
      const options = { projectionEngine, epochs: 1, batchSize: 64, standardize: false, validationFraction: 0.25, reconstruction: 0.5 };
      const fitted = await (await neuralMapperFactory(auxSpec).create(options, services)).fit(X, Y, { seed: 9 });
      const after = built!;
      const { train, validation } = validationSplit(40, 0.25, 9);
      const initial = new ParamStore(tf, 9);
      const fresh = buildAux(initial, { inputs: 9, outputs: 4 }, { reconstruction: 0.5, head: false });
      const objective = (model: NeuralModel<ModelOutput>, rows: Int32Array, ctx: ForwardContext) =>
        tf.tidy(() => {
          const x = toTensor(rowsOf(X, rows));
          return passLoss(tf, model.forward(x, ctx), x, (p) => mse(tf, p, toTensor(rowsOf(Y, rows)))).dataSync()[0]!;
        });
      const s = fitted.summary as { lossHistory: number[]; validationHistory: number[] };
      expect(s.lossHistory[0], projectionEngine).toBeCloseTo(objective(fresh, train, { training: true, seed: 0 }), 5);
      expect(s.validationHistory[0], projectionEngine).toBeCloseTo(objective(after.model, validation, { training: false, seed: 0 }), 5);
      // …which is more than the target loss alone.
      const pred = await fitted.predict(rowsOf(X, validation));
      const targetOnly = tf.tidy(() => mse(tf, toTensor(pred), toTensor(rowsOf(Y, validation))).dataSync()[0]!);
      expect(s.validationHistory[0]! - targetOnly).toBeGreaterThan(0.1);
      initial.dispose();
    }
  });

  it('trains the same with both engines (with an output layer), and the auxiliary term changes what is learnt', async () => {
    const { X, Y } = data(48, 9, 4, 3);
    const fit = async (projectionEngine: string, reconstruction: number) => {
      const options = { projectionEngine, head: true, reconstruction, epochs: 4, batchSize: 16, weightDecay: 1e-3, validationFraction: 0.25 };
      const fitted = await (await neuralMapperFactory(auxSpec).create(options, services)).fit(X, Y, { seed: 4 });
      return { prediction: (await fitted.predict(X)).data, summary: fitted.summary as { lossHistory: number[]; validationHistory: number[] } };
    };
    const a = await fit('tensorflow', 1);
    const b = await fit('onnxruntime', 1);
    const worst = Math.max(...a.prediction.map((v, i) => Math.abs(v - b.prediction[i]!)));
    expect(worst / Math.max(...a.prediction.map(Math.abs))).toBeLessThan(1e-3);
    b.summary.lossHistory.forEach((v, i) => expect(v).toBeCloseTo(a.summary.lossHistory[i]!, 4));
    b.summary.validationHistory.forEach((v, i) => expect(v).toBeCloseTo(a.summary.validationHistory[i]!, 4));
    const c = await fit('onnxruntime', 0);
    expect(Math.max(...c.prediction.map((v, i) => Math.abs(v - b.prediction[i]!)))).toBeGreaterThan(1e-3);
  });
});

describe("input weights stacked as 'columns'", () => {
  it('stackWeights concatenates the weights row by row, [W_1 W_2]', () => {
    const store = new ParamStore(tf, 0);
    const a = store.param('a', [2, 2], () => Float32Array.of(1, 2, 3, 4));
    const b = store.param('b', [2, 3], () => Float32Array.of(5, 6, 7, 8, 9, 10));
    expect(stackWeights([a, b], 'columns')).toEqual({ rows: 2, cols: 5, data: Float32Array.of(1, 2, 5, 6, 7, 3, 4, 8, 9, 10) });
    expect(stackWeights([a, a], 'rows')).toEqual({ rows: 4, cols: 2, data: Float32Array.of(1, 2, 3, 4, 1, 2, 3, 4) });
    store.dispose();
  });
});
