/**
 * The four graphs of a diffusers/optimum Stable Diffusion ONNX folder, fed as each export wants: names, element
 * types (int32/int64 ids; float32/float16/int64 timestep, as [n], [1] or a scalar; fp16 graphs) and the VAE
 * encoder's output form are read from the sessions' metadata, never assumed.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { fromFloat16, toFloat16 } from '../../core/compute/float16.js';
import { UserError } from '../../core/errors.js';
import type { ModelFolder } from '../../core/models/folder.js';
import type { ModelStore } from '../../core/models/store.js';

type Metadata = InferenceSession['inputMetadata'][number];
type TensorMetadata = Extract<Metadata, { isTensor: true }>;

/** The VAE posterior as the encoder gives it: mean ∥ logvar (optimum ≥ 1.23), or a sample drawn inside the graph. */
export type Posterior = { kind: 'parameters'; mean: Float32Array; logvar: Float32Array } | { kind: 'sample'; sample: Float32Array };

export interface SdGraphs {
  /** Width of the text encoder's hidden states (768 for SD v1) and the UNet's `encoder_hidden_states`. */
  readonly textWidth: number;
  /** One line on what was read from the graphs (dtypes, forms), for the log. */
  readonly description: string;
  /** Time spent inside ONNX Runtime's `run` (all graphs), for the bench's share outside it. */
  readonly runtime: { seconds: number; calls: number };
  /** `batch` × 77 token ids → last_hidden_state, batch × 77 × textWidth. */
  encodeText(ids: Int32Array, batch: number): Promise<Float32Array>;
  /** ε for `sample` [n, 4, h, w] at timestep t, conditioned on `context` [n, 77, textWidth]. */
  unet(sample: Float32Array, shape: readonly number[], t: number, context: Float32Array): Promise<Float32Array>;
  /** Images [n, 3, H, W] in [−1, 1] → the posterior of their (unscaled) latents [n, 4, H/8, W/8]. */
  encodeImage(images: Float32Array, shape: readonly number[]): Promise<Posterior>;
  /** Unscaled latents [n, 4, h, w] → images [n, 3, 8h, 8w], ≈ [−1, 1]. */
  decode(latents: Float32Array, shape: readonly number[]): Promise<{ data: Float32Array; shape: number[] }>;
}

const FLOAT_TYPES = new Set(['float32', 'float16']);

function tensorInputs(session: InferenceSession): TensorMetadata[] {
  return session.inputMetadata.filter((m): m is TensorMetadata => m.isTensor);
}

function tensorOutputs(session: InferenceSession): TensorMetadata[] {
  return session.outputMetadata.filter((m): m is TensorMetadata => m.isTensor);
}

function describeValues(list: readonly TensorMetadata[]): string {
  return list.map((m) => `${m.name} ${m.type} [${m.shape.join(', ')}]`).join(', ') || 'none';
}

/** The value named `name`, else the only one there is; otherwise an error listing what the graph has. */
function pick(list: readonly TensorMetadata[], names: readonly string[], kind: string, file: string): TensorMetadata {
  const found = list.find((m) => names.includes(m.name)) ?? (list.length === 1 ? list[0] : undefined);
  if (!found) throw new UserError(`expected an ${kind} named ${names.map((n) => `'${n}'`).join(' or ')}; the graph has ${describeValues(list)}`, file);
  return found;
}

function lastDim(m: TensorMetadata): number | undefined {
  const d = m.shape[m.shape.length - 1];
  return typeof d === 'number' ? d : undefined;
}

