/**
 * Dense linear algebra service. Large products run through ONNX Runtime (core/compute/ort-matmul.ts, ≈150
 * GFLOP/s on 2 cores); products too small to repay a call (a few tens of microseconds) run in plain JS.
 * Operands are row-major float32 (`Matrix`) or float64 (`Dense<Float64Array>`, for factorisations that need it).
 */
import type { Matrix } from '../tensor.js';
import { OrtMatmul, type OrtMatmulOptions } from './ort-matmul.js';

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
  /**
   * Where to write the product (its first m·n values) instead of a new array: a scratch buffer reused across calls
   * costs no fresh memory (on a machine where first-touched pages are slow, the costliest part of large products
   * after the flops). It must not overlap an operand. The result is always the returned matrix (an engine may
   * ignore this and return a new array).
   */
  into?: FloatArray;
}

export type FloatArray = Float32Array | Float64Array;

export interface GramOptions {
  upperOnly?: boolean;
}

/** A dense row-major matrix of either float type (`Matrix` is `Dense<Float32Array>`). */
export interface Dense<T extends FloatArray = FloatArray> {
  readonly rows: number;
  readonly cols: number;
  readonly data: T;
}

export interface Linalg {
  /** Name of the engine doing the work, for reports. */
  readonly engine: string;
  /** op(A)·op(B), float32. */
  matmul(a: Matrix, b: Matrix, options?: MatmulOptions): Promise<Matrix>;
  /** op(A)·op(B) in the element type of the operands (both float32 or both float64). */
  gemm<T extends FloatArray>(a: Dense<T>, b: Dense<T>, options?: MatmulOptions): Promise<Dense<T>>;
  /**
   * A·Aᵀ, symmetric: only the blocks on and above the diagonal are multiplied (≈53 % of the flops). With
   * `upperOnly`, the strictly lower triangle is left as it comes (partly zeros) instead of mirrored.
   */
  gram<T extends FloatArray>(a: Dense<T>, options?: GramOptions): Promise<Dense<T>>;
  /**
   * C − op(A)·op(B) as a new matrix (C is left unchanged), in one engine call: the update step of blocked
   * factorisations and triangular solves. Optional so that wrappers written before it still type-check.
   */
  subtractProduct?<T extends FloatArray>(c: Dense<T>, a: Dense<T>, b: Dense<T>, options?: MatmulOptions): Promise<Dense<T>>;
  /** Aᵀ as a new matrix (optional, as subtractProduct; the `transpose` function below is the JS fallback). */
  transpose?<T extends FloatArray>(a: Dense<T>): Promise<Dense<T>>;
  /** (A − 1·rowᵀ)·diag(multiplier): each row minus `row`, then scaled per column — centring, z-scoring. */
  subtractRow<T extends FloatArray>(a: Dense<T>, row: T, multiplier?: T): Promise<Dense<T>>;
}

/** Products with m·n·k at most this run in JS: below it, ONNX Runtime's per-call overhead dominates. */
const SMALL_PRODUCT = 32 * 32 * 32;

