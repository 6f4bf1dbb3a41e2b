/**
 * Two-way identification as Brain-Diffuser's `pairwise_corr_all` computes it: r[i][j] = Pearson(truth_i, pred_j);
 * reconstruction j scores the fraction of the other N−1 truths i with r[i][j] < r[j][j] (strictly: ties fail).
 */
import type { Linalg } from '../../core/compute/linalg.js';
import type { Metric, MetricInput, MetricResult } from '../../core/contracts.js';
import type { Matrix } from '../../core/tensor.js';
import { meanOf } from '../common/aggregate.js';
import { crossDotsOn, unitCenteredRows } from '../common/correlation.js';
import { pairedRows } from '../common/input.js';

export class TwoWayMetric implements Metric {
  readonly appliesTo = ['latent', 'image'] as const;
  readonly direction = 'higher' as const;

  constructor(private readonly linalg?: Linalg) {}

  async compute(input: MetricInput): Promise<MetricResult> {
    const { pred, truth } = pairedRows(input, 'two-way', 2);
    const perItem = await twoWayIdentification(pred, truth, this.linalg);
    return { value: meanOf(perItem), perItem };
  }
}

/**
 * Per reconstruction j, the fraction of other truths beaten. NaN when pred_j or truth_j is constant (r[j][j]
 * undefined); a constant truth i ≠ j has r[i][j] NaN, which counts as not beaten — as numpy's `r < diag` does.
 */
export async function twoWayIdentification(pred: Matrix, truth: Matrix, linalg?: Linalg): Promise<Float64Array> {
  const n = pred.rows;
  // r[i·n + j] = Pearson(truth_i, pred_j); the products on `linalg` when given (see crossDotsOn).
  const r = await crossDotsOn(linalg, unitCenteredRows(truth), n, unitCenteredRows(pred), n, pred.cols);
  const perItem = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const own = r[j * n + j]!;
    if (Number.isNaN(own)) {
      perItem[j] = Number.NaN;
      continue;
    }
    let beaten = 0;
    for (let i = 0; i < n; i++) if (i !== j && r[i * n + j]! < own) beaten++;
    perItem[j] = beaten / (n - 1);
  }
  return perItem;
}
