/**
 * Multi-target ridge regression with intercept. With at most as many training rows as voxels (n ≤ p, fMRI's
 * usual case) it is solved in dual (kernel) form (see kernel.ts): the fitted model is a kernel model that keeps
 * the standardised training inputs, one Cholesky factor of K + αI per alpha in use, and the centred training
 * targets — what prediction needs, never the p × t primal weights. With more rows than voxels it is solved in
 * primal form in float64 (primal.ts), and the model keeps the p × t weights. `fitColumns` fits a target space
 * too large to hold (column blocks streamed from disk) one block at a time on the same kernel and factors, writing
 * each block's part of the model as it goes; a loaded model reads each group's targets only when it predicts.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ColumnBlocks, FitContext, FittedMapper, Mapper } from '../../core/contracts.js';
import { wholeMatrix } from '../../core/column-blocks.js';
import { UserError } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/io/atomic.js';
import { readNpy, writeNpy } from '../../core/io/npy.js';
import { assembleFactor, splitFactor } from '../../core/compute/cholesky.js';
import { mirrorUpper, type Linalg } from '../../core/compute/linalg.js';
import type { PluginServices } from '../../core/services.js';
import { takeCols, type Matrix } from '../../core/tensor.js';
import { columnStats, crossValidate, restandardize, type ColumnStats, type Factor } from './kernel.js';
import { factorOf, kernelOf, testSolve } from './shared-kernel.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION } from './format.js';
import { crossValidatePrimal, FittedPrimalRidge, primalSystem, primalWeights } from './primal.js';
import type { RidgeOptions } from './schema.js';

const WHERE = 'mapper ridge';

/** Targets sharing one alpha: their factor and centred training targets. */
interface AlphaGroup {
  alpha: number;
  /** Target columns of this group; undefined when the group holds every target in order. */
  targets?: Int32Array;
  factor: Factor;
  /** n × (targets in group), centred on the training mean when fitting an intercept; or the .npy file holding it. */
  Yc: Matrix | string;
}

interface FittedState {
  options: RidgeOptions;
  /** Statistics that standardise (or centre) inputs. */
  xStats: ColumnStats;
  /** Standardised training inputs, n × p. */
  Xs: Matrix;
  yMean: Float64Array;
  /** Std (ddof=0, numpy's default) of the training targets, for re-standardisation (ones when that is off). */
  yStd: Float64Array;
  groups: AlphaGroup[];
  summary: Record<string, unknown>;
}

export class RidgeMapper implements Mapper {
  constructor(
    private readonly options: RidgeOptions,
    private readonly services: PluginServices,
  ) {}

  async fit(X: Matrix, Y: Matrix, context: FitContext): Promise<FittedMapper> {
    this.checkRows(X.rows);
    // More rows than voxels: the primal p × p system, in float64 (primal.ts says why).
    return X.rows > X.cols ? this.fitPrimal(X, Y, context) : this.fitDual(X, Y, context);
  }

