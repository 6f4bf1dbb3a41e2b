/** The chebnet-epoch bench: its flop count by hand, and one run at a tiny size. */
import { describe, expect, it } from 'vitest';
import { testServices } from '../helpers/services.js';
import { benchChebnetEpoch, chebnetEpochFlops } from '../../plugins/chebnet-gcn/bench.js';

describe('chebnet-epoch bench', () => {
  it('counts flops: 2× the first ChebConv (forward + weight gradient), 3× the rest', () => {
    // conv1 2·3·4·10·8 = 1920; conv2 2·3·3·8·8 = 1152; dense 2·(8·16 + 16·5) = 416 → 2·1920 + 3·(1152 + 416) = 8544.
    expect(chebnetEpochFlops(1, 3, 10, { chebK: [4, 3], hidden: 8, dense: 16 }, 5)).toBe(8544);
    expect(chebnetEpochFlops(7, 3, 10, { chebK: [4, 3], hidden: 8, dense: 16 }, 5)).toBe(7 * 8544);
  });

  it('runs one epoch at a tiny size and reports it', async () => {
    const services = testServices({ tfBackend: 'wasm' });

    const r = await benchChebnetEpoch({ trainRows: 40, roiVoxels: { V1: 12, V2: 9, V3: 5, hV4: 3 }, targets: 7, batchSize: 16, hidden: 8, dense: 16 }, services);
    expect(r).toMatchObject({ trainRows: 40, voxels: 29, nodeWidth: 12, targets: 7, batchSize: 16, backend: 'wasm', projectionEngine: 'onnxruntime' });
    // conv1 4 lins 8×12 + bias; conv 3 lins 8×8 + bias; bn weight + bias; nnconv, net (one shared block), downsample; fc.0, fc.2.
    expect(r.parameters).toBe(4 * 96 + 8 + 3 * 64 + 8 + 16 + (16 + 16) + (16 * 16 * 3 + 16) + (16 + 1) + (8 * 16 + 16) + (16 * 7 + 7));
    expect(r.edges.map((e) => e.replace(/ r=0\.\d{3}$/, ''))).toEqual(['V1→V2', 'V1→V3+hV4', 'V2→V3+hV4']);
    expect(r.fitSeconds).toBeGreaterThan(0);
    expect(r.gflop).toBeCloseTo(chebnetEpochFlops(40, 3, 12, { chebK: [4, 3], hidden: 8, dense: 16 }, 7) / 1e9, 12);
  });
});
