/**
 * The training loop shared by neural mappers: seeded validation split of the training rows, shuffled batches,
 * Adam with PyTorch's L2 weight decay, early stopping that restores the best epoch, progress, abort, and a clear
 * error when the loss stops being finite.
 *
 * The loss of a batch is loss(output, target) plus the model's auxiliary loss, if its pass returns one; so is the
 * validation loss (evaluation mode) that early stopping watches.
 *
 * Speed: on the wasm/cpu backends a model's data-facing products X·W_iᵀ (for the GRU, 2/3 of all flops) run on
 * ONNX Runtime: Z = P·Wᵀ there (P = X, or parameter-free inputs the model prepares from X once per fit), the rest
 * of the network and the loss in tfjs with Z as a variable, then dW = dZᵀ·P back on ONNX Runtime, and Adam updates
 * those weights in JS, every other variable in tfjs.
 *
 * Micro-batching (`microBatchSize`): a step's batch runs in passes of at most that many rows; each pass's
 * gradients (tfjs here, the host weights' in the ONNX Runtime engine) are weighted by its share of the rows and
 * summed, and Adam runs once per step. For a loss that is a mean over rows this is the whole-batch gradient.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { TfModule } from '../compute/tfjs.js';
import type { Linalg } from '../compute/linalg.js';
import { UserError } from '../errors.js';
import type { Progress } from '../progress.js';
import { Rng } from '../rng.js';
import type { Matrix } from '../tensor.js';
import type { ForwardContext } from './layers.js';
import { passLoss, splitPass, type NeuralModel as Model, type PassResult } from './neural-mapper.js';
import { mixSeed, type ParamStore } from './params.js';
import { lossFromOptions, type TrainingOptions } from './schema.js';

/** Any model, whatever its passes return. */
type NeuralModel = Model<PassResult>;

/** Rows predicted per forward pass outside training. */
export const PREDICT_BATCH = 256;

/** Evaluation mode (no dropout, running statistics). */
const EVALUATION: ForwardContext = { training: false, seed: 0 };

/** One training batch: its z-scored rows and, for an engine that prepares its inputs, their prepared rows. */
export interface Batch {
  X: Matrix;
  prepared?: Matrix;
}

/**
 * A pass's part of its step: `weight` = its rows / the step's rows (the factor of its gradients in the step's), and
 * whether it is the step's last pass (the engine then applies the accumulated gradients of the weights it keeps).
 */
export interface PassShare {
  weight: number;
  last: boolean;
}

/** One pass that is the whole step. */
const WHOLE_STEP: PassShare = { weight: 1, last: true };

/** Outputs for rows, and the row-weighted mean of the passes' auxiliary losses (0 without). */
export interface Evaluation {
  prediction: Matrix;
  auxiliaryLoss: number;
}

/** How a model's forward pass (and its gradient) is computed. */
export interface ForwardEngine {
  readonly name: 'tensorflow' | 'onnxruntime';
  /**
   * Loss (target loss + the model's auxiliary loss) and gradients of one batch (keyed by variable name) for the
   * variables tfjs updates. An engine that keeps some weights itself (the ONNX Runtime input products) updates
   * those here, with Adam as the optimizer does: the pass's gradients for them, times `pass.weight`, are summed
   * until the step's last pass, which applies the sum (default: the pass is the whole step). The returned loss
   * and gradients are the pass's own, unweighted.
   */
  step(
    tf: TfModule,
    model: NeuralModel,
    lossOf: (pred: tfc.Tensor2D) => tfc.Scalar,
    batch: Batch,
    ctx: ForwardContext,
    vars: tfc.Variable[],
    pass?: PassShare,
  ): Promise<{ loss: tfc.Scalar; grads: tfc.NamedTensorMap }>;
  /** The parameter-free inputs this engine computes from rows once per fit (the projection's `prepareInputs`). */
  prepare?(model: NeuralModel, X: Matrix): Matrix | undefined;
  /** Rows of prepared inputs per row of X (1 when nothing is prepared). */
  rowsPerItem?(model: NeuralModel): number;
  /** Outputs for rows (no training mode), in passes of at most `passRows` rows (default and cap PREDICT_BATCH). */
  predict(tf: TfModule, model: NeuralModel, X: Matrix, outputs: number, passRows?: number): Promise<Matrix>;
  /** As predict, with the mean auxiliary loss of the evaluation-mode passes (for the validation loss). */
  evaluate(tf: TfModule, model: NeuralModel, X: Matrix, outputs: number, passRows?: number): Promise<Evaluation>;
  /** Writes weights the engine keeps back into the model's variables (before a snapshot, after training). */
  sync?(tf: TfModule, model: NeuralModel): void;
  /** Syncs, then drops training state (the engine reads the variables again from then on). */
  finish?(tf: TfModule, model: NeuralModel): void;
}

