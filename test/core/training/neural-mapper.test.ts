/** The neural mapper base: training, early stopping, determinism, save/load and bad input, on a tiny network. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as tfc from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServices } from '../../helpers/services.js';
import { createLinalg } from '../../../core/compute/linalg.js';
import { UserError } from '../../../core/errors.js';
import { createProgress, type ProgressEvent } from '../../../core/progress.js';
import { Rng } from '../../../core/rng.js';
import type { PluginServices } from '../../../core/services.js';
import type { Matrix } from '../../../core/tensor.js';
import {
  BatchNorm1d,
  Dropout,
  Linear,
  linear,
  mse,
  neuralMapperFactory,
  relu,
  validationSplit,
  type NeuralSpec,
  type TrainingOptions,
} from '../../../core/training/index.js';

interface TinyOptions extends TrainingOptions {
  hidden: number;
  dropout: number;
  poison?: boolean;
}

/** x → Linear (the input projection) → ReLU → BatchNorm → Dropout → Linear. */
const tinySpec: NeuralSpec<TinyOptions> = {
  id: 'tiny',
  defaults: { learningRate: 1e-2, batchSize: 16, epochs: 20 },
  optionsSchema: { properties: { hidden: { default: 16 }, dropout: { default: 0 } } },
  build(store, shapes, o) {
    const tf = store.tf;
    const fc1 = new Linear(store, 'fc1', shapes.inputs, o.hidden);
    const bn = new BatchNorm1d(store, 'bn', o.hidden);
    const drop = new Dropout(store, o.dropout);
    const fc2 = new Linear(store, 'fc2', o.hidden, shapes.outputs);
    const rest = (products: tfc.Tensor2D[], ctx: { training: boolean; seed: number }) => {
      let h = drop.apply(bn.apply(relu(tf, tf.add(products[0]!, fc1.bias!)), ctx), ctx);
      if (o.poison) h = tf.mul(h, NaN);
      return fc2.apply(h) as tfc.Tensor2D;
    };
    return {
      forward: (x, ctx) => rest([linear(tf, x, fc1.weight) as tfc.Tensor2D], ctx),
      inputProjection: { weights: [fc1.weight], forwardFromProducts: rest },
    };
  },
};
const factory = neuralMapperFactory(tinySpec);

let services: PluginServices;
let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nd-neural-'));
  services = testServices({ linalg: createLinalg(), tfBackend: 'wasm' });
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

/** Rows of Gaussian voxels and targets y = tanh(x·A) (+ noise). */
function data(n: number, p: number, t: number, seed: number, noise = 0): { X: Matrix; Y: Matrix } {
  const rng = new Rng(seed);
  const X = Float32Array.from({ length: n * p }, () => rng.normal() * 3 + 1);
  const A = Float32Array.from({ length: p * t }, () => rng.normal() / Math.sqrt(p));
  const Y = new Float32Array(n * t);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < t; j++) {
      let s = 0;
      for (let k = 0; k < p; k++) s += ((X[i * p + k]! - 1) / 3) * A[k * t + j]!;
      Y[i * t + j] = Math.tanh(s) + noise * rng.normal();
    }
  }
  return { X: { rows: n, cols: p, data: X }, Y: { rows: n, cols: t, data: Y } };
}

function mseOf(a: Matrix, b: Matrix): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += (a.data[i]! - b.data[i]!) ** 2;
  return s / a.data.length;
}

async function fit(options: Partial<TinyOptions>, X: Matrix, Y: Matrix, seed = 0) {
  const mapper = await factory.create(options, services);
  return mapper.fit(X, Y, { seed });
}

