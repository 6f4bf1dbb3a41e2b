import { describe, expect, it } from 'vitest';
import { symmetricEigen, thinQr } from '../../../core/compute/eigen.js';
import { Rng } from '../../../core/rng.js';

function randomSymmetric(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const value = rng.normal();
      a[i * n + j] = value;
      a[j * n + i] = value;
    }
  }
  return a;
}

/** max |VᵀV − I| for an n × m row-major V with orthonormal columns expected. */
function orthonormalityError(v: Float64Array, rows: number, cols: number): number {
  let worst = 0;
  for (let p = 0; p < cols; p++) {
    for (let q = 0; q < cols; q++) {
      let s = 0;
      for (let i = 0; i < rows; i++) s += v[i * cols + p]! * v[i * cols + q]!;
      worst = Math.max(worst, Math.abs(s - (p === q ? 1 : 0)));
    }
  }
  return worst;
}

/** max |A − V diag(λ) Vᵀ|. */
function reconstructionError(a: Float64Array, values: Float64Array, v: Float64Array, n: number): number {
  let worst = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += v[i * n + k]! * values[k]! * v[j * n + k]!;
      worst = Math.max(worst, Math.abs(a[i * n + j]! - s));
    }
  }
  return worst;
}

describe('symmetricEigen', () => {
  it('solves [[2,1],[1,2]]: eigenvalues 3 and 1, eigenvectors (1,1)/√2 and (1,−1)/√2', () => {
    const { values, vectors } = symmetricEigen([2, 1, 1, 2], 2);
    expect(values[0]).toBeCloseTo(3, 14);
    expect(values[1]).toBeCloseTo(1, 14);
    expect(Math.abs(vectors[0]!)).toBeCloseTo(Math.SQRT1_2, 14);
    expect(vectors[2]! / vectors[0]!).toBeCloseTo(1, 14); // column 0 ∝ (1, 1)
    expect(vectors[3]! / vectors[1]!).toBeCloseTo(-1, 14); // column 1 ∝ (1, −1)
  });

  it('matches the closed form of the tridiagonal Toeplitz matrix (2 on the diagonal, −1 beside it)', () => {
    const n = 12;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      a[i * n + i] = 2;
      if (i > 0) a[i * n + i - 1] = a[(i - 1) * n + i] = -1;
    }
    const { values, vectors } = symmetricEigen(a, n);
    for (let k = 1; k <= n; k++) {
      // Largest first: index j holds k = n − j.
      const j = n - k;
      expect(values[j]).toBeCloseTo(2 - 2 * Math.cos((k * Math.PI) / (n + 1)), 13);
      // Eigenvector ∝ sin(i k π / (n + 1)), i = 1..n, unit norm √((n + 1) / 2).
      const sign = Math.sign(vectors[j]!);
      for (let i = 1; i <= n; i++) {
        const expected = Math.sin((i * k * Math.PI) / (n + 1)) / Math.sqrt((n + 1) / 2);
        expect(sign * vectors[(i - 1) * n + j]!).toBeCloseTo(expected, 12);
      }
    }
  });

  it('reconstructs a random symmetric 60 × 60 matrix as VΛVᵀ with orthonormal V, eigenvalues sorted', () => {
    const n = 60;
    const a = randomSymmetric(n, 7);
    const { values, vectors } = symmetricEigen(a, n);
    expect(reconstructionError(a, values, vectors, n)).toBeLessThan(1e-12);
    expect(orthonormalityError(vectors, n, n)).toBeLessThan(1e-13);
    for (let k = 1; k < n; k++) expect(values[k]!).toBeLessThanOrEqual(values[k - 1]!);
    let trace = 0;
    for (let i = 0; i < n; i++) trace += a[i * n + i]!;
    expect(values.reduce((s, x) => s + x, 0)).toBeCloseTo(trace, 11);
  });

  it('handles a repeated eigenvalue: I + uuᵀ has 1 + |u|² once and 1 with multiplicity n − 1', () => {
    const u = [1, 2, -2, 0.5, 3];
    const n = u.length;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = (i === j ? 1 : 0) + u[i]! * u[j]!;
    const { values, vectors } = symmetricEigen(a, n);
    expect(values[0]).toBeCloseTo(1 + u.reduce((s, x) => s + x * x, 0), 12);
    for (let k = 1; k < n; k++) expect(values[k]).toBeCloseTo(1, 12);
    expect(orthonormalityError(vectors, n, n)).toBeLessThan(1e-13);
    expect(reconstructionError(a, values, vectors, n)).toBeLessThan(1e-12);
  });

  it('sorts an already diagonal matrix, including negative and zero eigenvalues', () => {
    const { values, vectors } = symmetricEigen([0, 0, 0, 0, -4, 0, 0, 0, 9], 3);
    expect(Array.from(values)).toEqual([9, 0, -4]);
    expect(Array.from(vectors).map(Math.abs)).toEqual([0, 1, 0, 0, 0, 1, 1, 0, 0]);
  });

  it('rejects non-finite entries and wrong sizes', () => {
    expect(() => symmetricEigen([1, NaN, NaN, 1], 2)).toThrow(/not finite/);
    expect(() => symmetricEigen([1, 2, 3], 2)).toThrow(/2×2/);
  });
});

