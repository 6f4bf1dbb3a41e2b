/**
 * SSIM exactly as scikit-image's `structural_similarity(gaussian_weights=True, sigma=1.5,
 * use_sample_covariance=False, data_range=L)` computes it on `rgb2gray` images:
 * - '2d': the 2-D SSIM map with a separable 11-tap Gaussian (sigma 1.5, truncate 3.5), mean over the map with a
 *   5-pixel border cropped;
 * - 'columns': what `multichannel=True` does to a 2-D array — each image column is a "channel", so the value is the
 *   mean over columns of 1-D SSIMs along the column (Brain-Diffuser, MindEye).
 * The crop removes exactly the positions whose window touches the border, so skimage's reflect padding never
 * affects the result and is not needed here.
 */
import type { Metric, MetricInput, MetricResult } from '../../core/contracts.js';
import { UserError } from '../../core/errors.js';
import type { ImageBatch } from '../../core/tensor.js';
import { meanOf } from '../common/aggregate.js';
import { metricWhere } from '../common/input.js';
import { pixelMetricPerItem } from '../common/pixel-convention.js';
import type { SsimOptions } from './schema.js';

export type SsimConvention = '2d' | 'columns';

const K1 = 0.01;
const K2 = 0.03;
const SIGMA = 1.5;
const TRUNCATE = 3.5;
/** scipy.ndimage's radius: int(truncate·sigma + 0.5) = 5, an 11-tap window. */
const RADIUS = Math.floor(TRUNCATE * SIGMA + 0.5);
const WINDOW = 2 * RADIUS + 1;
/** skimage `rgb2gray` weights (ITU-R 709 luma). */
const GRAY_WEIGHTS = [0.2125, 0.7154, 0.0721] as const;

/** scipy.ndimage's normalised 1-D Gaussian kernel. */
function gaussianKernel(): Float64Array {
  const kernel = new Float64Array(WINDOW);
  let sum = 0;
  for (let k = 0; k < WINDOW; k++) {
    const x = k - RADIUS;
    kernel[k] = Math.exp((-0.5 / (SIGMA * SIGMA)) * x * x);
    sum += kernel[k]!;
  }
  for (let k = 0; k < WINDOW; k++) kernel[k]! /= sum;
  return kernel;
}
const KERNEL = gaussianKernel();

export class SsimMetric implements Metric {
  readonly appliesTo = ['image'] as const;
  readonly direction = 'higher' as const;
  private readonly id: string;

  constructor(
    private readonly convention: SsimConvention,
    private readonly options: SsimOptions,
  ) {
    this.id = convention === '2d' ? 'ssim' : 'ssim-columns';
  }

  async compute(input: MetricInput): Promise<MetricResult> {
    const ssimOf = this.convention === '2d' ? ssim2d : ssimColumns;
    const perItem = await pixelMetricPerItem(input, this.id, this.options.convention, (pred, truth) => {
      this.checkSize(pred);
      return ssimOf(grayscale(truth, 0), grayscale(pred, 0), pred.height, pred.width, this.options.dataRange);
    });
    return { value: meanOf(perItem), perItem };
  }

  /** Checked on the images compared (after any resize of the convention). */
  private checkSize({ height, width, channels }: ImageBatch): void {
    if (channels !== 1 && channels !== 3) {
      throw new UserError(`needs grayscale (1) or RGB (3) images, got ${channels} channels`, metricWhere(this.id));
    }
    const minWidth = this.convention === '2d' ? WINDOW : 1;
    if (height < WINDOW || width < minWidth) {
      throw new UserError(`images of ${height}×${width} are smaller than the ${WINDOW}-pixel Gaussian window`, metricWhere(this.id));
    }
  }
}