export interface AdamSettings {
  learningRate: number;
  weightDecay: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export function projectionEngineFor(
  preference: TrainingOptions['projectionEngine'],
  backend: string,
  model: NeuralModel,
  linalg: Linalg,
  adam?: AdamSettings,
): ForwardEngine {
  const native = backend === 'tensorflow' || backend === 'tensorflow-gpu';
  const useOrt = model.inputProjection !== undefined && (preference === 'onnxruntime' || (preference === 'auto' && !native));
  return useOrt ? onnxProjectionEngine(linalg, adam) : tensorflowEngine;
}

function toTensor(tf: TfModule, m: Matrix): tfc.Tensor2D {
  return tf.tensor2d(m.data, [m.rows, m.cols], 'float32');
}

/** A pass's output and, when asked for and the model has one, its auxiliary loss on the rows x. */
function evaluated(tf: TfModule, result: PassResult, x: () => tfc.Tensor2D, withAuxiliary: boolean): { y: tfc.Tensor2D; aux?: tfc.Scalar } {
  const { output, auxiliaryLoss } = splitPass(result);
  return withAuxiliary && auxiliaryLoss ? { y: output, aux: auxiliaryLoss(x()) } : { y: output };
}

const tensorflowEngine: ForwardEngine = {
  name: 'tensorflow',
  async step(tf, model, lossOf, batch, ctx, vars) {
    const x = toTensor(tf, batch.X);
    const { value, grads } = tf.variableGrads(() => passLoss(tf, model.forward(x, ctx), x, lossOf), vars);
    x.dispose();
    return { loss: value, grads };
  },
  async predict(tf, model, X, outputs, passRows) {
    return (await tensorflowEvaluate(tf, model, X, outputs, false, passRows)).prediction;
  },
  evaluate: (tf, model, X, outputs, passRows) => tensorflowEvaluate(tf, model, X, outputs, true, passRows),
};

function tensorflowEvaluate(tf: TfModule, model: NeuralModel, X: Matrix, outputs: number, withAuxiliary: boolean, passRows: number | undefined): Promise<Evaluation> {
  return batchedEvaluate(X, outputs, passRows, async (rows) =>
    tf.tidy(() => {
      const x = toTensor(tf, rows);
      return evaluated(tf, model.forward(x, EVALUATION), () => x, withAuxiliary);
    }),
  );
}

/** acc + weight·g, in place in acc (a new sum when acc is undefined; g itself when weight is 1). */
function accumulate(acc: Float32Array | undefined, g: Float32Array, weight: number): Float32Array {
  if (!acc) return weight === 1 ? g : g.map((v) => v * weight);
  for (let i = 0; i < acc.length; i++) acc[i]! += weight * g[i]!;
  return acc;
}

/**
 * The input weights, stacked into the one matrix of the product, live in JavaScript memory during training: ONNX
 * Runtime reads them without a copy out of the wasm heap, and Adam updates them in a plain loop (they are most of
 * the model: 9.4 M of the GRU's 12.4 M parameters), which is faster than tfjs-wasm's chain of element-wise kernels.
 */
class HostWeights {
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private t = 0;

