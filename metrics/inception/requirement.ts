/**
 * The network `inception` and `n-way` need: torchvision Inception-v3 up to `avgpool`, flattened (2048), with
 * `transform_input` inside the graph (torchvision sets it whenever pretrained weights are loaded), ImageNet-
 * normalised input of any size (Brain-Diffuser feeds 224, MindEye 342).
 */
import type { PooledNetwork } from '../common/correlation-distance-metric.js';

export const INCEPTION: PooledNetwork = {
  id: 'inception',
  network: 'inception',
  role: 'Inception-v3 feature network',
  output: 'avgpool',
  channels: 2048,
  produce: 'python3 metrics/inception/export.py --weights inception_v3_google-0cc3c7bd.pth --out <folder> (see metrics/inception/README.md)',
};

export const INCEPTION_MODEL = 'inception-v3';
