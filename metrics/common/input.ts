/**
 * Checks shared by the metric plugins: the input kind is one the metric handles, and prediction and truth have the
 * same shape. Shape mismatches are the user's to fix (a wrong file, a wrong resolution), so they are UserErrors.
 */
import type { MetricInput } from '../../core/contracts.js';
import { UserError } from '../../core/errors.js';
import { imagesAsMatrix, type ImageBatch, type Matrix } from '../../core/tensor.js';

/** Prediction and truth as matrices with one flattened item per row (images are flattened HWC; no copy). */
export interface PairedRows {
  pred: Matrix;
  truth: Matrix;
}

export function metricWhere(metricId: string): string {
  return `metric ${metricId}`;
}

/** Latent input, or image input flattened per image, with matching shapes and at least `minItems` items. */
export function pairedRows(input: MetricInput, metricId: string, minItems = 1): PairedRows {
  let paired: PairedRows;
  if (input.kind === 'latent') {
    paired = checkedLatent(input.pred, input.truth, metricId);
  } else {
    checkedImages(input.pred, input.truth, metricId);
    paired = { pred: imagesAsMatrix(input.pred), truth: imagesAsMatrix(input.truth) };
  }
  requireItems(paired.pred.rows, minItems, metricId);
  if (paired.pred.cols === 0) throw new UserError('items have no values (0 columns)', metricWhere(metricId));
  return paired;
}

/** Image input with matching shapes and at least one image. */
export function pairedImages(input: MetricInput, metricId: string): { pred: ImageBatch; truth: ImageBatch } {
  if (input.kind !== 'image') {
    throw new UserError(`applies to images, but was given the latent space '${input.space}'`, metricWhere(metricId));
  }
  checkedImages(input.pred, input.truth, metricId);
  requireItems(input.pred.count, 1, metricId);
  return { pred: input.pred, truth: input.truth };
}

/** Latent input only (for metrics whose convention is defined on predicted targets). */
export function pairedLatent(input: MetricInput, metricId: string): PairedRows {
  if (input.kind !== 'latent') {
    throw new UserError('applies to latent targets, not to images', metricWhere(metricId));
  }
  return pairedRows(input, metricId);
}

function checkedLatent(pred: Matrix, truth: Matrix, metricId: string): PairedRows {
  if (pred.rows !== truth.rows || pred.cols !== truth.cols) {
    throw new UserError(
      `predictions are ${pred.rows}×${pred.cols} but the true targets are ${truth.rows}×${truth.cols}; ` +
        'they must have the same items and dimensions',
      metricWhere(metricId),
    );
  }
  return { pred, truth };
}

function checkedImages(pred: ImageBatch, truth: ImageBatch, metricId: string): void {
  const shape = (b: ImageBatch) => `${b.count} images of ${b.height}×${b.width}×${b.channels}`;
  if (
    pred.count !== truth.count ||
    pred.height !== truth.height ||
    pred.width !== truth.width ||
    pred.channels !== truth.channels
  ) {
    throw new UserError(
      `reconstructions are ${shape(pred)} but ground truth is ${shape(truth)}; ` +
        "resize both to one resolution first, or set the metric's convention option to resize both as a paper does",
      metricWhere(metricId),
    );
  }
}

function requireItems(count: number, minItems: number, metricId: string): void {
  if (count < minItems) {
    throw new UserError(`needs at least ${minItems} item(s), got ${count}`, metricWhere(metricId));
  }
}
