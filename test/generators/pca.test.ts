import { describe, expect, it } from 'vitest';
import type { PluginRegistrar, StimulusBatch } from '../../core/contracts.js';
import { symmetricEigen } from '../../core/compute/eigen.js';
import { UserError } from '../../core/errors.js';
import type { ImageBatch, Matrix } from '../../core/tensor.js';
import { manifest, register } from '../../generators/pca/index.js';
import { PcaGenerator, type FittedPca } from '../../generators/pca/pca.js';
import type { PcaOptions } from '../../generators/pca/schema.js';
import { lowRankImages, testServices } from './helpers.js';

const defaults: PcaOptions = { components: 256, whiten: false, oversamples: 16, powerIterations: 4 };

function batch(images: ImageBatch): StimulusBatch {
  return { ids: Array.from({ length: images.count }, (_, i) => `img${i}`), images };
}

async function fitPca(images: ImageBatch, options: Partial<PcaOptions> = {}, seed = 1) {
  const services = testServices();
  const fitted = await new PcaGenerator({ ...defaults, ...options }, services).fit(batch(images), { seed });
  return { fitted, messages: services.messages };
}

/** Exact PCA: eigendecomposition of the float64 covariance (ddof = 1). Directions are the columns of `vectors`. */
function exactPca(images: ImageBatch) {
  const n = images.count;
  const d = images.data.length / n;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) mean[t]! += images.data[i * d + t]! / n;
  const covariance = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    for (let s = 0; s < d; s++) {
      const xs = images.data[i * d + s]! - mean[s]!;
      for (let t = 0; t < d; t++) covariance[s * d + t]! += (xs * (images.data[i * d + t]! - mean[t]!)) / (n - 1);
    }
  }
  return { d, ...symmetricEigen(covariance, d) };
}

/** ‖P_V − P_W‖_F² for the spans of V's rows (k × d) and W's first k columns (d × d): 2k − 2‖V·W_k‖_F². */
function subspaceDistance(components: Matrix, vectors: Float64Array, d: number): number {
  const k = components.rows;
  let overlap = 0;
  for (let p = 0; p < k; p++) {
    for (let q = 0; q < k; q++) {
      let s = 0;
      for (let t = 0; t < d; t++) s += components.data[p * d + t]! * vectors[t * d + q]!;
      overlap += s * s;
    }
  }
  return 2 * k - 2 * overlap;
}

function sumSquaredError(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return s;
}

async function roundTrip(fitted: FittedPca, images: ImageBatch): Promise<ImageBatch> {
  return fitted.generate(await fitted.encode(batch(images)));
}

