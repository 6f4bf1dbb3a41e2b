/** Options and network of `effnet-b`: torchvision EfficientNet-B1 `avgpool` (1280), correlation distance. */
import { correlationDistanceSchema, type CorrelationDistanceOptions, type PooledNetwork } from '../common/correlation-distance-metric.js';
import { MINDEYE_SIZES } from '../../core/vision/index.js';

export type EffNetOptions = CorrelationDistanceOptions;

export const EFFNET_B: PooledNetwork = {
  id: 'effnet-b',
  network: 'effnet',
  role: 'EfficientNet-B1 feature network',
  output: 'avgpool',
  channels: 1280,
  produce: 'python3 metrics/effnet-b/export.py --weights V1 --out <folder> (V2 for MindEye; see metrics/effnet-b/README.md)',
};

export const effNetOptionsSchema = correlationDistanceSchema('effnet-b1', MINDEYE_SIZES.effnet);
