/**
 * Matrix products through ONNX Runtime (MLAS): one session per (element type, transB), each with symbolic
 * dimensions so that a single session serves every shape. Measured on 2 AVX-512 cores: ≈150–180 GFLOP/s in
 * float32 (2 intra-op threads), ≈75 in float64 — against ≈1 for plain JS loops.
 */
import { availableParallelism } from 'node:os';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { encodeOnnxModel } from './onnx-model.js';
import type { Dense, FloatArray, MatmulOptions } from './linalg.js';

type Ort = typeof import('onnxruntime-node');

/** op(B) at least this wide makes a JS copy of Aᵀ cheap against the product (then MatMul beats Gemm transA). */
const WIDE_ENOUGH_TO_TRANSPOSE = 2048;
type ElementType = 'float32' | 'float64';
/** Values per subtractRow call (16 MB of float32): large enough to keep both threads busy, small enough to stay in reused memory. */
const SUBTRACT_CHUNK_VALUES = 1 << 22;

export interface OrtMatmulOptions {
  /** Intra-op threads; default: the number of cores. */
  threads?: number;
}

export class OrtMatmul {
  private readonly sessions = new Map<string, Promise<InferenceSession>>();
  private ort: Promise<Ort> | undefined;
  readonly threads: number;

  constructor(options: OrtMatmulOptions = {}) {
    this.threads = options.threads ?? availableParallelism();
  }

  /**
   * op(A)·op(B). transB maps to Gemm's transB (as fast as MatMul). transA maps to Gemm's transA (~70–90 GFLOP/s)
   * unless op(B) is wide: then copying Aᵀ (ONNX Transpose) costs little against the product and MatMul runs faster.
   * With `minuend` C, returns C − op(A)·op(B) from the same Gemm call (alpha −1, beta 1); C is not modified.
   */
  async gemm<T extends FloatArray>(a: Dense<T>, b: Dense<T>, options: MatmulOptions = {}, minuend?: Dense<T>): Promise<Dense<T>> {
    const type: ElementType = a.data instanceof Float64Array ? 'float64' : 'float32';
    const transB = options.transB === true;
    const n = transB ? b.rows : b.cols;
    const k = transB ? b.cols : b.rows;
    const transposeFirst = options.transA === true && n >= WIDE_ENOUGH_TO_TRANSPOSE;
    const left = transposeFirst ? await this.transpose(a) : a;
    const transA = options.transA === true && !transposeFirst;
    const m = transA ? left.cols : left.rows;
    if ((transA ? left.rows : left.cols) !== k) throw new RangeError(`matmul: inner dimensions differ (${transA ? left.rows : left.cols} vs ${k})`);
    if (minuend && (minuend.rows !== m || minuend.cols !== n)) {
      throw new RangeError(`subtractProduct: C is ${minuend.rows}×${minuend.cols}, the product ${m}×${n}`);
    }
    const ort = await this.runtime();
    const session = await this.session(type, transA, transB, minuend !== undefined);
    const feeds: Record<string, Tensor> = {
      a: new ort.Tensor(type, left.data, [left.rows, left.cols]),
      b: new ort.Tensor(type, b.data, [b.rows, b.cols]),
    };
    if (minuend) feeds.c = new ort.Tensor(type, minuend.data, [m, n]);
    const into = options.into;
    if (into && into.constructor === a.data.constructor) {
      if (into.length < m * n) throw new RangeError(`matmul: into has ${into.length} values for a ${m}×${n} product`);
      // A preallocated output: ONNX Runtime writes the product there (no copy out of its memory, no new array).
      const data = into.subarray(0, m * n) as T;
      await session.run(feeds, { y: new ort.Tensor(type, data, [m, n]) });
      return { rows: m, cols: n, data };
    }
    const result = await session.run(feeds);
    const out = result.y as Tensor;
    return { rows: m, cols: n, data: out.data as T };
  }

  /**
   * (A − 1·rowᵀ)·diag(multiplier): every row minus `row`, then times `multiplier` column-wise when given.
   * Memory-bound, but multi-threaded and vectorised, unlike a JS loop (≈2× faster on NSD-sized arrays).
   */
  async subtractRow<T extends FloatArray>(a: Dense<T>, row: T, multiplier?: T): Promise<Dense<T>> {
    const type: ElementType = a.data instanceof Float64Array ? 'float64' : 'float32';
    const ort = await this.runtime();
    const key = `sub:${type}:${multiplier !== undefined}`;
    let session = this.sessions.get(key);
    if (!session) {
      session = this.createSubtractSession(type, multiplier !== undefined);
      this.sessions.set(key, session);
    }
    // A preallocated output saves copying the result out of ONNX Runtime's memory (it is as large as A), and row
    // chunks keep the scaled graph's intermediate (A − row) small and reused instead of another array as large as A.
    const out = (type === 'float64' ? new Float64Array(a.data.length) : new Float32Array(a.data.length)) as T;
    const b = new ort.Tensor(type, row, [a.cols]);
    const s = multiplier ? new ort.Tensor(type, multiplier, [a.cols]) : undefined;
    const chunk = Math.max(1, Math.floor(SUBTRACT_CHUNK_VALUES / Math.max(1, a.cols)));
    for (let r0 = 0; r0 < a.rows; r0 += chunk) {
      const r1 = Math.min(a.rows, r0 + chunk);
      const feeds: Record<string, Tensor> = { a: new ort.Tensor(type, a.data.subarray(r0 * a.cols, r1 * a.cols), [r1 - r0, a.cols]), b };
      if (s) feeds.s = s;
      await (await session).run(feeds, { c: new ort.Tensor(type, out.subarray(r0 * a.cols, r1 * a.cols), [r1 - r0, a.cols]) });
    }
    return { rows: a.rows, cols: a.cols, data: out };
  }

