/**
 * The `convention` option of the pixel metrics (PixCorr, SSIM): `none` compares the images at the resolution they
 * are given; `brain-diffuser` and `mindeye` first resize both sides to 425 as each paper's evaluation does
 * (core/vision `pixelMetricImages`: Pillow's bicubic default on 8-bit images, or the tensor bilinear Resize).
 */
import type { MetricInput } from '../../core/contracts.js';
import { pixelMetricImages, type VisionConvention } from '../../core/vision/index.js';
import type { ImageBatch } from '../../core/tensor.js';
import { pairedImages } from './input.js';

export type PixelConvention = 'none' | VisionConvention;

export const pixelConventionSchema = {
  type: 'string',
  enum: ['none', 'brain-diffuser', 'mindeye'],
  default: 'none',
  description: 'resize to 425 first as a paper does: none, brain-diffuser (Pillow bicubic, 8-bit) or mindeye (tensor bilinear)',
} as const;

/** Prediction and truth, checked as for every image metric, then resized under `convention`. */
export async function pixelMetricPair(input: MetricInput, metricId: string, convention: PixelConvention): Promise<{ pred: ImageBatch; truth: ImageBatch }> {
  const { pred, truth } = pairedImages(input, metricId);
  if (convention === 'none') return { pred, truth };
  return { pred: await pixelMetricImages(pred, convention), truth: await pixelMetricImages(truth, convention) };
}
