/** Per-item Pearson correlation across the target's dimensions; NaN for an item whose prediction or truth is constant. */
import type { Metric, MetricInput, MetricResult } from '../../core/contracts.js';
import { meanOf } from '../common/aggregate.js';
import { rowwisePearson } from '../common/correlation.js';
import { pairedLatent } from '../common/input.js';

export class PearsonMetric implements Metric {
  readonly appliesTo = ['latent'] as const;
  readonly direction = 'higher' as const;

  compute(input: MetricInput): MetricResult {
    const { pred, truth } = pairedLatent(input, 'pearson');
    const perItem = rowwisePearson(pred, truth);
    return { value: meanOf(perItem), perItem };
  }
}
