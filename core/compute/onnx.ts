/**
 * ONNX Runtime sessions for pretrained networks: CUDA when the user installed onnxruntime-node's CUDA provider,
 * else CPU. onnxruntime-node is imported on the first `open`, so that start-up and `plugins list` stay fast.
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { UserError } from '../errors.js';

export type OnnxProvider = 'cuda' | 'cpu';

export interface OnnxOpenOptions {
  /** How to name an in-memory model in error messages (a path names itself). */
  label?: string;
}

export interface OnnxSessions {
  /** Execution providers in the order they are tried (cuda when installed, else cpu). */
  readonly providers: string[];
  /** Intra-op threads of every session. */
  readonly threads: number;
  open(model: string | Uint8Array, options?: OnnxOpenOptions): Promise<InferenceSession>;
}

export interface OnnxSessionsOptions {
  /** Forced providers, e.g. `['cpu']`; by default cuda (when installed) then cpu. */
  providers?: OnnxProvider[];
  /** Intra-op threads; by default one per core. */
  threads?: number;
}

const CUDA_INSTALL_HINT =
  'install onnxruntime-node\'s CUDA provider: set "onnxruntime-node": true in package.json "allowScripts", then run ' +
  '`ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci`';

/** Folder holding onnxruntime-node's native binding (where its installer puts the CUDA provider library). */
function nativeFolder(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
    return join(dirname(pkg), 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return undefined;
  }
}

/**
 * Whether the CUDA execution provider is installed. The npm package lists `cuda` as supported on linux/x64 even when
 * its libraries were not downloaded (`bundled: false`), so the library file is what tells.
 */
export function cudaProviderInstalled(): boolean {
  const folder = nativeFolder();
  if (folder === undefined) return false;
  const library = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  return existsSync(join(folder, library));
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]!.trim();
}

export function createOnnxSessions(options: OnnxSessionsOptions = {}): OnnxSessions {
  const threads = options.threads ?? availableParallelism();
  const forced = options.providers !== undefined;
  let providers: OnnxProvider[] = options.providers ?? (cudaProviderInstalled() ? ['cuda', 'cpu'] : ['cpu']);
  if (providers.length === 0) throw new UserError('expected at least one execution provider (cuda, cpu)', 'onnx providers');

  async function create(model: string | Uint8Array, list: OnnxProvider[]): Promise<InferenceSession> {
    const ort = await import('onnxruntime-node');
    const sessionOptions: InferenceSession.SessionOptions = {
      executionProviders: list,
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      // ORT's own log goes to stderr; keep it to errors (a failed CUDA load is reported through our message).
      logSeverityLevel: 3,
    };
    return typeof model === 'string'
      ? ort.InferenceSession.create(model, sessionOptions)
      : ort.InferenceSession.create(model, sessionOptions);
  }

  async function open(model: string | Uint8Array, openOptions: OnnxOpenOptions = {}): Promise<InferenceSession> {
    const label = typeof model === 'string' ? model : (openOptions.label ?? 'in-memory ONNX model');
    if (typeof model === 'string') {
      const info = await stat(model).catch(() => undefined);
      if (!info) throw new UserError('ONNX model file not found', model);
      if (!info.isFile()) throw new UserError('expected an ONNX model file, found a directory', model);
    }
    if (forced && providers.includes('cuda') && !cudaProviderInstalled()) {
      throw new UserError(`the CUDA execution provider is not installed; ${CUDA_INSTALL_HINT}`, label);
    }
    try {
      return await create(model, providers);
    } catch (error) {
      // ORT repeats the path ("Load model from … failed:"); the UserError already names it.
      const reason = firstLine(error).replace(/^Load model from .* failed:\s*/, '');
      if (providers.includes('cuda') && /cuda|provider|shared librar/i.test(reason)) {
        if (forced) throw new UserError(`the CUDA execution provider could not be loaded (${reason}); ${CUDA_INSTALL_HINT}`, label);
        // Installed but unusable (no GPU, driver mismatch): CPU for this and every later session.
        providers = providers.filter((p) => p !== 'cuda');
        if (providers.length === 0) providers = ['cpu'];
        return open(model, openOptions);
      }
      throw new UserError(`ONNX Runtime could not load this as an ONNX model: ${reason}`, label);
    }
  }

  return {
    get providers() {
      return [...providers];
    },
    threads,
    open,
  };
}