  constructor(
    /** A copy: Adam updates it in place while the tfjs variables keep their values until `sync`. */
    readonly W: Float32Array,
    readonly rows: number,
    readonly cols: number,
    private readonly adam: AdamSettings,
  ) {
    this.m = new Float32Array(W.length);
    this.v = new Float32Array(W.length);
  }

  /** The step's gradient so far: the sum of its passes' weighted gradients. */
  private pending: Float32Array | undefined;

  /** Adds a pass's gradient, times its weight; the step's last pass then applies the sum (Adam). */
  add(grad: Float32Array, pass: PassShare): void {
    this.pending = accumulate(this.pending, grad, pass.weight);
    if (!pass.last) return;
    const sum = this.pending;
    this.pending = undefined;
    this.update(sum);
  }

  /** One Adam step as PyTorch's (L2 weight decay added to the gradient, bias-corrected moments). */
  update(grad: Float32Array): void {
    const { learningRate: lr, weightDecay: wd } = this.adam;
    const b1 = this.adam.beta1 ?? 0.9;
    const b2 = this.adam.beta2 ?? 0.999;
    const eps = this.adam.epsilon ?? 1e-8;
    this.t++;
    const c1 = 1 - b1 ** this.t;
    const c2 = 1 - b2 ** this.t;
    const step = lr / c1;
    const root2 = Math.sqrt(c2);
    const { W, m, v } = this;
    for (let i = 0; i < W.length; i++) {
      const g = wd > 0 ? grad[i]! + wd * W[i]! : grad[i]!;
      const mi = b1 * m[i]! + (1 - b1) * g;
      const vi = b2 * v[i]! + (1 - b2) * g * g;
      m[i] = mi;
      v[i] = vi;
      W[i] = W[i]! - (step * mi) / (Math.sqrt(vi) / root2 + eps);
    }
  }
}

type Stacking = 'rows' | 'columns';

/** The weights as the one (rows × cols) matrix of the product (a new array), stacked as `InputProjection.stack`. */
export function stackWeights(weights: tfc.Variable[], stack: Stacking): Matrix {
  const values = weights.map((w) => w.dataSync() as Float32Array);
  if (stack === 'rows') {
    const cols = weights[0]!.shape[1]!;
    return { rows: weights.reduce((a, w) => a + w.shape[0]!, 0), cols, data: Float32Array.from(concat(values)) };
  }
  const rows = weights[0]!.shape[0]!;
  const widths = weights.map((w) => w.shape[1]!);
  const cols = widths.reduce((a, b) => a + b, 0);
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let offset = r * cols;
    values.forEach((v, i) => {
      data.set(v.subarray(r * widths[i]!, (r + 1) * widths[i]!), offset);
      offset += widths[i]!;
    });
  }
  return { rows, cols, data };
}

/** Writes a stacked matrix back into the variables it came from (the inverse of stackWeights). */
function assignStacked(tf: TfModule, weights: tfc.Variable[], stacked: Float32Array, stack: Stacking): void {
  const cols = stack === 'rows' ? weights[0]!.shape[1]! : weights.reduce((a, w) => a + w.shape[1]!, 0);
  let offset = 0;
  for (const w of weights) {
    const [n, c] = w.shape as [number, number];
    let part: Float32Array;
    if (stack === 'rows') {
      part = stacked.subarray(offset * cols, (offset + n) * cols);
      offset += n;
    } else {
      part = new Float32Array(n * c);
      for (let r = 0; r < n; r++) part.set(stacked.subarray(r * cols + offset, r * cols + offset + c), r * c);
      offset += c;
    }
    tf.tidy(() => w.assign(tf.tensor(part, w.shape, 'float32')));
  }
}

