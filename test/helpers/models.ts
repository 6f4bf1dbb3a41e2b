/**
 * Tiny model folders for tests, written with core's ONNX writer: the real layouts and signatures, a few bytes of
 * weights, no Python.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { encodeOnnxModel, encodeOnnxModelWithExternalData, type OnnxGraph } from '../../core/compute/onnx-model.js';
import type { ModelManifest } from '../../core/models/manifest.js';

/**
 * features = 2 · (per-channel mean of image): image float32 [batch, channels, height, width] → features
 * [batch, channels]. `external` puts the scale in an external-data file, as exporters do for large weights.
 */
export function featureGraph(options: { external?: boolean; channels?: number | string; inputName?: string } = {}): OnnxGraph {
  const input = options.inputName ?? 'image';
  return {
    inputs: [{ name: input, type: 'float32', dims: ['batch', options.channels ?? 'channels', 'height', 'width'] }],
    outputs: [{ name: 'features', type: 'float32', dims: ['batch', options.channels ?? 'channels'] }],
    nodes: [
      { op: 'GlobalAveragePool', inputs: [input], outputs: ['pooled'] },
      { op: 'Flatten', inputs: ['pooled'], outputs: ['flat'] },
      { op: 'Mul', inputs: ['flat', 'scale'], outputs: ['features'] },
    ],
    initializers: [{ name: 'scale', dims: [1], data: Float32Array.from([2]), external: options.external }],
  };
}

/** Writes one .onnx (and its `<file>.data` when some initializer is external); returns the model's bytes. */
export async function writeGraph(path: string, graph: OnnxGraph): Promise<Uint8Array> {
  await mkdir(dirname(path), { recursive: true });
  if (!graph.initializers?.some((i) => i.external)) {
    const bytes = encodeOnnxModel(graph);
    await writeFile(path, bytes);
    return bytes;
  }
  const location = `${path.split('/').pop()!}.data`;
  const { model, data } = encodeOnnxModelWithExternalData(graph, location);
  await writeFile(path, model);
  await writeFile(join(dirname(path), location), data);
  return model;
}

/** The manifest entry a graph declares about itself (its own inputs and outputs). */
function declared(file: string, graph: OnnxGraph): ModelManifest['graphs'][string] {
  return { file, inputs: graph.inputs.map((v) => ({ ...v })), outputs: graph.outputs.map((v) => ({ ...v })) };
}

/** A neurodecode model folder: model.json + one .onnx per graph role (default: `features` ← featureGraph()). */
export async function writeNeurodecodeFolder(
  dir: string,
  options: { graphs?: Record<string, OnnxGraph>; manifest?: (m: ModelManifest) => void } = {},
): Promise<string> {
  const graphs = options.graphs ?? { features: featureGraph() };
  const manifest: ModelManifest = {
    name: 'tiny-features',
    source: { checkpoint: 'random initialisation (test)', sha256: null },
    licence: 'MIT',
    graphs: {},
    preprocessing: { resize: 8 },
  };
  for (const [role, graph] of Object.entries(graphs)) {
    await writeGraph(join(dir, `${role}.onnx`), graph);
    manifest.graphs[role] = declared(`${role}.onnx`, graph);
  }
  options.manifest?.(manifest);
  await writeFile(join(dir, 'model.json'), JSON.stringify(manifest, null, 2));
  return dir;
}

/** A transformers.js CLIP folder: onnx/{vision,text}_model.onnx (+ the variants named), config.json, tokenizer.json. */
export async function writeClipFolder(dir: string, options: { variants?: string[]; fullPrecision?: boolean } = {}): Promise<string> {
  const vision: OnnxGraph = {
    inputs: [{ name: 'pixel_values', type: 'float32', dims: ['batch_size', 3, 4, 4] }],
    outputs: [{ name: 'image_embeds', type: 'float32', dims: ['batch_size', 3] }],
    nodes: [
      { op: 'GlobalAveragePool', inputs: ['pixel_values'], outputs: ['pooled'] },
      { op: 'Flatten', inputs: ['pooled'], outputs: ['image_embeds'] },
    ],
  };
  const text: OnnxGraph = {
    inputs: [{ name: 'input_ids', type: 'int64', dims: ['batch_size', 'sequence_length'] }],
    outputs: [{ name: 'text_embeds', type: 'float32', dims: ['batch_size', 'sequence_length'] }],
    nodes: [{ op: 'Cast', inputs: ['input_ids'], outputs: ['text_embeds'], attributes: { to: 1 } }],
  };
  if (options.fullPrecision !== false) {
    await writeGraph(join(dir, 'onnx', 'vision_model.onnx'), vision);
    await writeGraph(join(dir, 'onnx', 'text_model.onnx'), text);
  }
  for (const variant of options.variants ?? []) await writeGraph(join(dir, 'onnx', `vision_model_${variant}.onnx`), vision);
  await writeFile(join(dir, 'config.json'), JSON.stringify({ model_type: 'clip' }));
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'BPE' } }));
  return dir;
}

