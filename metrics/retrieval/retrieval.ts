/**
 * MindEye's retrieval: embeddings flattened and L2-normalised, cosine similarity within random batches of
 * `batchSize` items drawn without replacement, top-1 accuracy per batch, value = mean over `batches` batches.
 * - forward (brain → image): prediction i hits when its own truth is more similar than every other truth in the batch;
 * - backward (image → brain): truth i hits when its own prediction is more similar than every other prediction.
 * A hit must be strictly more similar (ties fail, as in two-way identification).
 * Per item: the hit rate over the batches the item was drawn in. Items that no batch drew (likely when there are
 * many more items than batchSize × batches) are scored in extra batches, filled up with random other items, that
 * count for their per-item value only, never for the value. An item whose prediction or truth is all zeros has no
 * direction: its own hit is NaN (it still competes, with similarity 0, like torch's F.normalize makes it).
 */
import type { Metric, MetricInput, MetricResult } from '../../core/contracts.js';
import type { Linalg } from '../../core/compute/linalg.js';
import { Rng } from '../../core/rng.js';
import { takeRows, type Matrix } from '../../core/tensor.js';
import { meanOf } from '../common/aggregate.js';
import { pairedRows } from '../common/input.js';
import type { RetrievalOptions } from './schema.js';

export type RetrievalDirection = 'forward' | 'backward';

export class RetrievalMetric implements Metric {
  readonly appliesTo = ['latent', 'image'] as const;
  readonly direction = 'higher' as const;
  private readonly id: string;

  constructor(
    private readonly retrievalDirection: RetrievalDirection,
    private readonly options: RetrievalOptions,
    private readonly linalg: Linalg,
  ) {
    this.id = `retrieval-${retrievalDirection}`;
  }

  async compute(input: MetricInput, context: { seed: number }): Promise<MetricResult> {
    const { pred, truth } = pairedRows(input, this.id, 2);
    const p = normalizedRows(pred);
    const t = normalizedRows(truth);
    const degenerate = p.zero.map((zero, i) => zero || t.zero[i]!);
    const n = pred.rows;
    const { batchSize, batches } = this.options;
    const note = `${Math.min(n, batchSize)}-way`; // chance is 1 in this many: the table must say which

    const scorer = await this.batchScorer(p.unit, t.unit, degenerate, n * n <= batches * batchSize * batchSize);
    if (n <= batchSize) {
      // One batch of every item: every random batch would be this one.
      const all = Int32Array.from({ length: n }, (_, i) => i);
      const hits = await scorer(all);
      return { value: meanOf(hits), perItem: hits, note };
    }

    const rng = new Rng(context.seed);
    const hitSum = new Float64Array(n);
    const drawn = new Int32Array(n);
    const accuracies = new Float64Array(batches);
    for (let b = 0; b < batches; b++) {
      const members = rng.permutation(n).subarray(0, batchSize);
      const hits = await scorer(members);
      accuracies[b] = meanOf(hits);
      members.forEach((item, k) => {
        hitSum[item]! += hits[k]!;
        drawn[item]!++;
      });
    }
    await this.scoreUndrawn(scorer, rng, hitSum, drawn);
    const perItem = hitSum.map((sum, i) => sum / drawn[i]!);
    return { value: meanOf(accuracies), perItem, note };
  }

  /** Extra batches for the items no random batch drew: each holds up to batchSize of them, filled with others. */
  private async scoreUndrawn(scorer: BatchScorer, rng: Rng, hitSum: Float64Array, drawn: Int32Array): Promise<void> {
    const undrawn: number[] = [];
    for (let i = 0; i < drawn.length; i++) if (drawn[i] === 0) undrawn.push(i);
    const { batchSize } = this.options;
    for (let start = 0; start < undrawn.length; start += batchSize) {
      const targets = undrawn.slice(start, start + batchSize);
      const inBatch = new Set(targets);
      for (const item of rng.permutation(drawn.length)) {
        if (inBatch.size === batchSize) break;
        inBatch.add(item);
      }
      const members = Int32Array.from(inBatch);
      const hits = await scorer(members);
      for (let k = 0; k < targets.length; k++) {
        hitSum[members[k]!]! += hits[k]!;
        drawn[members[k]!]!++;
      }
    }
  }

  /**
   * A function scoring one batch: hit (1/0, NaN when degenerate) per member. With `precomputeAll` the n×n
   * similarity matrix is computed once (cheaper when batches would cover it many times over), else per batch.
   */
  private async batchScorer(
    p: Matrix,
    t: Matrix,
    degenerate: boolean[],
    precomputeAll: boolean,
  ): Promise<BatchScorer> {
    const forward = this.retrievalDirection === 'forward';
    if (precomputeAll) {
      const all = await this.linalg.matmul(p, t, { transB: true });
      return async (members) => topOneHits(all.data, all.cols, members, members, degenerate, forward);
    }
    return async (members) => {
      const sim = await this.linalg.matmul(takeRows(p, members), takeRows(t, members), { transB: true });
      const local = Int32Array.from({ length: members.length }, (_, k) => k);
      return topOneHits(sim.data, sim.cols, local, members, degenerate, forward);
    };
  }
}

type BatchScorer = (members: Int32Array) => Promise<Float64Array>;

/**
 * Top-1 hits within a batch. `sim[a·stride + b]` = pred_a · truth_b at the matrix indices `at` of the batch's
 * members; `members` are their item indices (for `degenerate`). Forward scans a row, backward a column.
 */
function topOneHits(
  sim: Float32Array,
  stride: number,
  at: Int32Array,
  members: Int32Array,
  degenerate: boolean[],
  forward: boolean,
): Float64Array {
  const hits = new Float64Array(at.length);
  for (let k = 0; k < at.length; k++) {
    if (degenerate[members[k]!]) {
      hits[k] = Number.NaN;
      continue;
    }
    const self = at[k]!;
    const own = sim[self * stride + self]!;
    let hit = 1;
    for (let m = 0; m < at.length && hit === 1; m++) {
      if (m === k) continue;
      const other = forward ? sim[self * stride + at[m]!]! : sim[at[m]! * stride + self]!;
      if (other >= own) hit = 0;
    }
    hits[k] = hit;
  }
  return hits;
}

/** Rows scaled to unit Euclidean length (float64 norm); an all-zero row stays zero and is flagged. */
function normalizedRows(m: Matrix): { unit: Matrix; zero: boolean[] } {
  const data = new Float32Array(m.rows * m.cols);
  const zero: boolean[] = [];
  for (let i = 0; i < m.rows; i++) {
    const offset = i * m.cols;
    let squares = 0;
    for (let k = 0; k < m.cols; k++) squares += m.data[offset + k]! ** 2;
    zero.push(squares === 0);
    const scale = squares > 0 ? 1 / Math.sqrt(squares) : 0;
    for (let k = 0; k < m.cols; k++) data[offset + k] = m.data[offset + k]! * scale;
  }
  return { unit: { rows: m.rows, cols: m.cols, data }, zero };
}