function onnxProjectionEngine(linalg: Linalg, adam: AdamSettings | undefined): ForwardEngine {
  let input: HostWeights | undefined;
  let output: HostWeights | undefined;
  const stackOf = (model: NeuralModel): Stacking => model.inputProjection!.stack ?? 'rows';
  /** Column blocks of the product, one per weight ('rows') or one in all ('columns'). */
  const sizesOf = (model: NeuralModel): number[] => {
    const { weights } = model.inputProjection!;
    return stackOf(model) === 'rows' ? weights.map((w) => w.shape[0]!) : [weights[0]!.shape[0]!];
  };
  const rowsPerItem = (model: NeuralModel): number => model.inputProjection!.rowsPerItem ?? 1;
  const prepare = (model: NeuralModel, X: Matrix): Matrix => {
    const projection = model.inputProjection!;
    if (!projection.prepareInputs) return X;
    const P = projection.prepareInputs(X);
    if (P.rows !== X.rows * rowsPerItem(model)) {
      throw new Error(`internal: prepareInputs gave ${P.rows} rows for ${X.rows} items of ${rowsPerItem(model)} rows`);
    }
    return P;
  };
  /** Z = P·Wᵀ on ONNX Runtime, for the stacked weights W (host copy while training). */
  const products = async (model: NeuralModel, P: Matrix): Promise<Matrix> => {
    const W = input ? { rows: input.rows, cols: input.cols, data: input.W } : stackWeights(model.inputProjection!.weights, stackOf(model));
    if (W.cols !== P.cols) throw new Error(`internal: the input projection's weights have ${W.cols} columns, its inputs ${P.cols}`);
    return linalg.gemm(P, W, { transB: true });
  };
  const hostOf = (weights: tfc.Variable[], stack: Stacking): HostWeights => {
    if (!adam) throw new Error('the onnxruntime engine needs Adam settings to train');
    const W = stackWeights(weights, stack);
    return new HostWeights(W.data, W.rows, W.cols, adam);
  };
  const syncOutput = (tf: TfModule, model: NeuralModel): void => {
    const head = model.inputProjection!.output;
    if (output && head) assignStacked(tf, [head.weight], output.W, 'rows');
  };
  const sync = (tf: TfModule, model: NeuralModel): void => {
    if (input) assignStacked(tf, model.inputProjection!.weights, input.W, stackOf(model));
    syncOutput(tf, model);
  };
  const evaluate = (tf: TfModule, model: NeuralModel, X: Matrix, outputs: number, withAuxiliary: boolean, passRows: number | undefined): Promise<Evaluation> => {
    const projection = model.inputProjection!;
    // During training the output layer's weight is current only in the host copy: tfjs gets it first (the input
    // products read the host copy).
    syncOutput(tf, model);
    return batchedEvaluate(X, outputs, passRows, async (rows) => {
      const Z = await products(model, prepare(model, rows));
      return tf.tidy(() => evaluated(tf, projection.forwardFromProducts(splitColumns(tf, toTensor(tf, Z), sizesOf(model)), EVALUATION), () => toTensor(tf, rows), withAuxiliary));
    });
  };
  return {
    name: 'onnxruntime',
    prepare: (model, X) => (model.inputProjection!.prepareInputs ? prepare(model, X) : undefined),
    rowsPerItem,
    async step(tf, model, lossOf, batch, ctx, vars, pass = WHOLE_STEP) {
      const projection = model.inputProjection!;
      input ??= hostOf(projection.weights, stackOf(model));
      const head = projection.output;
      if (head) output ??= hostOf([head.weight], 'rows');
      const P = batch.prepared ?? prepare(model, batch.X);
      const sizes = sizesOf(model);
      const Z = await products(model, P);
      const z = tf.variable(toTensor(tf, Z), true, `projection#${projectionId++}`);
      // The input rows, made in tfjs only if the model's auxiliary loss asks for them.
      const rowsTensor = () => toTensor(tf, batch.X);
      const own = new Set<tfc.Variable>([...projection.weights, ...(head ? [head.weight] : [])]);
      const rest = vars.filter((v) => !own.has(v));
      let result: { value: tfc.Scalar; grads: tfc.NamedTensorMap };
      let pendingOutputUpdate: Promise<Matrix> | undefined;
      if (!head) {
        result = tf.variableGrads(() => passLoss(tf, projection.forwardFromProducts(splitColumns(tf, z, sizes), ctx), rowsTensor, lossOf), [...rest, z]);
      } else {
        // Features (B, in) in tfjs; the wide last product, its input gradient and its weight gradient on ONNX
        // Runtime; then the body's gradients from a recomputed pass given the features' gradient (plus the
        // auxiliary loss, which comes with the features).
        const features = tf.tidy(() => splitPass(head.features(splitColumns(tf, z, sizes), ctx)).output);
        const H = { rows: features.shape[0], cols: features.shape[1], data: (await features.data()) as Float32Array };
        features.dispose();
        const O = await linalg.gemm(H, { rows: output!.rows, cols: H.cols, data: output!.W }, { transB: true });
        const o = tf.variable(toTensor(tf, O), true, `output#${projectionId++}`);
        const last = tf.variableGrads(() => lossOf((head.bias ? tf.add(o, head.bias) : o) as tfc.Tensor2D), head.bias ? [head.bias, o] : [o]);
        const dO = { rows: O.rows, cols: O.cols, data: (await last.grads[o.name]!.data()) as Float32Array };
        // Requested now, computed at the next await (onnxruntime-node runs each product on the JS thread, with its own
        // worker threads inside): there is no overlap with tfjs, the order only keeps the code together.
        const dWpending = linalg.gemm(dO, H, { transA: true }); // (outputs, in)
        dWpending.catch(() => {}); // awaited below; a failure in between must not surface as unhandled
        const dH = await linalg.gemm(dO, { rows: output!.rows, cols: H.cols, data: output!.W }); // (B, in)
        const upstream = toTensor(tf, dH);
        let auxiliary: tfc.Scalar | undefined;
        const body = tf.variableGrads(() => {
          const { output: h, auxiliaryLoss } = splitPass(head.features(splitColumns(tf, z, sizes), { ...ctx, updateStatistics: false }));
          const pulled = tf.sum(tf.mul(h, upstream)) as tfc.Scalar;
          if (!auxiliaryLoss) return pulled;
          auxiliary = tf.keep(auxiliaryLoss(rowsTensor()));
          return tf.add(pulled, auxiliary) as tfc.Scalar;
        }, [...rest.filter((v) => v !== head.bias), z]);
        tf.dispose([upstream, body.value, o, last.grads[o.name]!]);
        const grads = body.grads;
        if (head.bias) grads[head.bias.name] = last.grads[head.bias.name]!;
        pendingOutputUpdate = dWpending;
        const value = auxiliary ? (tf.add(last.value, auxiliary) as tfc.Scalar) : last.value;
        if (auxiliary) tf.dispose([auxiliary, last.value]);
        result = { value, grads };
      }
      const { value, grads } = result;
      const dZ = grads[z.name]!;
      delete grads[z.name];
      const dZdata = (await dZ.data()) as Float32Array;
      dZ.dispose();
      z.dispose();
      const dWpending = linalg.gemm({ rows: Z.rows, cols: Z.cols, data: dZdata }, P, { transA: true }); // (stacked rows, cols)
      dWpending.catch(() => {});
      // Adam in plain JS for the last layer, then the input weights (at the step's last pass; the products of its
      // other passes used the same host weights).
      if (pendingOutputUpdate) output!.add((await pendingOutputUpdate).data, pass);
      input.add((await dWpending).data, pass);
      return { loss: value, grads };
    },
    async predict(tf, model, X, outputs, passRows) {
      return (await evaluate(tf, model, X, outputs, false, passRows)).prediction;
    },
    evaluate: (tf, model, X, outputs, passRows) => evaluate(tf, model, X, outputs, true, passRows),
    sync,
    finish(tf, model) {
      sync(tf, model);
      input = undefined;
      output = undefined;
    },
  };
}

