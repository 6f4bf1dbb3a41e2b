import { describe, expect, it } from 'vitest';
import { createJsLinalg, createLinalg, jsGemm, mirrorUpper, transpose, type Dense } from '../../../core/compute/linalg.js';
import { Rng } from '../../../core/rng.js';

const rng = new Rng(3);
function random(rows: number, cols: number, float64 = false): Dense<Float32Array | Float64Array> {
  const data = float64 ? new Float64Array(rows * cols) : new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.uniform() - 0.5;
  return { rows, cols, data };
}
function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

describe('jsGemm', () => {
  it('multiplies a hand-computed 2×3 · 3×2 product, and with transposed operands', () => {
    const a = { rows: 2, cols: 3, data: Float32Array.from([1, 2, 3, 4, 5, 6]) };
    const b = { rows: 3, cols: 2, data: Float32Array.from([7, 8, 9, 10, 11, 12]) };
    expect(Array.from(jsGemm(a, b).data)).toEqual([58, 64, 139, 154]);
    expect(Array.from(jsGemm(transpose(a), b, { transA: true }).data)).toEqual([58, 64, 139, 154]);
    expect(Array.from(jsGemm(a, transpose(b), { transB: true }).data)).toEqual([58, 64, 139, 154]);
  });

  it('rejects mismatched inner dimensions', () => {
    const a = { rows: 2, cols: 3, data: new Float32Array(6) };
    expect(() => jsGemm(a, a)).toThrow(/inner dimensions differ \(3 vs 2\)/);
  });
});

