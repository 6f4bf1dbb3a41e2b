/**
 * Generated "real-looking" test images (smooth gradients, hard edges, hashed noise) and hashed float32 features from
 * integer formulas, the same
 * as test/fixtures/vision/patterns.py computes them, so that Python fixtures need not store pixels.
 */
import type { ImageBatch, Matrix } from '../../core/tensor.js';

/** uint8 H×W×C pattern `kind` 0 smooth, 1 edges + noise, 2 noisy gradient, 3 mixed (see the Python twin). */
export function patternBytes(height: number, width: number, channels: number, kind: number): Uint8Array {
  const out = new Uint8Array(height * width * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        const smooth = (Math.floor((x * 255) / Math.max(width - 1, 1)) + Math.floor((y * 128) / Math.max(height - 1, 1)) + 40 * c) % 256;
        // Low 8 bits of the products, as numpy's int64 XOR then & 255 keeps them.
        const noise = (Math.imul(x, 73856093) ^ Math.imul(y, 19349663) ^ Math.imul(c + 1, 83492791)) & 255;
        const inside = ((x - Math.floor(width / 2)) ** 2 + (y - Math.floor(height / 3)) ** 2) * 9 < Math.min(height, width) ** 2;
        const stripes = ((Math.floor(x / 7) + Math.floor(y / 11)) % 2) * 160;
        const edges = (inside ? 220 - 60 * c : 30 + 50 * c) + Math.floor(stripes / 4);
        const v =
          kind === 0 ? smooth : kind === 1 ? edges + (noise % 16) : kind === 2 ? Math.floor((smooth * 3 + noise) / 4) : Math.floor((smooth + edges + (noise % 64)) / 2);
        out[(y * width + x) * channels + c] = Math.min(255, Math.max(0, v));
      }
    }
  }
  return out;
}

/** The pattern as a one-image batch in [0, 1] (bytes / 255). */
export function patternImage(height: number, width: number, channels: number, kind: number): ImageBatch {
  return { count: 1, height, width, channels, data: Float32Array.from(patternBytes(height, width, channels, kind), (v) => v / 255) };
}

/** The 32-bit hash of test/fixtures/vision/patterns.py. */
function hash(i: number, k: number, seed: number): number {
  let h = (Math.imul(i, 73856093) ^ Math.imul(k, 19349663) ^ Math.imul(seed, 83492791)) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d) >>> 0;
  h ^= h >>> 12;
  h = Math.imul(h, 0x297a2d39) >>> 0;
  h ^= h >>> 15;
  return h >>> 0;
}

/** rows × cols in [0, 1): (hash & 0xffff) / 65536, as patterns.py `uniform(rows, cols, seed)`. */
export function hashUniform(rows: number, cols: number, seed: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let k = 0; k < cols; k++) out[i * cols + k] = (hash(i, k, seed) & 0xffff) / 65536;
  return out;
}

/** rows × cols float32 features identical to patterns.py `features(rows, cols, seed)` (non-negative, correlated). */
export function hashFeatures(rows: number, cols: number, seed: number): Matrix {
  const u = (i: number, k: number) => (hash(i, k, seed) & 0xffff) / 65536;
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < cols; k++) data[i * cols + k] = (u(i, k) + 0.5 * u(i, Math.floor(k / 4) + cols)) * (1 + (k % 5));
  }
  return { rows, cols, data };
}
