/** The gru mapper plugin: the paper's parameter count, the variants, training through the registry, the CLI. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type * as tfc from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { createLinalg } from '../../core/compute/linalg.js';
import { createTensorflowProvider, type TfModule } from '../../core/compute/tfjs.js';
import { readNpy, writeNpy } from '../../core/io/npy.js';
import { silentProgress } from '../../core/progress.js';
import { Rng } from '../../core/rng.js';
import type { PluginServices } from '../../core/services.js';
import { ParamStore, defaultTrainingOptions, schemaDefaults } from '../../core/training/index.js';
import { manifest } from '../../plugins/gru/index.js';
import { buildGruNetwork, gruMapperFactory } from '../../plugins/gru/model.js';
import { gruOptionsSchema, type GruOptions } from '../../plugins/gru/schema.js';

let tf: TfModule;
let tmp: string;
const services = {
  log: { info() {}, warn() {}, debug() {} },
  progress: silentProgress,
  linalg: createLinalg(),
  tensorflow: createTensorflowProvider({ backend: 'wasm' }),
} as unknown as PluginServices;

beforeAll(async () => {
  tf = (await services.tensorflow.load()).tf;
  tmp = await mkdtemp(join(tmpdir(), 'nd-gru-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

const defaults = schemaDefaults(gruOptionsSchema as unknown as { properties: Record<string, unknown> }) as unknown as GruOptions;

describe('gru network (seed 000, Table 1)', () => {
  it('has exactly 12,400,344 parameters for 15,724 voxels → 13,344 outputs, named as PyTorch', () => {
    const store = new ParamStore(tf, 0);
    buildGruNetwork(store, { inputs: 15724, outputs: 13344 }, defaults);
    expect(store.count()).toBe(12_400_344);
    expect(store.entries().filter((e) => e.trainable).map((e) => e.name)).toEqual([
      ...['', '_reverse'].flatMap((s) => ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0'].map((n) => `gru1.${n}${s}`)),
      'norm1.weight', 'norm1.bias',
      ...['', '_reverse'].flatMap((s) => ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0'].map((n) => `gru2.${n}${s}`)),
      'norm2.weight', 'norm2.bias', 'fc1.weight', 'fc1.bias', 'bn1.weight', 'bn1.bias', 'fc2.weight', 'fc2.bias',
    ]);
    store.dispose();
  });

  for (const variant of ['cnn-hybrid', 'transformer-hybrid'] as const) {
    it(`${variant}: builds, maps (B, voxels) to (B, targets), and its input products path equals its plain path`, () => {
      const store = new ParamStore(tf, 1);
      const model = buildGruNetwork(store, { inputs: 30, outputs: 7 }, { ...defaults, variant, hiddenSize: 8, convChannels: [4, 6] });
      const rng = new Rng(2);
      const x = tf.tensor2d(Float32Array.from({ length: 5 * 30 }, () => rng.normal()), [5, 30]);
      const ctx = { training: false, seed: 0 };
      const y = model.forward(x, ctx);
      expect(y.shape).toEqual([5, 7]);
      const products = model.inputProjection!.weights.map((w) => tf.matMul(x, w, false, true) as tfc.Tensor2D);
      const z = model.inputProjection!.forwardFromProducts(products, ctx);
      const a = y.dataSync();
      const b = z.dataSync();
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-5);
      const names = store.entries().map((e) => e.name);
      if (variant === 'cnn-hybrid') {
        expect(names).toContain('conv2.weight');
        expect(store.entries().find((e) => e.name === 'gru2.weight_ih_l0')!.variable.shape).toEqual([24, 6]);
      } else {
        expect(names).toContain('attention.in_proj_weight');
        expect(names).toContain('norm_attention.weight');
      }
      store.dispose();
    });
  }
});

describe('gru mapper', () => {
  it('declares the shared training options with its defaults in its manifest schema', () => {
    const props = manifest.provides[0]!.optionsSchema.properties as Record<string, { default?: unknown }>;
    expect(props.batchSize!.default).toBe(128);
    expect(props.patience!.default).toBe(5);
    expect(props.validationFraction!.default).toBe(0.1);
    expect(props.variant!.default).toBe('gru');
    expect(defaultTrainingOptions({ learningRate: 1e-3, batchSize: 128, epochs: 50 }).loss).toBe('mse');
  });

  for (const variant of ['gru', 'cnn-hybrid', 'transformer-hybrid'] as const) {
    it(`${variant}: fits a small nonlinear problem well below the mean predictor, saves and loads identically`, async () => {
      const rng = new Rng(4);
      const n = 64;
      const p = 20;
      const X = Float32Array.from({ length: n * p }, () => rng.normal());
      const Y = new Float32Array(n * 2);
      for (let i = 0; i < n; i++) {
        Y[i * 2] = Math.tanh(X[i * p]! + X[i * p + 1]!);
        Y[i * 2 + 1] = X[i * p + 2]! * X[i * p + 3]!;
      }
      const mapper = await gruMapperFactory.create({ variant, hiddenSize: 16, epochs: 100, batchSize: 32, validationFraction: 0, dropout: 0, learningRate: 1e-2 }, services);
      const fitted = await mapper.fit({ rows: n, cols: p, data: X }, { rows: n, cols: 2, data: Y }, { seed: 0 });
      const predicted = await fitted.predict({ rows: n, cols: p, data: X });
      let err = 0;
      let variance = 0;
      for (let i = 0; i < Y.length; i++) {
        err += (predicted.data[i]! - Y[i]!) ** 2;
        variance += Y[i]! ** 2;
      }
      expect(err / variance).toBeLessThan(0.05);
      const dir = join(tmp, variant);
      await fitted.save(dir);
      const loaded = await gruMapperFactory.load(dir, services);
      expect(Array.from((await loaded.predict({ rows: n, cols: p, data: X })).data)).toEqual(Array.from(predicted.data));
      if (variant === 'gru') {
        // And in a fresh process (nothing shared but the folder).
        await writeNpy(join(tmp, 'X.npy'), { shape: [n, p], data: X });
        await promisify(execFile)(process.execPath, ['--import', 'tsx', 'test/fixtures/training/predict-saved.ts', dir, join(tmp, 'X.npy'), join(tmp, 'out.npy'), 'wasm']);
        expect(Array.from((await readNpy(join(tmp, 'out.npy'))).data)).toEqual(Array.from(predicted.data));
      }
    });
  }
});

describe('engines', () => {
  it('training with ONNX Runtime products (input and output layers, host Adam) follows the all-tfjs path', async () => {
    const rng = new Rng(8);
    const n = 48;
    const p = 40;
    const X = { rows: n, cols: p, data: Float32Array.from({ length: n * p }, () => rng.normal()) };
    const Y = { rows: n, cols: 6, data: Float32Array.from({ length: n * 6 }, () => rng.normal()) };
    const common = { hiddenSize: 8, denseSize: 12, epochs: 3, batchSize: 16, dropout: 0.3, weightDecay: 1e-3, validationFraction: 0.25 };
    const predict = async (projectionEngine: string) => {
      const fitted = await (await gruMapperFactory.create({ ...common, projectionEngine }, services)).fit(X, Y, { seed: 3 });
      expect(fitted.summary.projectionEngine).toBe(projectionEngine);
      return (await fitted.predict(X)).data;
    };
    const a = await predict('tensorflow');
    const b = await predict('onnxruntime');
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < a.length; i++) {
      worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      scale = Math.max(scale, Math.abs(a[i]!));
    }
    expect(worst / scale).toBeLessThan(1e-3);
    expect(worst).toBeGreaterThan(0); // the two engines really ran
  });
});

describe('gru through the CLI', () => {
  const cli = (args: string[]) => runCli(args, tmp);


  it('is listed as a built-in mapper', async () => {
    const { code, stdout } = await cli(['plugins', 'list', '--json']);
    expect(code).toBe(0);
    const entries = JSON.parse(stdout) as Array<{ kind: string; id: string }>;
    expect(entries.map((e) => `${e.kind}:${e.id}`)).toContain('mapper:gru');
  });

  it('runs a small pipeline on the synthetic dataset, and rejects bad options naming the field', async () => {
    const file = join(tmp, 'gru.json');
    const pipeline = {
      name: 'gru→pca',
      dataset: 'synthetic',
      generator: { id: 'pca', options: { components: 16 } },
      mappers: { '*': { id: 'gru', options: { hiddenSize: 8, denseSize: 16, epochs: 2, batchSize: 32 } } },
      metrics: ['mse', 'pearson'],
      seed: 0,
    };
    await writeFile(file, JSON.stringify(pipeline));
    const r = await cli(['run', '--pipeline', file, '--json', '--backend', 'wasm']);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { rows: Array<{ pipeline: string; metric: string; value: number }> };
    const mse = result.rows.find((row) => row.metric === 'mse')!;
    expect(mse.pipeline).toBe('gru→pca');
    expect(Number.isFinite(mse.value)).toBe(true);
    await writeFile(file, JSON.stringify({ ...pipeline, mappers: { '*': { id: 'gru', options: { variant: 'lstm' } } } }));
    const bad = await cli(['run', '--pipeline', file]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/mapper 'gru' options: \/variant/);
  });
});