describe('pca generator', () => {
  const wideImages = lowRankImages(60, [6, 6, 3], { factors: 8, noise: 0.001, seed: 11 });

  it('matches the exact PCA: leading explained variances to 1e-4 relative, same subspace, same signs', async () => {
    const { fitted } = await fitPca(wideImages, { components: 8 });
    const exact = exactPca(wideImages);
    const { components, explainedVariance, explainedVarianceRatio } = fitted.state;
    expect(fitted.targets()).toEqual([{ name: 'pca', dims: 8 }]);
    const total = exact.values.reduce((s, x) => s + x, 0);
    for (let j = 0; j < 8; j++) {
      expect(Math.abs(explainedVariance[j]! / exact.values[j]! - 1)).toBeLessThan(1e-4);
      expect(explainedVarianceRatio[j]).toBeCloseTo(exact.values[j]! / total, 5);
    }
    expect(subspaceDistance(components, exact.vectors, exact.d)).toBeLessThan(1e-6);
    // Component by component (the eigenvalues are well separated), with the exact vectors flipped by the same rule.
    for (let j = 0; j < 8; j++) {
      const column = Array.from({ length: exact.d }, (_, t) => exact.vectors[t * exact.d + j]!);
      const largest = column.reduce((best, x, t) => (Math.abs(x) > Math.abs(column[best]!) ? t : best), 0);
      const sign = Math.sign(column[largest]!);
      const row = components.data.subarray(j * exact.d, (j + 1) * exact.d);
      expect(row[largest]!).toBeGreaterThan(0);
      for (let t = 0; t < exact.d; t++) expect(Math.abs(row[t]! - sign * column[t]!)).toBeLessThan(1e-3);
    }
  });

  it('reconstructs the training images with a squared error equal to the discarded variance', async () => {
    for (const k of [3, 8, 20]) {
      const { fitted } = await fitPca(wideImages, { components: k });
      const reconstruction = await roundTrip(fitted, wideImages);
      // No value was clipped, so the closed form holds: Σ‖x − x̂‖² = (n − 1) Σ_{j>k} λ_j.
      expect(reconstruction.data.every((x) => x > 0 && x < 1)).toBe(true);
      const exact = exactPca(wideImages);
      const discarded = exact.values.subarray(k).reduce((s, x) => s + x, 0) * (wideImages.count - 1);
      const error = sumSquaredError(reconstruction.data, wideImages.data);
      // Beyond the gap (k = 20 sits in the flat noise floor) a randomized subspace is only near-optimal.
      expect(Math.abs(error / discarded - 1)).toBeLessThan(k <= 8 ? 1e-4 : 2e-2);
      expect(error).toBeGreaterThanOrEqual(discarded * (1 - 1e-4));
    }
  });

  it('reconstructs every training image exactly with n − 1 components (fewer images than values)', async () => {
    const images = lowRankImages(30, [6, 6, 3], { factors: 40, noise: 0.01, seed: 5 });
    const { fitted } = await fitPca(images, { components: 29 });
    const reconstruction = await roundTrip(fitted, images);
    expect(Math.max(...reconstruction.data.map((x, i) => Math.abs(x - images.data[i]!)))).toBeLessThan(2e-5);
    expect(fitted.summary.explainedVarianceRatio as number).toBeCloseTo(1, 5);
  });

  it('works on the transposed problem (more images than values): exact PCA and full-rank reconstruction', async () => {
    const images = lowRankImages(150, [3, 3, 3], { factors: 5, noise: 0.01, seed: 8 });
    const exact = exactPca(images);
    const { fitted } = await fitPca(images, { components: 4 });
    for (let j = 0; j < 4; j++) {
      expect(Math.abs(fitted.state.explainedVariance[j]! / exact.values[j]! - 1)).toBeLessThan(1e-4);
    }
    expect(subspaceDistance(fitted.state.components, exact.vectors, exact.d)).toBeLessThan(1e-6);
    const full = await fitPca(images, { components: 27 });
    const reconstruction = await roundTrip(full.fitted, images);
    expect(Math.max(...reconstruction.data.map((x, i) => Math.abs(x - images.data[i]!)))).toBeLessThan(2e-5);
  });

  it('whitens: training coefficients get unit variance and the round trip is unchanged', async () => {
    const plain = (await fitPca(wideImages, { components: 6 })).fitted;
    const whitened = (await fitPca(wideImages, { components: 6, whiten: true })).fitted;
    const coefficients = (await whitened.encode(batch(wideImages))).pca!;
    for (let j = 0; j < 6; j++) {
      let sum = 0;
      let sumOfSquares = 0;
      for (let i = 0; i < coefficients.rows; i++) sum += coefficients.data[i * 6 + j]!;
      const mean = sum / coefficients.rows;
      for (let i = 0; i < coefficients.rows; i++) sumOfSquares += (coefficients.data[i * 6 + j]! - mean) ** 2;
      expect(mean).toBeCloseTo(0, 5);
      expect(sumOfSquares / (coefficients.rows - 1)).toBeCloseTo(1, 4);
    }
    const a = await roundTrip(plain, wideImages);
    const b = await roundTrip(whitened, wideImages);
    expect(Math.max(...a.data.map((x, i) => Math.abs(x - b.data[i]!)))).toBeLessThan(1e-5);
  });

  it('generates mean + coefficients · components, clipped to [0, 1]', async () => {
    const { fitted } = await fitPca(wideImages, { components: 2 });
    const { mean, components } = fitted.state;
    const coefficients = [3, -2];
    const image = await fitted.generate({ pca: { rows: 1, cols: 2, data: Float32Array.from(coefficients) } });
    expect([image.count, image.height, image.width, image.channels]).toEqual([1, 6, 6, 3]);
    let clipped = 0;
    for (let t = 0; t < 108; t++) {
      const raw = mean[t]! + coefficients[0]! * components.data[t]! + coefficients[1]! * components.data[108 + t]!;
      if (raw < 0 || raw > 1) clipped++;
      expect(image.data[t]).toBeCloseTo(Math.min(1, Math.max(0, raw)), 6);
    }
    expect(clipped).toBeGreaterThan(10); // the case exercises clipping at both ends
    expect(image.data.some((x) => x === 0) && image.data.some((x) => x === 1)).toBe(true);
  });

  it('is deterministic given the seed', async () => {
    const a = (await fitPca(wideImages, { components: 5 }, 42)).fitted;
    const b = (await fitPca(wideImages, { components: 5 }, 42)).fitted;
    const c = (await fitPca(wideImages, { components: 5 }, 43)).fitted;
    expect(b.state.components.data).toEqual(a.state.components.data);
    expect(b.state.explainedVariance).toEqual(a.state.explainedVariance);
    // Another sketch finds the same components up to rounding (signs fixed by the flip rule).
    expect(c.state.components.data).not.toEqual(a.state.components.data);
    expect(Math.max(...c.state.components.data.map((x, i) => Math.abs(x - a.state.components.data[i]!)))).toBeLessThan(1e-4);
  });

  it('caps components at n − 1 and says so', async () => {
    const images = lowRankImages(10, [4, 4, 3], { factors: 12, noise: 0.01, seed: 2 });
    const { fitted, messages } = await fitPca(images);
    expect(fitted.targets()).toEqual([{ name: 'pca', dims: 9 }]);
    expect(messages.join('\n')).toMatch(/256 components requested.*using 9/);
  });

  it('drops directions the images do not vary along, so whitening never divides by zero', async () => {
    // Three distinct images repeated: the centred data have rank 2.
    const base = lowRankImages(3, [4, 4, 3], { factors: 3, noise: 0.01, seed: 9 });
    const d = 48;
    const data = new Float32Array(12 * d);
    for (let i = 0; i < 12; i++) data.set(base.data.subarray((i % 3) * d, (i % 3 + 1) * d), i * d);
    const images = { ...base, count: 12, data };
    const { fitted, messages } = await fitPca(images, { components: 6, whiten: true });
    expect(fitted.targets()).toEqual([{ name: 'pca', dims: 2 }]);
    expect(messages.join('\n')).toMatch(/only 2 resolvable directions/);
    const reconstruction = await roundTrip(fitted, images);
    expect(Math.max(...reconstruction.data.map((x, i) => Math.abs(x - data[i]!)))).toBeLessThan(1e-5);
  });

  it('rejects bad input with a UserError naming what was expected', async () => {
    const { fitted } = await fitPca(wideImages, { components: 4 });
    await expect(fitted.generate({ pixels: { rows: 1, cols: 4, data: new Float32Array(4) } })).rejects.toThrow(
      /needs predicted 'pca' targets, got: pixels/,
    );
    await expect(fitted.generate({ pca: { rows: 1, cols: 3, data: new Float32Array(3) } })).rejects.toThrow(
      /3 columns, expected 4/,
    );
    await expect(fitted.generate({ pca: { rows: 1, cols: 4, data: Float32Array.from([0, NaN, 0, 0]) } })).rejects.toThrow(
      UserError,
    );
    const wrongShape = lowRankImages(2, [4, 4, 3], { factors: 1, noise: 0.01, seed: 1 });
    await expect(fitted.encode(batch(wrongShape))).rejects.toThrow(/4×4×3, but the PCA was fitted on 6×6×3/);
    const same = { ...wrongShape, data: new Float32Array(wrongShape.data.length).fill(0.3) };
    await expect(fitPca(same)).rejects.toThrow(/identical/);
  });

  it('registers a factory that builds the generator from validated options', async () => {
    expect(manifest.name).toBe('neurodecode-generator-pca');
    let factory: Parameters<PluginRegistrar['generator']>[1] | undefined;
    register({ generator: (id, f) => (factory = id === 'pca' ? f : undefined) } as PluginRegistrar);
    const generator = await factory!.create({ ...defaults, components: 3 }, testServices());
    const fitted = await generator.fit(batch(wideImages), { seed: 0 });
    expect(fitted.targets()).toEqual([{ name: 'pca', dims: 3 }]);
  });
});
