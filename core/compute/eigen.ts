/**
 * Small dense factorisations in float64 plain JS, for the few-hundred-sized problems that sit between large
 * products (randomized SVD, whitening): symmetric eigendecomposition and thin QR. Row-major throughout.
 */

export interface SymmetricEigen {
  /** Eigenvalues, largest first. */
  values: Float64Array;
  /** n × n row-major; column j is the unit eigenvector of `values[j]`. */
  vectors: Float64Array;
}

export interface ThinQr {
  /** rows × cols row-major, orthonormal columns. */
  q: Float64Array;
  /** cols × cols row-major, upper triangular with a non-negative diagonal. */
  r: Float64Array;
}

const EPSILON = 2 ** -52;

/**
 * Eigendecomposition of a symmetric n × n matrix (row-major; only symmetry-consistent input makes sense, the
 * matrix is symmetrised as (A + Aᵀ)/2 first): Householder reduction to tridiagonal form, then the implicit QL
 * algorithm with Wilkinson-like shifts (the classic tred2/tql2 pair, as in EISPACK and JAMA). O(n³).
 */
export function symmetricEigen(a: ArrayLike<number>, n: number): SymmetricEigen {
  if (!Number.isInteger(n) || n < 0 || a.length !== n * n) {
    throw new RangeError(`symmetricEigen: expected ${n}×${n} = ${n * n} values, got ${a.length}`);
  }
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const value = 0.5 * (a[i * n + j]! + a[j * n + i]!);
      if (!Number.isFinite(value)) throw new RangeError(`symmetricEigen: entry (${i}, ${j}) is not finite`);
      v[i * n + j] = value;
    }
  }
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (n > 0) {
    householderTridiagonal(v, d, e, n);
    tridiagonalQl(v, d, e, n);
  }
  return sortDescending(d, v, n);
}

/** tred2: overwrites `v` with the orthogonal transform, `d` with the diagonal and `e` with the sub-diagonal. */
function householderTridiagonal(v: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = v[(n - 1) * n + j]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = v[(i - 1) * n + j]!;
        v[i * n + j] = 0;
        v[j * n + i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k]! /= scale;
        h += d[k]! * d[k]!;
      }
      let f = d[i - 1]!;
      let g = f > 0 ? -Math.sqrt(h) : Math.sqrt(h);
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        v[j * n + i] = f;
        g = e[j]! + v[j * n + j]! * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += v[k * n + j]! * d[k]!;
          e[k]! += v[k * n + j]! * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j]! /= h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j]! -= hh * d[j]!;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        g = e[j]!;
        for (let k = j; k <= i - 1; k++) v[k * n + j]! -= f * e[k]! + g * d[k]!;
        d[j] = v[(i - 1) * n + j]!;
        v[i * n + j] = 0;
      }
    }
    d[i] = h;
  }
  // Accumulate the Householder reflections into v.
  for (let i = 0; i < n - 1; i++) {
    v[(n - 1) * n + i] = v[i * n + i]!;
    v[i * n + i] = 1;
    const h = d[i + 1]!;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = v[k * n + i + 1]! / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += v[k * n + i + 1]! * v[k * n + j]!;
        for (let k = 0; k <= i; k++) v[k * n + j]! -= g * d[k]!;
      }
    }
    for (let k = 0; k <= i; k++) v[k * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = v[(n - 1) * n + j]!;
    v[(n - 1) * n + j] = 0;
  }
  v[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/** tql2: diagonalises the tridiagonal (d, e), applying the rotations to `v` (tql1, values only, when `v` is null). */
function tridiagonalQl(v: Float64Array | null, d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]!) > EPSILON * tst1) m++;
    if (m > l) {
      let iterations = 0;
      do {
        // Converges in 1–3 sweeps per eigenvalue in practice; the cap only guards against a bad input loop.
        if (++iterations > 60) throw new Error(`symmetricEigen: QL did not converge for eigenvalue ${l}`);
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i]! -= h;
        f += h;
        p = d[m]!;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1]!;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          if (v) for (let k = 0; k < n; k++) {
            const row = k * n;
            h = v[row + i + 1]!;
            v[row + i + 1] = s * v[row + i]! + c * h;
            v[row + i] = c * v[row + i]! - s * h;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]!) > EPSILON * tst1);
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
}

