/** The model the AlexNet metrics need: one `features` graph with the five ReLU taps LPIPS reads. */
import type { ModelRequirement } from '../../core/contracts.js';
import { LPIPS_ALEX_CHANNELS } from '../../core/vision/lpips.js';

export type AlexNetMetricKind = 'alexnet-2' | 'alexnet-5' | 'lpips';

/** Output names of the taps features[1, 4, 7, 9, 11] (the ReLUs after each convolution). */
export const ALEXNET_TAPS = ['relu1', 'relu2', 'relu3', 'relu4', 'relu5'] as const;
export const ALEXNET_INPUT = 'images';

export const alexNetRequirement = (model: string): ModelRequirement => ({
  role: 'AlexNet feature network',
  model,
  graphs: {
    // Height and width symbolic: Brain-Diffuser feeds 224, MindEye 256, LPIPS the images' own size.
    features: {
      inputs: [{ name: ALEXNET_INPUT, type: 'float32', dims: ['batch', 3, 'height', 'width'] }],
      outputs: ALEXNET_TAPS.map((name, k) => ({ name, type: 'float32' as const, dims: ['batch', LPIPS_ALEX_CHANNELS[k]!, null, null] })),
    },
  },
  produce: 'python3 metrics/alexnet/export.py --weights --out <folder> (see metrics/alexnet/README.md)',
});
