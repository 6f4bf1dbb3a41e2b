/**
 * Tiny Stable Diffusion ONNX folders for tests, from the graphs committed in test/fixtures/stable-diffusion/graphs/
 * (exported once from torch by make_tiny_sd.py: the real SD graph names, dtypes and symbolic dims, random weights,
 * text width 8), and the reference values that script recorded (Takagi & Nishimoto's img2img decoding on those
 * graphs). See test/fixtures/stable-diffusion/README.md.
 */
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeMinimalClipTokenizerFiles, writeSd14TokenizerConfig } from './clip-vocab.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/stable-diffusion/', import.meta.url));
const GRAPHS = join(FIXTURES, 'graphs');

/** The components a folder can lack (`omit`): the folder is not written, model_index.json still names it. */
export type TinySdComponent = 'text_encoder' | 'unet' | 'vae_decoder' | 'vae_encoder' | 'scheduler' | 'tokenizer';

export interface TinySdVariant {
  /** text_encoder/model.onnx: `input_ids` int32 (the diffusers script, default) or int64 (optimum). */
  ids?: 'int32' | 'int64';
  /**
   * unet/model.onnx by `timestep` form: 'float' float32 [batch] (the diffusers script; default; weights external),
   * 'int64' int64 [steps] (optimum < 1.24), 'scalar' float32 rank 0 (optimum ≥ 1.24), 'fp16' the float16 UNet
   * (every input and output float16, as `--fp16` exports). Only 'float' has external data; the others are one file.
   */
  timestep?: 'float' | 'int64' | 'scalar' | 'fp16';
  /**
   * vae_encoder/model.onnx: 'parameters' → `latent_parameters` (mean ∥ logvar, optimum ≥ 1.23; default), 'sample'
   * → `latent_sample` (the diffusers script; ours returns the mean), 'none' → no vae_encoder at all (not in
   * model_index.json either: a text-to-image-only export).
   */
  vaeEncoder?: 'parameters' | 'sample' | 'none';
  /** The float UNet's external weights: unet/weights.pb (the diffusers script; default) or unet/model.onnx_data (optimum). */
  externalData?: 'weights.pb' | 'model.onnx_data';
  /** unet.wide.onnx: encoder_hidden_states [batch, sequence, 12], wider than the text encoder's 8 (float timestep, one file). */
  wideUnet?: boolean;
  /** Components whose folder is left out (model_index.json still lists them: a broken download). */
  omit?: TinySdComponent[];
  /** Writes tokenizer/vocab.json + merges.txt into the given folder; default: writeMinimalClipTokenizerFiles. */
  tokenizerFiles?: (dir: string) => Promise<void>;
}

/** SD v1.4's scheduler/scheduler_config.json. */
export const SD14_SCHEDULER_CONFIG = {
  _class_name: 'PNDMScheduler',
  _diffusers_version: '0.6.0',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  num_train_timesteps: 1000,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  trained_betas: null,
  clip_sample: false,
} as const;

const onnxModel = ['diffusers', 'OnnxRuntimeModel'];

/**
 * Writes a diffusers-ONNX Stable Diffusion folder (model_index.json, scheduler/scheduler_config.json with SD v1.4's
 * values, tokenizer/, text_encoder/model.onnx, unet/model.onnx (+ external data), vae_encoder/model.onnx,
 * vae_decoder/model.onnx) from the committed fixture graphs; returns dir.
 */
