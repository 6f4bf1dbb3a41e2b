/**
 * The chebnet-gcn network against PyTorch (test/fixtures/chebnet/reference.json, made once by make_fixture.py with
 * PyG's ChebConv arithmetic in plain torch and the CS292F GNN class): ChebConv forward, the whole model in eval and
 * train mode, gradients (autograd and finite differences); then fitting through the plugin: overfitting a tiny
 * data set, save/load in a fresh store with identical predictions, and mismatched inputs.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import type * as tfc from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServices } from '../helpers/services.js';
import { createTensorflowProvider, type TfModule } from '../../core/compute/tfjs.js';
import { isUserError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import type { Matrix } from '../../core/tensor.js';
import { ensureGradients } from '../../core/training/gradients.js';
import { schemaDefaults } from '../../core/training/neural-mapper.js';
import { ParamStore } from '../../core/training/params.js';
import { ChebConv } from '../../plugins/chebnet-gcn/chebconv.js';
import { scaledLaplacian } from '../../plugins/chebnet-gcn/laplacian.js';
import { chebnetFactory } from '../../plugins/chebnet-gcn/mapper.js';
import { ChebnetGcn } from '../../plugins/chebnet-gcn/model.js';
import { chebnetOptionsSchema } from '../../plugins/chebnet-gcn/schema.js';

type Nested = number | Nested[];
const flat = (a: Nested): number[] => (Array.isArray(a) ? a.flatMap(flat) : [a]);

interface Reference {
  chebconv: Array<{ name: string; nodes: number; edges: Array<[number, number, number]>; K: number; x: Nested; y: Nested; weights: Nested[]; bias: number[] }>;
  model: {
    sizes: { batch: number; nodes: number; features: number; hidden: number; fc: number; targets: number; channels: number };
    edges: Array<[number, number, number]>;
    state: Record<string, Nested>;
    x: Nested;
    yEval: Nested;
    yTrain: Nested;
    target: Nested;
    loss: number;
    grads: Record<string, Nested>;
    runningMeanAfterTrain: number[];
    runningVarAfterTrain: number[];
  };
}

const reference = JSON.parse(readFileSync(new URL('../fixtures/chebnet/reference.json', import.meta.url), 'utf8')) as Reference;
const toEdges = (edges: Array<[number, number, number]>) => edges.map(([source, target, weight]) => ({ source, target, weight }));

let tf: TfModule;
beforeAll(async () => {
  ({ tf } = await createTensorflowProvider({ backend: 'cpu', env: {} }).load());
  await ensureGradients(tf);
});

function expectClose(actual: ArrayLike<number>, expected: number[], tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!)));
  expect(worst).toBeLessThan(tolerance);
}

const architecture = (hidden: number, dense: number, channels: number) => ({
  chebK: [4, 3] as [number, number],
  hidden,
  convChannels: channels,
  residualBlocks: 2,
  sharedResidual: true,
  dense,
});

/** The fixture's GNN with its state_dict loaded; node j reads input columns j·F … j·F + F − 1. */
function fixtureModel(store: ParamStore): { net: ChebnetGcn; x: tfc.Tensor2D } {
  const { sizes, state, edges } = reference.model;
  const op = scaledLaplacian(sizes.nodes, toEdges(edges));
  const nodeVoxels = Array.from({ length: sizes.nodes }, (_, j) => Array.from({ length: sizes.features }, (_, i) => j * sizes.features + i));
  const net = new ChebnetGcn(store, { scaled: op.scaled, nodeVoxels }, sizes.nodes * sizes.features, sizes.targets, architecture(sizes.hidden, sizes.fc, sizes.channels));
  store.restore(new Map(Object.entries(state).map(([k, v]) => [k, Float32Array.from(flat(v))])));
  const x = tf.tensor2d(flat(reference.model.x), [sizes.batch, sizes.nodes * sizes.features]);
  return { net, x };
}

