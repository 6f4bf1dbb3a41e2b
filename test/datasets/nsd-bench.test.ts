import { describe, expect, it } from 'vitest';
import { benchNsdSession } from '../../datasets/nsd/bench.js';

describe('nsd-session bench', () => {
  it('writes a session in the official layout, prepares it in a fresh process and reads back exactly what was written', async () => {
    const r = await benchNsdSession({ shape: [20, 16, 12], voxels: 900 });
    expect(r.voxels).toBe(900);
    expect(r.trials).toBe(750);
    expect(r.mismatches).toBe(0);
    // 750 × 20·16·12 int16 values plus HDF5 structure.
    expect(r.fileBytes).toBeGreaterThan(750 * 20 * 16 * 12 * 2);
    expect(r.voxelTrialsPerSecond).toBeCloseTo((900 * 750) / r.prepareSeconds, 0);
    expect(r.peakRssBytes).toBeGreaterThan(0);
  }, 60_000);
});
