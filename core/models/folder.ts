/**
 * A model folder, its layout detected from the files it holds: the ONNX folders users already have
 * (transformers.js CLIP, diffusers/optimum Stable Diffusion) or a neurodecode folder (`model.json` + `*.onnx`).
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { OnnxSignature } from '../compute/onnx.js';
import { UserError } from '../errors.js';
import { MANIFEST_FILE, manifestSignature, readModelManifest, type ManifestGraph, type ModelManifest } from './manifest.js';

export type ModelLayout = 'neurodecode' | 'transformers-js' | 'diffusers-onnx';

export interface ModelGraph {
  /** Absolute path of the .onnx. */
  file: string;
  /** The signature the layout declares (model.json does; the ONNX layouts leave it to the plugin that uses them). */
  signature?: OnnxSignature;
  /** The manifest entry, with its test input sizes, when there is one. */
  declared?: ManifestGraph;
  /** Sizes for `models check`'s test input by input name, from the layout's own config (e.g. CLIP's image_size). */
  testDims?: Record<string, number[]>;
}

export interface ModelFolder {
  name: string;
  dir: string;
  layout: ModelLayout;
  /** Graph role → file: `features` (model.json's names), `vision`/`text` (CLIP), `unet`, `text_encoder`, … (SD). */
  graphs: Record<string, ModelGraph>;
  /** Other files the layout needs, by role: `config`, `tokenizer`, `scheduler`, `vocab`, `merges`, `model_index`. */
  files: Record<string, string>;
  manifest?: ModelManifest;
  /** What was chosen and why (e.g. variant files left aside). */
  notes: string[];
}

/** What each layout is recognised by, for messages about a folder that is none of them. */
export const LAYOUT_HINT =
  `expected one of: ${MANIFEST_FILE} + *.onnx (neurodecode folder, written by a plugin's export.py); ` +
  'onnx/vision_model.onnx or onnx/text_model.onnx + config.json + tokenizer.json (transformers.js CLIP); ' +
  'model_index.json + unet/model.onnx, text_encoder/model.onnx, vae_decoder/model.onnx (diffusers/optimum Stable Diffusion)';

function wrong(dir: string, message: string): UserError {
  return new UserError(message, dir);
}

async function neurodecodeFolder(name: string, dir: string): Promise<ModelFolder> {
  const manifest = await readModelManifest(join(dir, MANIFEST_FILE));
  const graphs: Record<string, ModelGraph> = {};
  for (const [role, declared] of Object.entries(manifest.graphs)) {
    const file = join(dir, declared.file);
    if (!existsSync(file)) throw wrong(dir, `${MANIFEST_FILE} names graph '${role}' as ${declared.file}, which is missing: expected ${file}`);
    graphs[role] = { file, signature: manifestSignature(declared), declared };
  }
  return { name, dir, layout: 'neurodecode', graphs, files: {}, manifest, notes: [] };
}

/**
 * transformers.js keeps precision variants beside the full model (`vision_model_fp16.onnx`,
 * `vision_model_quantized.onnx`, …). Metrics must match the papers, so the full-precision file is the one used;
 * a folder with only variants is refused rather than silently scoring with a quantized network.
 */
async function transformersJsFolder(name: string, dir: string): Promise<ModelFolder> {
  const onnxDir = join(dir, 'onnx');
  const present = new Set(await readdir(onnxDir));
  const graphs: Record<string, ModelGraph> = {};
  const notes: string[] = [];
  for (const [role, stem] of [['vision', 'vision_model'], ['text', 'text_model']] as const) {
    const variants = [...present].filter((f) => f.startsWith(`${stem}_`) && f.endsWith('.onnx')).sort();
    if (present.has(`${stem}.onnx`)) {
      graphs[role] = { file: join(onnxDir, `${stem}.onnx`) };
      if (variants.length > 0) notes.push(`${role}: using ${stem}.onnx (full precision); left aside ${variants.join(', ')}`);
    } else if (variants.length > 0) {
      throw wrong(dir, `onnx/${stem}.onnx is missing (found only ${variants.join(', ')}): the metrics need the full-precision export`);
    }
  }
  if (Object.keys(graphs).length === 0) throw wrong(dir, `onnx/ holds neither vision_model.onnx nor text_model.onnx; ${LAYOUT_HINT}`);
  const files: Record<string, string> = {};
  for (const [role, file] of [['config', 'config.json'], ['tokenizer', 'tokenizer.json']] as const) {
    if (!existsSync(join(dir, file))) throw wrong(dir, `a transformers.js CLIP folder needs ${file}: expected ${join(dir, file)}`);
    files[role] = join(dir, file);
  }
  if (existsSync(join(dir, 'tokenizer_config.json'))) files.tokenizerConfig = join(dir, 'tokenizer_config.json');
  // A vision graph exported with symbolic height and width still needs its trained size (position embeddings).
  const vision = await visionConfig(files.config!);
  if (graphs.vision && vision) graphs.vision.testDims = { pixel_values: [1, vision.channels, vision.size, vision.size] };
  return { name, dir, layout: 'transformers-js', graphs, files, notes };
}

