/**
 * Micro-batching (`microBatchSize`): a step in passes of fewer rows is the whole-batch step (both engines, with an
 * auxiliary loss, with and without the ONNX Runtime output layer), prediction runs in passes of at most that many
 * rows, the schema and InfoNCE refusals; and the WebAssembly heap-exhaustion error becomes a UserError.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as tfc from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServices } from '../../helpers/services.js';
import { createLinalg } from '../../../core/compute/linalg.js';
import { UserError } from '../../../core/errors.js';
import { Rng } from '../../../core/rng.js';
import type { PluginServices } from '../../../core/services.js';
import type { Matrix } from '../../../core/tensor.js';
import { validateWithSchema } from '../../../core/validation.js';
import { Linear, linear, mse, neuralMapperFactory, relu, trainingOptionsProperties, type NeuralSpec, type ParamStore, type TrainingOptions } from '../../../core/training/index.js';
import { isWasmHeapExhaustion, wasmOutOfMemoryError, type ModelOutput, type NeuralModel } from '../../../core/training/neural-mapper.js';
import { passesOf } from '../../../core/training/trainer.js';

interface MicroOptions extends TrainingOptions {
  /** Declare fc2 as the ONNX Runtime projection's output layer. */
  head: boolean;
  /** Weight of the auxiliary reconstruction loss (0: none). */
  reconstruction: number;
}

/** The last fit's parameters and the rows of every evaluation-mode pass. */
let lastStore: ParamStore | undefined;
const evaluationPassRows: number[] = [];

/** x → fc1 (input projection) → ReLU = h → fc2; optional auxiliary loss reconstruction·MSE(dec(h), x). No BatchNorm. */
const microSpec: NeuralSpec<MicroOptions> = {
  id: 'micro',
  defaults: { learningRate: 1e-2, batchSize: 8, epochs: 1 },
  optionsSchema: { properties: { head: { default: false }, reconstruction: { default: 0 } } },
  build(store, shapes, o) {
    lastStore = store;
    const tf = store.tf;
    const fc1 = new Linear(store, 'fc1', shapes.inputs, 6);
    const fc2 = new Linear(store, 'fc2', 6, shapes.outputs);
    const dec = new Linear(store, 'dec', 6, shapes.inputs);
    const pass = (h: tfc.Tensor2D, output: tfc.Tensor2D): ModelOutput =>
      o.reconstruction > 0 ? { output, auxiliaryLoss: (x) => tf.mul(mse(tf, dec.apply(h) as tfc.Tensor2D, x), o.reconstruction) as tfc.Scalar } : { output };
    const hidden = (products: tfc.Tensor2D[], ctx: { training: boolean }) => {
      if (!ctx.training) evaluationPassRows.push(products[0]!.shape[0]);
      return relu(tf, tf.add(products[0]!, fc1.bias!)) as tfc.Tensor2D;
    };
    const fromProducts = (products: tfc.Tensor2D[], ctx: { training: boolean }) => {
      const h = hidden(products, ctx);
      return pass(h, fc2.apply(h) as tfc.Tensor2D);
    };
    const model: NeuralModel<ModelOutput> = {
      forward: (x, ctx) => fromProducts([linear(tf, x, fc1.weight) as tfc.Tensor2D], ctx),
      inputProjection: {
        weights: [fc1.weight],
        forwardFromProducts: fromProducts,
        ...(o.head ? { output: { weight: fc2.weight, bias: fc2.bias!, features: (products: tfc.Tensor2D[], ctx: { training: boolean }) => { const h = hidden(products, ctx); return pass(h, h); } } } : {}),
      },
    };
    return model;
  },
};
const factory = neuralMapperFactory(microSpec);

