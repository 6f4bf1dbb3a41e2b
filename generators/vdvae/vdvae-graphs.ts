/**
 * The two graphs of a VDVAE model folder (written by export.py), checked against the architecture its model.json
 * records, and fed as their sessions declare them. The generator reproduces Brain-Diffuser's ImageNet-64 model: a
 * folder exported from another VDVAE (other zdim, image size or decoder blocks) is refused, naming what differs.
 */
import { join } from 'node:path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { checkSignature, type OnnxSignature } from '../../core/compute/onnx.js';
import { UserError } from '../../core/errors.js';
import type { ModelFolder } from '../../core/models/folder.js';
import type { ModelStore } from '../../core/models/store.js';
import { decoderResolutions, formatCount, LatentLayout } from './layout.js';
import { VDVAE_PRODUCE } from './requirement.js';
import { IMAGENET64 } from './schema.js';

/** model.json → preprocessing.vdvae, as export.py writes it. */
export interface VdvaeArchitecture {
  imageSize: number;
  zdim: number;
  width: number;
  numMixtures: number;
  decBlocks: string;
  encBlocks: string;
  /** Decoder blocks whose latents the encoder gives and the decoder accepts (31 for Brain-Diffuser). */
  latentLayers: number;
}

export interface DecodeInput {
  /** [batch, values(latentLayers)]: the given blocks' latents (zeros where not given). */
  latents: Float32Array;
  /** Blocks 0 … givenLayers − 1 take the given latents; the others are sampled from the prior. */
  givenLayers: number;
  /** [batch, values(all blocks)] N(0, 1). */
  priorNoise: Float32Array;
  temperature: number;
  /** [batch, S, S, mixtures] Gumbel and [batch, S, S, 3] logistic samples (images.ts pixelNoise). */
  gumbelNoise: Float32Array;
  logisticNoise: Float32Array;
}

export interface VdvaeGraphs {
  readonly architecture: VdvaeArchitecture;
  readonly layout: LatentLayout;
  readonly description: string;
  /** Normalised NHWC images [batch, S, S, 3] and posterior noise [batch, values(latentLayers)] → latents of the same size. */
  encode(images: Float32Array, noise: Float32Array, batch: number): Promise<Float32Array>;
  /** → images [batch, S, S, 3], (x + 1) · 127.5 before clipping and quantisation. */
  decode(input: DecodeInput, batch: number): Promise<Float32Array>;
}

function field<T>(record: Record<string, unknown>, name: string, kind: 'integer' | 'string', file: string): T {
  const v = record[name];
  const ok = kind === 'integer' ? Number.isInteger(v) && (v as number) > 0 : typeof v === 'string' && v.length > 0;
  if (!ok) throw new UserError(`/preprocessing/vdvae/${name}: expected ${kind === 'integer' ? 'a positive integer' : 'a non-empty string'}, found ${JSON.stringify(v)}`, file);
  return v as T;
}

/** The architecture model.json records (export.py writes it); an error names the file and the field. */
export function readArchitecture(folder: ModelFolder): VdvaeArchitecture {
  const file = join(folder.dir, 'model.json');
  const raw = folder.manifest?.preprocessing?.vdvae;
  if (typeof raw !== 'object' || raw === null) {
    throw new UserError(`has no "preprocessing": { "vdvae": { … } } (the architecture generators/vdvae/export.py records); make the folder with: ${VDVAE_PRODUCE}`, file);
  }
  const r = raw as Record<string, unknown>;
  return {
    imageSize: field(r, 'imageSize', 'integer', file),
    zdim: field(r, 'zdim', 'integer', file),
    width: field(r, 'width', 'integer', file),
    numMixtures: field(r, 'numMixtures', 'integer', file),
    decBlocks: field(r, 'decBlocks', 'string', file),
    encBlocks: field(r, 'encBlocks', 'string', file),
    latentLayers: field(r, 'latentLayers', 'integer', file),
  };
}

/** Refuses a folder exported from another VDVAE than ImageNet-64 (the targets would not be Brain-Diffuser's). */
export function checkImageNet64(arch: VdvaeArchitecture, file: string): void {
  const differences = (['imageSize', 'zdim', 'numMixtures', 'decBlocks'] as const)
    .filter((k) => arch[k] !== IMAGENET64[k])
    .map((k) => `${k} ${JSON.stringify(arch[k])} (ImageNet-64: ${JSON.stringify(IMAGENET64[k])})`);
  if (differences.length > 0) {
    throw new UserError(
      `exported from a different VDVAE: ${differences.join('; ')}. The vdvae generator reproduces Brain-Diffuser's ImageNet-64 model ` +
        `(${IMAGENET64.imageSize}×${IMAGENET64.imageSize} images, zdim ${IMAGENET64.zdim}, dec_blocks ${IMAGENET64.decBlocks}); make the folder with: ${VDVAE_PRODUCE}`,
      file,
    );
  }
}

