/**
 * The scaled normalised Laplacian L̃ = 2L/λmax − I that ChebConv propagates with, as a dense N × N matrix acting on
 * node features (out = L̃ · x, row = receiving node), computed exactly as PyTorch Geometric's `ChebConv` with
 * normalization 'sym' does from an edge list:
 *
 * - self-loops are dropped; deg(n) = Σ weights of edges LEAVING n (`scatter_add(w, row)`: out-degree for a
 *   directed graph, the usual degree for an undirected one, whose edges come in both directions);
 * - D^-1/2 with 1/√0 → 0 (a node without outgoing edges), so an edge into such a node vanishes;
 * - L = I − D^-1/2 A D^-1/2 as an edge list (−a_e on each edge, 1 on each node);
 * - λmax = 2 · max(entries of that list) unless given (PyG's default when none is passed: 2.0 whenever the weights
 *   are non-negative, since the diagonal 1 is then the largest entry);
 * - L̃ = 2L/λmax, then −1 added on the diagonal; messages flow source → target, so L̃[target][source] += weight.
 *
 * A negative degree (possible only with negative correlations) would be NaN in PyG: here it is a UserError.
 */
import { UserError } from '../../core/errors.js';

export interface WeightedEdge {
  source: number;
  target: number;
  weight: number;
}

export interface ChebyshevOperator {
  nodes: number;
  /** Row-major N × N scaled Laplacian L̃. */
  scaled: Float64Array;
  lambdaMax: number;
}

export function scaledLaplacian(nodes: number, edges: readonly WeightedEdge[], lambdaMax?: number): ChebyshevOperator {
  const kept = edges.filter((e) => e.source !== e.target);
  const degree = new Float64Array(nodes);
  for (const e of kept) degree[e.source]! += e.weight;
  const inverseSqrt = degree.map((d, n) => {
    if (d < 0) {
      throw new UserError(
        `node ${n} has a negative weighted degree (${d.toFixed(3)}) from negative correlations, which makes the ` +
          "symmetric normalisation undefined; raise 'threshold' or use 'edgeWeight': \"abs\"",
        "mapper 'chebnet-gcn'",
      );
    }
    return d === 0 ? 0 : 1 / Math.sqrt(d);
  });
  const laplacianEdges = kept.map((e) => ({ ...e, value: -inverseSqrt[e.source]! * e.weight * inverseSqrt[e.target]! }));
  const lambda = lambdaMax ?? 2 * Math.max(1, ...laplacianEdges.map((e) => e.value));
  if (!(lambda > 0)) throw new UserError(`lambdaMax must be positive, got ${lambda}`, "mapper 'chebnet-gcn'");
  const scaled = new Float64Array(nodes * nodes);
  for (const e of laplacianEdges) scaled[e.target * nodes + e.source]! += (2 * e.value) / lambda;
  for (let n = 0; n < nodes; n++) scaled[n * nodes + n]! += 2 / lambda - 1;
  return { nodes, scaled, lambdaMax: lambda };
}

/**
 * T_k(L̃) for k < K as dense matrices, by T0 = I, T1 = L̃, Tk = 2 L̃ T(k−1) − T(k−2): the first layer's Chebyshev
 * terms T_k(L̃)·X for the ONNX Runtime engine (chebyshevTerms); the layer applies the same recursion to features.
 */
export function chebyshevPolynomials(op: Pick<ChebyshevOperator, 'nodes' | 'scaled'>, K: number): Float64Array[] {
  const n = op.nodes;
  const identity = new Float64Array(n * n);
  for (let i = 0; i < n; i++) identity[i * n + i] = 1;
  const out: Float64Array[] = [identity];
  if (K > 1) out.push(Float64Array.from(op.scaled));
  for (let k = 2; k < K; k++) {
    const prev = out[k - 1]!;
    const prev2 = out[k - 2]!;
    const next = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let m = 0; m < n; m++) s += op.scaled[i * n + m]! * prev[m * n + j]!;
        next[i * n + j] = 2 * s - prev2[i * n + j]!;
      }
    }
    out.push(next);
  }
  return out;
}
