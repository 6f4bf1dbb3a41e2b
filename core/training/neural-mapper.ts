/**
 * The base of every neural mapper: a plugin describes its network (`NeuralSpec`) and gets a `MapperFactory`.
 * Fitting z-scores X with training statistics, holds out a seeded validation split of the TRAINING rows, trains
 * with Adam, stops early on validation loss and keeps the best epoch's weights. Saved models are a folder:
 *
 *   model.json        { format: "neurodecode-neural", version, mapper, options, inputs, outputs, seed,
 *                       parameters: [{ name, shape, trainable, file }], summary }
 *   x-mean.npy, x-scale.npy   float32 (inputs): z-scoring statistics (scale 1 where a voxel is constant)
 *   weights/<name>.npy        float32, one per tensor, named as PyTorch's state_dict (e.g. gru1.weight_ih_l0)
 *   …                         extra files the spec's model writes (e.g. a graph)
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tfc from '@tensorflow/tfjs-core';
import type { FitContext, FittedMapper, Mapper, MapperFactory, Options } from '../contracts.js';
import type { TfModule } from '../compute/tfjs.js';
import { UserError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { readNpy, writeNpy } from '../io/npy.js';
import type { PluginServices } from '../services.js';
import type { Matrix } from '../tensor.js';
import { ensureGradients } from './gradients.js';
import { ParamStore } from './params.js';
import type { ForwardContext } from './layers.js';
import { trainingOptionsProperties, type TrainingDefaults, type TrainingOptions } from './schema.js';
import { projectionEngineFor, trainNetwork, type ForwardEngine } from './trainer.js';

export const NEURAL_FORMAT = 'neurodecode-neural';
export const NEURAL_FORMAT_VERSION = 1;

export interface ModelShapes {
  inputs: number;
  outputs: number;
}

export interface BuildContext {
  tf: TfModule;
  services: PluginServices;
  seed: number;
  /** At fit time: the z-scored training rows and their targets (e.g. to build a graph). */
  train?: { X: Matrix; Y: Matrix };
  /** At load time: the saved model's folder (to read the spec's extra files). */
  savedDir?: string;
}

/**
 * The first, data-facing products of a model: x·W_iᵀ for each weight W_i (out_i, inputs). A model that declares
 * them can have them computed by ONNX Runtime (much faster than tfjs-wasm for these tall products).
 */
export interface InputProjection {
  weights: tfc.Variable[];
  /** The rest of the network from the products, one (B, out_i) tensor per weight. */
  forwardFromProducts(products: tfc.Tensor2D[], ctx: ForwardContext): tfc.Tensor2D;
  /**
   * Optional: the network ends with a Linear layer (`weight` (outputs, in), `bias`) applied to
   * `features(products, ctx)`; that wide product and its gradients then run on ONNX Runtime too. Must satisfy
   * forwardFromProducts(p, ctx) = features(p, ctx)·weightᵀ + bias.
   */
  output?: { weight: tfc.Variable; bias?: tfc.Variable; features(products: tfc.Tensor2D[], ctx: ForwardContext): tfc.Tensor2D };
}

export interface NeuralModel {
  /** (B, inputs) z-scored rows → (B, outputs). */
  forward(x: tfc.Tensor2D, ctx: ForwardContext): tfc.Tensor2D;
  inputProjection?: InputProjection;
  /** Writes extra files into the model folder (read back by `build` through `context.savedDir`). */
  save?(dir: string): Promise<void>;
  /** Facts for the fitted mapper's summary (e.g. graph edges). */
  summary?: Record<string, unknown>;
}

export interface NeuralSpec<O extends TrainingOptions = TrainingOptions> {
  /** The mapper id (also stored in saved models). */
  id: string;
  /** Training defaults of this architecture (what `trainingOptionsProperties` puts in the plugin's schema). */
  defaults: TrainingDefaults;
  /** The plugin's whole options schema: its defaults fill options a direct caller (not the registry) left out. */
  optionsSchema?: { properties: Record<string, unknown> };
  build(store: ParamStore, shapes: ModelShapes, options: O, context: BuildContext): NeuralModel | Promise<NeuralModel>;
}

/** The shared training options with a spec's defaults, as values (for callers that bypass schema validation). */
export function defaultTrainingOptions(defaults: TrainingDefaults): TrainingOptions {
  return schemaDefaults({ properties: trainingOptionsProperties(defaults) }) as unknown as TrainingOptions;
}

/** The `default` of each property of an object schema. */
export function schemaDefaults(schema: { properties: Record<string, unknown> }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(schema.properties)) {
    const value = (property as { default?: unknown }).default;
    if (value !== undefined) out[key] = structuredClone(value);
  }
  return out;
}