export function createLinalg(options: OrtMatmulOptions = {}): Linalg {
  const ort = new OrtMatmul(options);
  // async: a bad argument rejects the promise on every path, as ONNX Runtime's does, rather than throwing.
  const gemm = async <T extends FloatArray>(a: Dense<T>, b: Dense<T>, o: MatmulOptions = {}): Promise<Dense<T>> => {
    const m = o.transA ? a.cols : a.rows;
    const k = o.transA ? a.rows : a.cols;
    const n = o.transB ? b.rows : b.cols;
    if (m * n * k <= SMALL_PRODUCT || m === 0 || n === 0 || k === 0) return jsGemm(a, b, o);
    return ort.gemm(a, b, o);
  };
  return {
    engine: `onnxruntime-node cpu (${ort.threads} threads)`,
    matmul: (a, b, o) => gemm(a, b, o),
    gemm,
    gram: (a, o) => blockedGram(gemm, a, o),
    subtractProduct: (c, a, b, o = {}) => {
      const m = o.transA ? a.cols : a.rows;
      const k = o.transA ? a.rows : a.cols;
      const n = o.transB ? b.rows : b.cols;
      if (m * n * k <= SMALL_PRODUCT || m === 0 || n === 0 || k === 0) return Promise.resolve(jsSubtractProduct(c, a, b, o));
      return ort.gemm(a, b, o, c);
    },
    transpose: (a) => (a.rows * a.cols < 1 << 16 ? Promise.resolve(transpose(a)) : ort.transpose(a)),
    subtractRow: (a, row, multiplier) => {
      if (row.length !== a.cols || (multiplier && multiplier.length !== a.cols)) {
        throw new RangeError(`subtractRow: rows of ${row.length}/${multiplier?.length} values for ${a.cols} columns`);
      }
      return a.rows * a.cols < 1 << 16 ? Promise.resolve(jsSubtractRow(a, row, multiplier)) : ort.subtractRow(a, row, multiplier);
    },
  };
}

/** Plain JavaScript engine (float64 accumulation): a reference for tests and tiny problems. */
export function createJsLinalg(): Linalg {
  const gemm = async <T extends FloatArray>(a: Dense<T>, b: Dense<T>, o?: MatmulOptions) => jsGemm(a, b, o);
  return {
    engine: 'js',
    matmul: gemm,
    gemm,
    gram: (a, o) => blockedGram(gemm, a, o),
    subtractProduct: (c, a, b, o) => Promise.resolve(jsSubtractProduct(c, a, b, o)),
    transpose: (a) => Promise.resolve(transpose(a)),
    subtractRow: (a, row, multiplier) => Promise.resolve(jsSubtractRow(a, row, multiplier)),
  };
}

export function jsSubtractRow<T extends FloatArray>(a: Dense<T>, row: T, multiplier?: T): Dense<T> {
  if (row.length !== a.cols) throw new RangeError(`subtractRow: row of ${row.length} values for ${a.cols} columns`);
  const out = like(a.data, a.data.length);
  for (let i = 0; i < a.rows; i++) {
    const o = i * a.cols;
    for (let j = 0; j < a.cols; j++) out[o + j] = (a.data[o + j]! - row[j]!) * (multiplier ? multiplier[j]! : 1);
  }
  return { rows: a.rows, cols: a.cols, data: out };
}

/** Plain JavaScript op(A)·op(B) with float64 accumulation; the result has the element type of A. */
export function jsGemm<T extends FloatArray>(a: Dense<T>, b: Dense<T>, options: MatmulOptions = {}): Dense<T> {
  const left = options.transA ? transpose(a) : a;
  const k = options.transB ? b.cols : b.rows;
  if (left.cols !== k) throw new RangeError(`matmul: inner dimensions differ (${left.cols} vs ${k})`);
  const m = left.rows;
  const n = options.transB ? b.rows : b.cols;
  const out = intoOrNew(a.data, m * n, options.into);
  const A = left.data;
  const B = b.data;
  if (options.transB) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += A[i * k + p]! * B[j * k + p]!;
        out[i * n + j] = s;
      }
    }
  } else {
    const acc = new Float64Array(n);
    for (let i = 0; i < m; i++) {
      acc.fill(0);
      for (let p = 0; p < k; p++) {
        const av = A[i * k + p]!;
        if (av === 0) continue;
        const offset = p * n;
        for (let j = 0; j < n; j++) acc[j]! += av * B[offset + j]!;
      }
      out.set(acc, i * n);
    }
  }
  return { rows: m, cols: n, data: out };
}

/** C − op(A)·op(B) in plain JavaScript (float64 accumulation of the product). */
export function jsSubtractProduct<T extends FloatArray>(c: Dense<T>, a: Dense<T>, b: Dense<T>, options: MatmulOptions = {}): Dense<T> {
  const product = jsGemm(a, b, options);
  if (product.rows !== c.rows || product.cols !== c.cols) {
    throw new RangeError(`subtractProduct: C is ${c.rows}×${c.cols}, the product ${product.rows}×${product.cols}`);
  }
  for (let i = 0; i < product.data.length; i++) product.data[i] = c.data[i]! - product.data[i]!;
  return product;
}

