/**
 * The five graphs of a Versatile Diffusion export (export.py), fed as each one declares: names, element types
 * (float32 or float16 graphs; int32 or int64 token ids; a float or int64 timestep as [n], [1] or a scalar; the mix
 * ratio as [1] or a scalar) and sizes (token counts, context width) are read from the sessions' metadata.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { fromFloat16, toFloat16 } from '../../core/compute/float16.js';
import { UserError } from '../../core/errors.js';
import type { ModelFolder } from '../../core/models/folder.js';
import type { ModelStore } from '../../core/models/store.js';

type Metadata = InferenceSession['inputMetadata'][number];
type TensorMetadata = Extract<Metadata, { isTensor: true }>;

/** Tokens as a graph gives them: [batch, count, width], row-major. */
export interface Tokens {
  data: Float32Array;
  count: number;
  width: number;
}

export interface VdGraphs {
  /** One line on what was read from the graphs, for the log. */
  readonly description: string;
  /** Side of clip_vision's pixel_values (224 for ViT-L/14). */
  readonly pixelSize: number;
  /** clip_text's fixed sequence length, when the graph fixes it (77). */
  readonly textLength: number | undefined;
  /** The UNet's fixed context sizes, where it fixes them: [tokens, width] of context_vision and context_text. */
  readonly unetContexts: { vision: (number | undefined)[]; text: (number | undefined)[] };
  /** pixel_values [batch, 3, s, s] → projected tokens [batch, 257, width] (not yet normalised). */
  encodeVision(pixels: Float32Array, batch: number): Promise<Tokens>;
  /** ids [batch, 77] → projected tokens [batch, 77, width] and the projected pooled state [batch, width]. */
  encodeText(ids: Int32Array, batch: number): Promise<{ tokens: Tokens; pooled: Float32Array }>;
  /** ε for sample [n, 4, h, w] at timestep t, with both contexts [n, tokens, width] and vision's share `mix`. */
  unet(sample: Float32Array, shape: readonly number[], t: number, vision: Float32Array, text: Float32Array, mix: number): Promise<Float32Array>;
  /** Images [n, 3, H, W] in [−1, 1] → the posterior's mean and log-variance [n, 4, H/8, W/8]. */
  encodeImage(images: Float32Array, shape: readonly number[]): Promise<{ mean: Float32Array; logvar: Float32Array }>;
  /** Unscaled latents [n, 4, h, w] → images [n, 3, 8h, 8w], ≈ [−1, 1]. */
  decode(latents: Float32Array, shape: readonly number[]): Promise<{ data: Float32Array; shape: number[] }>;
}

const FLOATS = new Set(['float32', 'float16']);

const tensors = (list: readonly Metadata[]): TensorMetadata[] => list.filter((m): m is TensorMetadata => m.isTensor);
const describe = (list: readonly TensorMetadata[]) => list.map((m) => `${m.name} ${m.type} [${m.shape.join(', ')}]`).join(', ') || 'none';
const fixed = (m: TensorMetadata, axis: number): number | undefined => {
  const d = m.shape[axis < 0 ? m.shape.length + axis : axis];
  return typeof d === 'number' && d > 0 ? d : undefined;
};