function concat(parts: Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Float32Array(parts.reduce((a, v) => a + v.length, 0));
  let offset = 0;
  for (const v of parts) {
    out.set(v, offset);
    offset += v.length;
  }
  return out;
}

let projectionId = 0;

/** Column blocks of z, as slices (whose gradient is a pad: tfjs's split of a single part has a broken gradient). */
function splitColumns(tf: TfModule, z: tfc.Tensor2D, sizes: number[]): tfc.Tensor2D[] {
  if (sizes.length === 1) return [z];
  let start = 0;
  return sizes.map((size) => {
    const part = tf.slice(z, [0, start], [z.shape[0], size]);
    start += size;
    return part;
  });
}

async function batchedEvaluate(
  X: Matrix,
  outputs: number,
  passRows: number | undefined,
  run: (rows: Matrix) => Promise<{ y: tfc.Tensor2D; aux?: tfc.Scalar }>,
): Promise<Evaluation> {
  const out = new Float32Array(X.rows * outputs);
  let auxiliary = 0;
  const size = Math.min(PREDICT_BATCH, passRows ?? PREDICT_BATCH);
  for (let start = 0; start < X.rows; start += size) {
    const end = Math.min(X.rows, start + size);
    const rows = { rows: end - start, cols: X.cols, data: X.data.subarray(start * X.cols, end * X.cols) };
    const { y, aux } = await run(rows);
    out.set((await y.data()) as Float32Array, start * outputs);
    if (aux) auxiliary += (await aux.data())[0]! * (end - start);
    y.dispose();
    aux?.dispose();
  }
  return { prediction: { rows: X.rows, cols: outputs, data: out }, auxiliaryLoss: X.rows > 0 ? auxiliary / X.rows : 0 };
}

