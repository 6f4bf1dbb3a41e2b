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
import { schemaDefaults } from '../option-docs.js';
import { writeFileAtomic } from '../io/atomic.js';
import { readNpy, writeNpy } from '../io/npy.js';
import type { PluginServices } from '../services.js';
import type { Matrix } from '../tensor.js';
import { ensureGradients } from './gradients.js';
import { ParamStore } from './params.js';
import type { ForwardContext } from './layers.js';
import { trainingOptionsProperties, type TrainingDefaults, type TrainingOptions } from './schema.js';
import { PREDICT_BATCH, projectionEngineFor, trainNetwork, type ForwardEngine } from './trainer.js';

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
 * What a pass may return instead of a bare output: the output, and a loss term of its own that the trainer adds to
 * loss(output, target) — in training (logged loss, gradients) and in validation (early stopping). A function, so
 * that prediction, which never calls it, does not pay for what only the loss needs (e.g. the VAE's decoder).
 */
export interface ModelOutput {
  /** (B, outputs): what the target loss compares with the targets and what prediction returns. */
  output: tfc.Tensor2D;
  /** The term for this pass; x = the pass's z-scored input rows (B, inputs). Must be a mean over the batch's rows. */
  auxiliaryLoss?(x: tfc.Tensor2D): tfc.Scalar;
}

/** A pass's result: the output alone, or with an auxiliary loss. */
export type PassResult = tfc.Tensor2D | ModelOutput;

/**
 * The first, data-facing products of a model: P·W_iᵀ for each weight W_i (out_i, cols), with P the z-scored rows
 * or, when `prepareInputs` is given, a parameter-free function of them. A model that declares them can have them
 * computed by ONNX Runtime (much faster than tfjs-wasm for these tall products).
 */
export interface InputProjection<R extends PassResult = tfc.Tensor2D> {
  weights: tfc.Variable[];
  /**
   * How the weights form the one matrix of the product: 'rows' (default) stacks them, [W_1; W_2; …], one block of
   * columns of the product per weight; 'columns' concatenates them, [W_1 W_2 …] (all with the same out), so that
   * each block of P's columns meets its own weight and the products add up — one product, e.g. ChebConv's
   * Σ_k T_k(L̃)X·W_kᵀ.
   */
  stack?: 'rows' | 'columns';
  /**
   * Optional: P from the z-scored rows (B, inputs) → (B·rowsPerItem, Σ cols), item-major (the rows of item b are
   * b·rowsPerItem …). Must not depend on parameters: the engine computes it once per fit for the training rows
   * (once per batch at prediction) and never differentiates through it.
   */
  prepareInputs?(x: Matrix): Matrix;
  /** Rows of P per input row (default 1); the products then have B·rowsPerItem rows. */
  rowsPerItem?: number;
  /** The rest of the network from the products, one (B·rowsPerItem, out_i) tensor per weight (one for 'columns'). */
  forwardFromProducts(products: tfc.Tensor2D[], ctx: ForwardContext): R;
  /**
   * Optional: the network ends with a Linear layer (`weight` (outputs, in), `bias`) applied to
   * `features(products, ctx)`; that wide product and its gradients then run on ONNX Runtime too. Must satisfy
   * forwardFromProducts(p, ctx) = features(p, ctx)·weightᵀ + bias (an auxiliary loss comes with the features).
   */
  output?: { weight: tfc.Variable; bias?: tfc.Variable; features(products: tfc.Tensor2D[], ctx: ForwardContext): R };
}

/**
 * A network. R is what its passes return: the bare output (the default) or, for a model with an auxiliary loss,
 * `PassResult`; the core handles `NeuralModel<PassResult>`, which every model is.
 */
export interface NeuralModel<R extends PassResult = tfc.Tensor2D> {
  /** (B, inputs) z-scored rows → (B, outputs), optionally with an auxiliary loss (see ModelOutput). */
  forward(x: tfc.Tensor2D, ctx: ForwardContext): R;
  inputProjection?: InputProjection<R>;
  /** Writes extra files into the model folder (read back by `build` through `context.savedDir`). */
  save?(dir: string): Promise<void>;
  /** Facts for the fitted mapper's summary (e.g. graph edges). */
  summary?: Record<string, unknown>;
}

/** The output of a pass and its auxiliary loss, if any. */
export function splitPass(result: PassResult): ModelOutput {
  return 'output' in result ? result : { output: result };
}

/** The training objective of one pass: loss(output, target) + the pass's auxiliary loss on its input rows x. */
export function passLoss(tf: TfModule, result: PassResult, x: tfc.Tensor2D | (() => tfc.Tensor2D), lossOf: (pred: tfc.Tensor2D) => tfc.Scalar): tfc.Scalar {
  const { output, auxiliaryLoss } = splitPass(result);
  const target = lossOf(output);
  if (!auxiliaryLoss) return target;
  return tf.add(target, auxiliaryLoss(typeof x === 'function' ? x() : x)) as tfc.Scalar;
}

export interface NeuralSpec<O extends TrainingOptions = TrainingOptions> {
  /** The mapper id (also stored in saved models). */
  id: string;
  /** Training defaults of this architecture (what `trainingOptionsProperties` puts in the plugin's schema). */
  defaults: TrainingDefaults;
  /** The plugin's whole options schema: its defaults fill options a direct caller (not the registry) left out. */
  optionsSchema?: { properties: Record<string, unknown> };
  build(store: ParamStore, shapes: ModelShapes, options: O, context: BuildContext): NeuralModel<PassResult> | Promise<NeuralModel<PassResult>>;
}

/** The shared training options with a spec's defaults, as values (for callers that bypass schema validation). */
export function defaultTrainingOptions(defaults: TrainingDefaults): TrainingOptions {
  return schemaDefaults({ properties: trainingOptionsProperties(defaults) }) as unknown as TrainingOptions;
}

export { schemaDefaults };

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
  const started = performance.now();
  const { model, engine, result } = await translatingWasmOutOfMemory(backend, spec.id, 'training', options, async () => {
    const model = await spec.build(store, shapes, options, { tf, services, seed: context.seed, train: { X: Xs, Y } });
    const engine = projectionEngineFor(options.projectionEngine, backend, model, services.linalg, options);
    const result = await trainNetwork({ tf, store, model, engine, options, X: Xs, Y, seed: context.seed, signal: context.signal, progress: services.progress, label: `${spec.id} training` });
    return { model, engine, result };
  });
  const summary = {
    ...result,
    seconds: Math.round((performance.now() - started) / 10) / 100,
    parameters: store.count(),
    backend,
    projectionEngine: engine.name,
    ...(model.summary ?? {}),
  };
  services.log.debug(`${spec.id}: ${JSON.stringify(summary)}`);
  return new FittedNeural(spec.id, options, shapes, stats, store, model, engine, context.seed, summary, backend);
}