describe('neural mapper base', () => {
  for (const engine of ['tensorflow', 'onnxruntime'] as const) {
    it(`overfits a tiny data set to near-zero loss (${engine} projection)`, async () => {
      const { X, Y } = data(24, 10, 3, 1);
      const fitted = await fit({ projectionEngine: engine, validationFraction: 0, epochs: 300, batchSize: 24, learningRate: 1e-2 }, X, Y);
      const variance = mseOf(Y, { ...Y, data: new Float32Array(Y.data.length) });
      expect(mseOf(await fitted.predict(X), Y)).toBeLessThan(0.01 * variance);
      expect(fitted.summary.projectionEngine).toBe(engine);
      expect(fitted.summary.parameters).toBe(10 * 16 + 16 + 2 * 16 + 16 * 3 + 3);
    });
  }

  it('stops early and keeps the best epoch (its validation loss is what the kept weights give)', async () => {
    const { X, Y } = data(80, 30, 2, 2, 1.5); // noisy targets: the validation loss soon rises
    const options = { validationFraction: 0.25, patience: 3, epochs: 200, learningRate: 3e-2, batchSize: 8, hidden: 64 };
    const fitted = await fit(options, X, Y, 5);
    const s = fitted.summary as { stoppedEarly: boolean; bestEpoch: number; epochsRun: number; validationLoss: number; validationHistory: number[] };
    expect(s.stoppedEarly).toBe(true);
    expect(s.epochsRun).toBe(s.bestEpoch + 3);
    expect(s.validationLoss).toBe(Math.min(...s.validationHistory));
    expect(s.validationHistory[s.epochsRun - 1]).toBeGreaterThan(s.validationLoss);
    const { validation } = validationSplit(80, 0.25, 5);
    const rows = (m: Matrix) => ({ rows: validation.length, cols: m.cols, data: Float32Array.from(Array.from(validation).flatMap((r) => Array.from(m.data.subarray(r * m.cols, (r + 1) * m.cols)))) });
    expect(mseOf(await fitted.predict(rows(X)), rows(Y))).toBeCloseTo(s.validationLoss, 5);
  });

  it('is deterministic given the seed (dropout and shuffling included), and the seed matters', async () => {
    const { X, Y } = data(40, 12, 3, 3);
    const options = { epochs: 4, dropout: 0.3 };
    const a = await (await fit(options, X, Y, 11)).predict(X);
    const b = await (await fit(options, X, Y, 11)).predict(X);
    const c = await (await fit(options, X, Y, 12)).predict(X);
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    expect(Array.from(c.data)).not.toEqual(Array.from(a.data));
  });

  it('saves to a folder and loads into a fresh instance with identical predictions', async () => {
    const { X, Y } = data(40, 12, 3, 4);
    const fitted = await fit({ epochs: 3, dropout: 0.2 }, X, Y, 1);
    const dir = join(tmp, 'saved');
    await fitted.save(dir);
    const meta = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as { format: string; parameters: Array<{ name: string; file: string }> };
    expect(meta.format).toBe('neurodecode-neural');
    expect(meta.parameters.map((p) => p.name)).toEqual([
      'fc1.weight', 'fc1.bias', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var', 'bn.num_batches_tracked', 'fc2.weight', 'fc2.bias',
    ]);
    const loaded = await neuralMapperFactory(tinySpec).load(dir, services);
    const { X: Xtest } = data(10, 12, 3, 9);
    expect(Array.from((await loaded.predict(Xtest)).data)).toEqual(Array.from((await fitted.predict(Xtest)).data));
  });

  it('refuses data or saved models whose shapes do not match (UserError naming what was expected)', async () => {
    const { X, Y } = data(30, 12, 3, 5);
    const fitted = await fit({ epochs: 1 }, X, Y);
    await expect(fitted.predict(data(5, 11, 3, 1).X)).rejects.toThrow(/fitted on 12 voxels, but X has 11 columns/);
    const dir = join(tmp, 'mismatch');
    await fitted.save(dir);
    const metaPath = join(dir, 'model.json');
    const meta = JSON.parse(await readFile(metaPath, 'utf8')) as { options: Record<string, unknown> };
    meta.options.hidden = 8;
    await writeFile(metaPath, JSON.stringify(meta));
    const error = await factory.load(dir, services).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(/fc1\.weight.*expected float32 of shape \(8, 12\), found \(16, 12\)|shape \(8, 12\)/);
    await expect(neuralMapperFactory({ ...tinySpec, id: 'other' }).load(dir, services)).rejects.toThrow(/saved 'tiny' model, not 'other'/);
  });

  it('refuses NaN targets and reports a non-finite loss instead of training on silently', async () => {
    const { X, Y } = data(20, 5, 2, 6);
    const bad = { ...Y, data: Y.data.slice() };
    bad.data[7] = NaN;
    await expect(fit({}, X, bad)).rejects.toThrow(/targets contain a non-finite value \(NaN\) at row 3, column 1/);
    const error = await fit({ poison: true }, X, Y).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(/training loss became NaN at epoch 1, batch 1/);
  });

  it('reports progress with loss and validation loss, and stops when aborted', async () => {
    const { X, Y } = data(30, 5, 2, 7);
    const events: ProgressEvent[] = [];
    const mapper = await factory.create({ epochs: 3, patience: 0 }, { ...services, progress: createProgress((e) => events.push(e)) });
    await mapper.fit(X, Y, { seed: 0 });
    const statuses = events.flatMap((e) => (e.type === 'tick' && e.status ? [e.status] : []));
    expect(statuses).toHaveLength(3);
    expect(statuses[2]).toMatch(/^epoch 3\/3 loss [\d.e-]+ val [\d.e-]+$/);
    const controller = new AbortController();
    controller.abort();
    await expect((await factory.create({}, services)).fit(X, Y, { seed: 0, signal: controller.signal })).rejects.toThrow(/abort/i);
  });

  it('computes the MSE loss as PyTorch (mean over every element)', async () => {
    const tf = (await services.tensorflow.load()).tf;
    const v = mse(tf, tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[0, 2], [3, 1]])).dataSync()[0];
    expect(v).toBeCloseTo((1 + 0 + 0 + 9) / 4, 6);
  });
});