export interface TrainInput {
  tf: TfModule;
  store: ParamStore;
  model: NeuralModel;
  engine: ForwardEngine;
  options: TrainingOptions;
  /** Standardised training rows. */
  X: Matrix;
  Y: Matrix;
  seed: number;
  signal?: AbortSignal;
  progress: Progress;
  label: string;
}

export interface TrainResult {
  epochsRun: number;
  /** 1-based epoch whose weights were kept. */
  bestEpoch: number;
  trainLoss: number;
  validationLoss: number | null;
  trainRows: number;
  validationRows: number;
  stoppedEarly: boolean;
  /** Mean training loss of each epoch. */
  lossHistory: number[];
  validationHistory: number[];
}

/** Held-out rows: a seeded fraction of the training rows (at least 1 when the fraction is positive). */
export function validationSplit(n: number, fraction: number, seed: number): { train: Int32Array; validation: Int32Array } {
  const perm = new Rng(mixSeed(seed, 0x5a11)).permutation(n);
  const nVal = fraction > 0 ? Math.min(n - 1, Math.max(1, Math.round(n * fraction))) : 0;
  const validation = perm.slice(0, nVal).sort();
  const train = perm.slice(nVal).sort();
  return { train, validation };
}

export async function trainNetwork(input: TrainInput): Promise<TrainResult> {
  const { tf, store, model, engine, options, X, Y, seed, signal } = input;
  const lossFn = lossFromOptions(options);
  const { train, validation } = validationSplit(X.rows, options.validationFraction, seed);
  if (train.length < 2) {
    throw new UserError(
      `training needs at least 2 rows after holding out ${validation.length} for validation (validationFraction ${options.validationFraction}); got ${X.rows} rows`,
      input.label,
    );
  }
  refuseMicroBatchedInfoNce(options, input.label);
  const vars = store.trainableVariables();
  const optimizer = tf.train.adam(options.learningRate, 0.9, 0.999, 1e-8);
  const task = input.progress.task(input.label, options.epochs);
  const shuffle = new Rng(mixSeed(seed, 0x5b0f));
  const Yval = rowsOf(Y, validation);
  const Xval = rowsOf(X, validation);
  // Parameter-free inputs of the projection (e.g. ChebConv's T_k(L̃)·X), once for the whole fit.
  const prepared = engine.prepare?.(model, X);
  const perItem = engine.rowsPerItem?.(model) ?? 1;
  let best = Infinity;
  let bestEpoch = 0;
  let bestWeights: Map<string, Float32Array> | undefined;
  let sinceBest = 0;
  let stoppedEarly = false;
  const lossHistory: number[] = [];
  const validationHistory: number[] = [];
  try {
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      const order = shuffle.permutation(train.length);
      let sum = 0;
      let count = 0;
      for (const [b, batch] of batches(order, options.batchSize).entries()) {
        signal?.throwIfAborted();
        const rows = Int32Array.from(batch, (k) => train[k]!);
        const passes = passesOf(rows, options.microBatchSize);
        let value = 0;
        let grads: tfc.NamedTensorMap = {};
        for (const [p, passRows] of passes.entries()) {
          const share: PassShare = { weight: passRows.length / rows.length, last: p === passes.length - 1 };
          // Dropout masks: the batch's seed when it is one pass (as before micro-batching), one per pass otherwise.
          const ctx = { training: true, seed: passes.length === 1 ? mixSeed(seed, epoch, b) : mixSeed(seed, epoch, b, p) };
          const yb = tf.tensor2d(rowsOf(Y, passRows).data, [passRows.length, Y.cols], 'float32');
          const inputs = { X: rowsOf(X, passRows), ...(prepared ? { prepared: itemRowsOf(prepared, passRows, perItem) } : {}) };
          const pass = await engine.step(tf, model, (pred) => lossFn(tf, pred, yb), inputs, ctx, vars, share);
          const passLoss = (await pass.loss.data())[0]!;
          tf.dispose([pass.loss, yb]);
          if (!Number.isFinite(passLoss)) {
            tf.dispose([...Object.values(grads), ...Object.values(pass.grads)]);
            throw new UserError(
              `the training loss became ${passLoss} at epoch ${epoch}, batch ${b + 1}: lower learningRate (${options.learningRate}) or check the data for extreme values`,
              input.label,
            );
          }
          value += share.weight * passLoss;
          grads = passes.length === 1 ? pass.grads : addWeighted(tf, grads, pass.grads, share.weight);
        }
        applyStep(tf, optimizer, grads, vars, options.weightDecay);
        sum += value * rows.length;
        count += rows.length;
      }
      const trainLoss = sum / Math.max(1, count);
      lossHistory.push(trainLoss);
      let status = `epoch ${epoch}/${options.epochs} loss ${trainLoss.toPrecision(4)}`;
      if (validation.length > 0) {
        // The validation loss is the evaluation-mode objective: loss over all held-out rows + the auxiliary loss.
        const { prediction: pred, auxiliaryLoss } = await engine.evaluate(tf, model, Xval, Y.cols, options.microBatchSize);
        const valLoss = auxiliaryLoss + tf.tidy(() => lossFn(tf, tf.tensor2d(pred.data, [pred.rows, pred.cols]), tf.tensor2d(Yval.data, [Yval.rows, Yval.cols])).dataSync()[0]!);
        if (!Number.isFinite(valLoss)) throw new UserError(`the validation loss became ${valLoss} at epoch ${epoch}`, input.label);
        validationHistory.push(valLoss);
        status += ` val ${valLoss.toPrecision(4)}`;
        if (valLoss < best) {
          best = valLoss;
          bestEpoch = epoch;
          engine.sync?.(tf, model);
          bestWeights = store.snapshot();
          sinceBest = 0;
        } else {
          sinceBest++;
        }
      } else {
        bestEpoch = epoch;
      }
      task.tick(1, status);
      if (options.patience > 0 && validation.length > 0 && sinceBest >= options.patience && epoch < options.epochs) {
        stoppedEarly = true;
        break;
      }
    }
  } finally {
    task.done();
    optimizer.dispose();
    engine.finish?.(tf, model);
  }
  if (bestWeights) store.restore(bestWeights);
  return {
    epochsRun: lossHistory.length,
    bestEpoch,
    trainLoss: lossHistory[bestEpoch - 1] ?? NaN,
    validationLoss: validation.length > 0 ? best : null,
    trainRows: train.length,
    validationRows: validation.length,
    stoppedEarly,
    lossHistory,
    validationHistory,
  };
}

