/**
 * What the simulated visual cortex "sees" in an image: feature maps on a coarse grid over the visual field
 * (local orientation energy at two scales, colour opponency, luminance), their global means (position-invariant
 * features for higher areas), and the scene's category and size.
 */
import type { Scene } from './scenes.js';
import { CATEGORIES } from './scenes.js';

/** The visual field is sampled on GRID × GRID cells. */
export const GRID = 16;
export const ORIENTATIONS = 4;
/** Channels per cell: orientation energy fine (4) and coarse (4), red–green, blue–yellow, luminance. */
export const CHANNELS = 2 * ORIENTATIONS + 3;
export const GRID_FEATURES = CHANNELS * GRID * GRID;
/** Per image: grid features, then category one-hot, object size, then the global mean of each channel. */
export const FEATURES = GRID_FEATURES + CATEGORIES.length + 1 + CHANNELS;
export const CATEGORY_OFFSET = GRID_FEATURES;
export const SIZE_OFFSET = GRID_FEATURES + CATEGORIES.length;
export const GLOBAL_OFFSET = SIZE_OFFSET + 1;

/** Index of channel `c` at cell (gx, gy) in an image's feature vector. */
export function gridIndex(c: number, gx: number, gy: number): number {
  return c * GRID * GRID + gy * GRID + gx;
}

/** Writes the FEATURES values of one size×size×3 image (and its scene) into `out` at `offset`. */
export function imageFeatures(image: Float32Array, imageOffset: number, size: number, scene: Scene, out: Float32Array, offset: number): void {
  const lum = new Float32Array(size * size);
  for (let p = 0; p < size * size; p++) {
    const i = imageOffset + 3 * p;
    lum[p] = 0.299 * image[i]! + 0.587 * image[i + 1]! + 0.114 * image[i + 2]!;
  }
  const cell = size / GRID;
  const perCell = cell * cell;
  const addEnergy = (map: Float32Array, mapSize: number, step: number, channelBase: number) => {
    // Central differences; energy of the gradient projected on each orientation, pooled per cell.
    for (let y = 1; y < mapSize - 1; y++) {
      for (let x = 1; x < mapSize - 1; x++) {
        const gx = map[y * mapSize + x + 1]! - map[y * mapSize + x - 1]!;
        const gy = map[(y + 1) * mapSize + x]! - map[(y - 1) * mapSize + x]!;
        const cx = Math.min(GRID - 1, Math.floor((x * step) / cell));
        const cy = Math.min(GRID - 1, Math.floor((y * step) / cell));
        for (let o = 0; o < ORIENTATIONS; o++) {
          const theta = (o * Math.PI) / ORIENTATIONS;
          const e = gx * Math.cos(theta) + gy * Math.sin(theta);
          out[offset + gridIndex(channelBase + o, cx, cy)]! += (e * e * step * step) / perCell;
        }
      }
    }
  };
  for (let k = 0; k < GRID_FEATURES; k++) out[offset + k] = 0;
  addEnergy(lum, size, 1, 0);
  const half = size >> 1;
  const coarse = new Float32Array(half * half);
  for (let y = 0; y < half; y++) {
    for (let x = 0; x < half; x++) {
      const p = 2 * y * size + 2 * x;
      coarse[y * half + x] = 0.25 * (lum[p]! + lum[p + 1]! + lum[p + size]! + lum[p + size + 1]!);
    }
  }
  addEnergy(coarse, half, 2, ORIENTATIONS);
  for (let y = 0; y < size; y++) {
    const cy = Math.min(GRID - 1, Math.floor(y / cell));
    for (let x = 0; x < size; x++) {
      const cx = Math.min(GRID - 1, Math.floor(x / cell));
      const i = imageOffset + 3 * (y * size + x);
      const r = image[i]!;
      const g = image[i + 1]!;
      const b = image[i + 2]!;
      out[offset + gridIndex(2 * ORIENTATIONS, cx, cy)]! += (r - g) / perCell;
      out[offset + gridIndex(2 * ORIENTATIONS + 1, cx, cy)]! += (b - 0.5 * (r + g)) / perCell;
      out[offset + gridIndex(2 * ORIENTATIONS + 2, cx, cy)]! += lum[y * size + x]! / perCell;
    }
  }
  for (let c = 0; c < CATEGORIES.length; c++) out[offset + CATEGORY_OFFSET + c] = CATEGORIES[c] === scene.category ? 1 : 0;
  out[offset + SIZE_OFFSET] = scene.radius;
  for (let c = 0; c < CHANNELS; c++) {
    let s = 0;
    for (let k = 0; k < GRID * GRID; k++) s += out[offset + c * GRID * GRID + k]!;
    out[offset + GLOBAL_OFFSET + c] = s / (GRID * GRID);
  }
}