/**
 * Whether an error is tfjs-backend-wasm's heap running out (it is capped at 4 GB): Emscripten reports it as a
 * WebAssembly RuntimeError, 'memory access out of bounds' or 'Aborted(…)'.
 */
export function isWasmHeapExhaustion(error: unknown): boolean {
  if (!(error instanceof Error) || error.name !== 'RuntimeError') return false;
  return /memory access out of bounds/i.test(error.message) || /^Aborted\(/.test(error.message);
}

/** Runs work; on the wasm backend, turns heap exhaustion into a UserError that says what to change. */
async function translatingWasmOutOfMemory<T>(backend: string, id: string, stage: 'training' | 'prediction', options: TrainingOptions, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (backend !== 'wasm' || !isWasmHeapExhaustion(error)) throw error;
    throw wasmOutOfMemoryError(id, stage, options, error as Error);
  }
}

/** The UserError for heap exhaustion in a mapper's training or prediction. */
export function wasmOutOfMemoryError(id: string, stage: 'training' | 'prediction', options: Pick<TrainingOptions, 'batchSize' | 'microBatchSize'>, error: Error): UserError {
  const passRows = Math.min(options.microBatchSize ?? options.batchSize, options.batchSize);
  const suggestion =
    stage === 'training'
      ? `set "microBatchSize" in the mapper's options below the rows per pass (now ${passRows}; e.g. ${Math.max(1, Math.floor(passRows / 4))}: same steps, passes of fewer rows), or lower batchSize (${options.batchSize})`
      : `set "microBatchSize" in the mapper's options (prediction runs in passes of at most that many rows, else ${PREDICT_BATCH})`;
  return new UserError(
    `${stage} ran out of memory in the TensorFlow.js WebAssembly backend, whose heap is capped at 4 GB (${error.message.split('.')[0]}): ${suggestion}, or install @tensorflow/tfjs-node to run on native TensorFlow. The WebAssembly backend may be unusable for the rest of this process: run the command again after the change`,
    `mapper ${id}`,
  );
}

class FittedNeural implements FittedMapper {
  constructor(
    private readonly id: string,
    private readonly options: TrainingOptions,
    private readonly shapes: ModelShapes,
    private readonly stats: XStats,
    private readonly store: ParamStore,
    private readonly model: NeuralModel<PassResult>,
    private readonly engine: ForwardEngine,
    private readonly seed: number,
    readonly summary: Record<string, unknown>,
    private readonly backend: string,
  ) {}

  async predict(X: Matrix): Promise<Matrix> {
    if (X.cols !== this.shapes.inputs) {
      throw new UserError(`the model was fitted on ${this.shapes.inputs} voxels, but X has ${X.cols} columns`, `mapper ${this.id}`);
    }
    const Xs = standardize(X, this.stats);
    return translatingWasmOutOfMemory(this.backend, this.id, 'prediction', this.options, () =>
      this.engine.predict(this.store.tf, this.model, Xs, this.shapes.outputs, this.options.microBatchSize),
    );
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
  return new FittedNeural(spec.id, options, shapes, stats, store, model, engine, meta.seed, meta.summary, backend);
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