  /**
   * The dual fit of `fit`, one column block at a time: each block's centred targets are written to `out.dir` as soon
   * as they are made (and, with `out.predict`, multiplied into those rows' predictions), so memory holds X, its kernel
   * and factors, and one block. Every column's solution needs no other column, so this is `fit`'s model; a CV-chosen
   * shared alpha scores every block before fitting any. The primal form keeps p × t weights, as large as the targets:
   * it reads the blocks into one matrix.
   */
  async fitColumns(X: Matrix, Y: ColumnBlocks, context: FitContext, out: { dir: string; predict?: Matrix }): Promise<Matrix | undefined> {
    this.checkRows(X.rows);
    if (X.rows > X.cols) {
      const fitted = await this.fitPrimal(X, await wholeMatrix(Y), context);
      await fitted.save(out.dir);
      return out.predict && fitted.predict(out.predict);
    }
    const { options, services } = this;
    const { linalg } = services;
    const { xStats, Xs, K } = await kernelOf(linalg, X, this.preprocessing);
    const full = options.alpha === undefined ? mirrored(K) : K;
    const cv = (Yc: Matrix, onStep: () => void) =>
      crossValidate({ linalg, K: full, Yc, alphas: options.alphas, folds: options.folds, fitIntercept: options.fitIntercept, signal: context.signal, onStep });

    let fixed = options.alpha;
    let summary: Record<string, unknown> = fixed === undefined ? {} : { alpha: fixed };
    if (fixed === undefined && options.alphaPer === 'shared') {
      const sums = new Float64Array(options.alphas.length);
      const task = services.progress.task('ridge cross-validation', options.folds * options.alphas.length * Y.ranges.length);
      for (let b = 0; b < Y.ranges.length; b++) {
        const scores = await cv((await this.centred(await Y.read(b))).Yc, () => task.tick());
        scores.forEach((s, a) => (sums[a]! += s.reduce((x, y) => x + y, 0)));
      }
      task.done();
      const best = argmax(sums);
      fixed = options.alphas[best]!;
      summary = { alpha: fixed, cvR2: sums[best]! / Y.cols, cvR2ByAlpha: Array.from(sums, (s) => s / Y.cols) };
    }

    const writer = new ModelWriter(out.dir);
    const predicted = out.predict && new Prediction(out.predict, Xs, xStats, new Float64Array(Y.cols), linalg);
    const yMean = predicted ? predicted.yMean : new Float64Array(Y.cols);
    const yStd = new Float64Array(Y.cols).fill(1);
    const counts = new Float64Array(options.alphas.length);
    let cvTotal = 0;
    const task = fixed === undefined ? services.progress.task('ridge cross-validation', options.folds * options.alphas.length * Y.ranges.length) : undefined;
    // Disk and compute overlap: the next block is read, and the last group written, while this block is computed.
    const quiet = <T>(p: Promise<T>) => (p.catch(() => undefined), p); // awaited later; not an unhandled rejection
    let next = quiet(Y.read(0));
    let writing: Promise<void> = Promise.resolve();
    for (const [b, [start, end]] of Y.ranges.entries()) {
      context.signal?.throwIfAborted();
      const block = await next;
      if (b + 1 < Y.ranges.length) next = quiet(Y.read(b + 1));
      const { Yc, mean, scale } = await this.centred(block);
      yMean.set(mean, start);
      yStd.set(scale, start);
      const perTarget = fixed === undefined ? perTargetChoice(await cv(Yc, () => task!.tick())) : undefined;
      const alphas = fixed === undefined ? options.alphas : [fixed];
      for (let a = 0; a < alphas.length; a++) {
        const local = perTarget ? indicesOf(perTarget.best, a) : Int32Array.from({ length: end - start }, (_, k) => k);
        if (local.length === 0) continue;
        counts[a]! += local.length;
        const group = { alpha: alphas[a]!, factor: await factorOf(linalg, X, this.preprocessing, alphas[a]!), targets: local.map((k) => start + k), Yc: perTarget ? takeCols(Yc, local) : Yc };
        await writing; // at most one group's write in flight
        writing = quiet(writer.group(group));
        await predicted?.add(group);
      }
      if (perTarget) cvTotal += perTarget.total;
    }
    await writing;
    task?.done();
    if (fixed === undefined) {
      summary = { alphaPerTarget: Object.fromEntries(options.alphas.map((a, i) => [String(a), counts[i]!])), cvR2: cvTotal / Y.cols };
    }
    summary = { ...summary, ...this.dualSummary(writer.factorsUsed()), columnBlocks: Y.ranges.length };
    await writer.finish({ options, xStats, Xs, yMean, yStd, summary });
    return predicted?.finish(options.restandardizePredictions ? yStd : undefined);
  }

  private checkRows(n: number): void {
    const { options } = this;
    if (options.standardize && n < 2) throw new UserError(`standardize needs at least 2 training rows, got ${n}`, WHERE);
    if (options.alpha === undefined && n < options.folds) {
      throw new UserError(`folds=${options.folds} needs at least ${options.folds} training rows, got ${n}`, WHERE);
    }
  }

  private get preprocessing() {
    return { standardize: this.options.standardize, fitIntercept: this.options.fitIntercept };
  }

  /** Y's statistics (ddof 0) and Y centred on its mean when fitting an intercept. */
  private async centred(Y: Matrix): Promise<{ Yc: Matrix; mean: Float64Array; scale: Float64Array }> {
    const { options, services } = this;
    const stats = options.restandardizePredictions
      ? columnStats(Y, 0, true)
      : { mean: options.fitIntercept ? await columnMeans(services.linalg, Y) : new Float64Array(Y.cols), scale: new Float64Array(Y.cols).fill(1) };
    // Rounded to float32 so that the mean subtracted from Y and the one added back to predictions are the same.
    const mean = options.fitIntercept ? Float64Array.from(Float32Array.from(stats.mean)) : new Float64Array(Y.cols);
    const Yc = options.fitIntercept ? await services.linalg.subtractRow(Y, Float32Array.from(mean)) : Y;
    return { Yc, mean, scale: stats.scale };
  }

