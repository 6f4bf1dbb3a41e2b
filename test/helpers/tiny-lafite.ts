/**
 * Tiny model folders for the `lafite` generator, from the files committed in test/fixtures/lafite/ (written once by
 * make_tiny_lafite.py: the generator exported by generators/lafite/export.py --random's code path, a toy CLIP with
 * the transformers.js signatures and 512-d outputs), and the reference that script recorded in torch. See
 * test/fixtures/lafite/README.md.
 */
import { readFileSync } from 'node:fs';
import { cp, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OnnxGraph } from '../../core/compute/onnx-model.js';
import { writeClipTokenizerJson } from './clip-vocab.js';
import { writeNeurodecodeFolder } from './models.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/lafite/', import.meta.url));

/** The generator folder (model.json + generator.onnx), copied into dir; returns dir. */
export async function writeTinyLafite(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await cp(join(FIXTURES, 'generator'), dir, { recursive: true });
  return dir;
}

/**
 * The toy CLIP ViT-B/32 as a transformers.js folder: onnx/vision_model.onnx, onnx/text_model.onnx, config.json, and
 * CLIP's real tokenizer.json (clip-vocab.ts); `omit` leaves one graph out.
 */
export async function writeTinyClipB32(dir: string, options: { omit?: 'vision' | 'text' } = {}): Promise<string> {
  await mkdir(dir, { recursive: true });
  await cp(join(FIXTURES, 'clip'), dir, { recursive: true });
  if (options.omit) await rm(join(dir, 'onnx', `${options.omit}_model.onnx`));
  await writeClipTokenizerJson(dir);
  return dir;
}

/** Both folders under dir, as the plugin's default model names: the `models` map of a test core. */
export async function writeLafiteModels(dir: string): Promise<Record<string, string>> {
  return {
    'lafite-mind-reader': await writeTinyLafite(join(dir, 'lafite-mind-reader')),
    'clip-vit-base-patch32': await writeTinyClipB32(join(dir, 'clip-vit-base-patch32')),
  };
}

/**
 * A neurodecode folder whose `generator` graph has the right names but `width`-wide conditioning inputs (the image
 * is ψ times a constant: the graph only has to open).
 */
export async function writeWrongWidthGenerator(dir: string, width: number): Promise<string> {
  const graph: OnnxGraph = {
    inputs: [
      { name: 'z', type: 'float32', dims: ['batch', 512] },
      { name: 'image_embedding', type: 'float32', dims: ['batch', width] },
      { name: 'text_embedding', type: 'float32', dims: ['batch', width] },
      { name: 'truncation_psi', type: 'float32', dims: [1] },
    ],
    outputs: [{ name: 'image', type: 'float32', dims: [1, 3, 4, 4] }],
    nodes: [{ op: 'Mul', inputs: ['truncation_psi', 'constant'], outputs: ['image'] }],
    initializers: [{ name: 'constant', dims: [1, 3, 4, 4], data: new Float32Array(48).fill(0.5) }],
  };
  return writeNeurodecodeFolder(dir, { graphs: { generator: graph } });
}

// ---------------------------------------------------------------------------------------------------------------
// The reference (reference.json)
// ---------------------------------------------------------------------------------------------------------------

export interface TinyTensor<T extends ArrayLike<number> = Float32Array> {
  shape: number[];
  data: T;
}

export interface TinyLafiteCase {
  psi: number;
  /** G_ema's path in torch (fused modulated convolutions, ψ a Python float), [3, 3, 16, 16]. */
  image: TinyTensor;
  /** Lafite's tensor_to_img on it (clamp((x+1)·127.5, 0, 255), truncated), NCHW. */
  imageU8: TinyTensor<Uint8Array>;
  minDistanceToInteger: number;
  clampedFraction: number;
  /** The exported (unfused, tensor ψ) path in torch against the reference: the export's own error. */
  unfusedMaxAbsDiff: number;
  aloneMaxAbsDiff: number;
}