export async function writeTinyStableDiffusion(dir: string, variant: TinySdVariant = {}): Promise<string> {
  const omit = new Set(variant.omit ?? []);
  const timestep = variant.timestep ?? 'float';
  const vaeEncoder = variant.vaeEncoder ?? 'parameters';
  if (variant.externalData && (timestep !== 'float' || variant.wideUnet)) {
    throw new Error('writeTinyStableDiffusion: externalData applies to the float UNet only (timestep "float", not wide)');
  }
  await mkdir(dir, { recursive: true });
  const index: Record<string, unknown> = {
    _class_name: 'OnnxStableDiffusionPipeline',
    _diffusers_version: '0.6.0',
    feature_extractor: [null, null],
    requires_safety_checker: false,
    safety_checker: [null, null],
    scheduler: ['diffusers', 'PNDMScheduler'],
    text_encoder: onnxModel,
    tokenizer: ['transformers', 'CLIPTokenizer'],
    unet: onnxModel,
    vae_decoder: onnxModel,
    ...(vaeEncoder === 'none' ? {} : { vae_encoder: onnxModel }),
  };
  await writeFile(join(dir, 'model_index.json'), JSON.stringify(index, null, 2));

  if (!omit.has('scheduler')) {
    await mkdir(join(dir, 'scheduler'), { recursive: true });
    await writeFile(join(dir, 'scheduler', 'scheduler_config.json'), JSON.stringify(SD14_SCHEDULER_CONFIG, null, 2));
  }
  if (!omit.has('tokenizer')) {
    const tok = join(dir, 'tokenizer');
    await mkdir(tok, { recursive: true });
    await (variant.tokenizerFiles ?? writeMinimalClipTokenizerFiles)(tok);
    await writeSd14TokenizerConfig(tok);
  }
  const place = async (component: TinySdComponent, files: Record<string, string>) => {
    if (omit.has(component)) return;
    await mkdir(join(dir, component), { recursive: true });
    for (const [target, source] of Object.entries(files)) await copyFile(join(GRAPHS, source), join(dir, component, target));
  };
  await place('text_encoder', { 'model.onnx': `text_encoder.${variant.ids ?? 'int32'}.onnx` });
  if (variant.wideUnet) await place('unet', { 'model.onnx': 'unet.wide.onnx' });
  else if (timestep !== 'float') await place('unet', { 'model.onnx': `unet.${timestep}.onnx` });
  else if (variant.externalData === 'model.onnx_data') await place('unet', { 'model.onnx': 'unet.float.optimum.onnx', 'model.onnx_data': 'model.onnx_data' });
  else await place('unet', { 'model.onnx': 'unet.float.onnx', 'weights.pb': 'weights.pb' });
  if (vaeEncoder !== 'none') await place('vae_encoder', { 'model.onnx': `vae_encoder.${vaeEncoder}.onnx` });
  await place('vae_decoder', { 'model.onnx': 'vae_decoder.onnx' });
  return dir;
}

// ---------------------------------------------------------------------------------------------------------------
// The reference (reference.json)
// ---------------------------------------------------------------------------------------------------------------

export interface TinyTensor<T extends ArrayLike<number> = Float32Array> {
  shape: number[];
  data: T;
}
export type TinyU8 = TinyTensor<Uint8Array>;
/** How close 255·image came to an integer on the unclamped pixels, and how many bytes a float32 product changes. */
export interface TinyTruncation {
  minDistanceToInteger: number;
  float32PathDifferingPixels: number;
}

/** One decoding run (reference.json `cases`): inputs, intermediates and outputs; shapes NCHW unless said. */
export interface TinySdCase {
  /** 'a' for "a-diffusers-start": its inputs and init image are case a's (filled in here from case a). */
  sameInputsAs?: string;
  zPred: TinyTensor;            // [B, 4, 5, 5]
  cPred: TinyTensor;            // [B, 77, 8]
  epsPosterior: TinyTensor;     // [B, 4, 8, 8]
  epsEncode: TinyTensor;        // [B, 4, 8, 8]
  initU8Small: TinyU8;          // [B, 40, 40, 3] HWC: the decoded prediction, quantised by truncation
  initU8: TinyU8;               // [B, 64, 64, 3] HWC: after PIL resize (BICUBIC)
  initTruncation?: TinyTruncation;
  z0: TinyTensor;               // [B, 4, 8, 8]
  noiseTimestep: number;        // 801 (CompVis) or 781 (diffusers PyTorch img2img)
  xNoised: TinyTensor;          // [B, 4, 8, 8]
  /** x after loop steps 1, 10, 20, 30, 40 (`timestep` = the UNet's timestep in that step). */
  steps: { step: number; timestep: number; x: TinyTensor }[];
  finalLatent: TinyTensor;      // [B, 4, 8, 8]
  /** clamp((decoded + 1)/2, 0, 1) in float64, [B, 3, 64, 64]: case a only (size). */
  finalImage?: TinyTensor<Float64Array>;
  finalTruncation: TinyTruncation;
  finalU8: TinyU8;              // [B, 3, 64, 64] NCHW: truncation of 255·finalImage
}