describe('ChebConv against PyTorch Geometric arithmetic', () => {
  it('matches the reference on a directed graph (K=4) and an undirected one with computed λmax (K=3), batched', () => {
    for (const c of reference.chebconv) {
      const store = new ParamStore(tf, 0);
      const cout = c.bias.length;
      const cin = (c.weights[0] as Nested[])[0] instanceof Array ? ((c.weights[0] as Nested[])[0] as Nested[]).length : 0;
      const conv = new ChebConv(store, 'conv', cin, cout, c.K);
      store.restore(new Map([...c.weights.map((w, k) => [`conv.lins.${k}.weight`, Float32Array.from(flat(w))] as const), ['conv.bias', Float32Array.from(c.bias)]]));
      const op = scaledLaplacian(c.nodes, toEdges(c.edges));
      const batch = (c.x as Nested[]).length;
      const y = tf.tidy(() => {
        const x = tf.transpose(tf.tensor3d(flat(c.x), [batch, c.nodes, cin]), [1, 0, 2]) as tfc.Tensor3D;
        const out = conv.apply(x, tf.tensor2d(Float32Array.from(op.scaled), [c.nodes, c.nodes]));
        return tf.transpose(out, [1, 0, 2]);
      });
      expectClose(y.dataSync(), flat(c.y), 1e-5);
      y.dispose();
      store.dispose();
    }
  });

  it('initialises as PyG: lins glorot-uniform within ±√(6/(in+out)), bias zeros, named lins.k.weight', () => {
    const store = new ParamStore(tf, 3);
    new ChebConv(store, 'conv1', 40, 24, 4);
    const bound = Math.sqrt(6 / 64);
    expect(store.entries().map((e) => e.name)).toEqual(['conv1.lins.0.weight', 'conv1.lins.1.weight', 'conv1.lins.2.weight', 'conv1.lins.3.weight', 'conv1.bias']);
    const w = store.entries()[0]!.variable.dataSync();
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.9 * bound);
    expect(Array.from(store.entries()[4]!.variable.dataSync())).toEqual(new Array(24).fill(0));
    store.dispose();
  });
});