/** Kept for callers of the first version of this module. */
export function jsMatmul(a: Matrix, b: Matrix, options: MatmulOptions = {}): Matrix {
  return jsGemm(a, b, options);
}

/** The first `length` values of `into` (zeroed) when given and of the same float type, else a new zeroed array. */
export function intoOrNew<T extends FloatArray>(data: T, length: number, into: FloatArray | undefined): T {
  if (into && into.constructor === data.constructor) {
    if (into.length < length) throw new RangeError(`into: ${into.length} values for a ${length}-value result`);
    return into.subarray(0, length).fill(0) as T;
  }
  return like(data, length);
}

/** A new zeroed array of the same float type. */
export function like<T extends FloatArray>(data: T, length: number): T {
  return (data instanceof Float64Array ? new Float64Array(length) : new Float32Array(length)) as T;
}

/** Aᵀ, copied (cache-blocked). */
export function transpose<T extends FloatArray>(a: Dense<T>): Dense<T> {
  const { rows, cols, data } = a;
  const out = like(data, rows * cols);
  const tile = 64;
  for (let i0 = 0; i0 < rows; i0 += tile) {
    const i1 = Math.min(rows, i0 + tile);
    for (let j0 = 0; j0 < cols; j0 += tile) {
      const j1 = Math.min(cols, j0 + tile);
      for (let i = i0; i < i1; i++) {
        for (let j = j0; j < j1; j++) out[j * rows + i] = data[i * cols + j]!;
      }
    }
  }
  return { rows: cols, cols: rows, data: out };
}

/** Rows [start, end) as a view (no copy). */
export function rowBlock<T extends FloatArray>(a: Dense<T>, start: number, end: number): Dense<T> {
  return { rows: end - start, cols: a.cols, data: a.data.subarray(start * a.cols, end * a.cols) as T };
}

type Gemm = <T extends FloatArray>(a: Dense<T>, b: Dense<T>, o?: MatmulOptions) => Promise<Dense<T>>;

/**
 * A·Aᵀ in row blocks: block i is multiplied by rows i.. of A only (a contiguous view), and the lower triangle is
 * mirrored from the upper. Blocks of ~600 rows keep each product large enough to run at full speed.
 */
async function blockedGram<T extends FloatArray>(gemm: Gemm, a: Dense<T>, options: GramOptions = {}): Promise<Dense<T>> {
  const n = a.rows;
  const blocks = Math.max(1, Math.round(n / 600));
  if (blocks === 1) return gemm(a, a, { transB: true });
  const size = Math.ceil(n / blocks);
  const out = like(a.data, n * n);
  // Every block's product goes through one scratch buffer: no fresh memory per block.
  const scratch = like(a.data, size * n);
  for (let i0 = 0; i0 < n; i0 += size) {
    const i1 = Math.min(n, i0 + size);
    const part = await gemm(rowBlock(a, i0, i1), rowBlock(a, i0, n), { transB: true, into: scratch });
    const width = n - i0;
    for (let i = i0; i < i1; i++) {
      out.set(part.data.subarray((i - i0) * width, (i - i0 + 1) * width), i * n + i0);
    }
  }
  if (!options.upperOnly) mirrorUpper(out, n);
  return { rows: n, cols: n, data: out };
}

/** Copies the upper triangle of a square row-major matrix onto its lower triangle. */
export function mirrorUpper(data: FloatArray, n: number): void {
  const tile = 64;
  for (let i0 = 0; i0 < n; i0 += tile) {
    for (let j0 = 0; j0 <= i0; j0 += tile) {
      const i1 = Math.min(n, i0 + tile);
      for (let i = i0; i < i1; i++) {
        const j1 = Math.min(i, j0 + tile);
        for (let j = j0; j < j1; j++) data[i * n + j] = data[j * n + i]!;
      }
    }
  }
}
