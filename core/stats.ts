/**
 * Statistics over per-item metric values: a bootstrap confidence interval for a mean, and paired comparisons of
 * two methods scored on the same items (bootstrap and sign-flip permutation). All seeded, so reports reproduce.
 * Inputs must be finite: callers check for NaN items first (a NaN here is a bug, not a value).
 */
import { Rng } from './rng.js';

export interface BootstrapOptions {
  seed: number;
  /** Bootstrap resamples (default 2000). */
  resamples?: number;
  /** Two-sided coverage of the interval (default 0.95). */
  level?: number;
}

export interface MeanInterval {
  mean: number;
  low: number;
  high: number;
}

export interface PairedComparison {
  /** mean(a − b). */
  meanDifference: number;
  low: number;
  high: number;
  /** Two-sided p-value for "no difference in mean". */
  pValue: number;
}

export interface PermutationOptions {
  seed: number;
  /** Random sign flips (default 10000); when 2^n is no larger, all 2^n flips are enumerated exactly. */
  permutations?: number;
}

/** Percentile bootstrap interval of the mean over items (resampling items with replacement). */
export function bootstrapMeanInterval(perItem: ArrayLike<number>, options: BootstrapOptions): MeanInterval {
  const values = finiteValues(perItem, 'perItem');
  const { low, high } = bootstrapPercentiles(values, options);
  return { mean: mean(values), low, high };
}

/**
 * Paired bootstrap of the mean difference a − b over the same items: percentile interval, and a two-sided p-value
 * from the bootstrap distribution shifted to the null, p = (1 + #{|d̄* − d̄| ≥ |d̄|}) / (B + 1).
 */
export function pairedBootstrap(a: ArrayLike<number>, b: ArrayLike<number>, options: BootstrapOptions): PairedComparison {
  const differences = pairedDifferences(a, b);
  const observed = mean(differences);
  const { low, high, means } = bootstrapPercentiles(differences, options);
  let extreme = 0;
  const threshold = Math.abs(observed) * (1 - 1e-12);
  for (const m of means) if (Math.abs(m - observed) >= threshold) extreme++;
  return { meanDifference: observed, low, high, pValue: (1 + extreme) / (means.length + 1) };
}

/**
 * Paired sign-flip permutation test of mean(a − b) = 0 (two-sided): under the null each difference is as likely
 * negated. Exact over all 2^n sign patterns when that is no more than `permutations`, else Monte Carlo with the
 * +1 correction.
 */
export function permutationTest(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: PermutationOptions,
): { meanDifference: number; pValue: number } {
  const differences = pairedDifferences(a, b);
  const n = differences.length;
  const observed = mean(differences);
  const threshold = Math.abs(observed) * (1 - 1e-12);
  const permutations = options.permutations ?? 10000;
  if (n < 31 && 2 ** n <= permutations) {
    let extreme = 0;
    for (let mask = 0; mask < 2 ** n; mask++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += mask & (1 << i) ? -differences[i]! : differences[i]!;
      if (Math.abs(sum / n) >= threshold) extreme++;
    }
    return { meanDifference: observed, pValue: extreme / 2 ** n };
  }
  const rng = new Rng(options.seed);
  let extreme = 0;
  for (let p = 0; p < permutations; p++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += rng.nextUint32() & 1 ? -differences[i]! : differences[i]!;
    if (Math.abs(sum / n) >= threshold) extreme++;
  }
  return { meanDifference: observed, pValue: (1 + extreme) / (permutations + 1) };
}

/**
 * Percentile bootstrap interval of a set-level metric (one value for the whole test set, e.g. FID): resample the
 * n items with replacement (the same indices for reconstructions and ground truth, so pairs stay together),
 * recompute the metric on each resample with `compute(indices)`, and take the (1 − level)/2 and (1 + level)/2
 * quantiles of the recomputed values. `value` is `compute` on the items as given. Costs `resamples` + 1 evaluations,
 * so set-level metrics use far fewer resamples than per-item means (default 100).
 */
export async function bootstrapSetInterval(
  n: number,
  compute: (indices: Int32Array) => number | Promise<number>,
  options: BootstrapOptions,
): Promise<MeanInterval> {
  const resamples = options.resamples ?? 100;
  const level = options.level ?? 0.95;
  if (!(Number.isInteger(n) && n >= 1) || !(resamples >= 1) || !(level > 0 && level < 1)) {
    throw new RangeError(`bootstrap needs n ≥ 1, resamples ≥ 1 and 0 < level < 1 (got ${n}, ${resamples}, ${level})`);
  }
  const value = await compute(Int32Array.from({ length: n }, (_, i) => i));
  const rng = new Rng(options.seed);
  const values = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    const indices = new Int32Array(n);
    for (let k = 0; k < n; k++) indices[k] = rng.int(n);
    values[r] = await compute(indices);
  }
  const sorted = finiteValues(values, 'bootstrap values').sort();
  const tail = (1 - level) / 2;
  return { mean: value, low: quantileSorted(sorted, tail), high: quantileSorted(sorted, 1 - tail) };
}

/** Linear-interpolated quantile of sorted values (numpy's default method). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

function bootstrapPercentiles(
  values: Float64Array,
  options: BootstrapOptions,
): { low: number; high: number; means: Float64Array } {
  const resamples = options.resamples ?? 2000;
  const level = options.level ?? 0.95;
  if (!(resamples >= 1) || !(level > 0 && level < 1)) {
    throw new RangeError(`bootstrap needs resamples ≥ 1 and 0 < level < 1 (got ${resamples}, ${level})`);
  }
  const rng = new Rng(options.seed);
  const n = values.length;
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let k = 0; k < n; k++) sum += values[rng.int(n)]!;
    means[r] = sum / n;
  }
  const sorted = Float64Array.from(means).sort();
  const tail = (1 - level) / 2;
  return { low: quantileSorted(sorted, tail), high: quantileSorted(sorted, 1 - tail), means };
}

function pairedDifferences(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  if (a.length !== b.length) {
    throw new RangeError(`paired comparison needs the same items: ${a.length} values against ${b.length}`);
  }
  const av = finiteValues(a, 'a');
  const bv = finiteValues(b, 'b');
  return av.map((x, i) => x - bv[i]!);
}

function finiteValues(values: ArrayLike<number>, name: string): Float64Array {
  if (values.length === 0) throw new RangeError(`${name}: no values`);
  const out = Float64Array.from(values);
  const bad = out.filter((v) => !Number.isFinite(v)).length;
  if (bad > 0) throw new RangeError(`${name}: ${bad} of ${out.length} values are NaN or infinite`);
  return out;
}

function mean(values: Float64Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}