describe('the CS292F GNN against PyTorch', () => {
  it('forward in eval mode (running statistics) and train mode (batch statistics, running update) equals the reference', () => {
    const store = new ParamStore(tf, 0);
    const { net, x } = fixtureModel(store);
    const yEval = tf.tidy(() => net.forward(x, { training: false, seed: 0 }));
    expectClose(yEval.dataSync(), flat(reference.model.yEval), 1e-5);
    const yTrain = tf.tidy(() => net.forward(x, { training: true, seed: 0 }));
    expectClose(yTrain.dataSync(), flat(reference.model.yTrain), 1e-5);
    expectClose(net.bn.runningMean.dataSync(), reference.model.runningMeanAfterTrain, 1e-5);
    expectClose(net.bn.runningVar.dataSync(), reference.model.runningVarAfterTrain, 1e-5);
    tf.dispose([yEval, yTrain, x]);
    store.dispose();
  });

  it('gradients of the MSE loss equal torch autograd for every parameter', () => {
    const store = new ParamStore(tf, 0);
    const { net, x } = fixtureModel(store);
    const target = tf.tensor2d(flat(reference.model.target), [reference.model.sizes.batch, reference.model.sizes.targets]);
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.squaredDifference(net.forward(x, { training: true, seed: 0 }), target)) as tfc.Scalar, store.trainableVariables());
    expect(value.dataSync()[0]!).toBeCloseTo(reference.model.loss, 5);
    const byName = new Map(store.entries().map((e) => [e.variable.name, e.name]));
    const seen = new Set<string>();
    for (const [variable, grad] of Object.entries(grads)) {
      const name = byName.get(variable)!;
      seen.add(name);
      // conv1's input is data: its input gradient is skipped, its weight gradient must still be exact.
      expectClose(grad.dataSync(), flat(reference.model.grads[name]!), 1e-4);
    }
    expect([...seen].sort()).toEqual(Object.keys(reference.model.grads).sort());
    tf.dispose([value, ...Object.values(grads), x, target]);
    store.dispose();
  });

  it('gradients agree with central finite differences on sampled entries of every tensor', () => {
    const store = new ParamStore(tf, 11);
    const rng = new Rng(5);
    const nodeVoxels = [[0, 1, 2], [3, 4], [5, 6, 7]];
    const op = scaledLaplacian(3, toEdges([[0, 1, 0.8], [0, 2, 0.6], [1, 2, 0.7]]));
    const net = new ChebnetGcn(store, { scaled: op.scaled, nodeVoxels }, 8, 3, architecture(5, 6, 2));
    const x = tf.tensor2d(Array.from({ length: 4 * 8 }, () => rng.normal()), [4, 8]);
    const target = tf.tensor2d(Array.from({ length: 4 * 3 }, () => rng.normal()), [4, 3]);
    const loss = () => tf.mean(tf.squaredDifference(net.forward(x, { training: true, seed: 0 }), target)) as tfc.Scalar;
    const { grads } = tf.variableGrads(loss, store.trainableVariables());
    const h = 1e-2;
    let checked = 0;
    for (const entry of store.entries().filter((e) => e.trainable)) {
      const analytic = grads[entry.variable.name]!.dataSync();
      const base = Float32Array.from(entry.variable.dataSync());
      for (const i of [0, Math.floor(base.length / 2), base.length - 1]) {
        const at = (delta: number) => {
          const values = Float32Array.from(base);
          values[i]! += delta;
          entry.variable.assign(tf.tensor(values, entry.variable.shape));
          return tf.tidy(() => loss().dataSync()[0]!);
        };
        const numeric = (at(h) - at(-h)) / (2 * h);
        entry.variable.assign(tf.tensor(base, entry.variable.shape));
        expect(Math.abs(numeric - analytic[i]!), `${entry.name}[${i}]`).toBeLessThan(2e-3 + 2e-2 * Math.abs(numeric));
        checked++;
      }
    }
    expect(checked).toBe(3 * store.entries().filter((e) => e.trainable).length);
    tf.dispose([x, target, ...Object.values(grads)]);
    store.dispose();
  });
});

// ───────────────────────────── through the plugin ─────────────────────────────

// The backend users get without tfjs-node (the reference comparisons above run on cpu).
const services = () => testServices({ tfBackend: 'wasm' });

/** Defaults from the schema, with overrides (what the registry hands a factory). */
function chebnetOptions(overrides: Record<string, unknown>): Record<string, unknown> {
  return { ...schemaDefaults(chebnetOptionsSchema), ...overrides };
}

/** Three ROIs driven by one latent each (V1, V2 correlated), targets a nonlinear function of the latents. */
function tinyData(rows: number, seed: number): { X: Matrix; Y: Matrix; atlas: Record<string, Int32Array> } {
  const rng = new Rng(seed);
  const voxels = 12;
  const X = new Float32Array(rows * voxels);
  const Y = new Float32Array(rows * 4);
  for (let t = 0; t < rows; t++) {
    const a = rng.normal();
    const b = 0.8 * a + 0.6 * rng.normal();
    const c = rng.normal();
    for (let v = 0; v < voxels; v++) X[t * voxels + v] = (v < 5 ? a : v < 9 ? b : c) * (1 + 0.1 * v) + 0.1 * rng.normal();
    Y.set([Math.tanh(a), b * b - 1, a * c, Math.sin(c)], t * 4);
  }
  const range = (from: number, to: number) => Int32Array.from({ length: to - from }, (_, i) => from + i);
  return { X: { rows, cols: voxels, data: X }, Y: { rows, cols: 4, data: Y }, atlas: { V1: range(0, 5), V2: range(5, 9), V3: range(9, 11), hV4: range(11, 12) } };
}

const small = { hidden: 16, dense: 32, convChannels: 4, threshold: 0.3, direction: 'undirected', validationFraction: 0, patience: 0, batchSize: 16 };

