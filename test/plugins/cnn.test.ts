/**
 * The `cnn` mapper: forward passes against PyTorch (test/fixtures/cnn), parameter counts, output shapes,
 * gradients against finite differences, overfitting a tiny data set, save/load, bad options.
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
import { UserError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import type { PluginServices } from '../../core/services.js';
import { ensureGradients } from '../../core/training/gradients.js';
import { ParamStore } from '../../core/training/params.js';
import { cnnFactory } from '../../plugins/cnn/cnn.js';
import { buildCnn, residualBranch } from '../../plugins/cnn/model.js';
import { PRESET_ARCHITECTURES, type CnnPreset } from '../../plugins/cnn/presets.js';
import { cnnArchitecture, resolveCnnOptions, type CnnInputOptions } from '../../plugins/cnn/schema.js';
import { finiteDifferenceCheck, loadParams, maxRelativeError, randomDataset, tensorOf, valuesOf, type TensorJson } from '../fixtures/cnn/helpers.js';

interface BlockCase {
  name: CnnPreset;
  params: Record<string, TensorJson>;
  input: TensorJson;
  output: TensorJson;
}
interface ModelCase {
  name: string;
  options: CnnInputOptions;
  params: Record<string, TensorJson>;
  input: TensorJson;
  trainOutput: TensorJson;
  evalOutput: TensorJson;
  target: TensorJson;
  gradients: Record<string, TensorJson>;
  parameterCount: number;
}
const reference = JSON.parse(readFileSync(new URL('../fixtures/cnn/reference.json', import.meta.url), 'utf8')) as {
  blocks: BlockCase[];
  models: ModelCase[];
};

let tf: TfModule;
let services: PluginServices;
beforeAll(async () => {
  services = testServices({ linalg: createLinalg(), tfBackend: 'auto' });
  tf = (await services.tensorflow.load()).tf;
  await ensureGradients(tf);
});

function architecture(options: CnnInputOptions) {
  return cnnArchitecture(resolveCnnOptions(options));
}

describe('cnn forward pass equals PyTorch (fixture)', () => {
  it.each(reference.blocks.map((b) => [b.name, b] as const))('one residual block of %s', (_name, block) => {
    const arch = { ...PRESET_ARCHITECTURES[block.name], channels: block.input.shape[1]! };
    const store = new ParamStore(tf, 0);
    const branch = residualBranch(store, arch);
    loadParams(store, block.params);
    // The fixture is PyTorch's (B, C, L); our activations are channels-last (B, L, C).
    const got = valuesOf(tf, () => {
      const x = tf.transpose(tensorOf(tf, block.input), [0, 2, 1]);
      const y = tf.add(x, branch(x, { training: false, seed: 0 }));
      return tf.transpose(arch.reluAfterSum ? tf.relu(y) : y, [0, 2, 1]);
    });
    expect(got.length).toBe(block.output.data.length);
    expect(maxRelativeError(got, block.output.data)).toBeLessThan(1e-5);
    store.dispose();
  });

  it.each(reference.models.map((m) => [m.name, m] as const))('whole tiny %s network, training and evaluation mode', (_name, c) => {
    const store = new ParamStore(tf, 0);
    const [rows, voxels] = c.input.shape as [number, number];
    const outputs = c.evalOutput.shape[1]!;
    const model = buildCnn(store, { inputs: voxels, outputs }, architecture(c.options));
    expect(store.count()).toBe(c.parameterCount);
    // Training mode first (batch statistics), from the fixture's weights; then evaluation with its running stats.
    loadParams(store, c.params);
    const x = tensorOf(tf, c.input) as tfc.Tensor2D;
    const train = valuesOf(tf, () => model.forward(x, { training: true, seed: 1 }));
    loadParams(store, c.params);
    const evaluated = valuesOf(tf, () => model.forward(x, { training: false, seed: 0 }));
    expect(rows * outputs).toBe(train.length);
    expect(maxRelativeError(train, c.trainOutput.data)).toBeLessThan(1e-4);
    expect(maxRelativeError(evaluated, c.evalOutput.data)).toBeLessThan(1e-4);
    x.dispose();
    store.dispose();
  });
});

describe('cnn parameter counts (hand-computed)', () => {
  function count(options: CnnInputOptions, inputs: number, outputs: number): number {
    const store = new ParamStore(tf, 0);
    buildCnn(store, { inputs, outputs }, architecture(options));
    const n = store.count();
    store.dispose();
    return n;
  }

  it('fmri-to-image at CS292F NSD size (5,917 V1–V4 voxels → 6,400): 6,666,305', () => {
    // conv1d 64+64; shared net 2·(64·64·11+64); downsample 64+1; fc 5917·512+512, 512·512+512, 512·6400+6400
    expect(128 + 2 * (64 * 64 * 11 + 64) + 65 + (5917 * 512 + 512) + (512 * 512 + 512) + (512 * 6400 + 6400)).toBe(6_666_305);
    expect(count({ preset: 'fmri-to-image' }, 5917, 6400)).toBe(6_666_305);
  });

  it('mind-reader at its NSD size (padded 15,744 → 512 CLIP): 1,156,929', () => {
    // stem 1·64·4+64; 4 blocks of 2·(64·64·3+64) + 64·64+64; Conv1d(64→512) 64·512+512; head 7872·128+128, 128+1
    const block = 2 * (64 * 64 * 3 + 64) + 64 * 64 + 64;
    expect(320 + 4 * block + (64 * 512 + 512) + (7872 * 128 + 128) + 129).toBe(1_156_929);
    expect(count({ preset: 'mind-reader' }, 15000, 512)).toBe(1_156_929);
  });

  it('fmri-to-text at CS292F NSD size (7,604 ventral voxels → 14×768): 32,003,969', () => {
    // conv1d 64+64; shared net 3·(64·64·7+64); downsample 65; fc 7604·1024+1024, 1024·2048+2048, 2048·10752+10752
    expect(128 + 3 * (64 * 64 * 7 + 64) + 65 + (7604 * 1024 + 1024) + (1024 * 2048 + 2048) + (2048 * 10752 + 10752)).toBe(32_003_969);
    expect(count({ preset: 'fmri-to-text' }, 7604, 14 * 768)).toBe(32_003_969);
  });

  it('fmri-to-text small: unshared blocks have one branch each', () => {
    // V=9, T=5, C=2, hidden [3, 4]: conv1d 2+2; 3 blocks of 3·(2·2·7+2); downsample 2+1; fc 9·3+3, 3·4+4, 4·5+5
    const expected = 4 + 3 * 3 * (2 * 2 * 7 + 2) + 3 + 30 + 16 + 25;
    expect(count({ preset: 'fmri-to-text', channels: 2, hiddenSizes: [3, 4], shareBlockWeights: false }, 9, 5)).toBe(expected);
    expect(count({ preset: 'fmri-to-text', channels: 2, hiddenSizes: [3, 4] }, 9, 5)).toBe(expected - 2 * 3 * (2 * 2 * 7 + 2));
  });
});

describe('cnn shapes and options', () => {
  it.each([
    ['fmri-to-image', {}],
    ['fmri-to-text', {}],
    ['mind-reader', { padTo: 24 }],
    ['mind-reader', { padTo: 0 }],
    ['mind-reader', { padTo: 0, batchNorm: true }],
  ] as const)('%s %j maps (B, V) to (B, T) for an odd voxel count', (preset, extra) => {
    const store = new ParamStore(tf, 3);
    const model = buildCnn(store, { inputs: 21, outputs: 7 }, architecture({ preset, channels: 3, hiddenSizes: [5, 6], headHidden: 4, ...extra }));
    const y = tf.tidy(() => model.forward(tf.randomNormal([5, 21]) as tfc.Tensor2D, { training: true, seed: 2 }));
    expect(y.shape).toEqual([5, 7]);
    expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
    y.dispose();
    store.dispose();
  });

  it('presets resolve their own training defaults; explicit options win', () => {
    expect(resolveCnnOptions({ preset: 'fmri-to-text' })).toMatchObject({ learningRate: 1e-4, batchSize: 16, patience: 5, channels: 64, residualBlocks: 3 });
    expect(resolveCnnOptions({ preset: 'mind-reader' })).toMatchObject({ learningRate: 2e-4, batchSize: 32, weightDecay: 1e-5, epochs: 40, loss: 'mse-cosine', padTo: 15744 });
    expect(resolveCnnOptions({ preset: 'fmri-to-image', learningRate: 0.01, channels: 8 })).toMatchObject({ learningRate: 0.01, batchSize: 256, channels: 8 });
  });

  it('refuses padTo below the voxel count and shared weights in the mind-reader preset', () => {
    const store = new ParamStore(tf, 0);
    expect(() => buildCnn(store, { inputs: 30, outputs: 2 }, architecture({ preset: 'mind-reader', padTo: 20 }))).toThrow(UserError);
    expect(() => buildCnn(store, { inputs: 30, outputs: 2 }, architecture({ preset: 'mind-reader', padTo: 20 }))).toThrow(/padTo is 20 but the data have 30 voxels/);
    expect(() => buildCnn(new ParamStore(tf, 0), { inputs: 8, outputs: 2 }, architecture({ preset: 'mind-reader', padTo: 0, shareBlockWeights: true }))).toThrow(
      /shareBlockWeights is only available for the CS292F presets/,
    );
    store.dispose();
  });
});

describe('cnn gradients', () => {
  it.each(reference.models.map((m) => [m.name, m] as const))('%s: gradients of MSE in training mode equal PyTorch autograd', (_name, c) => {
    const store = new ParamStore(tf, 0);
    const [, voxels] = c.input.shape as [number, number];
    const model = buildCnn(store, { inputs: voxels, outputs: c.target.shape[1]! }, architecture(c.options));
    loadParams(store, c.params);
    const x = tensorOf(tf, c.input) as tfc.Tensor2D;
    const y = tensorOf(tf, c.target);
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.squaredDifference(model.forward(x, { training: true, seed: 1 }), y)) as tfc.Scalar);
    // Relative to the largest gradient anywhere: some are exactly 0 in PyTorch (a bias before a BatchNorm).
    const scale = Math.max(...Object.values(c.gradients).flatMap((g) => g.data.map(Math.abs)));
    for (const e of store.entries().filter((e) => e.trainable)) {
      const got = grads[e.variable.name]!.dataSync();
      const want = c.gradients[e.name]!.data;
      const worst = Math.max(...want.map((w, i) => Math.abs(got[i]! - w)));
      expect(worst / scale, e.name).toBeLessThan(1e-5);
    }
    // The step moved BatchNorm's running statistics once (as one training forward pass does), although the
    // backward pass recomputes each block.
    const statistics = () => store.entries().filter((e) => /running_(mean|var)$/.test(e.name)).flatMap((e) => Array.from(e.variable.dataSync()));
    const afterStep = statistics();
    loadParams(store, c.params);
    const before = statistics();
    tf.tidy(() => model.forward(x, { training: true, seed: 1 }));
    const once = statistics();
    expect(Math.max(0, ...afterStep.map((v, i) => Math.abs(v - once[i]!)))).toBeLessThan(1e-6);
    if (c.options.batchNorm) expect(Math.max(...afterStep.map((v, i) => Math.abs(v - before[i]!)))).toBeGreaterThan(1e-2);
    tf.dispose([x, y, value, ...Object.values(grads)]);
    store.dispose();
  });

  // Without BatchNorm, whose normalisation over a tiny batch is too curved for float32 differences.
  it.each([
    ['fmri-to-image', {}],
    ['fmri-to-text', {}],
    ['mind-reader', { padTo: 0 }],
  ] as const)('%s: autodiff agrees with central finite differences (stride-2 stem included)', (preset, extra) => {
    const store = new ParamStore(tf, 11);
    const model = buildCnn(store, { inputs: 6, outputs: 3 }, architecture({ preset, channels: 2, residualBlocks: 2, hiddenSizes: [4, 3], headHidden: 3, ...extra }));
    const rng = new Rng(5);
    const x = tf.tensor2d(Float32Array.from({ length: 4 * 6 }, () => rng.normal()), [4, 6]);
    const y = tf.tensor2d(Float32Array.from({ length: 4 * 3 }, () => rng.normal()), [4, 3]);
    const loss = () => tf.mean(tf.squaredDifference(model.forward(x, { training: true, seed: 9 }), y)) as tfc.Scalar;
    const worst = finiteDifferenceCheck(tf, store, loss);
    expect(worst).toBeLessThan(2e-2);
    tf.dispose([x, y]);
    store.dispose();
  });
});

describe('cnn mapper (fit, predict, save, load)', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'nd-cnn-'));
  });
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  const dataset = randomDataset;

  // Mind Reader's head sees each target through ReLU(positions): with too few positions whole (row, target)
  // pairs go dead, so its case has more voxels (its real input has 7,872 positions).
  it.each([
    ['fmri-to-image', 12, { channels: 4, hiddenSizes: [32, 32], learningRate: 3e-3 }],
    ['fmri-to-text', 12, { channels: 4, hiddenSizes: [32, 32], learningRate: 3e-3 }],
    ['mind-reader', 64, { channels: 8, padTo: 0, headHidden: 16, learningRate: 3e-3, loss: 'mse', weightDecay: 0 }],
  ] as const)('%s overfits 16 random rows to near-zero training loss', async (preset, voxels, extra) => {
    const { X, Y } = dataset(16, voxels, 4, 1);
    const input: CnnInputOptions = { preset, ...extra, hiddenSizes: 'hiddenSizes' in extra ? [...extra.hiddenSizes] : undefined };
    const options = resolveCnnOptions({ ...input, epochs: 250, batchSize: 16, validationFraction: 0, patience: 0 });
    const mapper = await cnnFactory.create(options as unknown as Record<string, unknown>, services);
    const fitted = await mapper.fit(X, Y, { seed: 4 });
    const pred = await fitted.predict(X);
    let sq = 0;
    for (let i = 0; i < pred.data.length; i++) sq += (pred.data[i]! - Y.data[i]!) ** 2;
    expect(sq / pred.data.length).toBeLessThan(0.01); // the targets have variance 1
    expect(fitted.summary).toMatchObject({ preset, epochsRun: 250 });
  }, 120_000);

  it('saves and loads with identical predictions; a loaded model refuses other voxel counts', async () => {
    const { X, Y } = dataset(20, 10, 3, 2);
    const options = resolveCnnOptions({ preset: 'mind-reader', channels: 3, padTo: 12, headHidden: 4, batchNorm: true, epochs: 3, batchSize: 8 });
    const fitted = await (await cnnFactory.create(options as unknown as Record<string, unknown>, services)).fit(X, Y, { seed: 7 });
    const dir = join(tmp, 'saved');
    await fitted.save(dir);
    const loaded = await cnnFactory.load(dir, services);
    const a = await fitted.predict(X);
    const b = await loaded.predict(X);
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    await expect(loaded.predict({ rows: 1, cols: 11, data: new Float32Array(11) })).rejects.toThrow(/fitted on 10 voxels, but X has 11 columns/);
  });
});
