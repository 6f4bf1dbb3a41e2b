import { describe, expect, it } from 'vitest';
import {
  assembleFactor,
  cholesky,
  choleskySolve,
  forwardSolve,
  NotPositiveDefiniteError,
  splitFactor,
} from '../../../core/compute/cholesky.js';
import { createJsLinalg, createLinalg, jsGemm, type Dense } from '../../../core/compute/linalg.js';
import { Rng } from '../../../core/rng.js';

const linalg = createLinalg();

/** A symmetric positive definite G·Gᵀ + shift·I, float64. */
function spd(n: number, shift: number, seed: number): Dense<Float64Array> {
  const rng = new Rng(seed);
  const g = new Float64Array(n * 30);
  for (let i = 0; i < g.length; i++) g[i] = rng.normal();
  const G = { rows: n, cols: 30, data: g };
  const A = jsGemm(G, G, { transB: true });
  for (let i = 0; i < n; i++) A.data[i * n + i]! += shift;
  return A;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

describe('recursive blocked Cholesky', () => {
  it('factors a 3×3 matrix by hand: [[4,2,2],[2,5,3],[2,3,6]] = L·Lᵀ', async () => {
    const A = { rows: 3, cols: 3, data: Float64Array.from([4, 2, 2, 2, 5, 3, 2, 3, 6]) };
    const L = assembleFactor(await cholesky(linalg, A), new Float64Array(0));
    const expected = [2, 0, 0, 1, 2, 0, 1, 1, 2];
    L.data.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 14));
  });

  it('reproduces A = L·Lᵀ across several recursion levels (n = 700), float64', async () => {
    const n = 700;
    const A = spd(n, 5, 1);
    const L = assembleFactor(await cholesky(linalg, A), new Float64Array(0));
    let aboveDiagonal = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) aboveDiagonal += Math.abs(L.data[i * n + j]!);
    expect(aboveDiagonal).toBe(0);
    const LLt = await linalg.gemm(L, L, { transB: true });
    const err = maxAbs(LLt.data.map((v, i) => v - A.data[i]!));
    expect(err / maxAbs(A.data)).toBeLessThan(1e-13);
  });

  it('solves M·W = R to float32 accuracy in float32 and to 1e-12 in float64', async () => {
    const n = 600;
    const A = spd(n, 50, 2);
    const rng = new Rng(9);
    const R = { rows: n, cols: 7, data: Float64Array.from({ length: n * 7 }, () => rng.normal()) };
    const W64 = await choleskySolve(linalg, await cholesky(linalg, A), R);
    const back = jsGemm(A, W64);
    expect(maxAbs(back.data.map((v, i) => v - R.data[i]!)) / maxAbs(R.data)).toBeLessThan(1e-12);

    const A32 = { rows: n, cols: n, data: Float32Array.from(A.data) };
    const R32 = { rows: n, cols: 7, data: Float32Array.from(R.data) };
    const W32 = await choleskySolve(linalg, await cholesky(linalg, A32), R32);
    const rel = maxAbs(W32.data.map((v, i) => v - W64.data[i]!)) / maxAbs(W64.data);
    expect(rel).toBeLessThan(1e-4);
  });

  it('gives the same solves with the JS engine and after assemble → split (as saved models do)', async () => {
    const n = 300;
    const A = { rows: n, cols: n, data: Float32Array.from(spd(n, 20, 4).data) };
    const R = { rows: n, cols: 3, data: Float32Array.from({ length: n * 3 }, (_, i) => Math.sin(i)) };
    const node = await cholesky(linalg, A);
    const direct = await forwardSolve(linalg, node, R);
    const rebuilt = await splitFactor(linalg, assembleFactor(node, new Float32Array(0)));
    expect(Array.from((await forwardSolve(linalg, rebuilt, R)).data)).toEqual(Array.from(direct.data));
    const js = createJsLinalg();
    const viaJs = await choleskySolve(js, await cholesky(js, A), R);
    const viaOrt = await choleskySolve(linalg, node, R);
    expect(maxAbs(viaJs.data.map((v, i) => v - viaOrt.data[i]!)) / maxAbs(viaJs.data)).toBeLessThan(1e-4);
  });

  it('factors A + shift·I without copying A when given the shift (several levels, float32 and float64)', async () => {
    const n = 700;
    const A = spd(n, 0.5, 6);
    const shifted = { rows: n, cols: n, data: A.data.map((v, i) => (i % (n + 1) === 0 ? v + 40 : v)) };
    const before = A.data.slice();
    const viaShift = assembleFactor(await cholesky(linalg, A, 40), new Float64Array(0));
    expect(Array.from(A.data)).toEqual(Array.from(before));
    const direct = assembleFactor(await cholesky(linalg, shifted), new Float64Array(0));
    expect(maxAbs(viaShift.data.map((v, i) => v - direct.data[i]!)) / maxAbs(direct.data)).toBeLessThan(1e-13);
    const A32 = { rows: n, cols: n, data: Float32Array.from(A.data) };
    const L32 = assembleFactor(await cholesky(linalg, A32, 40), new Float32Array(0));
    expect(maxAbs(L32.data.map((v, i) => v - direct.data[i]!)) / maxAbs(direct.data)).toBeLessThan(1e-5);
  });

  it('throws NotPositiveDefiniteError on an indefinite matrix', async () => {
    const n = 200;
    const A = spd(n, 1, 5);
    A.data[150 * n + 150] = -1;
    await expect(cholesky(linalg, A)).rejects.toBeInstanceOf(NotPositiveDefiniteError);
  });
});