describe('ONNX Runtime engine', () => {
  const linalg = createLinalg();

  it.each([
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])('matches the JS product for transA=%s transB=%s, float32 and float64', async (transA, transB) => {
    for (const float64 of [false, true]) {
      const [m, k, n] = [70, 90, 50];
      const a = transA ? random(k, m, float64) : random(m, k, float64);
      const b = transB ? random(n, k, float64) : random(k, n, float64);
      const fast = await linalg.gemm(a, b, { transA, transB });
      const ref = jsGemm(a, b, { transA, transB });
      expect([fast.rows, fast.cols]).toEqual([m, n]);
      expect(fast.data instanceof Float64Array).toBe(float64);
      expect(maxAbsDiff(fast.data, ref.data)).toBeLessThan(float64 ? 1e-12 : 1e-5);
    }
  });

  it('matches the JS product when a transposed A meets a wide B (the copy-then-MatMul path)', async () => {
    const a = random(30, 20);
    const b = random(30, 2100);
    const fast = await linalg.gemm(a, b, { transA: true });
    expect([fast.rows, fast.cols]).toEqual([20, 2100]);
    expect(maxAbsDiff(fast.data, jsGemm(a, b, { transA: true }).data)).toBeLessThan(1e-5);
  });

  it('accepts row views (subarrays) as operands', async () => {
    const big = random(10, 40) as Dense<Float32Array>;
    const view = { rows: 4, cols: 40, data: big.data.subarray(3 * 40, 7 * 40) };
    const other = random(40, 40) as Dense<Float32Array>;
    const fast = await linalg.gemm(view, other);
    expect(maxAbsDiff(fast.data, jsGemm({ ...view, data: view.data.slice() }, other).data)).toBeLessThan(1e-5);
  });

  it('writes the product into a given larger buffer (ONNX Runtime and JS), and rejects one too short', async () => {
    for (const float64 of [false, true]) {
      const a = random(70, 90, float64);
      const b = random(50, 90, float64);
      const ref = jsGemm(a, b, { transB: true });
      for (const engine of [linalg, createJsLinalg()]) {
        const into = float64 ? new Float64Array(70 * 50 + 7).fill(9) : new Float32Array(70 * 50 + 7).fill(9);
        const out = await engine.gemm(a, b, { transB: true, into });
        expect(out.data.buffer).toBe(into.buffer);
        expect(out.data.length).toBe(70 * 50);
        expect(maxAbsDiff(out.data, ref.data)).toBeLessThan(float64 ? 1e-12 : 1e-5);
        const short = float64 ? new Float64Array(70 * 50 - 1) : new Float32Array(70 * 50 - 1);
        await expect(engine.gemm(a, b, { transB: true, into: short })).rejects.toThrow(/into.*3499 values/);
      }
    }
  });

  it('computes A·Aᵀ in row blocks equal to the full product', async () => {
    const a = random(1300, 24);
    const gram = await linalg.gram(a);
    const ref = jsGemm(a, a, { transB: true });
    expect(maxAbsDiff(gram.data, ref.data)).toBeLessThan(1e-5);
  });

  it('subtracts a row vector and scales columns like the JS loop (large enough to run on ONNX Runtime)', async () => {
    const a = random(300, 250) as Dense<Float32Array>;
    const row = Float32Array.from({ length: 250 }, (_, j) => j / 100);
    const scale = Float32Array.from({ length: 250 }, (_, j) => 1 + j / 50);
    const fast = await linalg.subtractRow(a, row, scale);
    const ref = createJsLinalg().subtractRow(a, row, scale);
    expect(maxAbsDiff(fast.data, (await ref).data)).toBeLessThan(1e-5);
    expect(fast.data[3 * 250 + 7]).toBeCloseTo((a.data[3 * 250 + 7]! - 0.07) * (1 + 7 / 50), 5);
    const centred = await linalg.subtractRow(a, row);
    expect(centred.data[5 * 250 + 100]).toBeCloseTo(a.data[5 * 250 + 100]! - 1, 6);
  });

  it('computes C − op(A)·op(B) in one call (hand case in JS; ORT against JS, float32 and float64)', async () => {
    const c = { rows: 2, cols: 2, data: Float64Array.from([10, 20, 30, 40]) };
    const a = { rows: 2, cols: 1, data: Float64Array.from([1, 2]) };
    const b = { rows: 2, cols: 1, data: Float64Array.from([3, 4]) };
    // a·bᵀ = [[3, 4], [6, 8]]
    const js = await createJsLinalg().subtractProduct!(c, a, b, { transB: true });
    expect(Array.from(js.data)).toEqual([7, 16, 24, 32]);
    for (const float64 of [false, true]) {
      const C = random(70, 90, float64);
      const A = random(70, 50, float64);
      const B = random(90, 50, float64);
      const before = C.data.slice();
      const fast = await linalg.subtractProduct!(C, A, B, { transB: true });
      const ref = jsGemm(A, B, { transB: true });
      expect(maxAbsDiff(fast.data, ref.data.map((v, i) => C.data[i]! - v))).toBeLessThan(float64 ? 1e-12 : 1e-5);
      expect(Array.from(C.data)).toEqual(Array.from(before)); // C is an input, not overwritten
      const B2 = random(50, 90, float64);
      const plain = await linalg.subtractProduct!(C, A, B2);
      expect(maxAbsDiff(plain.data, jsGemm(A, B2).data.map((v, i) => C.data[i]! - v))).toBeLessThan(float64 ? 1e-12 : 1e-5);
    }
  });

  it('transposes on the engine like the JS copy (large enough for ONNX Runtime; float32 and float64)', async () => {
    for (const float64 of [false, true]) {
      const a = random(300, 257, float64);
      const t = await linalg.transpose!(a);
      expect([t.rows, t.cols]).toEqual([257, 300]);
      expect(t.data[5 * 300 + 7]).toBe(a.data[7 * 257 + 5]);
      expect(Array.from(t.data)).toEqual(Array.from(transpose(a).data));
    }
  });

  it('keeps the float32 matmul signature other plugins use', async () => {
    const a = random(33, 40) as Dense<Float32Array>;
    const b = random(35, 40) as Dense<Float32Array>;
    const c = await linalg.matmul(a, b, { transB: true });
    expect(maxAbsDiff(c.data, jsGemm(a, b, { transB: true }).data)).toBeLessThan(1e-5);
  });
});

describe('helpers', () => {
  it('transposes and mirrors a triangle', async () => {
    const a = { rows: 2, cols: 3, data: Float64Array.from([1, 2, 3, 4, 5, 6]) };
    expect(Array.from(transpose(a).data)).toEqual([1, 4, 2, 5, 3, 6]);
    const s = Float64Array.from([1, 2, 3, 0, 4, 5, 0, 0, 6]);
    mirrorUpper(s, 3);
    expect(Array.from(s)).toEqual([1, 2, 3, 2, 4, 5, 3, 5, 6]);
    const js = createJsLinalg();
    expect(Array.from((await js.gram(a)).data)).toEqual([14, 32, 32, 77]);
  });
});