export async function openVdGraphs(models: ModelStore, folder: ModelFolder): Promise<VdGraphs> {
  const ort = await import('onnxruntime-node');
  const open = async (role: string) => {
    const graph = folder.graphs[role];
    if (!graph) throw new UserError(`model.json has no graph '${role}' (it has ${Object.keys(folder.graphs).join(', ')})`, folder.dir);
    const session = await models.session(graph);
    return { session, file: graph.file, inputs: tensors(session.inputMetadata), outputs: tensors(session.outputMetadata) };
  };
  type Graph = Awaited<ReturnType<typeof open>>;
  const input = (g: Graph, name: string, types: Set<string>) => {
    const m = g.inputs.find((v) => v.name === name);
    if (!m) throw new UserError(`expected an input '${name}'; the graph has ${describe(g.inputs)}`, g.file);
    if (!types.has(m.type)) throw new UserError(`input '${name}' must be ${[...types].join(' or ')}, found ${m.type}`, g.file);
    return m;
  };
  const output = (g: Graph, name: string) => {
    const m = g.outputs.find((v) => v.name === name);
    if (!m) throw new UserError(`expected an output '${name}'; the graph has ${describe(g.outputs)}`, g.file);
    return m;
  };
  const floatTensor = (type: string, data: Float32Array, dims: readonly number[]): Tensor =>
    type === 'float16' ? new ort.Tensor('float16', toFloat16(data), dims) : new ort.Tensor('float32', data, dims);
  const readFloat = (tensor: Tensor, what: string, file: string): Float32Array => {
    if (tensor.type === 'float32') return tensor.data as Float32Array;
    if (tensor.type === 'float16') return fromFloat16(tensor.data as Uint16Array);
    throw new UserError(`'${what}': expected a float32 or float16 output, found ${tensor.type}`, file);
  };
  const runtime = async (g: Graph, feeds: Record<string, Tensor>, names: string[]) => g.session.run(feeds, names);

  const unet = await open('unet');
  const encoder = await open('vae_encoder');
  const decoder = await open('vae_decoder');
  const vision = await open('clip_vision');
  const text = await open('clip_text');

  const sample = input(unet, 'sample', FLOATS);
  const timestep = input(unet, 'timestep', new Set([...FLOATS, 'int64']));
  const ctxVision = input(unet, 'context_vision', FLOATS);
  const ctxText = input(unet, 'context_text', FLOATS);
  const mix = input(unet, 'mix', FLOATS);
  const eps = output(unet, 'out_sample');
  if (unet.inputs.length !== 5) throw new UserError(`expected the inputs sample, timestep, context_vision, context_text, mix; the graph has ${describe(unet.inputs)}`, unet.file);
  const image = input(encoder, 'sample', FLOATS);
  const parameters = output(encoder, 'latent_parameters');
  const latentIn = input(decoder, 'latent_sample', FLOATS);
  const decoded = output(decoder, 'sample');
  const pixels = input(vision, 'pixel_values', FLOATS);
  const visionTokens = output(vision, 'projected_tokens');
  const ids = input(text, 'input_ids', new Set(['int32', 'int64']));
  const textTokens = output(text, 'projected_tokens');
  const pooled = output(text, 'projected_pooled');
  if (fixed(parameters, 1) !== undefined && fixed(parameters, 1) !== 8) {
    throw new UserError(`'latent_parameters' has ${fixed(parameters, 1)} channels, expected 8 (mean ∥ logvar of a 4-channel latent)`, encoder.file);
  }

  /** A timestep or mix value in the shape its input declares: a scalar, [1], or one per sample. */
  const scalarTensor = (m: TensorMetadata, value: number, batch: number, file: string): Tensor => {
    const size = m.shape.length === 0 ? undefined : fixed(m, 0);
    if (m.shape.length > 1) throw new UserError(`'${m.name}' must be a scalar or one-dimensional, found [${m.shape.join(', ')}]`, file);
    const count = m.shape.length === 0 ? 1 : (size ?? (m.name === 'mix' ? 1 : batch));
    if (size !== undefined && size !== 1 && size !== batch) throw new UserError(`'${m.name}' is fixed at [${size}], but the sample batch is ${batch}`, file);
    const dims = m.shape.length === 0 ? [] : [count];
    if (m.type === 'int64') return new ort.Tensor('int64', new BigInt64Array(count).fill(BigInt(value)), dims);
    return floatTensor(m.type, new Float32Array(count).fill(value), dims);
  };
  const tokensOf = (tensor: Tensor, what: string, file: string): Tokens => {
    const [, count, width] = tensor.dims as number[];
    if (tensor.dims.length !== 3) throw new UserError(`'${what}' came out [${tensor.dims.join(', ')}], expected [batch, tokens, width]`, file);
    return { data: readFloat(tensor, what, file), count: count!, width: width! };
  };

  const pixelSize = fixed(pixels, 2) ?? fixed(pixels, 3) ?? 224;
  return {
    pixelSize,
    textLength: fixed(ids, 1),
    unetContexts: { vision: [fixed(ctxVision, 1), fixed(ctxVision, 2)], text: [fixed(ctxText, 1), fixed(ctxText, 2)] },
    description:
      `unet ${sample.type}, timestep ${timestep.type} ${timestep.shape.length === 0 ? 'scalar' : `[${timestep.shape.join(', ')}]`}, mix ${mix.shape.length === 0 ? 'scalar' : `[${mix.shape.join(', ')}]`}; ` +
      `clip_vision ${pixels.type} ${pixelSize}²; clip_text ${ids.type} ids`,
    async encodeVision(data, batch) {
      const out = await runtime(vision, { [pixels.name]: floatTensor(pixels.type, data, [batch, 3, pixelSize, pixelSize]) }, [visionTokens.name]);
      return tokensOf(out[visionTokens.name]!, visionTokens.name, vision.file);
    },
    async encodeText(tokens, batch) {
      const values = ids.type === 'int32' ? tokens : BigInt64Array.from(tokens, (v) => BigInt(v));
      const out = await runtime(text, { [ids.name]: new ort.Tensor(ids.type, values, [batch, tokens.length / batch]) }, [textTokens.name, pooled.name]);
      const t = tokensOf(out[textTokens.name]!, textTokens.name, text.file);
      const p = out[pooled.name]!;
      if (p.dims.length !== 2 || p.dims[1] !== t.width) throw new UserError(`'${pooled.name}' came out [${p.dims.join(', ')}], expected [${batch}, ${t.width}]`, text.file);
      return { tokens: t, pooled: readFloat(p, pooled.name, text.file) };
    },
    async unet(latents, shape, t, cv, ct, r) {
      const n = shape[0]!;
      const width = (values: Float32Array, m: TensorMetadata) => {
        const w = fixed(m, 2);
        return w ?? values.length / n / (fixed(m, 1) ?? 1);
      };
      const wv = width(cv, ctxVision);
      const wt = width(ct, ctxText);
      const feeds = {
        [sample.name]: floatTensor(sample.type, latents, shape),
        [timestep.name]: scalarTensor(timestep, t, n, unet.file),
        [ctxVision.name]: floatTensor(ctxVision.type, cv, [n, cv.length / (n * wv), wv]),
        [ctxText.name]: floatTensor(ctxText.type, ct, [n, ct.length / (n * wt), wt]),
        [mix.name]: scalarTensor(mix, r, n, unet.file),
      };
      const out = await runtime(unet, feeds, [eps.name]);
      return readFloat(out[eps.name]!, eps.name, unet.file);
    },
    async encodeImage(images, shape) {
      const out = (await runtime(encoder, { [image.name]: floatTensor(image.type, images, shape) }, [parameters.name]))[parameters.name]!;
      const data = readFloat(out, parameters.name, encoder.file);
      const [n, c, h, w] = out.dims as number[];
      if (out.dims.length !== 4 || c !== 8) throw new UserError(`'latent_parameters' came out [${out.dims.join(', ')}], expected [n, 8, h, w]`, encoder.file);
      // Per item: channels 0–3 the mean, 4–7 the log-variance (DiagonalGaussianDistribution's chunk(2, dim=1)).
      const plane = 4 * h! * w!;
      const mean = new Float32Array(n! * plane);
      const logvar = new Float32Array(n! * plane);
      for (let i = 0; i < n!; i++) {
        mean.set(data.subarray(2 * i * plane, (2 * i + 1) * plane), i * plane);
        logvar.set(data.subarray((2 * i + 1) * plane, (2 * i + 2) * plane), i * plane);
      }
      return { mean, logvar };
    },
    async decode(latents, shape) {
      const out = (await runtime(decoder, { [latentIn.name]: floatTensor(latentIn.type, latents, shape) }, [decoded.name]))[decoded.name]!;
      return { data: readFloat(out, decoded.name, decoder.file), shape: [...out.dims] as number[] };
    },
  };
}