let services: PluginServices;
let tmp: string;
beforeAll(async () => {
  services = testServices({ linalg: createLinalg(), tfBackend: 'wasm' });
  tmp = await mkdtemp(join(tmpdir(), 'nd-micro-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

function data(n: number, p: number, t: number, seed: number): { X: Matrix; Y: Matrix } {
  const rng = new Rng(seed);
  return {
    X: { rows: n, cols: p, data: Float32Array.from({ length: n * p }, () => rng.normal()) },
    Y: { rows: n, cols: t, data: Float32Array.from({ length: n * t }, () => rng.normal()) },
  };
}

/** Fits on 8 rows (one batch of 8, no validation) and returns every parameter and the loss history. */
async function fitWeights(options: Partial<MicroOptions>, seed = 3) {
  const { X, Y } = data(8, 7, 3, 1);
  const fitted = await (await factory.create({ batchSize: 8, validationFraction: 0, standardize: false, ...options }, services)).fit(X, Y, { seed });
  const weights = new Map(lastStore!.entries().map((e) => [e.name, Float32Array.from(e.variable.dataSync() as Float32Array)]));
  return { weights, lossHistory: (fitted.summary as { lossHistory: number[] }).lossHistory, fitted };
}

function maxDifference(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  let worst = 0;
  for (const [name, w] of a) w.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - b.get(name)![i]!))));
  return worst;
}

describe('microBatchSize', () => {
  const cases = [
    { projectionEngine: 'tensorflow', head: false, reconstruction: 0 },
    { projectionEngine: 'tensorflow', head: false, reconstruction: 0.7 },
    { projectionEngine: 'onnxruntime', head: false, reconstruction: 0 },
    { projectionEngine: 'onnxruntime', head: false, reconstruction: 0.7 },
    { projectionEngine: 'onnxruntime', head: true, reconstruction: 0.7 },
  ] as const;
  for (const c of cases) {
    it(`passes of 3 rows give the whole batch's step (${c.projectionEngine}${c.head ? ', output layer' : ''}${c.reconstruction ? ', auxiliary loss' : ''})`, async () => {
      // 1 step: Adam's first update is ≈ lr·sign(g); 4 steps also test the gradients' magnitudes (m/√v).
      for (const epochs of [1, 4]) {
        const options = { ...c, epochs, weightDecay: 1e-3 };
        const whole = await fitWeights(options);
        const micro = await fitWeights({ ...options, microBatchSize: 3 });
        const initial = await fitWeights({ ...options, learningRate: 1e-12 });
        expect(maxDifference(whole.weights, initial.weights), 'the step moves the weights').toBeGreaterThan(1e-3 * epochs);
        expect(maxDifference(micro.weights, whole.weights), `${epochs} step(s)`).toBeLessThan(1e-5);
        micro.lossHistory.forEach((v, i) => expect(v).toBeCloseTo(whole.lossHistory[i]!, 5));
      }
    });
  }

  it('splits a batch into even passes of at most microBatchSize rows', () => {
    const sizes = (n: number, m: number | undefined) => passesOf(Int32Array.from({ length: n }, (_, i) => i), m).map((p) => p.length);
    expect(sizes(8, 3)).toEqual([2, 3, 3]);
    expect(sizes(8, undefined)).toEqual([8]);
    expect(sizes(8, 8)).toEqual([8]);
    expect(sizes(257, 32)).toEqual([28, 29, 28, 29, 28, 29, 28, 29, 29]);
    expect(passesOf(Int32Array.from([5, 1, 4, 2]), 2).map((p) => Array.from(p))).toEqual([[5, 1], [4, 2]]);
  });

  for (const projectionEngine of ['tensorflow', 'onnxruntime'] as const) {
    it(`validation and prediction run in passes of at most microBatchSize rows, with the same outputs (${projectionEngine})`, async () => {
      const { X, Y } = data(30, 7, 3, 2);
      evaluationPassRows.length = 0;
      const fitted = await (await factory.create({ projectionEngine, microBatchSize: 4, batchSize: 10, epochs: 1, validationFraction: 0.3 }, services)).fit(X, Y, { seed: 1 });
      expect(evaluationPassRows).toEqual([4, 4, 1]); // the 9 held-out rows
      evaluationPassRows.length = 0;
      const prediction = await fitted.predict(X);
      expect(evaluationPassRows).toEqual([4, 4, 4, 4, 4, 4, 4, 2]);
      // The same weights, saved and loaded without microBatchSize, predict in one pass and give the same outputs.
      const dir = join(tmp, projectionEngine);
      await fitted.save(dir);
      const meta = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as { options: Record<string, unknown> };
      delete meta.options.microBatchSize;
      await writeFile(join(dir, 'model.json'), JSON.stringify(meta));
      evaluationPassRows.length = 0;
      const onePass = await (await factory.load(dir, services)).predict(X);
      expect(evaluationPassRows).toEqual([30]);
      expect(Math.max(...prediction.data.map((v, i) => Math.abs(v - onePass.data[i]!)))).toBeLessThan(1e-5);
    });
  }

  it('is refused by the schema unless an integer ≥ 1', () => {
    const schema = { type: 'object', properties: trainingOptionsProperties({ learningRate: 1e-3, batchSize: 8, epochs: 1 }) };
    expect(validateWithSchema<{ microBatchSize?: number }>(schema, { microBatchSize: 4 }, 'micro options').microBatchSize).toBe(4);
    expect(validateWithSchema<{ microBatchSize?: number }>(schema, {}, 'micro options').microBatchSize).toBeUndefined();
    for (const bad of [0, -2, 2.5, '4']) expect(() => validateWithSchema(schema, { microBatchSize: bad }, 'micro options'), String(bad)).toThrow(/microBatchSize/);
  });

  it('is refused with InfoNCE when it splits the batch (the negatives would change)', async () => {
    const { X, Y } = data(8, 7, 3, 1);
    const fit = async (microBatchSize: number) => (await factory.create({ loss: 'mse-cosine-infonce', batchSize: 8, microBatchSize, validationFraction: 0 }, services)).fit(X, Y, { seed: 0 });
    await expect(fit(3)).rejects.toThrow(UserError);
    await expect(fit(3)).rejects.toThrow(/microBatchSize 3 < batchSize 8 .*InfoNCE/);
    await expect(fit(8)).resolves.toBeDefined();
  });
});