/**
 * InfoNCE contrasts each row with the other rows of its pass: split into passes, a batch would lose most of its
 * negatives and its step would no longer be the whole batch's, so the combination is refused.
 */
function refuseMicroBatchedInfoNce(options: TrainingOptions, where: string): void {
  const m = options.microBatchSize;
  if (m === undefined || m >= options.batchSize || !options.loss.includes('infonce')) return;
  throw new UserError(
    `microBatchSize ${m} < batchSize ${options.batchSize} with loss '${options.loss}': InfoNCE takes its negatives from the rows of one pass, so micro-batching would change the loss, not just split it; leave microBatchSize out, set it ≥ batchSize, or use a loss without InfoNCE`,
    where,
  );
}

/**
 * A batch's rows in passes of at most `size` rows, as even as possible (no tiny last pass: BatchNorm cannot
 * normalise one row); one pass when size is absent or at least the batch.
 */
export function passesOf(rows: Int32Array, size: number | undefined): Int32Array[] {
  if (size === undefined || size >= rows.length) return [rows];
  const count = Math.ceil(rows.length / size);
  const out: Int32Array[] = [];
  for (let p = 0; p < count; p++) out.push(rows.subarray(Math.floor((p * rows.length) / count), Math.floor(((p + 1) * rows.length) / count)));
  return out;
}

