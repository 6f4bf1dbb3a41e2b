/**
 * `models check`: every graph of a folder opened, compared with its manifest, run once on a small input built from
 * the session's own metadata (never from assumed dtypes), and its outputs checked finite.
 */
import { existsSync } from 'node:fs';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { UserError } from '../errors.js';
import type { ModelFolder, ModelGraph } from './folder.js';
import type { ManifestValue } from './manifest.js';
import type { FileDigest, ModelStore } from './store.js';

type Metadata = InferenceSession['inputMetadata'][number];

/** Symbolic sizes in a test input: the batch (first dimension) 1, any other (sequence, latent height…) 8. */
const SYMBOLIC_BATCH = 1;
const SYMBOLIC_OTHER = 8;

export interface ValueReport {
  name: string;
  type: string;
  dims: (number | string)[];
}

export interface GraphCheck {
  role: string;
  files: FileDigest[];
  provider: string;
  inputs: ValueReport[];
  outputs: ValueReport[];
  /** The input sizes the test inference used. */
  testInputs: Record<string, number[]>;
  /** The output sizes it gave. */
  testOutputs: Record<string, number[]>;
  seconds: number;
}

export interface ModelCheck {
  name: string;
  dir: string;
  layout: ModelFolder['layout'];
  files: Record<string, string>;
  notes: string[];
  graphs: GraphCheck[];
}

function testDims(meta: Metadata, declared: ManifestValue | undefined): number[] {
  if (declared?.testDims) return declared.testDims;
  if (!meta.isTensor) return [];
  return meta.shape.map((d, i) => (typeof d === 'number' && d >= 0 ? d : i === 0 ? SYMBOLIC_BATCH : SYMBOLIC_OTHER));
}

/** A deterministic small input of the session's own dtype: floats in [-0.5, 0.5], integers and booleans zero. */
function testTensor(ort: typeof import('onnxruntime-node'), type: Tensor.Type, dims: number[], where: string): Tensor {
  const size = dims.reduce((a, b) => a * b, 1);
  const floats = () => Float32Array.from({ length: size }, (_, i) => ((i % 11) - 5) / 10);
  switch (type) {
    case 'float32':
      return new ort.Tensor('float32', floats(), dims);
    case 'float64':
      return new ort.Tensor('float64', Float64Array.from(floats()), dims);
    case 'float16':
      return new ort.Tensor('float16', new Uint16Array(size), dims); // zeros: no half-float encoder needed
    case 'int64':
      return new ort.Tensor('int64', new BigInt64Array(size), dims);
    case 'uint64':
      return new ort.Tensor('uint64', new BigUint64Array(size), dims);
    case 'int32':
      return new ort.Tensor('int32', new Int32Array(size), dims);
    case 'uint32':
      return new ort.Tensor('uint32', new Uint32Array(size), dims);
    case 'int16':
      return new ort.Tensor('int16', new Int16Array(size), dims);
    case 'uint16':
      return new ort.Tensor('uint16', new Uint16Array(size), dims);
    case 'int8':
      return new ort.Tensor('int8', new Int8Array(size), dims);
    case 'uint8':
      return new ort.Tensor('uint8', new Uint8Array(size), dims);
    case 'bool':
      return new ort.Tensor('bool', new Uint8Array(size), dims);
    case 'string':
      return new ort.Tensor('string', Array.from({ length: size }, () => ''), dims);
    default:
      throw new UserError(`input of type ${type}: no test input can be built for it`, where);
  }
}

/** Index of the first non-finite value of a float output, or -1 (integer outputs are always finite). */
export function firstNonFiniteValue(tensor: Tensor): number {
  const data = tensor.data;
  if (data instanceof Float32Array || data instanceof Float64Array) {
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return i;
  } else if (tensor.type === 'float16' && data instanceof Uint16Array) {
    for (let i = 0; i < data.length; i++) if ((data[i]! & 0x7c00) === 0x7c00) return i;
  }
  return -1;
}

function report(list: readonly Metadata[]): ValueReport[] {
  return list.map((m) => (m.isTensor ? { name: m.name, type: m.type, dims: [...m.shape] } : { name: m.name, type: 'non-tensor', dims: [] }));
}

async function checkGraph(store: ModelStore, role: string, graph: ModelGraph): Promise<GraphCheck> {
  const session = await store.checkedSession(graph);
  const ort = await import('onnxruntime-node');
  const declared = new Map((graph.declared?.inputs ?? []).map((v) => [v.name, v]));
  const feeds: Record<string, Tensor> = {};
  const testInputs: Record<string, number[]> = {};
  for (const meta of session.inputMetadata) {
    if (!meta.isTensor) throw new UserError(`input '${meta.name}' is not a tensor: models check cannot feed it`, graph.file);
    const dims = graph.testDims?.[meta.name] ?? testDims(meta, declared.get(meta.name));
    testInputs[meta.name] = dims;
    feeds[meta.name] = testTensor(ort, meta.type, dims, graph.file);
  }
  const started = performance.now();
  let results: InferenceSession.ReturnType;
  try {
    results = await session.run(feeds);
  } catch (error) {
    const shapes = Object.entries(testInputs).map(([n, d]) => `${n} [${d.join(', ')}]`).join(', ');
    const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    throw new UserError(`the test inference failed on inputs ${shapes}: ${reason} (model.json's testDims, or a CLIP config.json's vision_config.image_size, sets the test input sizes)`, graph.file);
  }
  const seconds = (performance.now() - started) / 1000;
  const testOutputs: Record<string, number[]> = {};
  for (const [name, tensor] of Object.entries(results)) {
    testOutputs[name] = [...tensor.dims];
    const bad = firstNonFiniteValue(tensor);
    if (bad >= 0) {
      throw new UserError(`output '${name}' holds a non-finite value (${String(tensor.data[bad])}) at flat index ${bad} on the test input: the weights are broken or the export is wrong`, graph.file);
    }
  }
  return {
    role,
    files: await store.graphFiles(graph),
    provider: store.onnx.providers[0] ?? 'cpu',
    inputs: report(session.inputMetadata),
    outputs: report(session.outputMetadata),
    testInputs,
    testOutputs,
    seconds,
  };
}

/** Checks a named model or folder; the first problem is a UserError naming the file. */
export async function checkModel(store: ModelStore, ref: string): Promise<ModelCheck> {
  const folder = await store.folder(ref, `model '${ref}'`);
  const graphs: GraphCheck[] = [];
  for (const [role, graph] of Object.entries(folder.graphs)) graphs.push(await checkGraph(store, role, graph));
  return { name: folder.name, dir: folder.dir, layout: folder.layout, files: folder.files, notes: folder.notes, graphs };
}

export interface ModelListing {
  name: string;
  dir: string;
  source: string;
  status: 'found' | 'missing' | 'wrong';
  layout?: ModelFolder['layout'];
  graphs?: string[];
  /** Why a folder is missing or wrong. */
  problem?: string;
}

/** `models list`: every named model with whether its folder is there and in a known layout (no graph is opened). */
export async function listModels(store: ModelStore): Promise<ModelListing[]> {
  const listings: ModelListing[] = [];
  for (const { name, dir, source } of store.named()) {
    const base = { name, dir, source };
    if (!existsSync(dir)) {
      listings.push({ ...base, status: 'missing', problem: 'the folder does not exist' });
      continue;
    }
    try {
      const folder = await store.folder(dir, `model '${name}'`);
      listings.push({ ...base, status: 'found', layout: folder.layout, graphs: Object.keys(folder.graphs) });
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      listings.push({ ...base, status: 'wrong', problem: error.message });
    }
  }
  return listings;
}