function sortDescending(d: Float64Array, v: Float64Array, n: number): SymmetricEigen {
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[y]! - d[x]! || x - y);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((source, target) => {
    values[target] = d[source]!;
    for (let k = 0; k < n; k++) vectors[k * n + target] = v[k * n + source]!;
  });
  return { values, vectors };
}

/**
 * Eigenvalues only of a symmetric n × n matrix (row-major, symmetrised as (A + Aᵀ)/2), largest first: Householder
 * tridiagonalisation as rank-2 updates of the lower triangle's contiguous rows (≈ 4n³/3 flops, no transform
 * accumulated), then the implicit QL iteration without vectors (O(n²)): about 10× faster than `symmetricEigen` at
 * n = 1000. Plain JS: the Householder steps are matrix–vector work that ONNX Runtime calls would not speed up.
 */
export function symmetricEigenvalues(a: ArrayLike<number>, n: number): Float64Array {
  if (!Number.isInteger(n) || n < 0 || a.length !== n * n) {
    throw new RangeError(`symmetricEigenvalues: expected ${n}×${n} = ${n * n} values, got ${a.length}`);
  }
  // Only the lower triangle (j ≤ i) of s is used: half the memory traffic and 2/3 of the flops of a full update.
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const value = 0.5 * (a[i * n + j]! + a[j * n + i]!);
      if (!Number.isFinite(value)) throw new RangeError(`symmetricEigenvalues: entry (${i}, ${j}) is not finite`);
      s[i * n + j] = value;
    }
  }
  const d = new Float64Array(n);
  // e[i] = T(i, i − 1), e[0] = 0: the layout tridiagonalQl expects.
  const e = new Float64Array(n);
  const v = new Float64Array(n);
  const p = new Float64Array(n);
  for (let k = 0; k < n - 1; k++) {
    d[k] = s[k * n + k]!;
    const m = n - k - 1;
    // x = column k below the diagonal.
    let norm = 0;
    for (let j = 0; j < m; j++) norm += s[(k + 1 + j) * n + k]! ** 2;
    norm = Math.sqrt(norm);
    const x0 = s[(k + 1) * n + k]!;
    if (m === 1 || norm === 0) {
      e[k + 1] = x0;
      continue;
    }
    const alpha = x0 > 0 ? -norm : norm;
    let vtv = 0;
    for (let j = 0; j < m; j++) {
      v[j] = s[(k + 1 + j) * n + k]! - (j === 0 ? alpha : 0);
      vtv += v[j]! * v[j]!;
    }
    e[k + 1] = alpha;
    const beta = 2 / vtv;
    // The trailing block S ← H S H, H = I − β v vᵀ, as S − v wᵀ − w vᵀ with p = β S v, w = p − (β/2)(vᵀp) v.
    const base = (k + 1) * n + k + 1;
    p.fill(0, 0, m);
    for (let i = 0; i < m; i++) {
      const row = base + i * n;
      const vi = v[i]!;
      let sum = s[row + i]! * vi;
      for (let j = 0; j < i; j++) {
        const sij = s[row + j]!;
        sum += sij * v[j]!;
        p[j]! += sij * vi;
      }
      p[i]! += sum;
    }
    let vtp = 0;
    for (let i = 0; i < m; i++) vtp += v[i]! * (p[i]! *= beta);
    const half = 0.5 * beta * vtp;
    for (let i = 0; i < m; i++) p[i]! -= half * v[i]!;
    for (let i = 0; i < m; i++) {
      const row = base + i * n;
      const vi = v[i]!;
      const wi = p[i]!;
      for (let j = 0; j <= i; j++) s[row + j]! -= vi * p[j]! + wi * v[j]!;
    }
  }
  if (n > 0) {
    d[n - 1] = s[n * n - 1]!;
    tridiagonalQl(null, d, e, n);
  }
  return d.sort().reverse();
}

