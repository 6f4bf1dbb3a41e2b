/**
 * The visual features the simulated cortex sees: maps on a coarse grid over the visual field, then Gaussian
 * pooling (receptive fields) at a few scales. Early ROIs read these; the images themselves are never stored.
 */

/** Channels of every feature map, in this order. */
export const FEATURES = [
  'energy0', // orientation energy: squared luminance derivative along 0°, 45°, 90°, 135° (cell mean, square-rooted)
  'energy45',
  'energy90',
  'energy135',
  'luminance', // cell mean luminance − 0.5
  'redGreen', // cell mean R − G
  'blueYellow', // cell mean B − (R + G) / 2
  'contrast', // root mean squared luminance gradient: the normalisation pool
] as const;
export const FEATURE_COUNT = FEATURES.length;
export const ENERGY = 0;
export const LUMINANCE = 4;
export const RED_GREEN = 5;
export const CONTRAST = 7;

/** Side of the finest feature grid; level l of the pyramid has BASE_GRID / 2^l cells per side. */
export const BASE_GRID = 16;
export const LEVELS = 3;

/** A pooling scale: Gaussian receptive fields of `sigma` cells on pyramid level `level`. */
export interface PoolScale {
  level: number;
  sigma: number;
}

export function gridAt(level: number): number {
  return BASE_GRID >> level;
}

/**
 * Feature maps of one HWC image (size × size × 3 at `offset`), feature-major: FEATURE_COUNT × BASE_GRID².
 * Energies are scaled so that a sharp unit-contrast edge crossing a cell gives about 1 at every image size.
 */
export function featureMaps(image: Float32Array, offset: number, size: number): Float32Array {
  const cells = BASE_GRID * BASE_GRID;
  const sums = new Float64Array(FEATURE_COUNT * cells);
  const counts = new Float64Array(cells);
  const lum = new Float32Array(size * size);
  for (let p = 0; p < size * size; p++) {
    const i = offset + 3 * p;
    lum[p] = 0.299 * image[i]! + 0.587 * image[i + 1]! + 0.114 * image[i + 2]!;
  }
  const energyScale = (8 * size) / 64;
  for (let y = 0; y < size; y++) {
    const cy = Math.floor((y * BASE_GRID) / size);
    const up = Math.max(0, y - 1) * size;
    const down = Math.min(size - 1, y + 1) * size;
    for (let x = 0; x < size; x++) {
      const cell = cy * BASE_GRID + Math.floor((x * BASE_GRID) / size);
      const p = y * size + x;
      const i = offset + 3 * p;
      const r = image[i]!;
      const g = image[i + 1]!;
      const b = image[i + 2]!;
      const gx = (lum[y * size + Math.min(size - 1, x + 1)]! - lum[y * size + Math.max(0, x - 1)]!) / 2;
      const gy = (lum[down + x]! - lum[up + x]!) / 2;
      const d45 = (gx + gy) * Math.SQRT1_2;
      const d135 = (gy - gx) * Math.SQRT1_2;
      counts[cell]! += 1;
      sums[cell]! += gx * gx;
      sums[cells + cell]! += d45 * d45;
      sums[2 * cells + cell]! += gy * gy;
      sums[3 * cells + cell]! += d135 * d135;
      sums[4 * cells + cell]! += lum[p]! - 0.5;
      sums[5 * cells + cell]! += r - g;
      sums[6 * cells + cell]! += b - (r + g) / 2;
      sums[7 * cells + cell]! += gx * gx + gy * gy;
    }
  }
  const maps = new Float32Array(FEATURE_COUNT * cells);
  for (let f = 0; f < FEATURE_COUNT; f++) {
    const isEnergy = f < 4 || f === CONTRAST;
    for (let c = 0; c < cells; c++) {
      const mean = sums[f * cells + c]! / counts[c]!;
      maps[f * cells + c] = isEnergy ? Math.sqrt(mean * energyScale) : mean;
    }
  }
  return maps;
}

/** The maps at every pyramid level (level 0 is `maps`; each next level averages 2×2 cells). */
export function pyramid(maps: Float32Array): Float32Array[] {
  const levels = [maps];
  for (let l = 1; l < LEVELS; l++) {
    const fine = levels[l - 1]!;
    const n = gridAt(l);
    const coarse = new Float32Array(FEATURE_COUNT * n * n);
    for (let f = 0; f < FEATURE_COUNT; f++) {
      const src = f * 4 * n * n;
      for (let y = 0; y < n; y++) {
        for (let x = 0; x < n; x++) {
          const a = src + 2 * y * 2 * n + 2 * x;
          coarse[f * n * n + y * n + x] = (fine[a]! + fine[a + 1]! + fine[a + 2 * n]! + fine[a + 2 * n + 1]!) / 4;
        }
      }
    }
    levels.push(coarse);
  }
  return levels;
}

/**
 * Every map pooled by a Gaussian receptive field centred on every cell: a separable blur whose kernel sums to one
 * over the whole plane, with nothing (zero) outside the visual field.
 */
export function pool(maps: Float32Array, grid: number, sigma: number): Float32Array {
  const radius = Math.ceil(3 * sigma);
  const kernel = gaussianKernel(sigma, radius);
  const rows = new Float32Array(maps.length);
  const out = new Float32Array(maps.length);
  const planes = maps.length / (grid * grid);
  for (let f = 0; f < planes; f++) {
    const base = f * grid * grid;
    for (let y = 0; y < grid; y++) {
      for (let x = 0; x < grid; x++) {
        let s = 0;
        const from = Math.max(-radius, -x);
        const to = Math.min(radius, grid - 1 - x);
        for (let k = from; k <= to; k++) s += kernel[k + radius]! * maps[base + y * grid + x + k]!;
        rows[base + y * grid + x] = s;
      }
    }
    for (let y = 0; y < grid; y++) {
      for (let x = 0; x < grid; x++) {
        let s = 0;
        const from = Math.max(-radius, -y);
        const to = Math.min(radius, grid - 1 - y);
        for (let k = from; k <= to; k++) s += kernel[k + radius]! * rows[base + (y + k) * grid + x]!;
        out[base + y * grid + x] = s;
      }
    }
  }
  return out;
}

/** A sampled Gaussian over integer offsets −radius..radius, normalised to sum one. */
function gaussianKernel(sigma: number, radius: number): Float64Array {
  const kernel = new Float64Array(2 * radius + 1);
  let total = 0;
  for (let k = -radius; k <= radius; k++) {
    const w = Math.exp(-(k * k) / (2 * sigma * sigma));
    kernel[k + radius] = w;
    total += w;
  }
  for (let k = 0; k < kernel.length; k++) kernel[k]! /= total;
  return kernel;
}
