/**
 * The exported Lafite generator (generators/lafite/export.py, graph `generator`): z, image_embedding,
 * text_embedding, truncation_psi → image [n, 3, H, W] in about [−1, 1]. Names, widths and ψ's form (a scalar or
 * [1]) are read from the session, never assumed; Mind Reader conditions on two CLIP ViT-B/32 embeddings, so both
 * conditioning inputs must be 512 wide.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { UserError } from '../../core/errors.js';
import type { ModelFolder } from '../../core/models/folder.js';
import type { ModelStore } from '../../core/models/store.js';
import { CLIP_WIDTH } from './schema.js';

type TensorMetadata = Extract<InferenceSession['inputMetadata'][number], { isTensor: true }>;

export const GENERATOR_INPUTS = ['z', 'image_embedding', 'text_embedding', 'truncation_psi'] as const;

export interface LafiteGraph {
  /** Width of z (512 in Lafite). */
  readonly zDim: number;
  readonly description: string;
  /** n rows of z, image and text embeddings (row-major) at truncation ψ → images [n, 3, H, W]. */
  run(z: Float32Array, image: Float32Array, text: Float32Array, n: number, psi: number): Promise<{ data: Float32Array; shape: [number, number, number, number] }>;
}

const describe = (list: readonly TensorMetadata[]) => list.map((m) => `${m.name} ${m.type} [${m.shape.join(', ')}]`).join(', ') || 'none';

export async function openLafiteGraph(models: ModelStore, folder: ModelFolder): Promise<LafiteGraph> {
  const ort = await import('onnxruntime-node');
  const graph = folder.graphs.generator;
  if (!graph) throw new UserError(`the folder has no graph 'generator' (it has ${Object.keys(folder.graphs).join(', ') || 'none'})`, folder.dir);
  const session = await models.session(graph);
  const file = graph.file;
  const inputs = session.inputMetadata.filter((m): m is TensorMetadata => m.isTensor);
  const byName = new Map(inputs.map((m) => [m.name, m]));
  const missing = GENERATOR_INPUTS.filter((name) => !byName.has(name));
  if (missing.length > 0 || inputs.length !== GENERATOR_INPUTS.length) {
    throw new UserError(`expected the inputs ${GENERATOR_INPUTS.join(', ')}; the graph has ${describe(inputs)}`, file);
  }
  for (const m of inputs) if (m.type !== 'float32') throw new UserError(`'${m.name}' must be float32, found ${m.type}`, file);
  const width = (name: string): number => {
    const m = byName.get(name)!;
    const last = m.shape[m.shape.length - 1];
    if (m.shape.length !== 2 || typeof last !== 'number') throw new UserError(`'${name}' must be [batch, width] with a fixed width, found [${m.shape.join(', ')}]`, file);
    return last;
  };
  const zDim = width('z');
  for (const name of ['image_embedding', 'text_embedding']) {
    const w = width(name);
    if (w !== CLIP_WIDTH) {
      throw new UserError(
        `the conditioning input '${name}' is ${w} wide; Mind Reader's generator is conditioned on CLIP ViT-B/32 embeddings (${CLIP_WIDTH}), ` +
          'which are the targets this plugin predicts: export a Mind Reader (structure 4) checkpoint with generators/lafite/export.py',
        file,
      );
    }
  }
  const psi = byName.get('truncation_psi')!;
  if (!(psi.shape.length === 0 || (psi.shape.length === 1 && (psi.shape[0] === 1 || typeof psi.shape[0] === 'string')))) {
    throw new UserError(`'truncation_psi' must be a scalar or [1], found [${psi.shape.join(', ')}]`, file);
  }
  const outputs = session.outputMetadata.filter((m): m is TensorMetadata => m.isTensor);
  const image = outputs.find((m) => m.name === 'image') ?? (outputs.length === 1 ? outputs[0] : undefined);
  if (!image) throw new UserError(`expected an output 'image'; the graph has ${describe(outputs)}`, file);

  return {
    zDim,
    description: `generator ${file}: z ${zDim}, conditioning 2 × ${CLIP_WIDTH}, ψ ${psi.shape.length === 0 ? 'scalar' : '[1]'} → ${image.name} [${image.shape.join(', ')}]`,
    async run(z, imageEmbedding, textEmbedding, n, truncation) {
      const feeds: Record<string, Tensor> = {
        z: new ort.Tensor('float32', z, [n, zDim]),
        image_embedding: new ort.Tensor('float32', imageEmbedding, [n, CLIP_WIDTH]),
        text_embedding: new ort.Tensor('float32', textEmbedding, [n, CLIP_WIDTH]),
        truncation_psi: new ort.Tensor('float32', Float32Array.of(truncation), psi.shape.length === 0 ? [] : [1]),
      };
      const out = (await session.run(feeds, [image.name]))[image.name]!;
      const dims = out.dims as number[];
      if (out.type !== 'float32' || dims.length !== 4 || dims[0] !== n || dims[1] !== 3) {
        throw new UserError(`'${image.name}' came out ${out.type} [${dims.join(', ')}]; expected float32 [${n}, 3, H, W]`, file);
      }
      return { data: out.data as Float32Array, shape: dims as [number, number, number, number] };
    },
  };
}