/**
 * Thin QR of a rows × cols matrix (rows ≥ cols) by modified Gram–Schmidt, each column orthogonalised twice
 * ("twice is enough": orthogonality to machine precision even for ill-conditioned input). A column that is
 * (numerically) in the span of the previous ones gets R's diagonal 0 and a unit vector completing the basis, so Q
 * always has orthonormal columns.
 */
export function thinQr(a: ArrayLike<number>, rows: number, cols: number): ThinQr {
  if (a.length !== rows * cols) throw new RangeError(`thinQr: expected ${rows}×${cols} values, got ${a.length}`);
  if (cols > rows) throw new RangeError(`thinQr: needs rows ≥ cols, got ${rows}×${cols}`);
  // Work on columns as contiguous rows of qt (cols × rows).
  const qt = new Float64Array(cols * rows);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const value = a[i * cols + j]!;
      if (!Number.isFinite(value)) throw new RangeError(`thinQr: entry (${i}, ${j}) is not finite`);
      qt[j * rows + i] = value;
    }
  }
  const r = new Float64Array(cols * cols);
  for (let j = 0; j < cols; j++) {
    const column = qt.subarray(j * rows, (j + 1) * rows);
    const originalNorm = norm(column);
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < j; p++) r[p * cols + j]! += orthogonaliseAt(qt, j * rows, p * rows, rows);
    }
    const residual = norm(column);
    if (residual > 1e-12 * originalNorm && residual > 0) {
      r[j * cols + j] = residual;
      for (let i = 0; i < rows; i++) column[i]! /= residual;
    } else {
      r[j * cols + j] = 0;
      completeBasis(qt, j, rows);
    }
  }
  const q = new Float64Array(rows * cols);
  for (let j = 0; j < cols; j++) {
    for (let i = 0; i < rows; i++) q[i * cols + j] = qt[j * rows + i]!;
  }
  return { q, r };
}

/** Removes from the column at `target` its component along the unit column at `basis`; returns that component. */
function orthogonaliseAt(qt: Float64Array, target: number, basis: number, rows: number): number {
  let dot = 0;
  for (let i = 0; i < rows; i++) dot += qt[target + i]! * qt[basis + i]!;
  for (let i = 0; i < rows; i++) qt[target + i]! -= dot * qt[basis + i]!;
  return dot;
}

/** Removes from `column` its component along the unit vector `basis`; returns that component. */
function orthogonalise(column: Float64Array, basis: Float64Array): number {
  let dot = 0;
  for (let i = 0; i < column.length; i++) dot += column[i]! * basis[i]!;
  for (let i = 0; i < column.length; i++) column[i]! -= dot * basis[i]!;
  return dot;
}

function norm(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s);
}

/** Sets column j of qt to the first canonical vector whose residual against columns 0..j-1 is large enough. */
function completeBasis(qt: Float64Array, j: number, rows: number): void {
  const column = qt.subarray(j * rows, (j + 1) * rows);
  let best = -1;
  let bestNorm = 0;
  for (let candidate = 0; candidate < rows; candidate++) {
    column.fill(0);
    column[candidate] = 1;
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < j; p++) orthogonalise(column, qt.subarray(p * rows, (p + 1) * rows));
    }
    const residual = norm(column);
    if (residual > bestNorm) {
      best = candidate;
      bestNorm = residual;
    }
    if (residual > 0.5) break;
  }
  if (bestNorm <= 0.5) {
    column.fill(0);
    column[best] = 1;
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < j; p++) orthogonalise(column, qt.subarray(p * rows, (p + 1) * rows));
    }
    bestNorm = norm(column);
  }
  for (let i = 0; i < rows; i++) column[i]! /= bestNorm;
}