/** CLIP config.json's `vision_config` image size and channels (num_channels defaults to 3), when it gives them. */
async function visionConfig(path: string): Promise<{ size: number; channels: number } | undefined> {
  let config: { vision_config?: { image_size?: unknown; num_channels?: unknown } };
  try {
    config = JSON.parse(await readFile(path, 'utf8')) as typeof config;
  } catch {
    return undefined; // the CLIP plugins that read it report a broken config.json themselves
  }
  const size = config.vision_config?.image_size;
  const channels = config.vision_config?.num_channels ?? 3;
  return Number.isInteger(size) && Number.isInteger(channels) ? { size: size as number, channels: channels as number } : undefined;
}

/** The diffusers script and optimum write the same folders; `vae_encoder` is optional (only img2img needs it). */
async function diffusersFolder(name: string, dir: string): Promise<ModelFolder> {
  const graphs: Record<string, ModelGraph> = {};
  for (const role of ['text_encoder', 'unet', 'vae_decoder', 'vae_encoder']) {
    const file = join(dir, role, 'model.onnx');
    if (existsSync(file)) graphs[role] = { file };
    else if (role !== 'vae_encoder') throw wrong(dir, `a diffusers ONNX folder needs ${role}/model.onnx: expected ${file}`);
  }
  const files: Record<string, string> = { model_index: join(dir, 'model_index.json') };
  const scheduler = join(dir, 'scheduler', 'scheduler_config.json');
  if (!existsSync(scheduler)) throw wrong(dir, `a diffusers ONNX folder needs scheduler/scheduler_config.json: expected ${scheduler}`);
  files.scheduler = scheduler;
  const tokenizerJson = join(dir, 'tokenizer', 'tokenizer.json');
  const vocab = join(dir, 'tokenizer', 'vocab.json');
  const merges = join(dir, 'tokenizer', 'merges.txt');
  if (existsSync(vocab) && existsSync(merges)) Object.assign(files, { vocab, merges });
  if (existsSync(tokenizerJson)) files.tokenizer = tokenizerJson;
  if (!files.tokenizer && !files.vocab) {
    throw wrong(dir, `a diffusers ONNX folder needs tokenizer/vocab.json + tokenizer/merges.txt (or tokenizer/tokenizer.json): expected them in ${join(dir, 'tokenizer')}`);
  }
  return { name, dir, layout: 'diffusers-onnx', graphs, files, notes: [] };
}

/** Reads a model folder, detecting its layout; a UserError names the folder and what is missing or wrong. */
export async function readModelFolder(name: string, dir: string): Promise<ModelFolder> {
  const info = await stat(dir).catch(() => undefined);
  if (!info) throw wrong(dir, `model folder '${name}' does not exist; ${LAYOUT_HINT}`);
  if (!info.isDirectory()) throw wrong(dir, `model '${name}' must be a folder, found a file; ${LAYOUT_HINT}`);
  if (existsSync(join(dir, MANIFEST_FILE))) return neurodecodeFolder(name, dir);
  if (existsSync(join(dir, 'model_index.json'))) return diffusersFolder(name, dir);
  if (existsSync(join(dir, 'onnx'))) return transformersJsFolder(name, dir);
  throw wrong(dir, `model folder '${name}' is in no known layout; ${LAYOUT_HINT}`);
}
