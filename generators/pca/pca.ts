/**
 * PCA eigen-images: fitted on the training stimuli by randomized SVD of the centred images; the mapper predicts
 * the coefficients and `generate` is the inverse transform (mean + coefficients · components), clipped to [0, 1].
 * Same conventions as scikit-learn's PCA (explained variance with ddof = 1, `whiten`, svd_flip-style signs).
 */
import type {
  FitContext,
  FittedGenerator,
  Generator,
  StimulusBatch,
  TargetSpace,
} from '../../core/contracts.js';
import { UserError } from '../../core/errors.js';
import type { PluginServices } from '../../core/services.js';
import type { ImageBatch, Matrix } from '../../core/tensor.js';
import { randomizedSvd, randomizedSvdProducts, transposeMatrix } from './randomized-svd.js';
import { PCA_SPACE, type PcaOptions } from './schema.js';

const SPACE = PCA_SPACE;
const WHERE = 'generator pca';
/**
 * Components whose singular value is below this fraction of the first carry no variance that float32 data can
 * resolve (variance ratio < 1e-8): they are dropped, so that whitening never divides by ~0.
 */
const NUMERICAL_RANK_TOLERANCE = 1e-4;

export class PcaGenerator implements Generator {
  constructor(
    private readonly options: PcaOptions,
    private readonly services: PluginServices,
  ) {}

  async fit(train: StimulusBatch, context: FitContext): Promise<FittedPca> {
    const { images } = train;
    const n = images.count;
    const d = images.height * images.width * images.channels;
    if (n < 2) throw new UserError(`needs at least 2 training images, got ${n}`, WHERE);
    assertFinite(images.data, d, 'training images');

    // Centred data span at most n − 1 directions, and never more than the pixel values.
    const requested = this.options.components;
    const maxComponents = Math.min(n - 1, d);
    let rank = Math.min(requested, maxComponents);
    if (rank < requested) {
      this.services.log.info(
        `pca: ${requested} components requested, but ${n} centred training images of ${d} values span at most ` +
          `min(n − 1, values) = ${maxComponents} directions; using ${rank}`,
      );
    }

    const { mean, centred, sumOfSquares } = centre(images.data, n, d);
    if (sumOfSquares === 0) throw new UserError('all training images are identical; PCA needs variation', WHERE);

    // Orthonormalise on the short side: images × values when there are fewer images than values, else its transpose.
    const wide = n <= d;
    const transposed = transposeMatrix(centred);
    const a = wide ? centred : transposed;
    const at = wide ? transposed : centred;
    const svdOptions = {
      rank,
      oversamples: this.options.oversamples,
      powerIterations: this.options.powerIterations,
      seed: context.seed,
    };
    const task = this.services.progress.task('pca: randomized SVD', randomizedSvdProducts(a.rows, svdOptions));
    const svd = await randomizedSvd(a, at, this.services.linalg, {
      ...svdOptions,
      onProduct: () => {
        task.tick();
        context.signal?.throwIfAborted();
      },
    });
    task.done();

    let components = wide ? svd.rightRows : transposeLeft(svd.left, d, rank);
    const resolved = countAbove(svd.values, NUMERICAL_RANK_TOLERANCE * svd.values[0]!);
    if (resolved < rank) {
      this.services.log.warn(
        `pca: the training images vary along only ${resolved} resolvable directions; using ${resolved} components ` +
          `instead of ${rank}`,
      );
      components = components.slice(0, resolved * d);
      rank = resolved;
    }
    flipSigns(components, rank, d);

    const totalVariance = sumOfSquares / (n - 1);
    const explainedVariance = new Float64Array(rank);
    const explainedVarianceRatio = new Float64Array(rank);
    for (let j = 0; j < rank; j++) {
      explainedVariance[j] = svd.values[j]! ** 2 / (n - 1);
      explainedVarianceRatio[j] = explainedVariance[j]! / totalVariance;
    }
    return new FittedPca(
      {
        shape: [images.height, images.width, images.channels],
        mean,
        components: { rows: rank, cols: d, data: components },
        explainedVariance,
        explainedVarianceRatio,
        whiten: this.options.whiten,
        requestedComponents: requested,
      },
      this.services,
    );
  }
}

export interface PcaState {
  shape: [height: number, width: number, channels: number];
  mean: Float32Array;
  /** components × values, orthonormal rows (the eigen-images). */
  components: Matrix;
  /** Per component, ddof = 1. */
  explainedVariance: Float64Array;
  explainedVarianceRatio: Float64Array;
  whiten: boolean;
  requestedComponents: number;
}

export class FittedPca implements FittedGenerator {
  readonly summary: Record<string, unknown>;
  /** values × components, so that the inverse transform is an A·Bᵀ product as well. */
  private readonly componentsTransposed: Matrix;