export interface TinySdReference {
  versions: Record<string, string>;
  constants: {
    latentScale: number;
    guidance: number;
    steps: number;
    strength: number;
    tEnc: number;
    resolution: number;
    initSize: number;
    textWidth: number;
    wideWidth: number;
    contextLength: number;
    bos: number;
    eos: number;
    noiseTimestep: number;
    loopTimesteps: number[];
    pilResample: string;
  };
  /** ᾱ_t for t = 0 … 999 (float64). */
  alphasCumprod: Float64Array;
  /** What make_tiny_sd.py read back from each exported graph file (graphs/<file>). */
  signatures: Record<string, { inputs: GraphValue[]; outputs: GraphValue[] }>;
  /** ids of "" padded to 77: [1, 77] = BOS then EOS. */
  emptyIds: TinyTensor<Int32Array>;
  /** text_encoder(emptyIds).last_hidden_state [1, 77, 8]. */
  uc: TinyTensor;
  /** Case b batched vs its items one at a time (max |Δ| of the final latents). */
  batchVsSingleMaxAbsDiff: number;
  oneShot: {
    textEncoder: { input_ids: TinyTensor<Int32Array>; last_hidden_state: TinyTensor; pooler_output: TinyTensor };
    unet: {
      sample: TinyTensor;
      timestep: TinyTensor;
      encoder_hidden_states: TinyTensor;
      out_sample: TinyTensor;
      /** The same sample and text at timesteps 1 and 781. */
      outSampleAtTimestep: Record<string, TinyTensor>;
    };
    unetFp16Emulated: { out_sample: TinyTensor; maxAbsDiffFromFloat: number };
    /** Input: case a's initU8 as 2·(u8/255) − 1, NCHW (see tinySdInitImage). */
    vaeEncoder: { latent_parameters: TinyTensor };
    vaeDecoder: { latent_sample: TinyTensor; sample: TinyTensor };
  };
  cases: { a: TinySdCase; b: TinySdCase; 'a-diffusers-start': TinySdCase };
}

export interface GraphValue {
  name: string;
  type: 'float32' | 'float16' | 'int32' | 'int64';
  dims: (number | string)[];
}

interface RawTensor {
  shape: number[];
  dtype: 'float32' | 'float64' | 'uint8' | 'int64';
  data: number[];
}

function typed(raw: RawTensor): TinyTensor<Float32Array | Float64Array | Uint8Array | Int32Array> {
  const data =
    raw.dtype === 'float32' ? Float32Array.from(raw.data)
    : raw.dtype === 'float64' ? Float64Array.from(raw.data)
    : raw.dtype === 'uint8' ? Uint8Array.from(raw.data)
    : Int32Array.from(raw.data);
  if (data.length !== raw.shape.reduce((a, b) => a * b, 1)) throw new Error(`reference.json: ${raw.shape} does not match ${data.length} values`);
  return { shape: raw.shape, data };
}

function isRawTensor(v: unknown): v is RawTensor {
  return typeof v === 'object' && v !== null && 'shape' in v && 'dtype' in v && 'data' in v;
}

function convert(v: unknown): unknown {
  if (isRawTensor(v)) return typed(v);
  if (Array.isArray(v)) return v.map(convert);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, convert(x)]));
  return v;
}

let cached: TinySdReference | undefined;

/** The reference fixture, parsed: typed arrays + shapes (parsed once, shared: do not modify). */
export function tinySdReference(): TinySdReference {
  if (cached) return cached;
  const raw = JSON.parse(readFileSync(join(FIXTURES, 'reference.json'), 'utf8')) as Record<string, unknown>;
  const alphas = raw.alphasCumprod as number[];
  const ref = convert({ ...raw, alphasCumprod: undefined }) as TinySdReference;
  ref.alphasCumprod = Float64Array.from(alphas);
  const a = ref.cases.a;
  const d = ref.cases['a-diffusers-start'];
  ref.cases['a-diffusers-start'] = {
    ...d,
    zPred: a.zPred,
    cPred: a.cPred,
    epsPosterior: a.epsPosterior,
    epsEncode: a.epsEncode,
    initU8Small: a.initU8Small,
    initU8: a.initU8,
    initTruncation: a.initTruncation,
    z0: a.z0,
  };
  return (cached = ref);
}

/** The VAE encoder's input for an init image: 2·(u8/255) − 1 (in float64, stored float32), HWC bytes → NCHW. */
export function tinySdInitImage(u8: TinyU8): TinyTensor {
  const [b, h, w, c] = u8.shape as [number, number, number, number];
  const out = new Float32Array(b * c * h * w);
  for (let n = 0; n < b; n++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < c; k++) out[((n * c + k) * h + y) * w + x] = 2 * (u8.data[((n * h + y) * w + x) * c + k]! / 255) - 1;
  return { shape: [b, c, h, w], data: out };
}

/** The fixture folder (graphs/, reference.json, README.md). */
export const TINY_SD_FIXTURES = FIXTURES;
