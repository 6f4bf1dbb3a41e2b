/** Options and network of `swav`: SwAV ResNet-50 (torchvision resnet50, SwAV 800-epoch weights) `avgpool` (2048), correlation distance. */
import { correlationDistanceSchema, type CorrelationDistanceOptions, type PooledNetwork } from '../common/correlation-distance-metric.js';
import { MINDEYE_SIZES } from '../../core/vision/index.js';

export type SwavOptions = CorrelationDistanceOptions;

export const SWAV: PooledNetwork = {
  id: 'swav',
  network: 'swav',
  role: 'SwAV ResNet-50 feature network',
  output: 'avgpool',
  channels: 2048,
  produce: 'python3 metrics/swav/export.py --weights swav_800ep_pretrain.pth.tar --out <folder> (see metrics/swav/README.md)',
};

export const swavOptionsSchema = correlationDistanceSchema('swav-resnet50', MINDEYE_SIZES.swav);
