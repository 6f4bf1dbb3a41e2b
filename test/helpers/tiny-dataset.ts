/** A tiny linear "brain" dataset plugin (`tiny`) for runner tests. */
import type { PluginModule, SplitData } from '../../core/contracts.js';
import { Rng } from '../../core/rng.js';
import type { Matrix } from '../../core/tensor.js';

/** A tiny linear "brain": voxels = W · pixels + noise, one NaN voxel; images 3×3 gray. */
export const tinyDataset: PluginModule = {
  manifest: {
    name: 'tiny-dataset',
    version: '0.0.1',
    apiVersion: '1.0',
    provides: [
      {
        kind: 'dataset',
        id: 'tiny',
        summary: 'test',
        optionsSchema: {
          type: 'object',
          properties: {
            testItems: { type: 'integer', default: 10 },
            // A missing trial: this row of the split is all NaN (-1: none).
            missingTrainRow: { type: 'integer', default: -1 },
            missingTestRow: { type: 'integer', default: -1 },
          },
        },
      },
    ],
  },
  register(r) {
    r.dataset('tiny', {
      create(options) {
        const testItems = options.testItems as number;
        const voxels = 12;
        const pixels = 9;
        const rng = new Rng(7);
        const W = Float32Array.from({ length: voxels * pixels }, () => rng.normal());
        const split = (n: number, offset: number, missingRow: number): SplitData => {
          const images = Float32Array.from({ length: n * pixels }, () => rng.uniform());
          const fmri = new Float32Array(n * voxels);
          for (let i = 0; i < n; i++) {
            for (let v = 0; v < voxels; v++) {
              let s = 0;
              for (let p = 0; p < pixels; p++) s += W[v * pixels + p]! * images[i * pixels + p]!;
              fmri[i * voxels + v] = v === 3 || i === missingRow ? NaN : s + 0.05 * rng.normal();
            }
          }
          return {
            fmri: { rows: n, cols: voxels, data: fmri } as Matrix,
            repeats: new Int32Array(n).fill(1),
            stimuli: {
              ids: Array.from({ length: n }, (_, i) => `img${offset + i}`),
              images: async () => ({ count: n, height: 3, width: 3, channels: 1, data: images }),
            },
          };
        };
        const train = split(60, 0, options.missingTrainRow as number);
        const test = split(testItems, 1000, options.missingTestRow as number);
        return {
          describe: async () => ({ id: 'tiny', subjects: ['s1'], imageShape: [3, 3, 1], captions: false, summaries: [], notes: [] }),
          load: async () => ({
            subject: 's1',
            train,
            test,
            atlas: { all: Int32Array.from({ length: voxels }, (_, i) => i), odd: Int32Array.from([1, 3, 5, 7, 9, 11]) },
          }),
        };
      },
    });
  },
};

