/**
 * The ROI graph of seed 001 §2.5.3: nodes are groups of atlas ROIs, edges the functional connectivity between
 * them on the TRAINING trials — Pearson r of each node's mean activity per trial, diagonal removed, kept where
 * |r| > threshold, weight r; "bottom-up" keeps only i → j with i < j (their upper-triangle mask).
 * The graph is a graphology object (serialised with the fitted model) and everything else is derived from it.
 */
// Named classes: graphology is CommonJS, whose default export TypeScript (NodeNext) types as the module itself.
import { DirectedGraph, UndirectedGraph } from 'graphology';
import type { AbstractGraph, SerializedGraph } from 'graphology-types';
import { UserError } from '../../core/errors.js';
import type { Matrix } from '../../core/tensor.js';

export type GraphDirection = 'bottom-up' | 'undirected';

export interface GraphOptions {
  /** Each node is a list of atlas ROI names whose voxels are concatenated in this order. */
  nodes: string[][];
  threshold: number;
  direction: GraphDirection;
  /** `error`: a graph without edges is a UserError; `allow`: keep it (ChebConv then sees isolated nodes). */
  emptyGraph: 'error' | 'allow';
  /** Edge weight: `r` (their code) or `abs` = |r| (keeps the symmetric normalisation defined with negative r). */
  edgeWeight: 'r' | 'abs';
}

export interface RoiNodeAttributes {
  [key: string]: unknown;
  /** Position of the node in the feature tensor (insertion order). */
  index: number;
  rois: string[];
  /** Column indices into the mapper's X, in feature order. */
  voxels: number[];
}

export interface RoiEdgeAttributes {
  [key: string]: unknown;
  /** Pearson r between the two nodes' mean activity on the training trials. */
  weight: number;
}

export interface RoiGraphAttributes {
  [key: string]: unknown;
  direction: GraphDirection;
  threshold: number;
  /** Full node × node Pearson matrix (diagonal 0), kept for inspection. */
  correlation: number[][];
  trainTrials: number;
}

export type RoiGraph = AbstractGraph<RoiNodeAttributes, RoiEdgeAttributes, RoiGraphAttributes>;

const WHERE = "mapper 'chebnet-gcn' option 'nodes'";

/** Node key as shown in exports: the ROI names joined by '+', e.g. `V3+hV4`. */
export function nodeKey(rois: string[]): string {
  return rois.join('+');
}

/** Resolves ROI groups to voxel columns; an unknown or empty ROI is a UserError listing what the atlas has. */
export function resolveNodes(nodes: string[][], atlas: Record<string, Int32Array> | undefined): Array<{ rois: string[]; voxels: number[] }> {
  if (!atlas) {
    throw new UserError('needs the dataset ROI atlas at fit time, and none was given (FitContext.atlas)', "mapper 'chebnet-gcn'");
  }
  const known = Object.keys(atlas);
  const keys = new Set<string>();
  return nodes.map((rois, i) => {
    if (rois.length === 0) throw new UserError(`node ${i} lists no ROI`, WHERE);
    const key = nodeKey(rois);
    if (keys.has(key)) throw new UserError(`node '${key}' is listed twice`, WHERE);
    keys.add(key);
    const seen = new Set<number>();
    const voxels: number[] = [];
    for (const roi of rois) {
      const indices = atlas[roi];
      if (!indices) {
        throw new UserError(`ROI '${roi}' is not in the dataset's atlas (it has ${known.length > 0 ? known.join(', ') : 'no ROI'})`, WHERE);
      }
      // A voxel listed by two ROIs of one node is one feature, kept at its first position.
      for (const v of indices) {
        if (!seen.has(v)) {
          seen.add(v);
          voxels.push(v);
        }
      }
    }
    if (voxels.length === 0) throw new UserError(`node '${key}' has no usable voxel (its ROIs are empty after preprocessing)`, WHERE);
    return { rois, voxels };
  });
}

/** Mean over each node's voxels, per trial: trials × nodes, float64. */
export function nodeMeanActivity(X: Matrix, nodes: ReadonlyArray<{ voxels: ArrayLike<number> }>): Float64Array {
  const out = new Float64Array(X.rows * nodes.length);
  for (let t = 0; t < X.rows; t++) {
    const base = t * X.cols;
    nodes.forEach((node, n) => {
      let s = 0;
      for (let i = 0; i < node.voxels.length; i++) s += X.data[base + node.voxels[i]!]!;
      out[t * nodes.length + n] = s / node.voxels.length;
    });
  }
  return out;
}

/**
 * Pearson correlation between the columns of a rows × cols matrix; the diagonal is set to 0 (no self-loops). A
 * constant column correlates with nothing: its r is NaN, reported as such and never an edge.
 */
