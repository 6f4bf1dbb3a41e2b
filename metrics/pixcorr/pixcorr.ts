/** PixCorr: per image, Pearson r between the flattened HWC pixels of reconstruction and ground truth. */
import type { Metric, MetricInput, MetricResult } from '../../core/contracts.js';
import { imagesAsMatrix } from '../../core/tensor.js';
import { meanOf } from '../common/aggregate.js';
import { rowwisePearson } from '../common/correlation.js';
import { pixelMetricPerItem } from '../common/pixel-convention.js';
import type { PixCorrOptions } from './schema.js';

export class PixCorrMetric implements Metric {
  readonly appliesTo = ['image'] as const;
  readonly direction = 'higher' as const;

  constructor(private readonly options: PixCorrOptions) {}

  async compute(input: MetricInput): Promise<MetricResult> {
    const perItem = await pixelMetricPerItem(input, 'pixcorr', this.options.convention, (pred, truth) => rowwisePearson(imagesAsMatrix(pred), imagesAsMatrix(truth))[0]!);
    return { value: meanOf(perItem), perItem };
  }
}
