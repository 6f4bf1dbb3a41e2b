/**
 * The tiny Versatile Diffusion model folder for tests, from test/fixtures/versatile-diffusion/model/ (written once
 * by make_tiny_vd.py through generators/versatile-diffusion/export.py --random: the real graph names, dtypes and
 * token counts, random weights, context width 8), and the reference values that script recorded (Brain-Diffuser's
 * conditioning and img2img loop on the same modules). See test/fixtures/versatile-diffusion/README.md.
 */
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURES = fileURLToPath(new URL('../fixtures/versatile-diffusion/', import.meta.url));
const MODEL = join(FIXTURES, 'model');

export type TinyVdGraph = 'unet' | 'vae_encoder' | 'vae_decoder' | 'clip_vision' | 'clip_text';

export interface TinyVdVariant {
  /** Graph files left out while model.json still names them (a broken copy). */
  missingFiles?: TinyVdGraph[];
  /** Graphs left out of model.json and the folder (an export that never made them). */
  withoutGraphs?: TinyVdGraph[];
  /** Leave out tokenizer/ or scheduler_config.json. */
  omit?: Array<'tokenizer' | 'scheduler'>;
}

/** Copies the fixture model folder into dir (model.json, five graphs, tokenizer/, scheduler_config.json); returns dir. */
export async function writeTinyVersatileDiffusion(dir: string, variant: TinyVdVariant = {}): Promise<string> {
  const skip = new Set<string>([...(variant.missingFiles ?? []), ...(variant.withoutGraphs ?? [])].map((g) => `${g}.onnx`));
  if (variant.omit?.includes('scheduler')) skip.add('scheduler_config.json');
  await mkdir(dir, { recursive: true });
  for (const name of await readdir(MODEL)) {
    if (name === 'tokenizer') {
      if (variant.omit?.includes('tokenizer')) continue;
      await mkdir(join(dir, 'tokenizer'), { recursive: true });
      for (const f of await readdir(join(MODEL, 'tokenizer'))) await copyFile(join(MODEL, 'tokenizer', f), join(dir, 'tokenizer', f));
    } else if (!skip.has(name) && name !== 'model.json') await copyFile(join(MODEL, name), join(dir, name));
  }
  const manifest = JSON.parse(await readFile(join(MODEL, 'model.json'), 'utf8')) as { graphs: Record<string, unknown> };
  for (const g of variant.withoutGraphs ?? []) delete manifest.graphs[g];
  await writeFile(join(dir, 'model.json'), JSON.stringify(manifest, null, 2));
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

/** How each way of preparing a stimulus for CLIP went: sha256 digests of the rasters and pixels, a strided sample, the targets. */
export interface TinyVdVisionCase {
  u8_512?: string;
  u8_224: string;
  pixels: string;
  /** Every 401st value of pixel_values [3, 224, 224]. */
  pixelsSample: TinyTensor;
  /** Normalised projected tokens [257, 8]. */
  clipVision: TinyTensor;
}

export interface TinyVdItem {
  image: TinyU8; // [h, w, 3]
  captions: string[];
  ids: TinyTensor<Int32Array>; // [captions, 77]
  brainDiffuser: TinyVdVisionCase;
  clipProcessor: TinyVdVisionCase;
  clipTextPerCaption: TinyTensor; // [captions, 77, 8]
  clipText: TinyTensor; // [77, 8]: numpy float32 mean
}

export interface TinyVdCase {
  mix: number;
  z0: TinyTensor; // [1, 4, 8, 8]
  noiseTimestep: number;
  xNoised: TinyTensor;
  /** x after loop steps 1, 10, 20, 30, 37. */
  steps: { step: number; timestep: number; x: TinyTensor }[];
  finalLatent: TinyTensor;
  finalU8: TinyU8; // [1, 64, 64, 3] HWC
  /** Smallest distance of 255·image from an integer over the unclamped pixels (how near truncation came to a flip). */
  finalMinDistanceToInteger: number;
}

export interface TinyVdReference {
  versions: Record<string, string>;
  constants: {
    latentScale: number;
    guidance: number;
    steps: number;
    strength: number;
    tEnc: number;
    initSize: number;
    visionTokens: number;
    textTokens: number;
    width: number;
    noiseTimestep: number;
    loopTimesteps: number[];
  };
  signatures: Record<TinyVdGraph, { inputs: GraphValue[]; outputs: GraphValue[] }>;
  targets: {
    items: TinyVdItem[];
    uncondVisionPixels: { digest: string; sample: TinyTensor };
    uncondVision: TinyTensor; // [257, 8]
    emptyIds: TinyTensor<Int32Array>;
    uncondText: TinyTensor; // [77, 8]
  };
  img2img: {
    initSmall: TinyU8; // [40, 40, 3]
    initU8: TinyU8; // [64, 64, 3]: PIL BICUBIC
    cv: TinyTensor; // [1, 257, 8]
    ct: TinyTensor; // [1, 77, 8]
    epsPosterior: TinyTensor;
    epsEncode: TinyTensor;
    cases: Record<'mix-0.6' | 'mix-0' | 'mix-1', TinyVdCase>;
  };
  oneShot: {
    /** out_sample [2, 4, 8, 8] per mix ("0.6", "0", "1", "0.25"). */
    unet: { outSample: Record<string, TinyTensor> };
    vaeEncoder: { latent_parameters: TinyTensor };
    vaeDecoder: { latent_sample: TinyTensor; sample: TinyTensor };
  };
}

export interface GraphValue {
  name: string;
  type: 'float32' | 'float16' | 'int32' | 'int64';
  dims: (number | string)[];
}

interface RawTensor {
  shape: number[];
  dtype: 'float32' | 'uint8' | 'int64';
  data: number[];
}

function typed(raw: RawTensor): TinyTensor<Float32Array | Uint8Array | Int32Array> {
  const data = raw.dtype === 'float32' ? Float32Array.from(raw.data) : raw.dtype === 'uint8' ? Uint8Array.from(raw.data) : Int32Array.from(raw.data);
  if (data.length !== raw.shape.reduce((a, b) => a * b, 1)) throw new Error(`reference.json: ${raw.shape} does not match ${data.length} values`);
  return { shape: raw.shape, data };
}

const isRawTensor = (v: unknown): v is RawTensor => typeof v === 'object' && v !== null && 'shape' in v && 'dtype' in v && 'data' in v;

function convert(v: unknown): unknown {
  if (isRawTensor(v)) return typed(v);
  if (Array.isArray(v)) return v.map(convert);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, convert(x)]));
  return v;
}

let cached: TinyVdReference | undefined;

/** The reference fixture, parsed: typed arrays + shapes (parsed once, shared: do not modify). */
export function tinyVdReference(): TinyVdReference {
  cached ??= convert(JSON.parse(readFileSync(join(FIXTURES, 'reference.json'), 'utf8'))) as TinyVdReference;
  return cached;
}

/** An HWC uint8 reference tensor as a raster. */
export function rasterOfTiny(u8: TinyU8): { width: number; height: number; channels: number; data: Uint8Array } {
  const [height, width, channels] = u8.shape.slice(-3) as [number, number, number];
  return { width, height, channels, data: u8.data };
}

/** The fixture folder (model/, reference.json, README.md). */
export const TINY_VD_FIXTURES = FIXTURES;