  private dualSummary(factors: FactorUse[]): Record<string, unknown> {
    const precisions = [...new Set(factors.map((f) => f.precision))].join('+');
    const shifted = factors.filter((f) => f.shift > 0);
    if (shifted.length > 0) {
      this.services.log.warn(
        `ridge: alpha ${shifted.map((f) => f.alpha).join(', ')} is below the round-off of the float32 kernel (K + αI indefinite as computed); ` +
          `fitted at alpha + ${shifted[0]!.shift.toPrecision(3)}`,
      );
    }
    return {
      form: 'dual',
      precision: `inputs and K = X·Xᵀ float32, Cholesky of K + αI ${precisions}, solve ${precisions}`,
      engine: this.services.linalg.engine,
      // alpha → the alpha fitted, where it was raised to the kernel's round-off floor (kernel.ts, factorRidge).
      ...(shifted.length > 0 ? { alphaRaisedToRoundOff: Object.fromEntries(shifted.map((f) => [String(f.alpha), f.alpha + f.shift])) } : {}),
    };
  }

  /**
   * Dual (kernel) form: inputs and K in float32, each factor in float32 or float64 (kernel.ts, factorRidge). The
   * kernel and the factors are shared with every other fit on the same X (shared-kernel.ts).
   */
  private async fitDual(X: Matrix, Y: Matrix, context: FitContext): Promise<FittedMapper> {
    const { options, services } = this;
    const { linalg } = services;
    const { Yc, mean: yMean, scale: yStd } = await this.centred(Y);
    context.signal?.throwIfAborted();
    const { xStats, Xs, K } = await kernelOf(linalg, X, this.preprocessing);

    const full = options.alpha === undefined ? mirrored(K) : K;
    const choice = await this.chooseAlphas(Yc.cols, (onStep) =>
      crossValidate({ linalg, K: full, Yc, alphas: options.alphas, folds: options.folds, fitIntercept: options.fitIntercept, signal: context.signal, onStep }),
    );

    const groups: AlphaGroup[] = [];
    for (let a = 0; a < choice.alphas.length; a++) {
      context.signal?.throwIfAborted();
      const alpha = choice.alphas[a]!;
      const targets = choice.perTarget ? indicesOf(choice.perTarget, a) : undefined;
      if (targets && targets.length === 0) continue;
      const factor = await factorOf(linalg, X, this.preprocessing, alpha);
      groups.push({ alpha, targets, factor, Yc: targets ? takeCols(Yc, targets) : Yc });
    }
    const summary = { ...choice.summary, ...this.dualSummary(groups.map((g) => ({ alpha: g.alpha, precision: g.factor.precision, shift: g.factor.shift }))) };
    services.log.debug(`ridge: ${JSON.stringify(summary)}`);
    return new FittedRidge({ options, xStats, Xs, yMean, yStd, groups, summary }, linalg);
  }

  private async fitPrimal(X: Matrix, Y: Matrix, context: FitContext): Promise<FittedMapper> {
    const { options, services } = this;
    const xStats = options.standardize || options.fitIntercept
      ? columnStats(X, 1, options.standardize)
      : { mean: new Float64Array(X.cols), scale: new Float64Array(X.cols).fill(1) };
    const { linalg } = services;
    const yStats = columnStats(Y, 0, options.restandardizePredictions);
    const yMean = options.fitIntercept ? yStats.mean : new Float64Array(Y.cols);
    const system = await primalSystem(linalg, X, Y, xStats, yMean);
    context.signal?.throwIfAborted();
    const choice = await this.chooseAlphas(Y.cols, (onStep) =>
      crossValidatePrimal({ linalg, system, alphas: options.alphas, folds: options.folds, fitIntercept: options.fitIntercept, signal: context.signal, onStep }),
    );
    const beta = await primalWeights(linalg, system, choice.alphas, choice.perTarget);
    const summary = { ...choice.summary, form: 'primal', precision: 'float64 throughout (standardised X, XᵀX, Cholesky, weights, predictions)', engine: linalg.engine };
    services.log.debug(`ridge: ${JSON.stringify(summary)}`);
    return new FittedPrimalRidge(
      { options, xStats, beta, yMean, yStd: yStats.scale, summary },
      linalg,
    );
  }