  constructor(
    readonly state: PcaState,
    private readonly services: PluginServices,
  ) {
    this.componentsTransposed = transposeMatrix(state.components);
    const ratio = state.explainedVarianceRatio;
    this.summary = {
      components: state.components.rows,
      requestedComponents: state.requestedComponents,
      whiten: state.whiten,
      explainedVarianceRatio: ratio.reduce((s, x) => s + x, 0),
      firstComponentRatios: Array.from(ratio.subarray(0, 5)),
    };
  }

  targets(): TargetSpace[] {
    return [{ name: SPACE, dims: this.state.components.rows }];
  }

  async encode(stimuli: StimulusBatch): Promise<Record<string, Matrix>> {
    const { images } = stimuli;
    const [height, width, channels] = this.state.shape;
    if (images.height !== height || images.width !== width || images.channels !== channels) {
      throw new UserError(
        `images are ${images.height}×${images.width}×${images.channels}, but the PCA was fitted on ` +
          `${height}×${width}×${channels}`,
        WHERE,
      );
    }
    const d = this.state.components.cols;
    assertFinite(images.data, d, 'images to encode');
    const centred = new Float32Array(images.data.length);
    for (let i = 0; i < images.count; i++) {
      for (let t = 0; t < d; t++) centred[i * d + t] = images.data[i * d + t]! - this.state.mean[t]!;
    }
    const coefficients = await this.services.linalg.matmul(
      { rows: images.count, cols: d, data: centred },
      this.state.components,
      { transB: true },
    );
    if (this.state.whiten) scaleColumns(coefficients, this.state.explainedVariance, (v) => 1 / Math.sqrt(v));
    return { [SPACE]: coefficients };
  }

  async generate(predicted: Record<string, Matrix>): Promise<ImageBatch> {
    const coefficients = predicted[SPACE];
    const k = this.state.components.rows;
    if (coefficients === undefined) {
      throw new UserError(`needs predicted '${SPACE}' targets, got: ${Object.keys(predicted).join(', ') || 'none'}`, WHERE);
    }
    if (coefficients.cols !== k) {
      throw new UserError(`predicted '${SPACE}' targets have ${coefficients.cols} columns, expected ${k}`, WHERE);
    }
    assertFinite(coefficients.data, k, `predicted '${SPACE}' targets`);
    let scaled = coefficients;
    if (this.state.whiten) {
      scaled = { rows: coefficients.rows, cols: k, data: Float32Array.from(coefficients.data) };
      scaleColumns(scaled, this.state.explainedVariance, (v) => Math.sqrt(v));
    }
    const reconstruction = await this.services.linalg.matmul(scaled, this.componentsTransposed, { transB: true });
    const d = this.state.components.cols;
    const out = reconstruction.data;
    for (let i = 0; i < reconstruction.rows; i++) {
      for (let t = 0; t < d; t++) {
        const value = out[i * d + t]! + this.state.mean[t]!;
        out[i * d + t] = value < 0 ? 0 : value > 1 ? 1 : value;
      }
    }
    const [height, width, channels] = this.state.shape;
    return { count: reconstruction.rows, height, width, channels, data: out };
  }
}

/** Column means (float64 accumulation), the centred copy and its total sum of squares. */
function centre(data: Float32Array, n: number, d: number) {
  const sums = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) sums[t]! += data[i * d + t]!;
  const mean = new Float32Array(d);
  for (let t = 0; t < d; t++) mean[t] = sums[t]! / n;
  const centred = new Float32Array(n * d);
  let sumOfSquares = 0;
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < d; t++) {
      const value = data[i * d + t]! - mean[t]!;
      centred[i * d + t] = value;
      sumOfSquares += value * value;
    }
  }
  return { mean, centred: { rows: n, cols: d, data: centred } as Matrix, sumOfSquares };
}

/** d × rank float64 (columns) → rank × d float32 (rows). */
function transposeLeft(left: Float64Array, d: number, rank: number): Float32Array {
  const rows = new Float32Array(rank * d);
  for (let t = 0; t < d; t++) for (let j = 0; j < rank; j++) rows[j * d + t] = left[t * rank + j]!;
  return rows;
}

function countAbove(values: Float64Array, threshold: number): number {
  let count = 0;
  while (count < values.length && values[count]! > threshold) count++;
  return count;
}

/** Deterministic signs: the entry of largest magnitude in each component is positive (scikit-learn's svd_flip on V). */
function flipSigns(rows: Float32Array, count: number, d: number): void {
  for (let j = 0; j < count; j++) {
    const component = rows.subarray(j * d, (j + 1) * d);
    let largest = 0;
    for (let t = 1; t < d; t++) if (Math.abs(component[t]!) > Math.abs(component[largest]!)) largest = t;
    if (component[largest]! < 0) for (let t = 0; t < d; t++) component[t] = -component[t]!;
  }
}

function scaleColumns(m: Matrix, variances: Float64Array, factor: (variance: number) => number): void {
  const scales = Array.from(variances, factor);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) m.data[i * m.cols + j]! *= scales[j]!;
}

function assertFinite(data: Float32Array, rowLength: number, what: string): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      throw new UserError(`${what} contain a non-finite value (row ${Math.floor(i / rowLength)})`, WHERE);
    }
  }
}