/** A diffusers/optimum Stable Diffusion folder with tiny graphs of the real names; the UNet's weight in weights.pb. */
export async function writeDiffusersFolder(dir: string): Promise<string> {
  const identity = (input: string, output: string, dims: (number | string)[]): OnnxGraph => ({
    inputs: [{ name: input, type: 'float32', dims }],
    outputs: [{ name: output, type: 'float32', dims }],
    nodes: [{ op: 'Mul', inputs: [input, 'w'], outputs: [output] }],
    initializers: [{ name: 'w', dims: [1], data: Float32Array.from([1]) }],
  });
  await writeFile(join(await mkdirp(dir), 'model_index.json'), JSON.stringify({ _class_name: 'OnnxStableDiffusionPipeline' }));
  await writeGraph(join(dir, 'text_encoder', 'model.onnx'), {
    inputs: [{ name: 'input_ids', type: 'int32', dims: ['batch', 'sequence'] }],
    outputs: [{ name: 'last_hidden_state', type: 'float32', dims: ['batch', 'sequence'] }],
    nodes: [{ op: 'Cast', inputs: ['input_ids'], outputs: ['last_hidden_state'], attributes: { to: 1 } }],
  });
  const unet = identity('sample', 'out_sample', ['batch', 4, 'height', 'width']);
  const { model, data } = encodeOnnxModelWithExternalData({ ...unet, initializers: [{ ...unet.initializers![0]!, external: true }] }, 'weights.pb');
  await writeFile(join(await mkdirp(join(dir, 'unet')), 'model.onnx'), model);
  await writeFile(join(dir, 'unet', 'weights.pb'), data);
  await writeGraph(join(dir, 'vae_encoder', 'model.onnx'), identity('sample', 'latent_sample', ['batch', 3, 'height', 'width']));
  await writeGraph(join(dir, 'vae_decoder', 'model.onnx'), identity('latent_sample', 'sample', ['batch', 4, 'height', 'width']));
  await writeFile(join(await mkdirp(join(dir, 'scheduler')), 'scheduler_config.json'), JSON.stringify({ beta_start: 0.00085 }));
  await writeFile(join(await mkdirp(join(dir, 'tokenizer')), 'vocab.json'), '{}');
  await writeFile(join(dir, 'tokenizer', 'merges.txt'), '#version: 0.2\n');
  return dir;
}

async function mkdirp(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return dir;
}

/**
 * The AlexNet metrics' graph signature at toy size: `images` float32 [batch, 3, height, width] → `relu1`…`relu5`
 * with the real tap channels (64, 192, 384, 256, 256), each ReLU(1×1 conv) of an 8×8 average pool, so that a
 * 224-pixel input stays small. The conv weights are fixed pseudo-random values.
 */
export function alexNetTapsGraph(): OnnxGraph {
  const channels = [64, 192, 384, 256, 256];
  const next = pseudoRandom(12345);
  return {
    inputs: [{ name: 'images', type: 'float32', dims: ['batch', 3, 'height', 'width'] }],
    outputs: channels.map((c, k) => ({ name: `relu${k + 1}`, type: 'float32' as const, dims: ['batch', c, 'h', 'w'] })),
    nodes: [
      { op: 'AveragePool', inputs: ['images'], outputs: ['pooled'], attributes: { kernel_shape: [8, 8], strides: [8, 8] } },
      ...channels.flatMap((_, k) => [
        { op: 'Conv', inputs: ['pooled', `w${k + 1}`], outputs: [`conv${k + 1}`] },
        { op: 'Relu', inputs: [`conv${k + 1}`], outputs: [`relu${k + 1}`] },
      ]),
    ],
    initializers: channels.map((c, k) => ({ name: `w${k + 1}`, dims: [c, 3, 1, 1], data: Float32Array.from({ length: c * 3 }, next) })),
  };
}

/**
 * The `effnet-b` / `swav` graph signature at toy size: `images` float32 [batch, 3, height, width] → `avgpool`
 * [batch, channels] (1280 or 2048) = the per-channel means times a 3 × channels matrix: fixed pseudo-random, or
 * `weight(rgb, k)`.
 */