  /** The fixed alpha, or k-fold CV over the grid (scores: alphas × targets) choosing one for all targets or one per target. */
  private async chooseAlphas(
    t: number,
    crossValidated: (onStep: () => void) => Promise<Float64Array[]>,
  ): Promise<{ alphas: number[]; perTarget: Int32Array | undefined; summary: Record<string, unknown> }> {
    const { alpha, alphas, folds, alphaPer } = this.options;
    if (alpha !== undefined) return { perTarget: undefined, alphas: [alpha], summary: { alpha } };
    const task = this.services.progress.task('ridge cross-validation', folds * alphas.length);
    const scores = await crossValidated(() => task.tick());
    task.done();
    if (alphaPer === 'shared') {
      const means = scores.map((s) => s.reduce((a, b) => a + b, 0) / t);
      const best = argmax(means);
      return { alphas: [alphas[best]!], perTarget: undefined, summary: { alpha: alphas[best]!, cvR2: means[best]!, cvR2ByAlpha: means } };
    }
    const { best: perTarget, total } = perTargetChoice(scores);
    const counts: Record<string, number> = {};
    for (let a = 0; a < alphas.length; a++) counts[String(alphas[a])] = indicesOf(perTarget, a).length;
    return { alphas, perTarget, summary: { alphaPerTarget: counts, cvR2: total / t } };
  }
}

/** Each target's best alpha (index into the grid) by its CV score, and the sum of those best scores. */
function perTargetChoice(scores: Float64Array[]): { best: Int32Array; total: number } {
  const t = scores[0]?.length ?? 0;
  const best = new Int32Array(t);
  let total = 0;
  for (let j = 0; j < t; j++) {
    const a = argmax(scores.map((s) => s[j]!));
    best[j] = a;
    total += scores[a]![j]!;
  }
  return { best, total };
}

export class FittedRidge implements FittedMapper {
  constructor(
    private readonly state: FittedState,
    private readonly linalg: Linalg,
  ) {}

  get summary(): Record<string, unknown> {
    return this.state.summary;
  }

  async predict(X: Matrix): Promise<Matrix> {
    const { Xs, xStats, yMean, yStd, groups, options } = this.state;
    if (X.cols !== Xs.cols) {
      throw new UserError(`the model was fitted on ${Xs.cols} voxels, but X has ${X.cols} columns`, WHERE);
    }
    const predicted = new Prediction(X, Xs, xStats, yMean, this.linalg);
    for (const group of groups) await predicted.add({ ...group, Yc: await centredTargets(group, Xs.rows) });
    return predicted.finish(options.restandardizePredictions ? yStd : undefined);
  }

  async save(dir: string): Promise<void> {
    const writer = new ModelWriter(dir);
    for (const group of this.state.groups) {
      await writer.group({ alpha: group.alpha, factor: group.factor, targets: group.targets, Yc: await centredTargets(group, this.state.Xs.rows) });
    }
    await writer.finish(this.state);
  }
}

/**
 * Predictions of rows X built group by group: each group's (K + αI)⁻¹·K*ᵀ (shared by every model fitted on the same
 * X and predicting the same rows) times its centred targets, plus the training means. `yMean` may still be filled
 * while groups are added (fitColumns adds each block's means before its groups).
 */
class Prediction {
  private out: Float32Array = new Float32Array(0);

  constructor(
    private readonly X: Matrix,
    private readonly Xs: Matrix,
    private readonly xStats: ColumnStats,
    readonly yMean: Float64Array,
    private readonly linalg: Linalg,
  ) {}

  async add(group: { factor: Factor; targets?: Int32Array; Yc: Matrix }): Promise<void> {
    const m = this.X.rows;
    const t = this.yMean.length;
    const { yMean } = this;
    const W = await testSolve(this.linalg, this.X, this.Xs, this.xStats, group.factor);
    const part = await this.linalg.gemm(W, group.Yc, { transA: true }); // m × t_g
    const cols = group.targets;
    if (!cols) {
      // One group holding every target in order: add the means in place, no scatter.
      for (let i = 0; i < m; i++) for (let j = 0; j < t; j++) part.data[i * t + j]! += yMean[j]!;
      this.out = part.data;
      return;
    }
    if (this.out.length === 0) this.out = new Float32Array(m * t);
    const tg = cols.length;
    for (let i = 0; i < m; i++) {
      for (let k = 0; k < tg; k++) {
        const j = cols[k]!;
        this.out[i * t + j] = part.data[i * tg + k]! + yMean[j]!;
      }
    }
  }

