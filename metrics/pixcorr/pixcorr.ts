/** PixCorr: per image, Pearson r between the flattened HWC pixels of reconstruction and ground truth. */
import type { Metric, MetricInput, MetricResult } from '../../core/contracts.js';
import { imagesAsMatrix } from '../../core/tensor.js';
import { meanOf } from '../common/aggregate.js';
import { rowwisePearson } from '../common/correlation.js';
import { pairedImages } from '../common/input.js';

export class PixCorrMetric implements Metric {
  readonly appliesTo = ['image'] as const;
  readonly direction = 'higher' as const;

  compute(input: MetricInput): MetricResult {
    const { pred, truth } = pairedImages(input, 'pixcorr');
    const perItem = rowwisePearson(imagesAsMatrix(pred), imagesAsMatrix(truth));
    return { value: meanOf(perItem), perItem };
  }
}