const spec = (name: string, dims: (number | string)[]) => ({ name, type: 'float32' as const, dims });

/** What each graph must take and give for this architecture (export.py's signature, sizes filled in). */
export function expectedSignatures(arch: VdvaeArchitecture, layout: LatentLayout): { encoder: OnnxSignature; decoder: OnnxSignature } {
  const s = arch.imageSize;
  const given = layout.values(arch.latentLayers);
  return {
    encoder: {
      inputs: [spec('image', ['batch', s, s, 3]), spec('posterior_noise', ['batch', given])],
      outputs: [spec('latents', ['batch', given])],
    },
    decoder: {
      inputs: [
        spec('latents', ['batch', given]),
        spec('given_mask', [arch.latentLayers]),
        spec('prior_noise', ['batch', layout.values(layout.blocks)]),
        spec('temperature', [1]),
        spec('gumbel_noise', ['batch', s, s, arch.numMixtures]),
        spec('logistic_noise', ['batch', s, s, 3]),
      ],
      outputs: [spec('image', ['batch', s, s, 3])],
    },
  };
}

export async function openVdvaeGraphs(models: ModelStore, folder: ModelFolder): Promise<VdvaeGraphs> {
  const manifestFile = join(folder.dir, 'model.json');
  const arch = readArchitecture(folder);
  checkImageNet64(arch, manifestFile);
  const layout = new LatentLayout(decoderResolutions(arch.decBlocks, manifestFile), arch.zdim);
  if (arch.latentLayers > layout.blocks) {
    throw new UserError(`/preprocessing/vdvae/latentLayers is ${arch.latentLayers}, but dec_blocks has ${layout.blocks} blocks`, manifestFile);
  }
  const expected = expectedSignatures(arch, layout);
  const open = async (role: 'encoder' | 'decoder'): Promise<{ session: InferenceSession; file: string }> => {
    const graph = folder.graphs[role];
    if (!graph) throw new UserError(`model.json names no graph '${role}' (it has ${Object.keys(folder.graphs).join(', ') || 'none'}); make the folder with: ${VDVAE_PRODUCE}`, manifestFile);
    const session = await models.session(graph);
    // The sizes the architecture implies, so that a graph of another size is named here, not deep in a run.
    checkSignature(session, graph.file, expected[role]);
    return { session, file: graph.file };
  };
  const encoder = await open('encoder');
  const decoder = await open('decoder');
  const ort = await import('onnxruntime-node');
  const s = arch.imageSize;
  const given = layout.values(arch.latentLayers);
  const all = layout.values(layout.blocks);

  const run = async (graph: { session: InferenceSession; file: string }, feeds: Record<string, Tensor>, output: string, length: number) => {
    const out = (await graph.session.run(feeds, [output]))[output]!;
    if (out.type !== 'float32' || out.data.length !== length) {
      throw new UserError(`'${output}' came out ${out.type} [${out.dims.join(', ')}], expected float32 with ${length} values`, graph.file);
    }
    return out.data as Float32Array;
  };
  const tensor = (data: Float32Array, dims: number[], what: string) => {
    const size = dims.reduce((a, b) => a * b, 1);
    if (data.length !== size) throw new RangeError(`vdvae: ${what} has ${data.length} values, expected [${dims.join(', ')}]`);
    return new ort.Tensor('float32', data, dims);
  };

  return {
    architecture: arch,
    layout,
    description:
      `encoder → latents of ${arch.latentLayers} layers (${formatCount(given)} values); decoder: ${layout.blocks} blocks, ${arch.numMixtures} logistic mixtures, ` +
      `width ${arch.width}, ${s}×${s}`,
    async encode(images, noise, batch) {
      const feeds = { image: tensor(images, [batch, s, s, 3], 'image'), posterior_noise: tensor(noise, [batch, given], 'posterior_noise') };
      return run(encoder, feeds, 'latents', batch * given);
    },
    async decode(input, batch) {
      if (!(Number.isInteger(input.givenLayers) && input.givenLayers >= 0 && input.givenLayers <= arch.latentLayers)) {
        throw new RangeError(`vdvae: givenLayers ${input.givenLayers} is outside 0…${arch.latentLayers}`);
      }
      const mask = new Float32Array(arch.latentLayers).map((_, i) => (i < input.givenLayers ? 1 : 0));
      const feeds = {
        latents: tensor(input.latents, [batch, given], 'latents'),
        given_mask: tensor(mask, [arch.latentLayers], 'given_mask'),
        prior_noise: tensor(input.priorNoise, [batch, all], 'prior_noise'),
        temperature: tensor(Float32Array.of(input.temperature), [1], 'temperature'),
        gumbel_noise: tensor(input.gumbelNoise, [batch, s, s, arch.numMixtures], 'gumbel_noise'),
        logistic_noise: tensor(input.logisticNoise, [batch, s, s, 3], 'logistic_noise'),
      };
      return run(decoder, feeds, 'image', batch * s * s * 3);
    },
  };
}
