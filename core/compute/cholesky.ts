/**
 * Recursive blocked Cholesky factorisation M = L·Lᵀ and the solves that use it, with every large product sent
 * to the Linalg engine (ONNX Runtime). The factor is kept as a tree of blocks, [[L11, 0], [L21, L22]], so that
 * the solves use contiguous blocks without copying; leaves (≤ LEAF rows) are factored in JS float64 and keep
 * their inverse, which turns the leaf-level triangular solves into products too. The input is read in place (square
 * views, no copies of its blocks), solves overwrite one copy of the right-hand sides, and every product whose result
 * is copied elsewhere goes through one reused scratch buffer: fresh memory is what large factorisations spend most
 * of their time on after the flops (first-touched pages; at NSD size, n = 8,859, the factor took 3.4 s before, 2.2 s now).
 *
 * Flops: factor ≈ 0.35 n³ (vs n³/3 for LAPACK), each solve with m right-hand sides n²·m.
 */
import type { Dense, FloatArray, Linalg, MatmulOptions } from './linalg.js';
import { like, rowBlock, transpose } from './linalg.js';

/** Rows and columns [0, n) of a square block at `offset` of a row-major matrix `stride` wide, read in place. */
interface SquareView<T extends FloatArray> {
  data: T;
  offset: number;
  stride: number;
  n: number;
}

/** A buffer reused by consecutive products whose results are copied out at once; grows when a larger one is asked. */
class Scratch<T extends FloatArray> {
  private buffer: T;
  constructor(like_: T, size: number) {
    this.buffer = like(like_, size);
  }
  get(size: number): T {
    if (this.buffer.length < size) this.buffer = like(this.buffer, size);
    return this.buffer;
  }
}

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
 * computes). The shift is added where leaves and Schur complements read A: A is neither modified nor copied whole.
 */
export async function cholesky<T extends FloatArray>(linalg: Linalg, a: Dense<T>, shift = 0): Promise<CholeskyNode<T>> {
  if (a.rows !== a.cols) throw new RangeError(`cholesky: a ${a.rows}×${a.cols} matrix is not square`);
  return attachInverses(linalg, await factor(linalg, { data: a.data, offset: 0, stride: a.cols, n: a.rows }, shift));
}

async function factor<T extends FloatArray>(linalg: Linalg, a: SquareView<T>, shift: number): Promise<CholeskyNode<T>> {
  const n = a.n;
  if (n <= LEAF) return leafFactor(a, shift);
  const h = splitPoint(n);
  // L11 is solved against n − h right-hand sides just below: give it its inverse if it is a 512-ish block.
  const L11raw = await factor(linalg, { ...a, n: h }, shift);
  const L11 = h > INVERTED_BLOCK / 2 ? await attachInverses(linalg, L11raw) : L11raw;
  // L21 = A21·L11⁻ᵀ, computed as L21ᵀ = L11⁻¹·A12 (in place in the copy of A12).
  const L12 = copyBlock(a, 0, h, h, n);
  await forwardInPlace(linalg, L11, L12, new Scratch(L12.data, Math.min(h, INVERTED_BLOCK) * L12.cols));
  const L21 = linalg.transpose ? await linalg.transpose(L12) : transpose(L12);
  const S = await schurComplement(linalg, a, h, L21, shift);
  const L22 = await factor(linalg, { data: S.data, offset: 0, stride: S.cols, n: S.rows }, 0);
  return { kind: 'split', n, h, L11, L21, L12, L22 };
}

/** Row blocks of the Schur update: large enough for full-speed products, few enough for a small upper waste. */
const UPDATE_ROWS = 600;

/**
 * Upper triangle of S = A22 + shift·I − L21·L21ᵀ (A22 = rows and columns h.. of `a`): per row block, the columns
 * from the diagonal on, each one fused engine call (C − A·Bᵀ) on a copy of the block in a reused buffer — no
 * element-wise JS loops.
 */