export async function openSdGraphs(models: ModelStore, folder: ModelFolder): Promise<SdGraphs> {
  const ort = await import('onnxruntime-node');
  const open = async (role: string) => {
    const graph = folder.graphs[role];
    if (!graph) throw new UserError(`a Stable Diffusion folder needs ${role}/model.onnx for this generator`, folder.dir);
    return { session: await models.session(graph), file: graph.file };
  };
  const text = await open('text_encoder');
  const unet = await open('unet');
  const encoder = await open('vae_encoder');
  const decoder = await open('vae_decoder');

  const floatTensor = (type: string, data: Float32Array, dims: readonly number[]): Tensor =>
    type === 'float16' ? new ort.Tensor('float16', toFloat16(data), dims) : new ort.Tensor('float32', data, dims);
  const readFloat = (tensor: Tensor, what: string, file: string): Float32Array => {
    if (tensor.type === 'float32') return tensor.data as Float32Array;
    if (tensor.type === 'float16') return fromFloat16(tensor.data as Uint16Array);
    throw new UserError(`${what}: expected a float32 or float16 output, found ${tensor.type}`, file);
  };
  const checkFloat = (m: TensorMetadata, file: string) => {
    if (!FLOAT_TYPES.has(m.type)) throw new UserError(`'${m.name}' must be float32 or float16, found ${m.type}`, file);
  };

  // Text encoder: ids int32 (diffusers script) or int64 (optimum).
  const ids = pick(tensorInputs(text.session), ['input_ids'], 'input', text.file);
  if (ids.type !== 'int32' && ids.type !== 'int64') throw new UserError(`'${ids.name}' must be int32 or int64, found ${ids.type}`, text.file);
  const hidden = pick(tensorOutputs(text.session), ['last_hidden_state'], 'output', text.file);

  // UNet: sample, timestep, encoder_hidden_states → out_sample.
  const unetInputs = tensorInputs(unet.session);
  const sample = pick(unetInputs, ['sample'], 'input', unet.file);
  const timestep = unetInputs.find((m) => m.name === 'timestep');
  const states = unetInputs.find((m) => m.name === 'encoder_hidden_states');
  if (!timestep || !states || unetInputs.length !== 3) {
    throw new UserError(`expected the inputs sample, timestep, encoder_hidden_states; the graph has ${describeValues(unetInputs)}`, unet.file);
  }
  checkFloat(sample, unet.file);
  checkFloat(states, unet.file);
  if (!FLOAT_TYPES.has(timestep.type) && timestep.type !== 'int64') {
    throw new UserError(`'timestep' must be float32, float16 or int64, found ${timestep.type}`, unet.file);
  }
  const noise = pick(tensorOutputs(unet.session), ['out_sample'], 'output', unet.file);
  const textWidth = lastDim(hidden) ?? lastDim(states);
  if (textWidth === undefined) throw new UserError('the width of last_hidden_state is not fixed in the graph, nor that of the UNet\'s encoder_hidden_states', text.file);
  const statesWidth = lastDim(states);
  if (statesWidth !== undefined && statesWidth !== textWidth) {
    throw new UserError(
      `the UNet's encoder_hidden_states are ${statesWidth} wide, but the text encoder's last_hidden_state is ${textWidth} wide: the two graphs are not from one model`,
      unet.file,
    );
  }

  // VAE encoder: latent_parameters (mean ∥ logvar) or latent_sample.
  const image = pick(tensorInputs(encoder.session), ['sample'], 'input', encoder.file);
  checkFloat(image, encoder.file);
  const posterior = pick(tensorOutputs(encoder.session), ['latent_parameters', 'latent_sample'], 'output', encoder.file);
  const posteriorKind = posterior.name === 'latent_parameters' || posterior.shape[1] === 8 ? 'parameters' : 'sample';
  const latentIn = pick(tensorInputs(decoder.session), ['latent_sample'], 'input', decoder.file);
  checkFloat(latentIn, decoder.file);
  const decoded = pick(tensorOutputs(decoder.session), ['sample'], 'output', decoder.file);

  const timestepTensor = (t: number, batch: number): Tensor => {
    // A scalar (optimum ≥ 1.24), [1] broadcast by the UNet (diffusers' pipelines pass one value), or a fixed batch.
    const fixed = timestep.shape.length === 1 && typeof timestep.shape[0] === 'number' ? timestep.shape[0] : undefined;
    const dims = timestep.shape.length === 0 ? [] : [fixed ?? 1];
    const count = dims.length === 0 ? 1 : dims[0]!;
    if (fixed !== undefined && fixed !== 1 && fixed !== batch) {
      throw new UserError(`'timestep' is fixed at [${fixed}], but the sample batch is ${batch}`, unet.file);
    }
    if (timestep.type === 'int64') return new ort.Tensor('int64', new BigInt64Array(count).fill(BigInt(t)), dims);
    return floatTensor(timestep.type, new Float32Array(count).fill(t), dims);
  };

  const runtime = { seconds: 0, calls: 0 };
  const run = async (session: InferenceSession, feeds: Record<string, Tensor>, output: string) => {
    const started = performance.now();
    const result = await session.run(feeds, [output]);
    runtime.seconds += (performance.now() - started) / 1000;
    runtime.calls++;
    return result[output]!;
  };

  return {
    textWidth,
    runtime,
    description:
      `text_encoder ${ids.type} ids; unet ${sample.type}, timestep ${timestep.type} ${timestep.shape.length === 0 ? 'scalar' : `[${timestep.shape.join(', ')}]`}; ` +
      `vae_encoder → ${posterior.name}${posteriorKind === 'sample' ? ' (a sample drawn inside the graph: not reproducible from the seed)' : ''}`,
    async encodeText(tokens, batch) {
      const data = ids.type === 'int32' ? tokens : BigInt64Array.from(tokens, (v) => BigInt(v));
      const out = await run(text.session, { [ids.name]: new ort.Tensor(ids.type, data, [batch, tokens.length / batch]) }, hidden.name);
      const width = out.dims[2];
      if (out.dims.length !== 3 || width !== textWidth) {
        throw new UserError(`last_hidden_state came out [${out.dims.join(', ')}], expected [${batch}, 77, ${textWidth}]`, text.file);
      }
      return readFloat(out, hidden.name, text.file);
    },
    async unet(latents, shape, t, context) {
      const n = shape[0]!;
      const feeds = {
        [sample.name]: floatTensor(sample.type, latents, shape),
        [timestep.name]: timestepTensor(t, n),
        [states.name]: floatTensor(states.type, context, [n, context.length / (n * textWidth), textWidth]),
      };
      return readFloat(await run(unet.session, feeds, noise.name), noise.name, unet.file);
    },
    async encodeImage(images, shape) {
      const out = await run(encoder.session, { [image.name]: floatTensor(image.type, images, shape) }, posterior.name);
      const data = readFloat(out, posterior.name, encoder.file);
      if (posteriorKind === 'sample') return { kind: 'sample', sample: data };
      // [n, 8, h, w]: channels 0–3 the mean, 4–7 the log-variance, per item.
      const [n, , h, w] = out.dims as number[];
      const plane = 4 * h! * w!;
      const mean = new Float32Array(n! * plane);
      const logvar = new Float32Array(n! * plane);
      for (let i = 0; i < n!; i++) {
        mean.set(data.subarray(2 * i * plane, (2 * i + 1) * plane), i * plane);
        logvar.set(data.subarray((2 * i + 1) * plane, (2 * i + 2) * plane), i * plane);
      }
      return { kind: 'parameters', mean, logvar };
    },
    async decode(latents, shape) {
      const out = await run(decoder.session, { [latentIn.name]: floatTensor(latentIn.type, latents, shape) }, decoded.name);
      return { data: readFloat(out, decoded.name, decoder.file), shape: [...out.dims] as number[] };
    },
  };
}
