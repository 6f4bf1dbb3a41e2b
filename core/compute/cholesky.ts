/**
 * Recursive blocked Cholesky factorisation M = L·Lᵀ and the solves that use it, with every large product sent
 * to the Linalg engine (ONNX Runtime). The factor is kept as a tree of blocks, [[L11, 0], [L21, L22]], so that
 * the solves use contiguous blocks without copying; leaves (≤ LEAF rows) are factored in JS float64 and keep
 * their inverse, which turns the leaf-level triangular solves into products too.
 *
 * Flops: factor ≈ 0.35 n³ (vs n³/3 for LAPACK), each solve with m right-hand sides n²·m.
 */
import type { Dense, FloatArray, Linalg, MatmulOptions } from './linalg.js';
import { like, rowBlock, transpose } from './linalg.js';

const LEAF = 128;
/** Blocks up to this size also keep their inverse: leaf-sized products (128 wide) run ~5× below peak. */
const INVERTED_BLOCK = 512;

export type CholeskyNode<T extends FloatArray> =
  | { kind: 'leaf'; n: number; L: Dense<T>; inverse: Dense<T>; inverseT: Dense<T> }
  | {
      kind: 'split';
      n: number;
      h: number;
      L11: CholeskyNode<T>;
      L21: Dense<T>;
      /** L21ᵀ, kept too so that backward solves are plain products (no transposed operand to copy). */
      L12: Dense<T>;
      L22: CholeskyNode<T>;
      /** L⁻¹ (dense lower triangle) and its transpose, kept for blocks of at most INVERTED_BLOCK rows. */
      inverse?: Dense<T>;
      inverseT?: Dense<T>;
    };

/** Thrown when the matrix is not (numerically) positive definite at this precision. */
export class NotPositiveDefiniteError extends Error {
  constructor(readonly index: number) {
    super(`matrix is not positive definite (pivot ${index})`);
    this.name = 'NotPositiveDefiniteError';
  }
}

/** Where a block of n rows is split: the first half rounded up to whole leaves. */
function splitPoint(n: number): number {
  return LEAF * Math.ceil(Math.ceil(n / LEAF) / 2);
}

/**
 * Factors the symmetric positive definite matrix A + shift·I (only A's upper triangle is read: what `gram`
 * computes). The shift is added to the copies the factorisation makes anyway, so A is never copied whole.
 */
export async function cholesky<T extends FloatArray>(linalg: Linalg, a: Dense<T>, shift = 0): Promise<CholeskyNode<T>> {
  return attachInverses(linalg, await factor(linalg, a, shift));
}

async function factor<T extends FloatArray>(linalg: Linalg, a: Dense<T>, shift = 0): Promise<CholeskyNode<T>> {
  const n = a.rows;
  if (n <= LEAF) return leafFactor(a, shift);
  const h = splitPoint(n);
  // L11 is solved against n − h right-hand sides just below: give it its inverse if it is a 512-ish block.
  const L11raw = await factor(linalg, addToDiagonal(block(a, 0, h, 0, h), shift));
  const L11 = h > INVERTED_BLOCK / 2 ? await attachInverses(linalg, L11raw) : L11raw;
  // L21 = A21·L11⁻ᵀ, computed as L21ᵀ = L11⁻¹·A12.
  const L12 = await forwardSolve(linalg, L11, block(a, 0, h, h, n));
  const L21 = linalg.transpose ? await linalg.transpose(L12) : transpose(L12);
  const L22 = await factor(linalg, await schurComplement(linalg, a, h, L21, shift));
  return { kind: 'split', n, h, L11, L21, L12, L22 };
}

/** Adds `shift` to the diagonal of a square matrix in place; returns it. */
function addToDiagonal<T extends FloatArray>(a: Dense<T>, shift: number): Dense<T> {
  if (shift !== 0) for (let i = 0; i < a.rows; i++) a.data[i * a.cols + i]! += shift;
  return a;
}

/** Row blocks of the Schur update: large enough for full-speed products, few enough for a small upper waste. */
const UPDATE_ROWS = 600;

/**
 * Upper triangle of S = A22 + shift·I − L21·L21ᵀ (A22 = rows and columns h.. of `a`): per row block, the columns
 * from the diagonal on, each one fused engine call (C − A·Bᵀ) on a native copy of the block — no element-wise
 * JS loops.
 */