/** sum + weight·grads, by variable name; disposes both inputs. */
function addWeighted(tf: TfModule, sum: tfc.NamedTensorMap, grads: tfc.NamedTensorMap, weight: number): tfc.NamedTensorMap {
  const out: tfc.NamedTensorMap = { ...sum };
  for (const [name, g] of Object.entries(grads)) {
    const prev = sum[name];
    out[name] = tf.tidy(() => (prev ? tf.add(prev, tf.mul(g, weight)) : tf.mul(g, weight)));
    prev?.dispose();
    g.dispose();
  }
  return out;
}

/** Adam step, with PyTorch Adam's weight decay: the gradient gets + weightDecay · parameter. */
function applyStep(tf: TfModule, optimizer: tfc.Optimizer, grads: tfc.NamedTensorMap, vars: tfc.Variable[], weightDecay: number): void {
  tf.tidy(() => {
    if (weightDecay > 0) {
      for (const v of vars) {
        const g = grads[v.name];
        if (g) grads[v.name] = tf.add(g, tf.mul(v, weightDecay));
      }
    }
    optimizer.applyGradients(grads);
  });
  tf.dispose(Object.values(grads));
}

/**
 * Consecutive slices of a shuffled order. A final batch of a single row joins the previous one: BatchNorm cannot
 * normalise one row (PyTorch raises on it).
 */
function batches(order: Int32Array, size: number): Int32Array[] {
  const out: Int32Array[] = [];
  for (let start = 0; start < order.length; start += size) out.push(order.subarray(start, Math.min(order.length, start + size)));
  if (out.length > 1 && out[out.length - 1]!.length === 1) {
    const last = out.pop()!;
    const prev = out.pop()!;
    const merged = new Int32Array(prev.length + 1);
    merged.set(prev);
    merged[prev.length] = last[0]!;
    out.push(merged);
  }
  return out;
}

/** The rows of the given items in a matrix with `perItem` consecutive rows per item. */
function itemRowsOf(m: Matrix, items: Int32Array, perItem: number): Matrix {
  const width = perItem * m.cols;
  const out = new Float32Array(items.length * width);
  for (let k = 0; k < items.length; k++) out.set(m.data.subarray(items[k]! * width, (items[k]! + 1) * width), k * width);
  return { rows: items.length * perItem, cols: m.cols, data: out };
}

function rowsOf(m: Matrix, rows: Int32Array): Matrix {
  const out = new Float32Array(rows.length * m.cols);
  for (let k = 0; k < rows.length; k++) out.set(m.data.subarray(rows[k]! * m.cols, (rows[k]! + 1) * m.cols), k * m.cols);
  return { rows: rows.length, cols: m.cols, data: out };
}