  /** With `yStd`: Brain-Diffuser's re-standardisation over these rows (kernel.ts). */
  finish(yStd?: Float64Array): Matrix {
    const predicted = { rows: this.X.rows, cols: this.yMean.length, data: this.out };
    if (yStd) restandardize(predicted, this.yMean, yStd);
    return predicted;
  }
}

/** A group's centred targets, read from its file when the model was loaded (one group in memory at a time). */
async function centredTargets(group: AlphaGroup, n: number): Promise<Matrix> {
  if (typeof group.Yc !== 'string') return group.Yc;
  const cols = group.targets?.length;
  const array = await readNpy(group.Yc);
  if (array.shape.length !== 2 || array.shape[0] !== n || (cols !== undefined && array.shape[1] !== cols) || !(array.data instanceof Float32Array)) {
    throw new UserError(`expected float32 centred targets of shape (${n}, ${cols ?? 't'}), found (${array.shape.join(', ')})`, group.Yc);
  }
  return { rows: n, cols: array.shape[1]!, data: array.data };
}

/**
 * Writes a dual model group by group (`group`), then the shared arrays and ridge.json (`finish`): what `save` writes
 * from memory and `fitColumns` writes block by block. One factor file per alpha, however many groups use it.
 */
class ModelWriter {
  private readonly groups: SavedMeta['groups'] = [];
  private readonly factors: FactorUse[] = [];

  constructor(private readonly dir: string) {}

  /** Indices are taken before the first await, so that a call may start before the previous one's writes end. */
  async group(group: { alpha: number; factor: Factor; targets?: Int32Array; Yc: Matrix }): Promise<void> {
    const { dir } = this;
    let f = this.factors.findIndex((x) => x.alpha === group.alpha);
    const newFactor = f < 0;
    const { precision, shift } = group.factor;
    if (newFactor) f = this.factors.push({ alpha: group.alpha, precision, shift }) - 1;
    const g = this.groups.push({ alpha: group.alpha, precision, targets: group.Yc.cols, allTargets: !group.targets, factor: f, ...(shift > 0 ? { shift } : {}) }) - 1;
    if (newFactor) {
      const L = group.factor.precision === 'float32'
        ? assembleFactor(group.factor.node, new Float32Array(0))
        : assembleFactor(group.factor.node, new Float64Array(0));
      await writeNpy(join(dir, `factor${f}.npy`), { shape: [L.rows, L.cols], data: L.data });
    }
    await writeNpy(join(dir, `group${g}-targets-centered.npy`), { shape: [group.Yc.rows, group.Yc.cols], data: group.Yc.data });
    if (group.targets) await writeNpy(join(dir, `group${g}-target-columns.npy`), { shape: [group.targets.length], data: group.targets });
  }

  factorsUsed(): FactorUse[] {
    return this.factors;
  }

  async finish(state: Omit<FittedState, 'groups'>): Promise<void> {
    const { dir } = this;
    const { options, xStats, Xs, yMean, yStd, summary } = state;
    await writeNpy(join(dir, 'x-mean.npy'), { shape: [xStats.mean.length], data: xStats.mean });
    await writeNpy(join(dir, 'x-scale.npy'), { shape: [xStats.scale.length], data: xStats.scale });
    await writeNpy(join(dir, 'x-train.npy'), { shape: [Xs.rows, Xs.cols], data: Xs.data });
    await writeNpy(join(dir, 'y-mean.npy'), { shape: [yMean.length], data: yMean });
    await writeNpy(join(dir, 'y-std.npy'), { shape: [yStd.length], data: yStd });
    const meta: SavedMeta = {
      format: MODEL_FORMAT,
      version: MODEL_FORMAT_VERSION,
      form: 'dual',
      options,
      voxels: Xs.cols,
      trainRows: Xs.rows,
      targets: yMean.length,
      groups: this.groups,
      summary,
    };
    await writeFileAtomic(join(dir, 'ridge.json'), `${JSON.stringify(meta, null, 2)}\n`);
  }
}

/** What a fit's summary says of each alpha's factor. */
interface FactorUse {
  alpha: number;
  precision: Factor['precision'];
  shift: number;
}

interface SavedMeta {
  format: string;
  version: number;
  form?: 'dual' | 'primal';
  options: RidgeOptions;
  voxels: number;
  trainRows: number;
  targets: number;
  /** `factor`: index of the group's factor file `factor<i>.npy` (version 3; before, each group had `group<g>-factor.npy`). */
  groups: Array<{ alpha: number; precision: 'float32' | 'float64'; targets: number; allTargets: boolean; factor?: number; shift?: number }>;
  summary: Record<string, unknown>;
}

