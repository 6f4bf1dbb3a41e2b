/** The model FID needs: pytorch-fid's FID Inception as one `features` graph, images in [-1, 1] → pool3. */
import type { ModelRequirement } from '../../core/contracts.js';

export const FID_INPUT = 'images';
export const FID_OUTPUT = 'pool3';

export const fidRequirement = (model: string): ModelRequirement => ({
  role: 'FID Inception network',
  model,
  graphs: {
    // 299 × 299 fixed: the graph does not resize (core/vision pytorchFidInput does, as pytorch-fid does).
    features: {
      inputs: [{ name: FID_INPUT, type: 'float32', dims: ['batch', 3, 299, 299] }],
      // Width left open (2048 for the real network) so that tests can use a tiny graph of the same names.
      outputs: [{ name: FID_OUTPUT, type: 'float32', dims: ['batch', null] }],
    },
  },
  produce: 'python3 metrics/fid/export.py --weights pt_inception-2015-12-05-6726825d.pth --out <folder> (see metrics/fid/README.md)',
});