async function schurComplement<T extends FloatArray>(
  linalg: Linalg,
  a: SquareView<T>,
  h: number,
  L21: Dense<T>,
  shift: number,
): Promise<Dense<T>> {
  const n = a.n;
  const m = n - h;
  const S = like(a.data, m * m);
  const blocks = Math.max(1, Math.round(m / UPDATE_ROWS));
  const size = Math.ceil(m / blocks);
  const minuend = like(a.data, size * m);
  const product = new Scratch(a.data, size * m);
  for (let i0 = 0; i0 < m; i0 += size) {
    const i1 = Math.min(m, i0 + size);
    const c = copyBlock(a, h + i0, h + i1, h + i0, n, minuend);
    // Row r of the block starts on the diagonal of A22: that entry gets the shift.
    if (shift !== 0) for (let r = 0; r < i1 - i0; r++) c.data[r * c.cols + r]! += shift;
    const part = await subtractProduct(linalg, c, rowBlock(L21, i0, i1), rowBlock(L21, i0, m), { transB: true, into: product.get(c.data.length) });
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
  const inverse: Dense<T> = { rows: node.n, cols: node.n, data: like(node.L21.data, node.n * node.n) };
  for (let i = 0; i < node.n; i++) inverse.data[i * node.n + i] = 1;
  await forwardInPlace(linalg, node, inverse, new Scratch(inverse.data, inverse.data.length));
  return { ...node, inverse, inverseT: transpose(inverse) };
}

/** Z = L⁻¹·R (R is n × m, right-hand sides as columns). */
export async function forwardSolve<T extends FloatArray>(linalg: Linalg, node: CholeskyNode<T>, r: Dense<T>): Promise<Dense<T>> {
  const z = copyOf(r);
  await forwardInPlace(linalg, node, z, scratchFor(node, z));
  return z;
}

/** W = L⁻ᵀ·Z. */
export async function backwardSolve<T extends FloatArray>(linalg: Linalg, node: CholeskyNode<T>, z: Dense<T>): Promise<Dense<T>> {
  const w = copyOf(z);
  await backwardInPlace(linalg, node, w, scratchFor(node, w));
  return w;
}

/** M⁻¹·R for M = L·Lᵀ. */
export async function choleskySolve<T extends FloatArray>(linalg: Linalg, node: CholeskyNode<T>, r: Dense<T>): Promise<Dense<T>> {
  const w = copyOf(r);
  const scratch = scratchFor(node, w);
  await forwardInPlace(linalg, node, w, scratch);
  await backwardInPlace(linalg, node, w, scratch);
  return w;
}

/** Sized for the largest product a solve of these right-hand sides makes: a block's inverse, or the lower half. */
function scratchFor<T extends FloatArray>(node: CholeskyNode<T>, r: Dense<T>): Scratch<T> {
  const rows = node.kind === 'leaf' || node.inverse ? node.n : Math.max(node.n - node.h, INVERTED_BLOCK);
  return new Scratch(r.data, rows * r.cols);
}

/** R ← L⁻¹·R. */
async function forwardInPlace<T extends FloatArray>(linalg: Linalg, node: CholeskyNode<T>, r: Dense<T>, scratch: Scratch<T>): Promise<void> {
  if (node.inverse) {
    r.data.set((await linalg.gemm(node.inverse, r, { into: scratch.get(r.data.length) })).data);
    return;
  }
  if (node.kind === 'leaf') throw new Error('unreachable: leaves keep their inverse');
  const top = rowBlock(r, 0, node.h);
  const bottom = rowBlock(r, node.h, node.n);
  await forwardInPlace(linalg, node.L11, top, scratch);
  bottom.data.set((await subtractProduct(linalg, bottom, node.L21, top, { into: scratch.get(bottom.data.length) })).data);
  await forwardInPlace(linalg, node.L22, bottom, scratch);
}

/** Z ← L⁻ᵀ·Z. */
async function backwardInPlace<T extends FloatArray>(linalg: Linalg, node: CholeskyNode<T>, z: Dense<T>, scratch: Scratch<T>): Promise<void> {
  if (node.inverseT) {
    z.data.set((await linalg.gemm(node.inverseT, z, { into: scratch.get(z.data.length) })).data);
    return;
  }
  if (node.kind === 'leaf') throw new Error('unreachable: leaves keep their inverse');
  const top = rowBlock(z, 0, node.h);
  const bottom = rowBlock(z, node.h, node.n);
  await backwardInPlace(linalg, node.L22, bottom, scratch);
  top.data.set((await subtractProduct(linalg, top, node.L12, bottom, { into: scratch.get(top.data.length) })).data);
  await backwardInPlace(linalg, node.L11, top, scratch);
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

/** Rows [r0, r1) × columns [c0, c1) of a view, copied (into the start of `into` when given). */
function copyBlock<T extends FloatArray>(a: SquareView<T>, r0: number, r1: number, c0: number, c1: number, into?: T): Dense<T> {
  const w = c1 - c0;
  const out = into ? (into.subarray(0, (r1 - r0) * w) as T) : like(a.data, (r1 - r0) * w);
  for (let i = r0; i < r1; i++) {
    const start = a.offset + i * a.stride;
    out.set(a.data.subarray(start + c0, start + c1), (i - r0) * w);
  }
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
function leafFactor<T extends FloatArray>(a: SquareView<T>, shift: number): CholeskyNode<T> {
  const { n, data, offset, stride } = a;
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const row = offset + j * stride;
    let d = data[row + j]! + shift;
    for (let k = 0; k < j; k++) d -= L[j * n + k]! * L[j * n + k]!;
    if (!(d > 0)) throw new NotPositiveDefiniteError(j);
    const djj = Math.sqrt(d);
    L[j * n + j] = djj;
    for (let i = j + 1; i < n; i++) {
      let s = data[row + i]!;
      for (let k = 0; k < j; k++) s -= L[i * n + k]! * L[j * n + k]!;
      L[i * n + j] = s / djj;
    }
  }
  return leafOf({ rows: n, cols: n, data: convert(L, data) });
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
