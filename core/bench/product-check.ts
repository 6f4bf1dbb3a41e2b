import type { Rng } from '../rng.js';

/** op(A)·op(B) with op(A) m×k and op(B) k×n; a transposed operand is stored transposed, row-major. */
export interface StoredProduct {
  a: ArrayLike<number>;
  b: ArrayLike<number>;
  m: number;
  k: number;
  n: number;
  transA?: boolean;
  transB?: boolean;
}

/**
 * Largest |error| of sampled entries of a computed product against float64 dot products, relative to the
 * norms of the row of op(A) and column of op(B) involved; a non-finite entry counts as an infinite error.
 */
export function sampledProductError(op: StoredProduct, product: ArrayLike<number>, rng: Rng, samples: number): number {
  const { a, b, m, k, n } = op;
  let worst = 0;
  for (let s = 0; s < samples; s++) {
    const i = rng.int(m);
    const j = rng.int(n);
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let p = 0; p < k; p++) {
      const av = op.transA ? a[p * m + i]! : a[i * k + p]!;
      const bv = op.transB ? b[j * k + p]! : b[p * n + j]!;
      dot += av * bv;
      na += av * av;
      nb += bv * bv;
    }
    const got = product[i * n + j]!;
    worst = Math.max(worst, Number.isFinite(got) ? Math.abs(got - dot) / Math.sqrt(na * nb) : Infinity);
  }
  return worst;
}