describe('chebnet-gcn mapper', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nd-chebnet-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('overfits a tiny data set to near-zero loss', async () => {
    const { X, Y, atlas } = tinyData(32, 1);
    const mapper = await chebnetFactory.create(chebnetOptions({ ...small, hidden: 32, dense: 64, batchSize: 32, epochs: 150, learningRate: 0.01 }), services());
    const fitted = await mapper.fit(X, Y, { seed: 0, atlas });
    const summary = fitted.summary as { lossHistory: number[]; graph: { nodes: string[]; edges: string[] } };
    expect(summary.lossHistory[0]!).toBeGreaterThan(0.3);
    expect(summary.lossHistory.at(-1)!).toBeLessThan(0.01);
    expect(summary.graph.nodes).toEqual(['V1 (5 voxels)', 'V2 (4 voxels)', 'V3+hV4 (3 voxels)']);
    expect(summary.graph.edges).toHaveLength(1);
    expect(summary.graph.edges[0]).toMatch(/^V1–V2 r=0\.\d+$/);
  });

  it('saves weights, graph and exports; loads with identical predictions; refuses mismatched inputs', async () => {
    const { X, Y, atlas } = tinyData(40, 2);
    const options = chebnetOptions({ ...small, epochs: 3, validationFraction: 0.2, patience: 5 });
    const fitted = await (await chebnetFactory.create(options, services())).fit(X, Y, { seed: 4, atlas });
    await fitted.save(dir);
    const files = await readdir(dir);
    for (const f of ['model.json', 'graph.json', 'graph.gexf', 'graph.graphml', 'weights', 'x-mean.npy', 'x-scale.npy']) expect(files).toContain(f);
    expect(await readdir(join(dir, 'weights'))).toContain('conv1.lins.3.weight.npy');
    const loaded = await chebnetFactory.load(dir, services());
    const test = tinyData(10, 3).X;
    expect(Array.from((await loaded.predict(test)).data)).toEqual(Array.from((await fitted.predict(test)).data));
    const wrong = { rows: 2, cols: 11, data: new Float32Array(22) };
    await expect(loaded.predict(wrong)).rejects.toThrow(/fitted on 12 voxels, but X has 11 columns/);
    // A graph whose voxels do not fit the model's inputs is refused at load.
    const graph = JSON.parse(await readFile(join(dir, 'graph.json'), 'utf8')) as { nodes: Array<{ attributes: { voxels: number[] } }> };
    expect(graph.nodes.map((n) => n.attributes.voxels.length)).toEqual([5, 4, 3]);
    graph.nodes[2]!.attributes.voxels.push(12);
    await writeFile(join(dir, 'graph.json'), JSON.stringify(graph));
    await expect(chebnetFactory.load(dir, services())).rejects.toThrow(/node 'V3\+hV4' names voxel columns beyond the 12 inputs/);
  });

  it('bad input: no atlas, unknown ROI, no edge, NaN targets', async () => {
    const { X, Y, atlas } = tinyData(20, 4);
    const fit = async (o: Record<string, unknown>, context: { seed: number; atlas?: Record<string, Int32Array> }, y = Y) => {
      try {
        await (await chebnetFactory.create(chebnetOptions({ ...small, epochs: 1, ...o }), services())).fit(X, y, context);
      } catch (error) {
        expect(isUserError(error), String(error)).toBe(true);
        return (error as Error).message;
      }
      throw new Error('expected a UserError');
    };
    expect(await fit({}, { seed: 0 })).toMatch(/needs the dataset ROI atlas/);
    expect(await fit({ nodes: [['V1'], ['V7']] }, { seed: 0, atlas })).toMatch(/ROI 'V7' is not in the dataset's atlas \(it has V1, V2, V3, hV4\)/);
    expect(await fit({ threshold: 0.999 }, { seed: 0, atlas })).toMatch(/no edge has \|r\| > 0.999 .*ranged from/);
    const nan = { ...Y, data: Float32Array.from(Y.data, (v, i) => (i === 5 ? NaN : v)) };
    expect(await fit({}, { seed: 0, atlas }, nan)).toMatch(/targets contain a non-finite value/);
  });
});