  /** Aᵀ, copied by ONNX Runtime's Transpose (multi-threaded) into a preallocated array. */
  async transpose<T extends FloatArray>(a: Dense<T>): Promise<Dense<T>> {
    const type: ElementType = a.data instanceof Float64Array ? 'float64' : 'float32';
    const ort = await this.runtime();
    const key = `transpose:${type}`;
    let session = this.sessions.get(key);
    if (!session) {
      const model = encodeOnnxModel({
        name: 'transpose',
        inputs: [{ name: 'a', type, dims: ['m', 'n'] }],
        outputs: [{ name: 't', type, dims: ['n', 'm'] }],
        nodes: [{ op: 'Transpose', inputs: ['a'], outputs: ['t'], attributes: { perm: [1, 0] } }],
      });
      session = ort.InferenceSession.create(model, { intraOpNumThreads: this.threads, interOpNumThreads: 1, ...this.spinOption() });
      this.sessions.set(key, session);
    }
    const out = (type === 'float64' ? new Float64Array(a.data.length) : new Float32Array(a.data.length)) as T;
    await (await session).run(
      { a: new ort.Tensor(type, a.data, [a.rows, a.cols]) },
      { t: new ort.Tensor(type, out, [a.cols, a.rows]) },
    );
    return { rows: a.cols, cols: a.rows, data: out };
  }

  private async createSubtractSession(type: ElementType, scaled: boolean): Promise<InferenceSession> {
    const ort = await this.runtime();
    const model = encodeOnnxModel({
      name: 'subtract-row',
      inputs: [
        { name: 'a', type, dims: ['m', 'n'] },
        { name: 'b', type, dims: ['n'] },
        ...(scaled ? [{ name: 's', type, dims: ['n'] }] : []),
      ],
      outputs: [{ name: 'c', type, dims: ['m', 'n'] }],
      nodes: scaled
        ? [
            { op: 'Sub', inputs: ['a', 'b'], outputs: ['d'] },
            { op: 'Mul', inputs: ['d', 's'], outputs: ['c'] },
          ]
        : [{ op: 'Sub', inputs: ['a', 'b'], outputs: ['c'] }],
    });
    return ort.InferenceSession.create(model, { intraOpNumThreads: this.threads, interOpNumThreads: 1, ...this.spinOption() });
  }

  private runtime(): Promise<Ort> {
    this.ort ??= import('onnxruntime-node');
    return this.ort;
  }

  private session(type: ElementType, transA: boolean, transB: boolean, subtract: boolean): Promise<InferenceSession> {
    const key = `${type}:${transA}:${transB}:${subtract}`;
    let session = this.sessions.get(key);
    if (!session) {
      session = this.createSession(type, transA, transB, subtract);
      this.sessions.set(key, session);
    }
    return session;
  }

  /** y = op(a)·op(b), or with `subtract` y = c − op(a)·op(b) (Gemm alpha −1, beta 1: no separate pass over c). */
  private async createSession(type: ElementType, transA: boolean, transB: boolean, subtract: boolean): Promise<InferenceSession> {
    const ort = await this.runtime();
    const trans = { transA: transA ? 1 : 0, transB: transB ? 1 : 0 };
    const model = encodeOnnxModel({
      name: 'matmul',
      inputs: [
        { name: 'a', type, dims: transA ? ['k', 'm'] : ['m', 'k'] },
        { name: 'b', type, dims: transB ? ['n', 'k'] : ['k', 'n'] },
        ...(subtract ? [{ name: 'c', type, dims: ['m', 'n'] }] : []),
      ],
      outputs: [{ name: 'y', type, dims: ['m', 'n'] }],
      nodes: subtract
        ? [{ op: 'Gemm', inputs: ['a', 'b', 'c'], outputs: ['y'], attributes: { ...trans, alpha: { float: -1 }, beta: { float: 1 } } }]
        : transA || transB
          ? [{ op: 'Gemm', inputs: ['a', 'b'], outputs: ['y'], attributes: trans }]
          : [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }],
    });
    return ort.InferenceSession.create(model, {
      intraOpNumThreads: this.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      ...this.spinOption(),
    });
  }

  /**
   * ONNX Runtime's threads do not spin-wait after a run: JS work (copies, tfjs, Adam) runs on the same cores between
   * products and spinning threads would take its time. Measured on 2 cores: ridge at NSD scale 14.1 s vs 14.9 s with
   * spinning, a GRU training step 15–35 % faster; back-to-back Gram blocks run as fast either way (≈180 GFLOP/s).
   */
  private spinOption(): { extra: Record<string, unknown> } {
    return { extra: { session: { intra_op: { allow_spinning: '0' } } } };
  }
}