function defaultsOf(spec: NeuralSpec<TrainingOptions>): Record<string, unknown> {
  return { ...defaultTrainingOptions(spec.defaults), ...(spec.optionsSchema ? schemaDefaults(spec.optionsSchema) : {}) };
}

export function neuralMapperFactory<O extends TrainingOptions>(spec: NeuralSpec<O>): MapperFactory {
  return {
    create(options: Options, services: PluginServices): Mapper {
      const full = { ...defaultsOf(spec as unknown as NeuralSpec<TrainingOptions>), ...options } as unknown as O;
      return { fit: (X, Y, context) => fitNeural(spec, full, services, X, Y, context) };
    },
    load: (dir, services) => loadNeural(spec, dir, services),
  };
}

interface XStats {
  mean: Float32Array;
  scale: Float32Array;
}

async function fitNeural<O extends TrainingOptions>(
  spec: NeuralSpec<O>,
  options: O,
  services: PluginServices,
  X: Matrix,
  Y: Matrix,
  context: FitContext,
): Promise<FittedMapper> {
  const where = `mapper ${spec.id}`;
  if (X.rows !== Y.rows) throw new UserError(`X has ${X.rows} rows but the targets have ${Y.rows}`, where);
  if (X.rows < 2) throw new UserError(`training needs at least 2 rows, got ${X.rows}`, where);
  const badTarget = firstNonFinite(Y.data);
  if (badTarget >= 0) {
    throw new UserError(`targets contain a non-finite value (${Y.data[badTarget]}) at row ${Math.floor(badTarget / Y.cols)}, column ${badTarget % Y.cols}: expected finite numbers`, where);
  }
  const { tf, backend } = await services.tensorflow.load();
  await ensureGradients(tf);
  const stats = options.standardize ? columnStats(X) : { mean: new Float32Array(X.cols), scale: new Float32Array(X.cols).fill(1) };
  const Xs = options.standardize ? await services.linalg.subtractRow(X, stats.mean, reciprocal(stats.scale)) : X;
  const store = new ParamStore(tf, context.seed);
  const shapes = { inputs: X.cols, outputs: Y.cols };
  const model = await spec.build(store, shapes, options, { tf, services, seed: context.seed, train: { X: Xs, Y } });
  const engine = projectionEngineFor(options.projectionEngine, backend, model, services.linalg, options);
  const started = performance.now();
  const result = await trainNetwork({ tf, store, model, engine, options, X: Xs, Y, seed: context.seed, signal: context.signal, progress: services.progress, label: `${spec.id} training` });
  const summary = {
    ...result,
    seconds: Math.round((performance.now() - started) / 10) / 100,
    parameters: store.count(),
    backend,
    projectionEngine: engine.name,
    ...(model.summary ?? {}),
  };
  services.log.debug(`${spec.id}: ${JSON.stringify(summary)}`);
  return new FittedNeural(spec.id, options, shapes, stats, store, model, engine, context.seed, summary);
}

class FittedNeural implements FittedMapper {
  constructor(
    private readonly id: string,
    private readonly options: TrainingOptions,
    private readonly shapes: ModelShapes,
    private readonly stats: XStats,
    private readonly store: ParamStore,
    private readonly model: NeuralModel,
    private readonly engine: ForwardEngine,
    private readonly seed: number,
    readonly summary: Record<string, unknown>,
  ) {}

  async predict(X: Matrix): Promise<Matrix> {
    if (X.cols !== this.shapes.inputs) {
      throw new UserError(`the model was fitted on ${this.shapes.inputs} voxels, but X has ${X.cols} columns`, `mapper ${this.id}`);
    }
    const Xs = standardize(X, this.stats);
    return this.engine.predict(this.store.tf, this.model, Xs, this.shapes.outputs);
  }

  async save(dir: string): Promise<void> {
    await mkdir(join(dir, 'weights'), { recursive: true });
    const parameters = [];
    for (const e of this.store.entries()) {
      const file = `weights/${e.name}.npy`;
      await writeNpy(join(dir, file), { shape: e.variable.shape, data: Float32Array.from(e.variable.dataSync() as Float32Array) });
      parameters.push({ name: e.name, shape: e.variable.shape, trainable: e.trainable, file });
    }
    await writeNpy(join(dir, 'x-mean.npy'), { shape: [this.stats.mean.length], data: this.stats.mean });
    await writeNpy(join(dir, 'x-scale.npy'), { shape: [this.stats.scale.length], data: this.stats.scale });
    if (this.model.save) await this.model.save(dir);
    const meta: SavedMeta = {
      format: NEURAL_FORMAT,
      version: NEURAL_FORMAT_VERSION,
      mapper: this.id,
      options: this.options as unknown as Record<string, unknown>,
      inputs: this.shapes.inputs,
      outputs: this.shapes.outputs,
      seed: this.seed,
      parameters,
      summary: this.summary,
    };
    await writeFileAtomic(join(dir, 'model.json'), `${JSON.stringify(meta, null, 2)}\n`);
  }
}