describe('thinQr', () => {
  it('factors the hand-computed case [[3,0],[4,5]] = [[.6,−.8],[.8,.6]]·[[5,4],[0,3]]', () => {
    const { q, r } = thinQr([3, 0, 4, 5], 2, 2);
    const expectedQ = [0.6, -0.8, 0.8, 0.6];
    const expectedR = [5, 4, 0, 3];
    expectedQ.forEach((x, i) => expect(q[i]).toBeCloseTo(x, 14));
    expectedR.forEach((x, i) => expect(r[i]).toBeCloseTo(x, 14));
  });

  it('reproduces A = QR with orthonormal Q and upper-triangular R on an ill-conditioned 40 × 10 matrix', () => {
    const rows = 40;
    const cols = 10;
    const rng = new Rng(3);
    const a = new Float64Array(rows * cols);
    // Column scales from 1 to 1e-9 and nearly parallel columns: classical Gram–Schmidt would lose orthogonality.
    const base = Array.from({ length: rows }, () => rng.normal());
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) a[i * cols + j] = base[i]! + 10 ** -j * rng.normal();
    }
    const { q, r } = thinQr(a, rows, cols);
    expect(orthonormalityError(q, rows, cols)).toBeLessThan(1e-14);
    for (let i = 0; i < cols; i++) {
      expect(r[i * cols + i]!).toBeGreaterThan(0);
      for (let j = 0; j < i; j++) expect(r[i * cols + j]).toBe(0);
    }
    let worst = 0;
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        let s = 0;
        for (let k = 0; k < cols; k++) s += q[i * cols + k]! * r[k * cols + j]!;
        worst = Math.max(worst, Math.abs(s - a[i * cols + j]!));
      }
    }
    expect(worst).toBeLessThan(1e-13);
  });

  it('completes the basis when a column repeats an earlier one (R diagonal 0 there)', () => {
    const rows = 5;
    const a = [1, 1, 2, 2, 2, 0, 0, 0, 1, 1, 1, 1, 0, 0, 3];
    const { q, r } = thinQr(a, rows, 3);
    expect(r[1 * 3 + 1]).toBe(0);
    expect(orthonormalityError(q, rows, 3)).toBeLessThan(1e-14);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += q[i * 3 + k]! * r[k * 3 + j]!;
        expect(s).toBeCloseTo(a[i * 3 + j]!, 13);
      }
    }
  });

  it('completes the basis for an all-zero input', () => {
    const { q, r } = thinQr(new Float64Array(8), 4, 2);
    expect(Array.from(r)).toEqual([0, 0, 0, 0]);
    expect(orthonormalityError(q, 4, 2)).toBeLessThan(1e-15);
  });
});

describe('symmetricEigenvalues (values only)', () => {
  it('equals symmetricEigen’s values on random symmetric matrices, largest first, and a 2 × 2 by hand', async () => {
    const { symmetricEigen, symmetricEigenvalues } = await import('../../../core/compute/eigen.js');
    // [[2, 1], [1, 2]] has eigenvalues 3 and 1.
    expect(Array.from(symmetricEigenvalues([2, 1, 1, 2], 2)).map((v) => Math.round(v * 1e12) / 1e12)).toEqual([3, 1]);
    let seed = 5;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
    for (const n of [0, 1, 3, 40, 120]) {
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = random();
      const want = symmetricEigen(a, n).values;
      const got = symmetricEigenvalues(a, n);
      expect(got.length).toBe(n);
      for (let i = 0; i < n; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-11);
    }
    expect(() => symmetricEigenvalues([1, Number.NaN, Number.NaN, 1], 2)).toThrow(/not finite/);
  });
});
