/**
 * The chebnet-gcn ROI graph: construction against numpy (test/fixtures/chebnet/reference.json, made by
 * make_fixture.py), PyTorch Geometric's scaled Laplacian, bad input, and the GEXF / GraphML exports.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isUserError } from '../../core/errors.js';
import type { Matrix } from '../../core/tensor.js';
import { toGexf, toGraphml } from '../../plugins/chebnet-gcn/export.js';
import {
  buildRoiGraph,
  deserializeGraph,
  edgeList,
  graphNodes,
  serializeGraph,
  type GraphOptions,
} from '../../plugins/chebnet-gcn/graph.js';
import { chebyshevPolynomials, scaledLaplacian } from '../../plugins/chebnet-gcn/laplacian.js';

interface Reference {
  graph: {
    X: number[][];
    atlas: Record<string, number[]>;
    nodes: string[][];
    threshold: number;
    correlation: number[][];
    bottomUp: Array<[number, number, number]>;
    undirected: Array<[number, number, number]>;
  };
  chebconv: Array<{ name: string; nodes: number; edges: Array<[number, number, number]>; scaledLaplacian: number[][]; lambdaMax: number }>;
}

const reference = JSON.parse(readFileSync(new URL('../fixtures/chebnet/reference.json', import.meta.url), 'utf8')) as Reference;
const g = reference.graph;
const X: Matrix = { rows: g.X.length, cols: g.X[0]!.length, data: Float32Array.from(g.X.flat()) };
const atlas = Object.fromEntries(Object.entries(g.atlas).map(([k, v]) => [k, Int32Array.from(v)]));
const options = (o: Partial<GraphOptions> = {}): GraphOptions => ({
  nodes: g.nodes,
  threshold: g.threshold,
  direction: 'bottom-up',
  emptyGraph: 'error',
  edgeWeight: 'r',
  ...o,
});

function userErrorOf(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    expect(isUserError(error), String(error)).toBe(true);
    return error as Error;
  }
  throw new Error('expected a UserError');
}

describe('chebnet-gcn graph', () => {
  it('correlates node mean activity as numpy does and keeps |r| > threshold in the upper triangle (bottom-up)', () => {
    const graph = buildRoiGraph(X, atlas, options());
    const corr = graph.getAttribute('correlation');
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(corr[i]![j]!).toBeCloseTo(g.correlation[i]![j]!, 6);
    expect(graph.type).toBe('directed');
    expect(graphNodes(graph).map((n) => n.key)).toEqual(['A', 'B', 'C+D']);
    expect(graphNodes(graph)[2]!.voxels).toEqual([5, 6, 7, 8, 9]);
    const edges = edgeList(graph);
    expect(edges.map((e) => [e.source, e.target])).toEqual(g.bottomUp.map(([s, t]) => [s, t]));
    edges.forEach((e, i) => expect(e.weight).toBeCloseTo(g.bottomUp[i]![2], 6));
  });

  it('undirected: every kept pair in both directions, as the nonzeros of the symmetric matrix', () => {
    const graph = buildRoiGraph(X, atlas, options({ direction: 'undirected' }));
    expect(graph.type).toBe('undirected');
    expect(edgeList(graph).map((e) => [e.source, e.target])).toEqual(g.undirected.map(([s, t]) => [s, t]));
  });

  it('edgeWeight abs keeps |r|; a higher threshold drops the weaker edges', () => {
    const abs = edgeList(buildRoiGraph(X, atlas, options({ edgeWeight: 'abs' })));
    expect(abs.every((e) => e.weight > 0)).toBe(true);
    const strong = edgeList(buildRoiGraph(X, atlas, options({ threshold: 0.7 })));
    expect(strong.map((e) => [e.source, e.target])).toEqual([[0, 1], [0, 2]]);
  });

  it('refuses an unknown ROI, listing the atlas, and a graph without edges, naming the correlation range', () => {
    const unknown = userErrorOf(() => buildRoiGraph(X, atlas, options({ nodes: [['A'], ['V9']] })));
    expect(unknown.message).toMatch(/ROI 'V9' is not in the dataset's atlas \(it has A, B, C, D\)/);
    const empty = userErrorOf(() => buildRoiGraph(X, atlas, options({ threshold: 0.99 })));
    expect(empty.message).toMatch(/no edge has \|r\| > 0.99 .*off-diagonal r ranged from -0.711 to 0.717.*'emptyGraph'/);
    const allowed = buildRoiGraph(X, atlas, options({ threshold: 0.99, emptyGraph: 'allow' }));
    expect(allowed.size).toBe(0);
    expect(userErrorOf(() => buildRoiGraph(X, undefined, options())).message).toMatch(/needs the dataset ROI atlas/);
    expect(userErrorOf(() => buildRoiGraph(X, { ...atlas, E: new Int32Array(0) }, options({ nodes: [['A'], ['E']] }))).message).toMatch(
      /node 'E' has no usable voxel/,
    );
  });

  it('serialises with graphology and reads back the same graph', () => {
    const graph = buildRoiGraph(X, atlas, options());
    const back = deserializeGraph(JSON.parse(JSON.stringify(serializeGraph(graph))), 'graph.json');
    expect(back.type).toBe('directed');
    expect(edgeList(back)).toEqual(edgeList(graph));
    expect(graphNodes(back)).toEqual(graphNodes(graph));
  });
});

describe('chebnet-gcn scaled Laplacian', () => {
  it('equals PyTorch Geometric ChebConv.__norm__ (sym, out-degree, λmax = 2·max entry) on both fixture graphs', () => {
    for (const c of reference.chebconv) {
      const op = scaledLaplacian(c.nodes, c.edges.map(([source, target, weight]) => ({ source, target, weight })));
      expect(op.lambdaMax).toBeCloseTo(c.lambdaMax, 5);
      for (let i = 0; i < c.nodes; i++) {
        for (let j = 0; j < c.nodes; j++) expect(op.scaled[i * c.nodes + j]!).toBeCloseTo(c.scaledLaplacian[i]![j]!, 5);
      }
    }
  });

  it('hand-computed: undirected pair with weight w gives L̃ = [[0, −1], [−1, 0]] for λmax 2, and the polynomials follow', () => {
    const op = scaledLaplacian(2, [{ source: 0, target: 1, weight: 0.25 }, { source: 1, target: 0, weight: 0.25 }]);
    expect(Array.from(op.scaled)).toEqual([0, -1, -1, 0]);
    // T2 = 2·L̃² − I = I (L̃² = I), T3 = 2·L̃·T2 − T1 = L̃.
    const [t0, t1, t2, t3] = chebyshevPolynomials(op, 4);
    expect(Array.from(t0!)).toEqual([1, 0, 0, 1]);
    expect(Array.from(t1!)).toEqual([0, -1, -1, 0]);
    expect(Array.from(t2!)).toEqual([1, 0, 0, 1]);
    expect(Array.from(t3!)).toEqual([0, -1, -1, 0]);
    // With a fixed λmax = 4: L = [[1, −1], [−1, 1]], L̃ = L/2 − I.
    expect(Array.from(scaledLaplacian(2, [{ source: 0, target: 1, weight: 1 }, { source: 1, target: 0, weight: 1 }], 4).scaled)).toEqual([-0.5, -0.5, -0.5, -0.5]);
  });

  it('a node with negative weighted degree is a UserError suggesting edgeWeight abs', () => {
    const error = userErrorOf(() => scaledLaplacian(2, [{ source: 0, target: 1, weight: -0.7 }]));
    expect(error.message).toMatch(/node 0 has a negative weighted degree .*'edgeWeight': "abs"/);
  });
});

// ───────────── a minimal XML reader: well-formedness (nesting, quoting, entities) and a tree to inspect ─────────────
interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

function unescape(value: string): string {
  if (/&(?!(lt|gt|amp|quot|apos|#\d+);)/.test(value)) throw new Error(`unescaped & in ${value}`);
  return value.replace(/&(lt|gt|amp|quot|apos);/g, (_, e: string) => ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" })[e]!);
}

function parseXml(source: string): XmlElement {
  const token = /<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<\/([\w:.-]+)\s*>|<([\w:.-]+)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/y;
  const root: XmlElement = { name: '#document', attributes: {}, children: [], text: '' };
  const stack = [root];
  let position = 0;
  while (position < source.length) {
    token.lastIndex = position;
    const m = token.exec(source);
    if (!m) throw new Error(`malformed XML at ${position}: ${source.slice(position, position + 40)}`);
    position = token.lastIndex;
    const [, close, open, attrs, selfClosing, text] = m;
    const top = stack[stack.length - 1]!;
    if (close) {
      if (top.name !== close) throw new Error(`</${close}> closes <${top.name}>`);
      stack.pop();
    } else if (open) {
      const attributes: Record<string, string> = {};
      for (const a of (attrs ?? '').matchAll(/([\w:.-]+)="([^"]*)"/g)) attributes[a[1]!] = unescape(a[2]!);
      const element = { name: open, attributes, children: [], text: '' };
      top.children.push(element);
      if (!selfClosing) stack.push(element);
    } else if (text !== undefined) {
      if (top === root && text.trim() !== '') throw new Error('text outside the root element');
      top.text += unescape(text);
    }
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (root.children.length !== 1) throw new Error('expected one root element');
  return root.children[0]!;
}

function find(element: XmlElement, name: string): XmlElement[] {
  return element.children.flatMap((c) => (c.name === name ? [c, ...find(c, name)] : find(c, name)));
}

describe('chebnet-gcn graph export', () => {
  const graph = buildRoiGraph(X, atlas, options({ edgeWeight: 'abs' }));

  it('GEXF: well-formed, directed, one node per ROI group with voxel counts, one edge per kept pair with its weight', () => {
    const gexf = parseXml(toGexf(graph));
    expect(gexf.name).toBe('gexf');
    expect(find(gexf, 'graph')[0]!.attributes.defaultedgetype).toBe('directed');
    const nodes = find(gexf, 'node');
    expect(nodes.map((n) => n.attributes.id)).toEqual(['A', 'B', 'C+D']);
    expect(find(nodes[2]!, 'attvalue').map((a) => a.attributes.value)).toEqual(['C,D', '5']);
    const edges = find(gexf, 'edge');
    expect(edges.map((e) => [e.attributes.source, e.attributes.target])).toEqual([['A', 'B'], ['A', 'C+D'], ['B', 'C+D']]);
    edges.forEach((e, i) => expect(Number(e.attributes.weight)).toBeCloseTo(Math.abs(g.bottomUp[i]![2]), 12));
  });

  it('GraphML: well-formed, with keys and weights as data; undirected graphs say so', () => {
    const graphml = parseXml(toGraphml(graph));
    expect(graphml.name).toBe('graphml');
    expect(find(graphml, 'key').map((k) => k.attributes.id)).toEqual(['rois', 'voxels', 'weight']);
    expect(find(graphml, 'node').map((n) => n.attributes.id)).toEqual(['A', 'B', 'C+D']);
    const weights = find(graphml, 'edge').map((e) => Number(find(e, 'data')[0]!.text));
    weights.forEach((w, i) => expect(w).toBeCloseTo(Math.abs(g.bottomUp[i]![2]), 12));
    const undirected = parseXml(toGraphml(buildRoiGraph(X, atlas, options({ direction: 'undirected' }))));
    expect(find(undirected, 'graph')[0]!.attributes.edgedefault).toBe('undirected');
    expect(find(undirected, 'edge')).toHaveLength(3);
  });

  it('escapes ROI names that are not XML-safe', () => {
    const odd = { 'a<b': Int32Array.from([0, 1, 2]), 'c&d': Int32Array.from([3, 4]) };
    const twoNodes = buildRoiGraph(X, odd, options({ nodes: [['a<b'], ['c&d']] }));
    expect(find(parseXml(toGexf(twoNodes)), 'node').map((n) => n.attributes.id)).toEqual(['a<b', 'c&d']);
    expect(find(parseXml(toGraphml(twoNodes)), 'node').map((n) => n.attributes.id)).toEqual(['a<b', 'c&d']);
  });
});