describe('WebAssembly heap exhaustion', () => {
  it('is recognised by its RuntimeError message, and nothing else is', () => {
    expect(isWasmHeapExhaustion(new WebAssembly.RuntimeError('memory access out of bounds'))).toBe(true);
    expect(isWasmHeapExhaustion(new WebAssembly.RuntimeError('Aborted(). Build with -sASSERTIONS for more info.'))).toBe(true);
    expect(isWasmHeapExhaustion(new WebAssembly.RuntimeError('Aborted(OOM). Build with -sASSERTIONS for more info.'))).toBe(true);
    expect(isWasmHeapExhaustion(new WebAssembly.RuntimeError('unreachable'))).toBe(false);
    expect(isWasmHeapExhaustion(new Error('memory access out of bounds'))).toBe(false);
    expect(isWasmHeapExhaustion(new RangeError('Array buffer allocation failed'))).toBe(false);
    expect(isWasmHeapExhaustion('Aborted()')).toBe(false);
  });

  it('becomes a UserError naming the mapper and the remedies when it escapes a fit on the wasm backend', async () => {
    const failing: NeuralSpec<MicroOptions> = {
      ...microSpec,
      id: 'huge',
      build() {
        throw new WebAssembly.RuntimeError('memory access out of bounds');
      },
    };
    const { X, Y } = data(8, 7, 3, 1);
    const fit = (await neuralMapperFactory(failing).create({ batchSize: 256, microBatchSize: 64 }, services)).fit(X, Y, { seed: 0 });
    await expect(fit).rejects.toThrow(UserError);
    const error = wasmOutOfMemoryError('cnn', 'training', { batchSize: 256 }, new WebAssembly.RuntimeError('Aborted(). Build with -sASSERTIONS for more info.'));
    expect(error.message).toMatch(/^mapper cnn: training ran out of memory .*4 GB \(Aborted\(\)\)/);
    for (const remedy of ['"microBatchSize"', 'now 256', 'lower batchSize (256)', '@tensorflow/tfjs-node', 'unusable for the rest of this process']) expect(error.message).toContain(remedy);
    await fit.catch((e: Error) => expect(e.message).toMatch(/^mapper huge: .*now 64/));
  });
});
