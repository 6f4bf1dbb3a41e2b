/**
 * LPIPS v0.1 with the AlexNet backbone (richzhang/PerceptualSimilarity `lpips/lpips.py`, `LPIPS(net='alex',
 * version='0.1')`), the parts around the network:
 *
 * - input: images in [0, 1] → [−1, 1] (2x − 1, the `normalize=True` path), then the ScalingLayer
 *   (x − shift) / scale with shift (−.030, −.088, −.188), scale (.458, .448, .450);
 * - distance from the five tap outputs of both images (AlexNet `features[1, 4, 7, 9, 11]`, the ReLUs, with 64,
 *   192, 384, 256, 256 channels): per tap f / (‖f‖₂ over channels + 1e-10), d = (f₀ − f₁)², the 1×1 convolution
 *   without bias with the learned lin weights (channels → 1), mean over the spatial positions, sum over the taps.
 *
 * The lin weights ship in metrics/lpips/ (converted from `lpips/weights/v0.1/alex.pth`, BSD-2-Clause).
 */
import { readFile } from 'node:fs/promises';
import { UserError } from '../errors.js';
import type { ImageBatch } from '../tensor.js';
import type { NetworkInput } from './preprocess.js';

/** Channels of the five AlexNet taps LPIPS reads. */
export const LPIPS_ALEX_CHANNELS = [64, 192, 384, 256, 256] as const;
const SHIFT = [-0.03, -0.088, -0.188] as const;
const SCALE = [0.458, 0.448, 0.45] as const;
const EPS = 1e-10;

/** A stack of feature maps, NCHW float32. */
export interface FeatureMaps {
  readonly count: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly data: Float32Array;
}

/** The AlexNet input LPIPS feeds (no resize: LPIPS compares images at their own size). */
export function lpipsInput(images: ImageBatch): NetworkInput {
  const { count, height, width, channels } = images;
  if (channels !== 1 && channels !== 3) throw new UserError(`images have ${channels} channels; expected 3 (RGB) or 1 (gray)`, 'LPIPS input');
  const plane = height * width;
  const data = new Float32Array(count * 3 * plane);
  for (let n = 0; n < count; n++) {
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) {
        const v = images.data[(n * plane + p) * channels + (channels === 1 ? 0 : c)]!;
        data[(n * 3 + c) * plane + p] = (Math.fround(2 * v - 1) - SHIFT[c]!) / SCALE[c]!;
      }
    }
  }
  return { count, channels: 3, height, width, data, convertedFromGray: channels === 1 };
}

/**
 * Per-item LPIPS distance between two images' tap outputs: `taps0[k]` and `taps1[k]` are tap k of every image
 * (same shapes), `lin[k]` its lin weights (one per channel).
 */
export function lpipsDistance(taps0: readonly FeatureMaps[], taps1: readonly FeatureMaps[], lin: readonly Float32Array[]): Float64Array {
  if (taps0.length !== lin.length || taps1.length !== lin.length) {
    throw new UserError(`${taps0.length} and ${taps1.length} taps for ${lin.length} lin layers; expected one of each per layer`, 'LPIPS');
  }
  const count = taps0[0]?.count ?? 0;
  const out = new Float64Array(count);
  taps0.forEach((f0, k) => {
    const f1 = taps1[k]!;
    const w = lin[k]!;
    if (f0.count !== f1.count || f0.channels !== f1.channels || f0.height !== f1.height || f0.width !== f1.width || f0.count !== count) {
      throw new UserError(`tap ${k}: ${shape(f0)} against ${shape(f1)}; expected equal shapes`, 'LPIPS');
    }
    if (w.length !== f0.channels) throw new UserError(`tap ${k} has ${f0.channels} channels but its lin layer ${w.length} weights`, 'LPIPS');
    const plane = f0.height * f0.width;
    for (let n = 0; n < count; n++) {
      const base = n * f0.channels * plane;
      let sum = 0;
      for (let p = 0; p < plane; p++) {
        let norm0 = 0;
        let norm1 = 0;
        for (let c = 0; c < f0.channels; c++) {
          const a = f0.data[base + c * plane + p]!;
          const b = f1.data[base + c * plane + p]!;
          norm0 += a * a;
          norm1 += b * b;
        }
        const s0 = 1 / (Math.sqrt(norm0) + EPS);
        const s1 = 1 / (Math.sqrt(norm1) + EPS);
        let weighted = 0;
        for (let c = 0; c < f0.channels; c++) {
          const d = f0.data[base + c * plane + p]! * s0 - f1.data[base + c * plane + p]! * s1;
          weighted += w[c]! * d * d;
        }
        sum += weighted;
      }
      out[n]! += sum / plane;
    }
  });
  return out;
}

const shape = (f: FeatureMaps) => `${f.count}×${f.channels}×${f.height}×${f.width}`;

/** The lin weights file of metrics/lpips/ (see its README): five layers, each one weight per tap channel. */
export interface LpipsWeightsFile {
  source: string;
  sha256: string;
  layers: Array<{ name: string; channels: number; weights: number[] }>;
}

/** Reads and checks an LPIPS lin-weights JSON file (AlexNet layout). */
export async function readLpipsWeights(path: string): Promise<Float32Array[]> {
  let parsed: LpipsWeightsFile;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8')) as LpipsWeightsFile;
  } catch (error) {
    throw new UserError(`cannot read LPIPS weights (${(error as Error).message})`, path);
  }
  const layers = Array.isArray(parsed.layers) ? parsed.layers : [];
  if (layers.length !== LPIPS_ALEX_CHANNELS.length) {
    throw new UserError(`'layers' has ${layers.length} entries; expected ${LPIPS_ALEX_CHANNELS.length} (AlexNet taps)`, path);
  }
  return layers.map((layer, k) => {
    const expected = LPIPS_ALEX_CHANNELS[k]!;
    if (!Array.isArray(layer.weights) || layer.weights.length !== expected || !layer.weights.every(Number.isFinite)) {
      throw new UserError(`layers[${k}].weights: expected ${expected} finite numbers`, path);
    }
    return Float32Array.from(layer.weights);
  });
}
