/** Mean squared error per item (mean over the target's dimensions); the value is the mean over items. */
import type { Metric, MetricInput, MetricResult } from '../../core/contracts.js';
import { meanOf } from '../common/aggregate.js';
import { pairedLatent } from '../common/input.js';

export class MseMetric implements Metric {
  readonly appliesTo = ['latent'] as const;
  readonly direction = 'lower' as const;

  compute(input: MetricInput): MetricResult {
    const { pred, truth } = pairedLatent(input, 'mse');
    const perItem = new Float64Array(pred.rows);
    for (let i = 0; i < pred.rows; i++) {
      let sum = 0;
      for (let k = i * pred.cols, end = k + pred.cols; k < end; k++) {
        const d = pred.data[k]! - truth.data[k]!;
        sum += d * d;
      }
      perItem[i] = sum / pred.cols;
    }
    return { value: meanOf(perItem), perItem };
  }
}
