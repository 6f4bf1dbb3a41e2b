/** Mean absolute error per item (mean over the target's dimensions); the value is the mean over items. */
import type { Metric, MetricInput, MetricResult } from '../../core/contracts.js';
import { meanOf } from '../common/aggregate.js';
import { pairedLatent } from '../common/input.js';

export class MaeMetric implements Metric {
  readonly appliesTo = ['latent'] as const;
  readonly direction = 'lower' as const;

  compute(input: MetricInput): MetricResult {
    const { pred, truth } = pairedLatent(input, 'mae');
    const perItem = new Float64Array(pred.rows);
    for (let i = 0; i < pred.rows; i++) {
      let sum = 0;
      for (let k = i * pred.cols, end = k + pred.cols; k < end; k++) sum += Math.abs(pred.data[k]! - truth.data[k]!);
      perItem[i] = sum / pred.cols;
    }
    return { value: meanOf(perItem), perItem };
  }
}