/** Image `index` as a float64 grayscale plane (skimage `rgb2gray` for RGB; a copy for one channel). */
export function grayscale(images: ImageBatch, index: number): Float64Array {
  const pixels = images.height * images.width;
  const src = images.data.subarray(index * pixels * images.channels, (index + 1) * pixels * images.channels);
  const gray = new Float64Array(pixels);
  if (images.channels === 1) {
    for (let p = 0; p < pixels; p++) gray[p] = src[p]!;
  } else {
    const [wr, wg, wb] = GRAY_WEIGHTS;
    for (let p = 0; p < pixels; p++) gray[p] = wr * src[3 * p]! + wg * src[3 * p + 1]! + wb * src[3 * p + 2]!;
  }
  return gray;
}

/** The SSIM formula at one position from the five Gaussian-weighted moments (population covariance). */
function ssimAt(ux: number, uy: number, uxx: number, uyy: number, uxy: number, c1: number, c2: number): number {
  const vx = uxx - ux * ux;
  const vy = uyy - uy * uy;
  const vxy = uxy - ux * uy;
  return ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
}

/** 2-D Gaussian SSIM of two h×w planes, mean over the map without its RADIUS-wide border. */
export function ssim2d(x: Float64Array, y: Float64Array, h: number, w: number, dataRange: number): number {
  const c1 = (K1 * dataRange) ** 2;
  const c2 = (K2 * dataRange) ** 2;
  const ow = w - 2 * RADIUS;
  // Horizontal pass over every row, only at the kept columns.
  const hx = new Float64Array(h * ow);
  const hy = new Float64Array(h * ow);
  const hxx = new Float64Array(h * ow);
  const hyy = new Float64Array(h * ow);
  const hxy = new Float64Array(h * ow);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < ow; c++) {
      let sx = 0;
      let sy = 0;
      let sxx = 0;
      let syy = 0;
      let sxy = 0;
      const base = r * w + c;
      for (let k = 0; k < WINDOW; k++) {
        const g = KERNEL[k]!;
        const a = x[base + k]!;
        const b = y[base + k]!;
        sx += g * a;
        sy += g * b;
        sxx += g * a * a;
        syy += g * b * b;
        sxy += g * a * b;
      }
      const o = r * ow + c;
      hx[o] = sx;
      hy[o] = sy;
      hxx[o] = sxx;
      hyy[o] = syy;
      hxy[o] = sxy;
    }
  }
  return verticalSsimMean({ x: hx, y: hy, xx: hxx, yy: hyy, xy: hxy }, h, ow, c1, c2);
}

interface Planes {
  x: Float64Array;
  y: Float64Array;
  xx: Float64Array;
  yy: Float64Array;
  xy: Float64Array;
}

/** Gaussian filter down the columns of h×w planes of x, y and their products, then the mean SSIM of the map. */
function verticalSsimMean(p: Planes, h: number, w: number, c1: number, c2: number): number {
  const oh = h - 2 * RADIUS;
  let total = 0;
  for (let r = 0; r < oh; r++) {
    for (let c = 0; c < w; c++) {
      let ux = 0;
      let uy = 0;
      let uxx = 0;
      let uyy = 0;
      let uxy = 0;
      for (let k = 0; k < WINDOW; k++) {
        const g = KERNEL[k]!;
        const o = (r + k) * w + c;
        ux += g * p.x[o]!;
        uy += g * p.y[o]!;
        uxx += g * p.xx[o]!;
        uyy += g * p.yy[o]!;
        uxy += g * p.xy[o]!;
      }
      total += ssimAt(ux, uy, uxx, uyy, uxy, c1, c2);
    }
  }
  return total / (oh * w);
}

/** Mean over the w columns of the 1-D Gaussian SSIM along each column (skimage multichannel on a 2-D array). */
export function ssimColumns(x: Float64Array, y: Float64Array, h: number, w: number, dataRange: number): number {
  const c1 = (K1 * dataRange) ** 2;
  const c2 = (K2 * dataRange) ** 2;
  const xx = x.map((a) => a * a);
  const yy = y.map((b) => b * b);
  const xy = x.map((a, i) => a * y[i]!);
  // Every column has the same number of kept rows, so the mean of column means is the overall mean.
  return verticalSsimMean({ x, y, xx, yy, xy }, h, w, c1, c2);
}
