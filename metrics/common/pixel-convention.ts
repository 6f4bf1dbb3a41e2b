/**
 * The `convention` option of the pixel metrics (PixCorr, SSIM): `none` compares the images at the resolution they
 * are given; `brain-diffuser` and `mindeye` first resize both sides to 425 as each paper's evaluation does
 * (core/vision `pixelMetricImages`: Pillow's bicubic default on 8-bit images, or the tensor bilinear Resize), so
 * that reconstructions and ground truths may then differ in size, as in the papers. Images are resized one pair
 * at a time: a whole test set at 425 × 425 would hold 2 GB per side.
 */
import type { MetricInput } from '../../core/contracts.js';
import { UserError } from '../../core/errors.js';
import { sliceImages, type ImageBatch } from '../../core/tensor.js';
import { pixelMetricImages, type VisionConvention } from '../../core/vision/index.js';
import { metricWhere, pairedImages } from './input.js';

export type PixelConvention = 'none' | VisionConvention;

export const pixelConventionSchema = {
  type: 'string',
  enum: ['none', 'brain-diffuser', 'mindeye'],
  default: 'none',
  description: 'resize to 425 first as a paper does: none, brain-diffuser (Pillow bicubic, 8-bit) or mindeye (tensor bilinear)',
} as const;

/** `score` of each reconstruction/ground-truth pair (one-image batches), after the convention's resize. */
export async function pixelMetricPerItem(
  input: MetricInput,
  metricId: string,
  convention: PixelConvention,
  score: (pred: ImageBatch, truth: ImageBatch) => number,
): Promise<Float64Array> {
  const { pred, truth } = convention === 'none' ? pairedImages(input, metricId) : resizablePair(input, metricId);
  const perItem = new Float64Array(pred.count);
  for (let i = 0; i < pred.count; i++) {
    const [p, t] = [sliceImages(pred, i, 1), sliceImages(truth, i, 1)];
    perItem[i] = convention === 'none' ? score(p, t) : score(await pixelMetricImages(p, convention), await pixelMetricImages(t, convention));
  }
  return perItem;
}

/** Images to be resized: the same count and channels, any sizes. */
function resizablePair(input: MetricInput, metricId: string): { pred: ImageBatch; truth: ImageBatch } {
  if (input.kind !== 'image') throw new UserError(`applies to images, but was given the latent space '${input.space}'`, metricWhere(metricId));
  const { pred, truth } = input;
  if (pred.count !== truth.count || pred.channels !== truth.channels || pred.count === 0) {
    const shape = (b: ImageBatch) => `${b.count} images of ${b.channels} channels`;
    throw new UserError(`reconstructions are ${shape(pred)} but ground truth is ${shape(truth)}; expected the same count (≥ 1) and channels`, metricWhere(metricId));
  }
  return { pred, truth };
}
