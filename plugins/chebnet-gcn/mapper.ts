/**
 * The `chebnet-gcn` mapper: builds the ROI graph from the raw training rows and the atlas (FitContext.atlas), then
 * trains the network with the shared neural core (z-scoring, validation split, Adam, early stopping, save/load).
 * The graph is part of the fitted model: `graph.json` (graphology serialisation, read back on load) plus
 * `graph.gexf` and `graph.graphml` for inspection.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FittedMapper, Mapper, MapperFactory, Options } from '../../core/contracts.js';
import { UserError } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/io/atomic.js';
import type { PluginServices } from '../../core/services.js';
import { neuralMapperFactory, type NeuralSpec } from '../../core/training/neural-mapper.js';
import { toGexf, toGraphml } from './export.js';
import { buildRoiGraph, deserializeGraph, edgeList, graphNodes, serializeGraph, type RoiGraph } from './graph.js';
import { scaledLaplacian, type ChebyshevOperator } from './laplacian.js';
import { ChebnetGcn } from './model.js';
import { CHEBNET_TRAINING_DEFAULTS, type ChebnetOptions } from './schema.js';

export const CHEBNET_ID = 'chebnet-gcn';
export const GRAPH_FILES = { json: 'graph.json', gexf: 'graph.gexf', graphml: 'graph.graphml' } as const;

export async function writeGraphFiles(dir: string, graph: RoiGraph): Promise<void> {
  await writeFileAtomic(join(dir, GRAPH_FILES.json), `${JSON.stringify(serializeGraph(graph))}\n`);
  await writeFileAtomic(join(dir, GRAPH_FILES.gexf), toGexf(graph));
  await writeFileAtomic(join(dir, GRAPH_FILES.graphml), toGraphml(graph));
}

export async function readGraphFile(dir: string): Promise<RoiGraph> {
  const path = join(dir, GRAPH_FILES.json);
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new UserError(`cannot read the fitted graph (${(error as Error).message})`, path);
  }
  return deserializeGraph(data, path);
}

/** Facts reported with the fitted mapper: nodes with voxel counts, edges with r, λmax. */
function graphSummary(graph: RoiGraph, op: ChebyshevOperator): Record<string, unknown> {
  return {
    nodes: graphNodes(graph).map((n) => `${n.key} (${n.voxels.length} voxels)`),
    edges: graph.mapEdges((_k, a, s, t) => `${s}${graph.type === 'directed' ? '→' : '–'}${t} r=${a.weight.toFixed(3)}`),
    lambdaMax: op.lambdaMax,
  };
}

/** The network spec; `graph` is given at fit time, read from the model folder at load time. */
export function chebnetSpec(graph?: RoiGraph): NeuralSpec<ChebnetOptions> {
  return {
    id: CHEBNET_ID,
    defaults: CHEBNET_TRAINING_DEFAULTS,
    async build(store, shapes, options, context) {
      const g = context.savedDir !== undefined ? await readGraphFile(context.savedDir) : graph;
      if (!g) throw new Error('internal: chebnet-gcn built without a graph');
      const nodes = graphNodes(g);
      const outside = nodes.find((n) => n.voxels.some((v) => !(v >= 0 && v < shapes.inputs)));
      if (outside) {
        throw new UserError(`graph node '${outside.key}' names voxel columns beyond the ${shapes.inputs} inputs of the model`, `mapper '${CHEBNET_ID}'`);
      }
      const op = scaledLaplacian(nodes.length, edgeList(g), options.lambdaMax);
      const net = new ChebnetGcn(store, { scaled: op.scaled, nodeVoxels: nodes.map((n) => n.voxels) }, shapes.inputs, shapes.outputs, options);
      return {
        forward: (x, ctx) => net.forward(x, ctx),
        inputProjection: net.inputProjection(),
        save: (dir) => writeGraphFiles(dir, g),
        summary: { graph: graphSummary(g, op) },
      };
    },
  };
}

export const chebnetFactory: MapperFactory = {
  create(options: Options, services: PluginServices): Mapper {
    const o = options as unknown as ChebnetOptions;
    return {
      async fit(X, Y, context): Promise<FittedMapper> {
        // The graph comes from the raw training rows (Pearson r is unchanged by the z-scoring of their code).
        const graph = buildRoiGraph(X, context.atlas, o);
        // Fails fast (before z-scoring and training) on a graph whose normalisation is undefined.
        scaledLaplacian(graph.order, edgeList(graph), o.lambdaMax);
        const mapper = await neuralMapperFactory(chebnetSpec(graph)).create(options, services);
        return mapper.fit(X, Y, context);
      },
    };
  },
  load: (dir, services) => neuralMapperFactory(chebnetSpec()).load(dir, services),
};
