import { describe, expect, it } from 'vitest';
import { createLinalg } from '../../../core/compute/linalg.js';
import { crossDots, crossDotsOn, rowwisePearson, unitCenteredRows } from '../../../metrics/common/correlation.js';
import { normalRows } from '../helpers.js';

describe('correlation helpers', () => {
  it('crossDots equals plain dot products, including the rows and columns left over by its 4×2 blocks', () => {
    const a = Float64Array.from(normalRows(7, 13, 1).flat());
    const b = Float64Array.from(normalRows(5, 13, 2).flat());
    const out = crossDots(a, 7, b, 5, 13);
    for (let i = 0; i < 7; i++) {
      for (let j = 0; j < 5; j++) {
        let dot = 0;
        for (let k = 0; k < 13; k++) dot += a[i * 13 + k]! * b[j * 13 + k]!;
        expect(out[i * 5 + j]).toBeCloseTo(dot, 12);
      }
    }
  });

  it('unit-centred rows have mean 0 and length 1; a constant row is NaN', () => {
    const rows = unitCenteredRows({ rows: 2, cols: 3, data: Float32Array.from([1, 2, 6, 4, 4, 4]) });
    // (1, 2, 6) − 3 = (−2, −1, 3), length √14.
    expect(rows[0]).toBeCloseTo(-2 / Math.sqrt(14), 12);
    expect(rows[2]).toBeCloseTo(3 / Math.sqrt(14), 12);
    expect(Array.from(rows.subarray(3)).every(Number.isNaN)).toBe(true);
    const r = rowwisePearson(
      { rows: 1, cols: 3, data: Float32Array.from([1, 2, 6]) },
      { rows: 1, cols: 3, data: Float32Array.from([2, 4, 12]) },
    );
    expect(r[0]).toBeCloseTo(1, 12);
  });

  it('crossDotsOn the core linalg (ONNX Runtime, float64) equals crossDots to rounding', async () => {
    const a = Float64Array.from(normalRows(37, 1000, 3).flat());
    const b = Float64Array.from(normalRows(29, 1000, 4).flat());
    const js = crossDots(a, 37, b, 29, 1000);
    const ort = await crossDotsOn(createLinalg(), a, 37, b, 29, 1000);
    expect(ort.length).toBe(js.length);
    for (let k = 0; k < js.length; k++) expect(Math.abs(ort[k]! - js[k]!)).toBeLessThan(1e-11);
  });
});
