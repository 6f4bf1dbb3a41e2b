import { describe, expect, it } from 'vitest';
import { benchLinalg, LINALG_CASES } from '../../../core/bench/matmul.js';

describe('linalg bench (tiny cases: runs and reports consistent numbers; speed is not asserted)', () => {
  it('measures every kind of case with correct products', async () => {
    const results = await benchLinalg({
      runs: 2,
      cases: [
        { name: 'plain', m: 40, k: 50, n: 30 },
        { name: 'transA', m: 40, k: 50, n: 30, transA: true },
        { name: 'transB', m: 40, k: 50, n: 30, transB: true },
        { name: 'gram', m: 60, k: 50, n: 60, gram: true },
        { name: 'float64', m: 40, k: 50, n: 30, type: 'float64' },
        { name: 'js', m: 20, k: 20, n: 20, engine: 'js' },
      ],
    });
    expect(results.map((r) => r.case)).toEqual(['plain', 'transA', 'transB', 'gram', 'float64', 'js']);
    for (const r of results) {
      expect(r.maxRelativeError).toBeLessThan(r.engine.includes('float64') ? 1e-12 : 1e-5);
      expect(r.bestGflops).toBeGreaterThanOrEqual(r.gflops);
      expect(r.gflops).toBeCloseTo((2 * r.m * r.k * r.n) / r.medianSeconds / 1e9, 6);
    }
    expect(results[5]!.engine).toBe('js float32');
  });

  it('covers the shapes the task asks for by default', () => {
    const names = LINALG_CASES.map((c) => `${c.m}x${c.k}x${c.n}${c.transA ? 'A' : ''}${c.transB ? 'B' : ''}`);
    expect(names).toEqual(expect.arrayContaining(['2048x2048x2048', '128x15724x600', '128x15724x600B', '128x15724x600A']));
  });
});