async function schurComplement<T extends FloatArray>(
  linalg: Linalg,
  a: Dense<T>,
  h: number,
  L21: Dense<T>,
  shift: number,
): Promise<Dense<T>> {
  const n = a.rows;
  const m = n - h;
  const S = like(a.data, m * m);
  const blocks = Math.max(1, Math.round(m / UPDATE_ROWS));
  const size = Math.ceil(m / blocks);
  for (let i0 = 0; i0 < m; i0 += size) {
    const i1 = Math.min(m, i0 + size);
    const c = block(a, h + i0, h + i1, h + i0, n);
    // Row r of the block starts on the diagonal of A22: that entry gets the shift.
    if (shift !== 0) for (let r = 0; r < i1 - i0; r++) c.data[r * c.cols + r]! += shift;
    const part = await subtractProduct(linalg, c, rowBlock(L21, i0, i1), rowBlock(L21, i0, m), { transB: true });
    const width = m - i0;
    for (let i = i0; i < i1; i++) S.set(part.data.subarray((i - i0) * width, (i - i0 + 1) * width), i * m + i0);
  }
  return { rows: m, cols: m, data: S };
}

/** Gives the largest blocks of at most INVERTED_BLOCK rows their inverse (idempotent). */
async function attachInverses<T extends FloatArray>(linalg: Linalg, node: CholeskyNode<T>): Promise<CholeskyNode<T>> {
  if (node.kind === 'leaf' || node.inverse) return node;
  if (node.n > INVERTED_BLOCK) {
    return { ...node, L11: await attachInverses(linalg, node.L11), L22: await attachInverses(linalg, node.L22) };
  }
  const identity = like(node.L21.data, node.n * node.n);
  for (let i = 0; i < node.n; i++) identity[i * node.n + i] = 1;
  const inverse = await forwardSolve(linalg, node, { rows: node.n, cols: node.n, data: identity });
  return { ...node, inverse, inverseT: transpose(inverse) };
}

/** Z = L⁻¹·R (R is n × m, right-hand sides as columns). */
export async function forwardSolve<T extends FloatArray>(linalg: Linalg, node: CholeskyNode<T>, r: Dense<T>): Promise<Dense<T>> {
  if (node.inverse) return linalg.gemm(node.inverse, r);
  if (node.kind === 'leaf') throw new Error('unreachable: leaves keep their inverse');
  const out = like(r.data, r.data.length);
  const z1 = await forwardSolve(linalg, node.L11, rowBlock(r, 0, node.h));
  out.set(z1.data, 0);
  const rest = await subtractProduct(linalg, rowBlock(r, node.h, node.n), node.L21, z1);
  const z2 = await forwardSolve(linalg, node.L22, rest);
  out.set(z2.data, z1.data.length);
  return { rows: r.rows, cols: r.cols, data: out };
}

/** W = L⁻ᵀ·Z. */
export async function backwardSolve<T extends FloatArray>(linalg: Linalg, node: CholeskyNode<T>, z: Dense<T>): Promise<Dense<T>> {
  if (node.inverseT) return linalg.gemm(node.inverseT, z);
  if (node.kind === 'leaf') throw new Error('unreachable: leaves keep their inverse');
  const out = like(z.data, z.data.length);
  const w2 = await backwardSolve(linalg, node.L22, rowBlock(z, node.h, node.n));
  out.set(w2.data, node.h * z.cols);
  const rest = await subtractProduct(linalg, rowBlock(z, 0, node.h), node.L12, w2);
  const w1 = await backwardSolve(linalg, node.L11, rest);
  out.set(w1.data, 0);
  return { rows: z.rows, cols: z.cols, data: out };
}

/** M⁻¹·R for M = L·Lᵀ. */
export async function choleskySolve<T extends FloatArray>(linalg: Linalg, node: CholeskyNode<T>, r: Dense<T>): Promise<Dense<T>> {
  return backwardSolve(linalg, node, await forwardSolve(linalg, node, r));
}

/** The factor as one dense lower-triangular matrix (for saving). */
export function assembleFactor<T extends FloatArray>(node: CholeskyNode<T>, like_: T): Dense<T> {
  const n = node.n;
  const out = like(like_, n * n);
  const place = (nd: CholeskyNode<T>, offset: number) => {
    if (nd.kind === 'leaf') {
      for (let i = 0; i < nd.n; i++) out.set(nd.L.data.subarray(i * nd.n, (i + 1) * nd.n), (offset + i) * n + offset);
      return;
    }
    place(nd.L11, offset);
    place(nd.L22, offset + nd.h);
    const w = nd.h;
    for (let i = 0; i < nd.n - nd.h; i++) out.set(nd.L21.data.subarray(i * w, (i + 1) * w), (offset + nd.h + i) * n + offset);
  };
  place(node, 0);
  return { rows: n, cols: n, data: out };
}

