import { describe, expect, it } from 'vitest';
import { PYTORCH_GRU_EPOCH_SECONDS, benchGruEpoch } from '../../plugins/gru/bench.js';

/** Parameters of the Table 1 network for p voxels and t targets (hidden 100 per direction, dense 200). */
function tableOneParameters(p: number, t: number): number {
  const gru = (input: number) => 2 * (300 * input + 300 * 100 + 600);
  return gru(p) + 400 + gru(200) + 400 + (200 * 200 + 200) + 400 + (200 * t + t);
}

describe('gru-epoch bench (tiny size: runs and reports consistent numbers; speed is not asserted)', () => {
  it('times one epoch on the backend in use, with the projection engine it chose', async () => {
    const r = await benchGruEpoch({ trainRows: 300, voxels: 500, targets: 40, batchSize: 128, backend: 'wasm' });
    expect(r.parameters).toBe(tableOneParameters(500, 40));
    expect(tableOneParameters(15724, 13344)).toBe(12_400_344);
    expect(r.backend).toBe('wasm');
    expect(r.projectionEngine).toBe('onnxruntime');
    expect(r.epochSeconds).toBeGreaterThan(0);
    expect(r.ratioToPytorch).toBeUndefined(); // only at the paper's size
  });

  it("names PyTorch's measured epoch time of reference/performance.md", () => {
    expect(PYTORCH_GRU_EPOCH_SECONDS).toBe(15);
  });
});