export function pooledFeatureGraph(channels: number, weight?: (rgb: number, k: number) => number): OnnxGraph {
  const next = pseudoRandom(4242);
  const data = Float32Array.from({ length: 3 * channels }, (_, i) => (weight ? weight(Math.floor(i / channels), i % channels) : next()));
  return {
    inputs: [{ name: 'images', type: 'float32', dims: ['batch', 3, 'height', 'width'] }],
    outputs: [{ name: 'avgpool', type: 'float32', dims: ['batch', channels] }],
    nodes: [
      { op: 'GlobalAveragePool', inputs: ['images'], outputs: ['pooled'] },
      { op: 'Flatten', inputs: ['pooled'], outputs: ['flat'] },
      { op: 'MatMul', inputs: ['flat', 'w'], outputs: ['avgpool'] },
    ],
    initializers: [{ name: 'w', dims: [3, channels], data }],
  };
}

/**
 * A transformers.js CLIP folder whose vision graph has the CLIPVisionModelWithProjection signature at toy cost:
 * `pixel_values` float32 [batch, 3, 224, 224] → `image_embeds` [batch, 768] = (per-channel mean) · W, W fixed
 * pseudo-random 3×768. `projection: false` names the output `pooler_output` instead, as a CLIPVisionModel export.
 */
export async function writeClipVisionFolder(dir: string, options: { projection?: boolean } = {}): Promise<string> {
  const output = options.projection === false ? 'pooler_output' : 'image_embeds';
  const next = pseudoRandom(777);
  await writeGraph(join(dir, 'onnx', 'vision_model.onnx'), {
    inputs: [{ name: 'pixel_values', type: 'float32', dims: ['batch_size', 3, 224, 224] }],
    outputs: [{ name: output, type: 'float32', dims: ['batch_size', 768] }],
    nodes: [
      { op: 'GlobalAveragePool', inputs: ['pixel_values'], outputs: ['pooled'] },
      { op: 'Flatten', inputs: ['pooled'], outputs: ['flat'] },
      { op: 'MatMul', inputs: ['flat', 'proj'], outputs: [output] },
    ],
    initializers: [{ name: 'proj', dims: [3, 768], data: Float32Array.from({ length: 3 * 768 }, next) }],
  });
  await writeFile(join(dir, 'config.json'), JSON.stringify({ model_type: 'clip' }));
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'BPE' } }));
  return dir;
}

/** A fixed stream in [-1, 1) (a linear congruential generator): weights that differ per channel, the same every run. */
function pseudoRandom(seed: number): () => number {
  let state = seed;
  return () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
}

/**
 * The FID Inception graph signature at toy size: `images` float32 [batch, 3, 299, 299] → `pool3` [batch, 3], the
 * per-channel global average (GlobalAveragePool + Flatten).
 */
export function fidInceptionGraph(): OnnxGraph {
  return {
    inputs: [{ name: 'images', type: 'float32', dims: ['batch', 3, 299, 299] }],
    outputs: [{ name: 'pool3', type: 'float32', dims: ['batch', 3] }],
    nodes: [
      { op: 'GlobalAveragePool', inputs: ['images'], outputs: ['pooled'] },
      { op: 'Flatten', inputs: ['pooled'], outputs: ['pool3'] },
    ],
  };
}

/**
 * Every model the feature metrics need, as toy graphs of the real signatures, under `dir`: the `models` map of a
 * neurodecode.config.json (names as the metrics' defaults).
 */
export async function writeMetricModels(dir: string): Promise<Record<string, string>> {
  const pooled = (channels: number) => ({ graphs: { features: pooledFeatureGraph(channels) } });
  return {
    alexnet: await writeNeurodecodeFolder(join(dir, 'alexnet'), { graphs: { features: alexNetTapsGraph() } }),
    'inception-v3': await writeNeurodecodeFolder(join(dir, 'inception-v3'), pooled(2048)),
    'effnet-b1': await writeNeurodecodeFolder(join(dir, 'effnet-b1'), pooled(1280)),
    'swav-resnet50': await writeNeurodecodeFolder(join(dir, 'swav-resnet50'), pooled(2048)),
    'clip-vit-large-patch14': await writeClipVisionFolder(join(dir, 'clip-vit-large-patch14')),
    'fid-inception': await writeNeurodecodeFolder(join(dir, 'fid-inception'), { graphs: { features: fidInceptionGraph() } }),
  };
}