/** Rebuilds the block tree from a dense lower-triangular factor (as written by `assembleFactor`). */
export async function splitFactor<T extends FloatArray>(linalg: Linalg, L: Dense<T>): Promise<CholeskyNode<T>> {
  const n = L.rows;
  if (n <= LEAF) return leafOf(copyOf(L));
  const h = splitPoint(n);
  const L21 = block(L, h, n, 0, h);
  return attachInverses(linalg, {
    kind: 'split',
    n,
    h,
    L11: await splitFactor(linalg, block(L, 0, h, 0, h)),
    L21,
    L12: transpose(L21),
    L22: await splitFactor(linalg, block(L, h, n, h, n)),
  });
}

/** Rows [r0, r1) × columns [c0, c1), copied. */
export function block<T extends FloatArray>(a: Dense<T>, r0: number, r1: number, c0: number, c1: number): Dense<T> {
  const w = c1 - c0;
  const out = like(a.data, (r1 - r0) * w);
  for (let i = r0; i < r1; i++) out.set(a.data.subarray(i * a.cols + c0, i * a.cols + c1), (i - r0) * w);
  return { rows: r1 - r0, cols: w, data: out };
}

function copyOf<T extends FloatArray>(a: Dense<T>): Dense<T> {
  return { rows: a.rows, cols: a.cols, data: a.data.slice() as T };
}

/** C − A·B: one engine call when the engine fuses it, else a copy of C minus the product. */
async function subtractProduct<T extends FloatArray>(
  linalg: Linalg,
  c: Dense<T>,
  a: Dense<T>,
  b: Dense<T>,
  options: MatmulOptions = {},
): Promise<Dense<T>> {
  if (linalg.subtractProduct) return linalg.subtractProduct(c, a, b, options);
  const out = copyOf(c);
  const product = await linalg.gemm(a, b, options);
  for (let i = 0; i < out.data.length; i++) out.data[i]! -= product.data[i]!;
  return out;
}

/** Cholesky of a small block plus shift·I, in float64 (upper triangle read). */
function leafFactor<T extends FloatArray>(a: Dense<T>, shift: number): CholeskyNode<T> {
  const n = a.rows;
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a.data[j * n + j]! + shift;
    for (let k = 0; k < j; k++) d -= L[j * n + k]! * L[j * n + k]!;
    if (!(d > 0)) throw new NotPositiveDefiniteError(j);
    const djj = Math.sqrt(d);
    L[j * n + j] = djj;
    for (let i = j + 1; i < n; i++) {
      let s = a.data[j * n + i]!;
      for (let k = 0; k < j; k++) s -= L[i * n + k]! * L[j * n + k]!;
      L[i * n + j] = s / djj;
    }
  }
  return leafOf({ rows: n, cols: n, data: convert(L, a.data) });
}

function leafOf<T extends FloatArray>(L: Dense<T>): CholeskyNode<T> {
  const inverse = invertLower(L);
  return { kind: 'leaf', n: L.rows, L, inverse, inverseT: transpose(inverse) };
}

/**
 * Inverse of a small lower-triangular matrix, in float64, returned in the input's type. Row by row
 * (row i of L⁻¹ = (eᵢ − Σ_k<i L_ik·row k) / L_ii), so that every inner loop runs along contiguous rows.
 */
function invertLower<T extends FloatArray>(L: Dense<T>): Dense<T> {
  const n = L.rows;
  const l = Float64Array.from(L.data);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let k = 0; k < i; k++) {
      const lik = l[row + k]!;
      if (lik === 0) continue;
      const rk = k * n;
      for (let j = 0; j <= k; j++) inv[row + j]! -= lik * inv[rk + j]!;
    }
    const d = 1 / l[row + i]!;
    for (let j = 0; j < i; j++) inv[row + j]! *= d;
    inv[row + i] = d;
  }
  return { rows: n, cols: n, data: convert(inv, L.data) };
}

function convert<T extends FloatArray>(values: Float64Array, target: T): T {
  return (target instanceof Float64Array ? values : Float32Array.from(values)) as T;
}
