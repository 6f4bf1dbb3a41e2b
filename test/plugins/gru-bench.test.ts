import { describe, expect, it } from 'vitest';
import { PYTORCH_GRU_EPOCH_RECORDED, benchGruEpoch } from '../../plugins/gru/bench.js';
import { fakePython } from '../helpers/fake-python.js';

/** Parameters of the Table 1 network for p voxels and t targets (hidden 100 per direction, dense 200). */
function tableOneParameters(p: number, t: number): number {
  const gru = (input: number) => 2 * (300 * input + 300 * 100 + 600);
  return gru(p) + 400 + gru(200) + 400 + (200 * 200 + 200) + 400 + (200 * t + t);
}

describe('gru-epoch bench (tiny size: runs and reports consistent numbers; speed is not asserted)', () => {
  it('times one epoch on the backend in use, with the projection engine it chose', async () => {
    const r = await benchGruEpoch({ trainRows: 300, voxels: 500, targets: 40, batchSize: 128, backend: 'wasm', python: 'none' });
    expect(r.parameters).toBe(tableOneParameters(500, 40));
    expect(tableOneParameters(15724, 13344)).toBe(12_400_344);
    expect(r.backend).toBe('wasm');
    expect(r.projectionEngine).toBe('onnxruntime');
    expect(r.epochSeconds).toBeGreaterThan(0);
    // PyTorch not run, and the recorded figure is for the paper's size only: no ratio.
    expect(r.pytorch).toBeUndefined();
    expect(r.ratioToPytorch).toBeUndefined();
    expect(r.referenceNote).toMatch(/turned off/);
  });

  it("divides by PyTorch's epoch measured in the same run when Python has it", async () => {
    const python = await fakePython({ versions: { torch: '1.13.1' }, output: { tool: 'PyTorch 1.13.1', epochSeconds: 0.25 } });
    const r = await benchGruEpoch({ trainRows: 200, voxels: 300, targets: 20, batchSize: 64, backend: 'wasm', python });
    expect(r.pytorch).toMatchObject({ kind: 'same-run', label: 'measured in this run', tool: 'PyTorch 1.13.1', seconds: 0.25 });
    expect(r.ratioToPytorch).toBeCloseTo(r.epochSeconds / 0.25, 12);
  });

  it('keeps a recorded PyTorch time, with its date, for when PyTorch is absent', () => {
    expect(PYTORCH_GRU_EPOCH_RECORDED).toMatchObject({ seconds: 14.3, date: '2026-12-02' });
  });
});