export function pearsonMatrix(values: Float64Array, rows: number, cols: number): number[][] {
  const mean = new Float64Array(cols);
  for (let t = 0; t < rows; t++) for (let c = 0; c < cols; c++) mean[c]! += values[t * cols + c]!;
  for (let c = 0; c < cols; c++) mean[c] = mean[c]! / rows;
  const cov = Array.from({ length: cols }, () => new Float64Array(cols));
  for (let t = 0; t < rows; t++) {
    for (let a = 0; a < cols; a++) {
      const da = values[t * cols + a]! - mean[a]!;
      for (let b = a; b < cols; b++) cov[a]![b]! += da * (values[t * cols + b]! - mean[b]!);
    }
  }
  return Array.from({ length: cols }, (_, a) =>
    Array.from({ length: cols }, (_, b) => {
      if (a === b) return 0;
      const [i, j] = a < b ? [a, b] : [b, a];
      const denominator = Math.sqrt(cov[i]![i]! * cov[j]![j]!);
      return denominator > 0 ? cov[i]![j]! / denominator : NaN;
    }),
  );
}

function correlationRange(correlation: number[][]): string {
  const off = correlation.flatMap((row, i) => row.filter((_, j) => j !== i)).filter(Number.isFinite);
  if (off.length === 0) return 'no finite correlation (constant node activity)';
  return `off-diagonal r ranged from ${Math.min(...off).toFixed(3)} to ${Math.max(...off).toFixed(3)}`;
}

/** Builds the functional-connectivity graph from the training trials. */
export function buildRoiGraph(X: Matrix, atlas: Record<string, Int32Array> | undefined, options: GraphOptions): RoiGraph {
  const nodes = resolveNodes(options.nodes, atlas);
  if (X.rows < 3) throw new UserError(`needs at least 3 training trials to correlate node activity, got ${X.rows}`, "mapper 'chebnet-gcn'");
  const correlation = pearsonMatrix(nodeMeanActivity(X, nodes), X.rows, nodes.length);
  const GraphClass = options.direction === 'bottom-up' ? DirectedGraph : UndirectedGraph;
  const graph: RoiGraph = new GraphClass<RoiNodeAttributes, RoiEdgeAttributes, RoiGraphAttributes>({ multi: false, allowSelfLoops: false });
  graph.replaceAttributes({ direction: options.direction, threshold: options.threshold, correlation, trainTrials: X.rows });
  nodes.forEach((node, index) => graph.addNode(nodeKey(node.rois), { index, rois: node.rois, voxels: node.voxels }));
  const keys = nodes.map((n) => nodeKey(n.rois));
  for (let i = 0; i < nodes.length; i++) {
    // Bottom-up and undirected both visit i < j: the directed edge points from the earlier (lower) node.
    for (let j = i + 1; j < nodes.length; j++) {
      const r = correlation[i]![j]!;
      if (Math.abs(r) > options.threshold) graph.addEdge(keys[i]!, keys[j]!, { weight: options.edgeWeight === 'abs' ? Math.abs(r) : r });
    }
  }
  if (graph.size === 0 && options.emptyGraph === 'error') {
    throw new UserError(
      `no edge has |r| > ${options.threshold} between nodes ${keys.join(', ')} (${correlationRange(correlation)}); ` +
        `lower 'threshold', or set 'emptyGraph' to "allow"`,
      "mapper 'chebnet-gcn'",
    );
  }
  return graph;
}

/** Nodes in feature order. */
export function graphNodes(graph: RoiGraph): Array<{ key: string } & RoiNodeAttributes> {
  return graph
    .mapNodes((key, attributes) => ({ key, ...attributes }))
    .sort((a, b) => a.index - b.index);
}

/**
 * Directed edge list as PyTorch Geometric receives it: an undirected edge becomes both directions (what a
 * symmetric adjacency's nonzeros give, as `np.where(|M| > t)` did in their code), a bottom-up edge one.
 */
export function edgeList(graph: RoiGraph): Array<{ source: number; target: number; weight: number }> {
  const index = (key: string) => graph.getNodeAttribute(key, 'index');
  const edges: Array<{ source: number; target: number; weight: number }> = [];
  graph.forEachEdge((_edge, attributes, source, target, _sa, _ta, undirected) => {
    edges.push({ source: index(source), target: index(target), weight: attributes.weight });
    if (undirected) edges.push({ source: index(target), target: index(source), weight: attributes.weight });
  });
  return edges.sort((a, b) => a.source - b.source || a.target - b.target);
}

/** graph.json content: graphology's own serialisation (attributes included). */
export function serializeGraph(graph: RoiGraph): SerializedGraph<RoiNodeAttributes, RoiEdgeAttributes, RoiGraphAttributes> {
  return graph.export();
}

export function deserializeGraph(data: unknown, where: string): RoiGraph {
  const d = data as SerializedGraph<RoiNodeAttributes, RoiEdgeAttributes, RoiGraphAttributes>;
  if (!d || typeof d !== 'object' || !Array.isArray(d.nodes) || !Array.isArray(d.edges) || !d.options) {
    throw new UserError('graph.json is not a serialised graphology graph (nodes, edges, options expected)', where);
  }
  const GraphClass = d.options.type === 'directed' ? DirectedGraph : UndirectedGraph;
  const graph: RoiGraph = GraphClass.from<RoiNodeAttributes, RoiEdgeAttributes, RoiGraphAttributes>(d);
  for (const node of graphNodes(graph)) {
    if (!Array.isArray(node.voxels) || node.voxels.length === 0) throw new UserError(`graph.json: node '${node.key}' has no voxels`, where);
  }
  return graph;
}