/** Loads a model written by `FittedRidge.save` or `RidgeMapper.fitColumns`; each group's targets are read when it predicts. */
export async function loadFittedRidge(dir: string, services: PluginServices): Promise<FittedMapper> {
  const metaPath = join(dir, 'ridge.json');
  let meta: SavedMeta;
  try {
    meta = JSON.parse(await readFile(metaPath, 'utf8')) as SavedMeta;
  } catch (error) {
    throw new UserError(`cannot read the saved ridge model (${(error as Error).message})`, metaPath);
  }
  if (meta.format !== MODEL_FORMAT || !(meta.version >= 1 && meta.version <= MODEL_FORMAT_VERSION)) {
    throw new UserError(`expected format ${MODEL_FORMAT} version 1 to ${MODEL_FORMAT_VERSION}, found ${meta.format} ${meta.version}`, metaPath);
  }
  const { voxels: p, trainRows: n, targets: t } = meta;
  const load = async <T>(name: string, shape: number[], ctor: new (...args: never[]) => T): Promise<T> => {
    const path = join(dir, name);
    const array = await readNpy(path);
    if (array.shape.join(',') !== shape.join(',') || !(array.data instanceof ctor)) {
      throw new UserError(`expected an array of shape (${shape.join(', ')}) and type ${ctor.name}, found (${array.shape.join(', ')})`, path);
    }
    return array.data as T;
  };
  const xStats = { mean: await load('x-mean.npy', [p], Float64Array), scale: await load('x-scale.npy', [p], Float64Array) };
  if (meta.form === 'primal') {
    const beta = { rows: p, cols: t, data: await load('weights.npy', [p, t], Float64Array) };
    const yMean = await load('y-mean.npy', [t], Float64Array);
    const yStd = await load('y-std.npy', [t], Float64Array);
    return new FittedPrimalRidge({ options: meta.options, xStats, beta, yMean, yStd, summary: meta.summary }, services.linalg);
  }
  const Xs = { rows: n, cols: p, data: await load('x-train.npy', [n, p], Float32Array) };
  const yMean = await load('y-mean.npy', [t], Float64Array);
  const yStd = await load('y-std.npy', [t], Float64Array);
  const factors = new Map<string, Factor>();
  const factorAt = async (name: string, precision: Factor['precision'], shift: number): Promise<Factor> => {
    let factor = factors.get(name);
    if (!factor) {
      factor = precision === 'float32'
        ? { precision: 'float32', node: await splitFactor(services.linalg, { rows: n, cols: n, data: await load(name, [n, n], Float32Array) }), shift }
        : { precision: 'float64', node: await splitFactor(services.linalg, { rows: n, cols: n, data: await load(name, [n, n], Float64Array) }), shift };
      factors.set(name, factor);
    }
    return factor;
  };
  const groups: AlphaGroup[] = [];
  for (const [g, info] of meta.groups.entries()) {
    const targets = info.allTargets ? undefined : await load(`group${g}-target-columns.npy`, [info.targets], Int32Array);
    const factor = await factorAt(info.factor === undefined ? `group${g}-factor.npy` : `factor${info.factor}.npy`, info.precision, info.shift ?? 0);
    groups.push({ alpha: info.alpha, targets, factor, Yc: join(dir, `group${g}-targets-centered.npy`) });
  }
  return new FittedRidge({ options: meta.options, xStats, Xs, yMean, yStd, groups, summary: meta.summary }, services.linalg);
}

/** Column means as 1ᵀ·Y / n: one pass of the matrix engine (Y can be gigabytes at NSD scale). */
async function columnMeans(linalg: Linalg, Y: Matrix): Promise<Float64Array> {
  const ones = { rows: 1, cols: Y.rows, data: new Float32Array(Y.rows).fill(1) };
  const sums = await linalg.gemm(ones, Y);
  return Float64Array.from(sums.data, (s) => s / Y.rows);
}

function mirrored(K: Matrix): Matrix {
  const full = { rows: K.rows, cols: K.cols, data: K.data.slice() };
  mirrorUpper(full.data, K.rows);
  return full;
}

function indicesOf(labels: Int32Array, value: number): Int32Array {
  const out: number[] = [];
  for (let j = 0; j < labels.length; j++) if (labels[j] === value) out.push(j);
  return Int32Array.from(out);
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