export interface TinyClipPath {
  input224Sha256: string;
  pixelValuesSum: number;
  imageEmbeds: Float32Array;
  clipImage: Float32Array;
  clipImageNoClamp: Float32Array;
}

export interface TinyClipTarget {
  stimulus: TinyTensor<Uint8Array>; // [H, W, 3]
  mindReader256Sha256: string;
  'mind-reader': TinyClipPath;
  clip: TinyClipPath;
  captions: string[];
  ids: number[][];
  textEmbeds: Float32Array[];
  clipText: Float32Array;
  clipTextNoClamp: Float32Array;
  screening: { cosine: Float32Array; probabilities: number[]; kept: number[]; clipText: Float32Array };
}

export interface TinyLafiteReference {
  generator: {
    config: Record<string, unknown> & { z_dim: number; resolution: number; conv_clamp: number };
    numWs: number;
    z: TinyTensor;
    imageEmbedding: TinyTensor;
    textEmbedding: TinyTensor;
    rawImageEmbedding: TinyTensor;
    rawTextEmbedding: TinyTensor;
    cases: TinyLafiteCase[];
    convClampHits: Record<string, number>;
  };
  clip: { outliers: { image: number[]; text: number[] }; clamp: number; logitScale: number; targets: Record<'a' | 'b', TinyClipTarget> };
}

const floats = (values: number[]) => Float32Array.from(values);
const tensor = (t: { shape: number[]; data: number[] }): TinyTensor => ({ shape: t.shape, data: floats(t.data) });
const bytes = (t: { shape: number[]; data: number[] }): TinyTensor<Uint8Array> => ({ shape: t.shape, data: Uint8Array.from(t.data) });

let cached: TinyLafiteReference | undefined;

/** reference.json with its arrays typed (float32 values, byte images). */
export function tinyLafiteReference(): TinyLafiteReference {
  if (cached) return cached;
  type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const raw = JSON.parse(readFileSync(join(FIXTURES, 'reference.json'), 'utf8')) as Raw;
  const g = raw.generator as Raw;
  const path = (p: Raw): TinyClipPath => ({
    input224Sha256: p.input224Sha256,
    pixelValuesSum: p.pixelValuesSum,
    imageEmbeds: floats(p.imageEmbeds),
    clipImage: floats(p.clipImage),
    clipImageNoClamp: floats(p.clipImageNoClamp),
  });
  const target = (t: Raw): TinyClipTarget => ({
    stimulus: bytes(t.stimulus),
    mindReader256Sha256: t.mindReader256Sha256,
    'mind-reader': path(t['mind-reader']),
    clip: path(t.clip),
    captions: t.captions,
    ids: t.ids,
    textEmbeds: (t.textEmbeds as number[][]).map(floats),
    clipText: floats(t.clipText),
    clipTextNoClamp: floats(t.clipTextNoClamp),
    screening: { cosine: floats(t.screening.cosine), probabilities: t.screening.probabilities, kept: t.screening.kept, clipText: floats(t.screening.clipText) },
  });
  cached = {
    generator: {
      config: g.config,
      numWs: g.numWs,
      z: tensor(g.z),
      imageEmbedding: tensor(g.imageEmbedding),
      textEmbedding: tensor(g.textEmbedding),
      rawImageEmbedding: tensor(g.rawImageEmbedding),
      rawTextEmbedding: tensor(g.rawTextEmbedding),
      cases: (g.cases as Raw[]).map((c) => ({ ...c, image: tensor(c.image), imageU8: bytes(c.imageU8) }) as TinyLafiteCase),
      convClampHits: g.convClampHits,
    },
    clip: { outliers: raw.clip.outliers, clamp: raw.clip.clamp, logitScale: raw.clip.logitScale, targets: { a: target(raw.clip.targets.a), b: target(raw.clip.targets.b) } },
  };
  return cached;
}