// ───────────────────────────── Signature check ─────────────────────────────

/**
 * An input or output a model must have. A number dimension must match (a symbolic one in the model accepts it);
 * a string dimension must be symbolic in the model (a size chosen at run time, e.g. the batch; names are not
 * compared since exporters name them freely); null accepts anything.
 */
export interface OnnxValueSpec {
  name: string;
  type: Tensor.Type;
  dims: (number | string | null)[];
}

export interface OnnxSignature {
  inputs: OnnxValueSpec[];
  outputs: OnnxValueSpec[];
}

type Metadata = InferenceSession['inputMetadata'][number];

function formatDims(dims: readonly (number | string | null)[]): string {
  return `[${dims.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/** What is wrong with one value, or undefined when it matches. */
function valueMismatch(kind: 'input' | 'output', spec: OnnxValueSpec, found: Metadata | undefined): string | undefined {
  const expected = `${spec.type} ${formatDims(spec.dims)}`;
  if (!found) return `${kind} '${spec.name}': missing (expected ${expected})`;
  if (!found.isTensor) return `${kind} '${spec.name}': expected tensor ${expected}, found a non-tensor value`;
  const what = `${kind} '${spec.name}': expected ${expected}, found ${found.type} ${formatDims(found.shape)}`;
  if (found.type !== spec.type) return what;
  // ORT reports an unknown shape as [] (indistinguishable from a scalar): nothing to check then.
  if (found.shape.length === 0 && spec.dims.length > 0) return undefined;
  if (found.shape.length !== spec.dims.length) return `${what} (rank ${spec.dims.length} vs ${found.shape.length})`;
  for (let i = 0; i < spec.dims.length; i++) {
    const want = spec.dims[i]!;
    const have = found.shape[i]!;
    if (want === null || typeof have === 'string') continue;
    if (typeof want === 'string') return `${what} (dimension ${i} must be variable, the model fixes it at ${have})`;
    if (want !== have) return `${what} (dimension ${i}: expected ${want}, found ${have})`;
  }
  return undefined;
}

/**
 * Checks a session against the inputs and outputs the caller will feed and fetch, before a long run starts. Every
 * expected value must be there and match; the model may not need inputs the caller does not know (it could not
 * feed them); extra outputs are fine.
 */
export function checkSignature(session: InferenceSession, modelPath: string, expected: OnnxSignature): void {
  const problems: string[] = [];
  const byName = (list: readonly Metadata[]) => new Map(list.map((m) => [m.name, m]));
  const inputs = byName(session.inputMetadata);
  const outputs = byName(session.outputMetadata);
  for (const spec of expected.inputs) {
    const problem = valueMismatch('input', spec, inputs.get(spec.name));
    if (problem) problems.push(problem);
  }
  const known = new Set(expected.inputs.map((s) => s.name));
  for (const name of inputs.keys()) {
    if (!known.has(name)) problems.push(`input '${name}': not expected (the model needs an input nobody feeds)`);
  }
  for (const spec of expected.outputs) {
    const problem = valueMismatch('output', spec, outputs.get(spec.name));
    if (problem) problems.push(problem);
  }
  if (problems.length > 0) {
    const has = (list: readonly Metadata[]) => list.map((m) => m.name).join(', ') || 'none';
    throw new UserError(
      `model signature does not match: ${problems.join('; ')} ` +
        `(model inputs: ${has(session.inputMetadata)}; outputs: ${has(session.outputMetadata)})`,
      modelPath,
    );
  }
}