interface SavedMeta {
  format: string;
  version: number;
  mapper: string;
  options: Record<string, unknown>;
  inputs: number;
  outputs: number;
  seed: number;
  parameters: Array<{ name: string; shape: number[]; trainable: boolean; file: string }>;
  summary: Record<string, unknown>;
}

async function loadNeural<O extends TrainingOptions>(spec: NeuralSpec<O>, dir: string, services: PluginServices): Promise<FittedMapper> {
  const metaPath = join(dir, 'model.json');
  let meta: SavedMeta;
  try {
    meta = JSON.parse(await readFile(metaPath, 'utf8')) as SavedMeta;
  } catch (error) {
    throw new UserError(`cannot read the saved model (${(error as Error).message})`, metaPath);
  }
  if (meta.format !== NEURAL_FORMAT || meta.version !== NEURAL_FORMAT_VERSION) {
    throw new UserError(`expected format ${NEURAL_FORMAT} version ${NEURAL_FORMAT_VERSION}, found ${meta.format} ${meta.version}`, metaPath);
  }
  if (meta.mapper !== spec.id) throw new UserError(`this is a saved '${meta.mapper}' model, not '${spec.id}'`, metaPath);
  const { tf, backend } = await services.tensorflow.load();
  const options = { ...defaultsOf(spec as unknown as NeuralSpec<TrainingOptions>), ...meta.options } as unknown as O;
  const store = new ParamStore(tf, meta.seed);
  const shapes = { inputs: meta.inputs, outputs: meta.outputs };
  const model = await spec.build(store, shapes, options, { tf, services, seed: meta.seed, savedDir: dir });
  const saved = new Map(meta.parameters.map((p) => [p.name, p]));
  const values = new Map<string, Float32Array>();
  for (const e of store.entries()) {
    const p = saved.get(e.name);
    if (!p) throw new UserError(`the model's options build a tensor '${e.name}' that the saved model does not have`, metaPath);
    saved.delete(e.name);
    const path = join(dir, p.file);
    const array = await readNpy(path);
    if (array.shape.join(',') !== e.variable.shape.join(',') || !(array.data instanceof Float32Array)) {
      throw new UserError(`expected float32 of shape (${e.variable.shape.join(', ')}) for '${e.name}', found (${array.shape.join(', ')})`, path);
    }
    values.set(e.name, array.data);
  }
  if (saved.size > 0) throw new UserError(`saved tensors not in the model its options build: ${[...saved.keys()].join(', ')}`, metaPath);
  store.restore(values);
  const readStat = async (name: string) => {
    const path = join(dir, name);
    const a = await readNpy(path);
    if (a.shape.join(',') !== String(meta.inputs) || !(a.data instanceof Float32Array)) {
      throw new UserError(`expected float32 of shape (${meta.inputs}), found (${a.shape.join(', ')})`, path);
    }
    return a.data;
  };
  const stats = { mean: await readStat('x-mean.npy'), scale: await readStat('x-scale.npy') };
  const engine = projectionEngineFor(options.projectionEngine, backend, model, services.linalg);
  return new FittedNeural(spec.id, options, shapes, stats, store, model, engine, meta.seed, meta.summary);
}

/** Column mean and population std (scale 1 for constant columns, so they stay 0 after centring). */
function columnStats(X: Matrix): XStats {
  const { rows, cols, data } = X;
  const sum = new Float64Array(cols);
  const sq = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let j = 0; j < cols; j++) sum[j]! += data[o + j]!;
  }
  const mean = Float64Array.from(sum, (s) => s / rows);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let j = 0; j < cols; j++) {
      const d = data[o + j]! - mean[j]!;
      sq[j]! += d * d;
    }
  }
  const scale = Float32Array.from(sq, (s) => {
    const sd = Math.sqrt(s / rows);
    return sd > 1e-12 ? sd : 1;
  });
  return { mean: Float32Array.from(mean), scale };
}

function reciprocal(a: Float32Array): Float32Array {
  return Float32Array.from(a, (v) => 1 / v);
}

function standardize(X: Matrix, stats: XStats): Matrix {
  const out = new Float32Array(X.data.length);
  const inv = reciprocal(stats.scale);
  for (let i = 0; i < X.rows; i++) {
    const o = i * X.cols;
    for (let j = 0; j < X.cols; j++) out[o + j] = (X.data[o + j]! - stats.mean[j]!) * inv[j]!;
  }
  return { rows: X.rows, cols: X.cols, data: out };
}

function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return i;
  return -1;
}
