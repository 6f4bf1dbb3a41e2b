/**
 * The `vae` mapper: forward pass, loss terms and gradients against PyTorch (test/fixtures/vae), parameter count,
 * the auxiliary loss that carries the reconstruction/KL terms through the shared trainer (its objective and
 * gradients; the logged losses), finite differences, overfitting a tiny data set, save/load.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as tfc from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServices } from '../helpers/services.js';
import { createLinalg } from '../../core/compute/linalg.js';
import type { TfModule } from '../../core/compute/tfjs.js';
import { Rng } from '../../core/rng.js';
import type { PluginServices } from '../../core/services.js';
import { ensureGradients } from '../../core/training/gradients.js';
import { defaultTrainingOptions, passLoss } from '../../core/training/neural-mapper.js';
import { ParamStore } from '../../core/training/params.js';
import { DenseBlock, VaeNetwork, vaeFactory, type VaeArchitecture } from '../../plugins/vae/model.js';
import { VAE_TRAINING_DEFAULTS, type VaeOptions } from '../../plugins/vae/schema.js';
import { finiteDifferenceCheck, loadParams, maxRelativeError, randomDataset, tensorOf, valuesOf, type TensorJson } from '../fixtures/cnn/helpers.js';

interface ModelCase {
  skips: boolean;
  params: Record<string, TensorJson>;
  paramsAfterTrainStep: Record<string, TensorJson>;
  input: TensorJson;
  target: TensorJson;
  eps: TensorJson;
  klWeight: number;
  train: {
    mu: TensorJson;
    logVar: TensorJson;
    z: TensorJson;
    reconstruction: TensorJson;
    reconstructionLoss: number;
    targetLoss: number;
    kl: number;
    loss: number;
  };
  gradients: Record<string, TensorJson>;
  evalPrediction: TensorJson;
  evalReconstruction: TensorJson;
  parameterCount: number;
}
const reference = JSON.parse(readFileSync(new URL('../fixtures/vae/reference.json', import.meta.url), 'utf8')) as {
  block: { params: Record<string, TensorJson>; input: TensorJson; trainOutput: TensorJson; evalOutput: TensorJson };
  models: ModelCase[];
  options: { encoderWidths: [number, number]; decoderWidth: number };
};

let tf: TfModule;
let services: PluginServices;
beforeAll(async () => {
  services = testServices({ linalg: createLinalg(), tfBackend: 'auto' });
  tf = (await services.tensorflow.load()).tf;
  await ensureGradients(tf);
});

const train = { training: true, seed: 1 };
const evaluation = { training: false, seed: 0 };

function architecture(c: ModelCase): VaeArchitecture {
  return { ...reference.options, decoderSkips: c.skips, reconstructionWeight: 1, klWeight: c.klWeight };
}

function network(c: ModelCase): { store: ParamStore; net: VaeNetwork } {
  const store = new ParamStore(tf, 0);
  const net = new VaeNetwork(store, { inputs: c.input.shape[1]!, outputs: c.target.shape[1]! }, architecture(c));
  loadParams(store, c.params);
  return { store, net };
}

const mseOf = (y: tfc.Tensor) => (z: tfc.Tensor2D) => tf.mean(tf.squaredDifference(y, z)) as tfc.Scalar;

describe('vae equals PyTorch (fixture)', () => {
  it('one decoder block with its skip connection, training and evaluation mode', () => {
    const b = reference.block;
    const store = new ParamStore(tf, 0);
    const block = new DenseBlock(store, 6, 6);
    loadParams(store, b.params);
    const x = tensorOf(tf, b.input);
    expect(maxRelativeError(valuesOf(tf, () => tf.add(x, block.apply(x, train))), b.trainOutput.data)).toBeLessThan(1e-5);
    // That training-mode pass moved the running statistics exactly as PyTorch's (momentum 0.1, unbiased variance).
    expect(maxRelativeError(valuesOf(tf, () => tf.add(x, block.apply(x, evaluation))), b.evalOutput.data)).toBeLessThan(1e-5);
    x.dispose();
    store.dispose();
  });

  it.each(reference.models.map((m) => [m.skips ? 'with skips' : 'without skips', m] as const))('whole model %s: loss terms, prediction = mean, parameter count', (_name, c) => {
    const { store, net } = network(c);
    expect(store.count()).toBe(c.parameterCount);
    const x = tensorOf(tf, c.input) as tfc.Tensor2D;
    const y = tensorOf(tf, c.target);
    const eps = tensorOf(tf, c.eps) as tfc.Tensor2D;
    tf.tidy(() => {
      const t = net.terms(x, eps, train);
      for (const key of ['mu', 'logVar', 'z', 'reconstruction'] as const) {
        expect(maxRelativeError(t[key].dataSync(), c.train[key].data), key).toBeLessThan(1e-5);
      }
      expect(t.reconstructionLoss.dataSync()[0]).toBeCloseTo(c.train.reconstructionLoss, 5);
      expect(t.kl.dataSync()[0]).toBeCloseTo(c.train.kl, 5);
    });
    loadParams(store, c.params);
    // The trainer's objective: loss(z, target) + the pass's auxiliary loss (reconstruction + KL).
    const loss = valuesOf(tf, () => passLoss(tf, net.pass(x, eps, train), x, mseOf(y)))[0]!;
    expect(loss).toBeCloseTo(c.train.loss, 5);
    loadParams(store, c.paramsAfterTrainStep);
    expect(maxRelativeError(valuesOf(tf, () => net.forward(x, evaluation).output), c.evalPrediction.data)).toBeLessThan(1e-5);
    expect(maxRelativeError(valuesOf(tf, () => net.decode(net.encode(x).mu, evaluation)), c.evalReconstruction.data)).toBeLessThan(1e-5);
    tf.dispose([x, y, eps]);
    store.dispose();
  });

  it('parameter count by hand: V=7, encoder [5, 4], T=3, decoder 6', () => {
    // ln1 7·5+5, ln2 5·4+4, fc_mu and fc_log_var 4·3+3 each; fbl1 3·6+6 + BN 2·6; fbl2, fbl3 6·6+6 + 2·6; final 6·7+7
    expect(40 + 24 + 15 + 15 + (24 + 12) + 2 * (42 + 12) + 49).toBe(287);
    expect(reference.models.every((m) => m.parameterCount === 287)).toBe(true);
  });
});

describe('vae gradients', () => {
  it.each(reference.models.map((m) => [m.skips ? 'with skips' : 'without skips', m] as const))(
    '%s: the trainer path (loss(z, target) + the auxiliary loss) and the explicit sum of the terms both equal PyTorch autograd',
    (_name, c) => {
      const x = tensorOf(tf, c.input) as tfc.Tensor2D;
      const y = tensorOf(tf, c.target);
      const eps = tensorOf(tf, c.eps) as tfc.Tensor2D;
      const scale = Math.max(...Object.values(c.gradients).flatMap((g) => g.data.map(Math.abs)));
      const paths = {
        explicit: (net: VaeNetwork) => () => {
          const t = net.terms(x, eps, train);
          return tf.addN([mseOf(y)(t.z), t.reconstructionLoss, tf.mul(t.kl, c.klWeight)]) as tfc.Scalar;
        },
        trainer: (net: VaeNetwork) => () => passLoss(tf, net.pass(x, eps, train), x, mseOf(y)),
      };
      for (const [path, lossOf] of Object.entries(paths)) {
        const { store, net } = network(c);
        const { value, grads } = tf.variableGrads(lossOf(net));
        for (const e of store.entries().filter((e) => e.trainable)) {
          const got = grads[e.variable.name]!.dataSync();
          const worst = Math.max(...c.gradients[e.name]!.data.map((w, i) => Math.abs(got[i]! - w)));
          expect(worst / scale, `${path} ${e.name}`).toBeLessThan(1e-5);
        }
        tf.dispose([value, ...Object.values(grads)]);
        store.dispose();
      }
      tf.dispose([x, y, eps]);
    },
  );

  it('autodiff of the whole objective agrees with central finite differences', () => {
    const arch: VaeArchitecture = { encoderWidths: [5, 4], decoderWidth: 6, decoderSkips: true, reconstructionWeight: 1, klWeight: 0.5 };
    const store = new ParamStore(tf, 21);
    const net = new VaeNetwork(store, { inputs: 7, outputs: 3 }, arch);
    const rng = new Rng(8);
    const x = tf.tensor2d(Float32Array.from({ length: 16 * 7 }, () => rng.normal()), [16, 7]);
    const y = tf.tensor2d(Float32Array.from({ length: 16 * 3 }, () => rng.normal()), [16, 3]);
    // The trainer's objective with the pass's own noise.
    const noise = net.noise(16, train);
    // Three loss terms over BatchNorm'd rows: float32 differences are noisy on the smallest entries, so errors are
    // judged against 10% of the largest gradient (the exact comparison is the PyTorch autograd test above).
    const worst = finiteDifferenceCheck(tf, store, () => passLoss(tf, net.pass(x, noise, train), x, mseOf(y)), { h: 1e-3, floor: 0.1 });
    expect(worst).toBeLessThan(2e-2);
    tf.dispose([x, y, noise]);
    store.dispose();
  });

  it('the reparameterisation noise is a function of the pass seed', () => {
    const store = new ParamStore(tf, 2);
    const net = new VaeNetwork(store, { inputs: 5, outputs: 2 }, { encoderWidths: [4, 3], decoderWidth: 4, decoderSkips: true, reconstructionWeight: 1, klWeight: 0 });
    const a = valuesOf(tf, () => net.noise(3, { training: true, seed: 7 }));
    expect(valuesOf(tf, () => net.noise(3, { training: true, seed: 7 }))).toEqual(a);
    expect(valuesOf(tf, () => net.noise(3, { training: true, seed: 8 }))).not.toEqual(a);
    store.dispose();
  });
});

describe('vae mapper (fit, predict, save, load)', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'nd-vae-'));
  });
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  const dataset = randomDataset;

  function options(extra: Partial<VaeOptions>): Record<string, unknown> {
    const base: VaeOptions = {
      ...defaultTrainingOptions(VAE_TRAINING_DEFAULTS),
      encoderWidths: [64, 32],
      decoderWidth: 32,
      decoderSkips: true,
      reconstructionWeight: 1,
      klWeight: 0,
    };
    return { ...base, ...extra } as unknown as Record<string, unknown>;
  }

  it('overfits 16 random rows: the predicted means reach near-zero error', async () => {
    const { X, Y } = dataset(16, 12, 4, 1);
    const mapper = await vaeFactory.create(options({ learningRate: 3e-3, epochs: 300, batchSize: 16, validationFraction: 0, patience: 0 }), services);
    const fitted = await mapper.fit(X, Y, { seed: 3 });
    const pred = await fitted.predict(X);
    let sq = 0;
    for (let i = 0; i < pred.data.length; i++) sq += (pred.data[i]! - Y.data[i]!) ** 2;
    expect(sq / pred.data.length).toBeLessThan(0.01); // the targets have variance 1
  }, 120_000);

  it('logs the whole objective: one full-batch epoch with and without the reconstruction term', async () => {
    const { X, Y } = dataset(24, 10, 3, 4);
    const firstLosses = async (reconstructionWeight: number) => {
      const o = options({ epochs: 1, batchSize: 32, validationFraction: 0.25, reconstructionWeight });
      const s = (await (await vaeFactory.create(o, services)).fit(X, Y, { seed: 5 })).summary as { lossHistory: number[]; validationHistory: number[] };
      return [s.lossHistory[0]!, s.validationHistory[0]!] as const;
    };
    const [trainWithout, valWithout] = await firstLosses(0);
    const [trainWith, valWith] = await firstLosses(1);
    // Same initial weights and noise: the training losses differ by MSE(decoder(z), x) of z-scored voxels at the
    // initial weights (near their variance, 1); the validation losses by about as much (after slightly different steps).
    expect(trainWith - trainWithout).toBeGreaterThan(0.5);
    expect(valWith - valWithout).toBeGreaterThan(0.5);
  });

  it('saves and loads with identical predictions', async () => {
    const { X, Y } = dataset(30, 10, 3, 2);
    const fitted = await (await vaeFactory.create(options({ epochs: 3, batchSize: 8, klWeight: 0.1 }), services)).fit(X, Y, { seed: 7 });
    const dir = join(tmp, 'saved');
    await fitted.save(dir);
    const loaded = await vaeFactory.load(dir, services);
    expect(Array.from((await loaded.predict(X)).data)).toEqual(Array.from((await fitted.predict(X)).data));
  });
});
