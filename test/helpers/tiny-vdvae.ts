/**
 * Tiny VDVAE model folders for tests, copied from test/fixtures/vdvae/graphs/ (written once by make_tiny_vdvae.py
 * with generators/vdvae/export.py's own code: ImageNet-64's block layout and zdim 16 at width 16, random weights),
 * and the torch reference that script recorded. See test/fixtures/vdvae/README.md.
 */
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelManifest } from '../../core/models/manifest.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/vdvae/', import.meta.url));

export interface TinyVdvaeVariant {
  /** `tiny` (default): the ImageNet-64 layout at width 16; `zdim8-32px`: another VDVAE (zdim 8, 32×32, 5 blocks). */
  model?: 'tiny' | 'zdim8-32px';
  /** Files left out of the folder (model.json still names them). */
  omit?: Array<'encoder.onnx' | 'encoder.onnx.data' | 'decoder.onnx' | 'decoder.onnx.data'>;
  /** Edits model.json before it is written. */
  manifest?: (m: ModelManifest) => void;
}

/** Writes the model folder (model.json, encoder.onnx + .data, decoder.onnx + .data) into dir; returns dir. */
export async function writeTinyVdvae(dir: string, variant: TinyVdvaeVariant = {}): Promise<string> {
  const source = join(FIXTURES, 'graphs', variant.model ?? 'tiny');
  await mkdir(dir, { recursive: true });
  const omit = new Set<string>(variant.omit ?? []);
  for (const file of ['encoder.onnx', 'encoder.onnx.data', 'decoder.onnx', 'decoder.onnx.data']) {
    if (!omit.has(file)) await copyFile(join(source, file), join(dir, file));
  }
  const manifest = JSON.parse(await readFile(join(source, 'model.json'), 'utf8')) as ModelManifest;
  variant.manifest?.(manifest);
  await writeFile(join(dir, 'model.json'), JSON.stringify(manifest, null, 2));
  return dir;
}

export interface TinyTensor<T extends Float32Array | Uint8Array = Float32Array> {
  shape: number[];
  data: T;
}

export interface TinyVdvaeDecodeCase {
  name: string;
  seed: number;
  ids: string[];
  sample: number;
  givenLayers: number;
  temperature: number;
  /** (x + 1)·127.5 before quantisation, [n, 64, 64, 3]. */
  image: TinyTensor;
  /** np.minimum(np.maximum(0, image), 255).astype(uint8). */
  u8: TinyTensor<Uint8Array>;
  /** sha256 of PIL's BICUBIC 512×512 of each u8 image (RGB bytes). */
  upsampled512Sha256: string[];
  /** sha256 of the Gumbel and logistic samples fed (float32 bytes, all items). */
  noiseSha256: { gumbel: string; logistic: string };
  /** torch: export.py's DecoderGraph against the reference path. */
  graphVsReference: number;
  clippedFraction: number;
  minDistanceToInteger: number;
}

export interface TinyVdvaeReference {
  versions: Record<string, string>;
  constants: {
    width: number;
    zdim: number;
    imageSize: number;
    numMixtures: number;
    decBlocks: string;
    encBlocks: string;
    latentLayers: number;
    latentSizes: number[];
    values15: number;
    values31: number;
    valuesAll: number;
    shift: number;
    scale: number;
    targetSeed: number;
  };
  signatures: Record<string, { inputs: GraphValue[]; outputs: GraphValue[]; externalData: string[] }>;
  /** sha256 of each noise draw (float32 bytes) as the Python port of seededNoise made it. */
  noise: Array<{ seed: number; item: string; sample: number; stream: string; length: number; sha256: string }>;
  /** torch-side checks (max |Δ|): the graph wrapper vs the reference path, the 15-layer prefix property. */
  checks: { encoderGraphVsReference: number; prefix15Vs31: number; reference15VsPrefix: number };
  /** Two 80×80 RGB stimuli, their PIL bilinear 64×64 bytes and the normalised encoder input (NHWC). */
  stimuli: { ids: string[]; images: TinyTensor<Uint8Array>; resized: TinyTensor<Uint8Array>; normalized: TinyTensor };
  /** stats[i]['z'] of blocks 0…30, flattened in block order, [2, 91168]. */
  latents31: TinyTensor;
  decode: TinyVdvaeDecodeCase[];
}

export interface GraphValue {
  name: string;
  type: string;
  dims: (number | string)[];
}

interface RawTensor {
  shape: number[];
  dtype: 'float32' | 'uint8';
  base64: string;
}

function decode(raw: RawTensor): TinyTensor<Float32Array | Uint8Array> {
  const bytes = Buffer.from(raw.base64, 'base64');
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  const data = raw.dtype === 'float32' ? new Float32Array(copy.buffer) : copy;
  if (data.length !== raw.shape.reduce((a, b) => a * b, 1)) throw new Error(`reference.json: shape [${raw.shape}] does not match ${data.length} values`);
  return { shape: raw.shape, data };
}

function convert(v: unknown): unknown {
  if (typeof v === 'object' && v !== null && 'base64' in v && 'dtype' in v) return decode(v as RawTensor);
  if (Array.isArray(v)) return v.map(convert);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, convert(x)]));
  return v;
}

let cached: TinyVdvaeReference | undefined;

/** The reference fixture, parsed (once, shared: do not modify). */
export function tinyVdvaeReference(): TinyVdvaeReference {
  return (cached ??= convert(JSON.parse(readFileSync(join(FIXTURES, 'reference.json'), 'utf8'))) as TinyVdvaeReference);
}

/** Row i (of `width` values) of a flat tensor. */
export const rowOf = (t: TinyTensor<Float32Array | Uint8Array>, i: number, width: number) => t.data.subarray(i * width, (i + 1) * width);

export const TINY_VDVAE_FIXTURES = FIXTURES;
