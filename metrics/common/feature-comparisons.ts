/**
 * Comparisons of network features between reconstructions and ground truth, one row per image:
 *
 * - correlation distance (Brain-Diffuser `evaluate_reconstruction.py` and MindEye `Reconstruction_Metrics.py`
 *   for EffNet-B and SwAV): per image scipy's `spatial.distance.correlation(gt_i, pred_i)` = 1 − Pearson r of the
 *   flattened features; the papers print the mean (lower is better). A constant row gives NaN, as scipy does.
 * - n-way identification (Mind Reader, Lin et al. 2022): for each reconstruction, its own ground-truth image and
 *   n − 1 others drawn at random without replacement; correct when the cosine similarity of the features with its
 *   own is strictly greater than with each of the others (ties fail, as in two-way identification; the Mind Reader
 *   repository holds no code for this step, so the tie rule follows the paper's two-way convention). Repeated
 *   `repeats` times with fresh draws; per item, the fraction correct. Two-way identification on features is
 *   metrics/two-way (`twoWayIdentification`).
 */
import type { Linalg } from '../../core/compute/linalg.js';
import { UserError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import type { Matrix } from '../../core/tensor.js';
import { crossDotsOn, rowwisePearson, unitRows } from './correlation.js';

/** Per image 1 − Pearson(pred_i, truth_i) (scipy `correlation`). */
export function correlationDistance(pred: Matrix, truth: Matrix): Float64Array {
  return rowwisePearson(pred, truth).map((r) => 1 - r);
}

export interface NWayOptions {
  /** Candidates per trial, own image included (Mind Reader: 2, 5, 10, 50, 100 …). */
  n: number;
  /** Trials per reconstruction, each with a new draw of the n − 1 others. */
  repeats: number;
  seed: number;
}

/**
 * Per reconstruction, the fraction of `repeats` n-way trials it wins (see the module note). NaN for an item whose
 * reconstruction or truth features are all zero (no direction); a zero distractor is never beaten.
 */
export async function nWayIdentification(pred: Matrix, truth: Matrix, options: NWayOptions, linalg?: Linalg): Promise<Float64Array> {
  const items = pred.rows;
  const { n, repeats } = options;
  if (!(Number.isInteger(n) && n >= 2 && n <= items)) {
    throw new UserError(`n = ${n}: expected an integer from 2 to the number of test images (${items})`, 'n-way identification');
  }
  if (!(Number.isInteger(repeats) && repeats >= 1)) throw new UserError(`repeats = ${repeats}: expected an integer ≥ 1`, 'n-way identification');
  // similarity[i·items + j] = cos(pred_i, truth_j).
  const similarity = await crossDotsOn(linalg, unitRows(pred), items, unitRows(truth), items, pred.cols);
  const rng = new Rng(options.seed);
  const others = new Int32Array(items - 1);
  const perItem = new Float64Array(items);
  for (let i = 0; i < items; i++) {
    const own = similarity[i * items + i]!;
    let wins = 0;
    for (let r = 0; r < repeats; r++) {
      // The n − 1 distractors: a partial Fisher–Yates shuffle of the other items (drawn even for a NaN item, so
      // that every item's draws stay the same whatever the others contain).
      for (let k = 0, j = 0; j < items; j++) if (j !== i) others[k++] = j;
      let beatsAll = true;
      for (let k = 0; k < n - 1; k++) {
        const pick = k + rng.int(items - 1 - k);
        const chosen = others[pick]!;
        others[pick] = others[k]!;
        others[k] = chosen;
        if (!(own > similarity[i * items + chosen]!)) beatsAll = false;
      }
      if (beatsAll) wins++;
    }
    perItem[i] = Number.isNaN(own) ? Number.NaN : wins / repeats;
  }
  return perItem;
}
