/**
 * TensorFlow.js backend choice: `@tensorflow/tfjs-node-gpu`, then `@tensorflow/tfjs-node` when the user installed
 * them (optional peers: their installers download native TensorFlow), else the WebAssembly backend, else the plain
 * JavaScript one. Forced by the `backend` option (the CLI flag) or else by NEURODECODE_TF_BACKEND.
 *
 * The tfjs engine is process-global: `load()` makes its backend the active one each time it is called, so code
 * holding one provider computes where that provider says even if another provider was loaded since.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type * as tfCore from '@tensorflow/tfjs-core';
import { UserError } from '../errors.js';

export type TfModule = typeof tfCore;

export const TF_BACKENDS = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type TfBackendName = (typeof TF_BACKENDS)[number];
export type TfBackendPreference = TfBackendName | 'auto';

export const TF_BACKEND_ENV = 'NEURODECODE_TF_BACKEND';

/** The npm package that provides each backend. */
export const TF_BACKEND_PACKAGES: Record<TfBackendName, string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

export interface TensorflowProvider {
  /** The backend that will be (or was) chosen, e.g. `tensorflow-gpu`, `tensorflow`, `wasm`, `cpu`. */
  readonly preference: string | undefined;
  load(): Promise<{ tf: TfModule; backend: string }>;
}

export interface TensorflowProviderOptions {
  /** `auto` (default), or a backend to force; wins over the environment variable. */
  backend?: string;
  /** Where NEURODECODE_TF_BACKEND is read (tests pass their own). */
  env?: Record<string, string | undefined>;
}

const requireHere = createRequire(import.meta.url);

function isInstalled(name: TfBackendName): boolean {
  try {
    requireHere.resolve(TF_BACKEND_PACKAGES[name]);
    return true;
  } catch {
    return false;
  }
}

export interface TfBackendAvailability {
  backend: TfBackendName;
  package: string;
  /** The package resolves from here (it may still fail to load, e.g. no CUDA for tfjs-node-gpu). */
  installed: boolean;
}

/** Which backends are installed, in auto order, without importing any of them (cheap: for `bench` and start-up). */
export function tensorflowAvailability(): TfBackendAvailability[] {
  return TF_BACKENDS.map((backend) => ({ backend, package: TF_BACKEND_PACKAGES[backend], installed: isInstalled(backend) }));
}

/**
 * The start-up line, e.g. "tensorflow.js backend: wasm (tfjs-node not installed: npm i @tensorflow/tfjs-node for
 * native speed)".
 */
export function describeTensorflowBackend(backend: string, availability = tensorflowAvailability()): string {
  const line = `tensorflow.js backend: ${backend}`;
  if (backend === 'tensorflow' || backend === 'tensorflow-gpu') return line;
  const native = availability.find((a) => a.backend === 'tensorflow');
  if (native?.installed) return `${line} (tfjs-node is installed but was not chosen)`;
  return `${line} (tfjs-node not installed: npm i @tensorflow/tfjs-node for native speed)`;
}

/** The preference from the option, else the environment, else auto; an unknown name is a UserError. */
export function resolveTfBackendPreference(options: TensorflowProviderOptions = {}): TfBackendPreference {
  const env = options.env ?? process.env;
  const fromOption = options.backend !== undefined && options.backend !== '';
  const value = fromOption ? options.backend! : (env[TF_BACKEND_ENV] ?? '');
  if (value === '') return 'auto';
  if (value === 'auto' || (TF_BACKENDS as readonly string[]).includes(value)) return value as TfBackendPreference;
  const where = fromOption ? '--backend' : TF_BACKEND_ENV;
  throw new UserError(`unknown TensorFlow.js backend '${value}': expected auto, ${TF_BACKENDS.join(', ')}`, where);
}

/** Imports a package that may be absent, by a computed name so that TypeScript does not require it. */
async function importOptional(name: string): Promise<unknown> {
  return import(name);
}

function reasonOf(error: unknown): string {
  const text = error instanceof Error ? error.message : typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : String(error);
  return text.split('\n')[0]!.trim();
}

/** Imports and activates one backend; throws a UserError saying how to fix it when it cannot. */
async function activate(name: TfBackendName): Promise<TfModule> {
  const pkg = TF_BACKEND_PACKAGES[name];
  if (!isInstalled(name)) {
    throw new UserError(`${pkg} is not installed: npm install ${pkg}`, `TensorFlow.js backend '${name}'`);
  }
  try {
    if (name === 'tensorflow' || name === 'tensorflow-gpu') {
      // tfjs-node re-exports all of tfjs (core ops included) and registers the `tensorflow` backend.
      const tf = (await importOptional(pkg)) as TfModule;
      if (!(await tf.setBackend('tensorflow'))) throw new Error('the tensorflow backend did not initialise');
      return tf;
    }
    const tf = await import('@tensorflow/tfjs-core');
    if (name === 'wasm') {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      // In Node the .wasm binaries are read from the package's dist folder (next to its main file).
      wasm.setWasmPaths(`${dirname(requireHere.resolve(pkg))}/`);
    } else {
      await import('@tensorflow/tfjs-backend-cpu');
    }
    if (!(await tf.setBackend(name))) throw new Error(`the ${name} backend did not initialise`);
    if (name === 'cpu') silenceNodeAdvert(tf);
    return tf;
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`${pkg} failed to load: ${reasonOf(error)}`, `TensorFlow.js backend '${name}'`);
  }
}

/**
 * The cpu backend prints a banner recommending tfjs-node on first use; our start-up line already says that, and
 * the banner would land in the middle of progress bars.
 */
function silenceNodeAdvert(tf: TfModule): void {
  const backend = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (backend && 'firstUse' in backend) backend.firstUse = false;
}

export function createTensorflowProvider(options: TensorflowProviderOptions = {}): TensorflowProvider {
  const requested = resolveTfBackendPreference(options);
  let chosen: TfBackendName | undefined;
  let loading: Promise<{ tf: TfModule; backend: TfBackendName }> | undefined;

  async function choose(): Promise<{ tf: TfModule; backend: TfBackendName }> {
    if (requested !== 'auto') return { tf: await activate(requested), backend: requested };
    const failures: string[] = [];
    for (const candidate of TF_BACKENDS) {
      if (!isInstalled(candidate)) continue;
      try {
        return { tf: await activate(candidate), backend: candidate };
      } catch (error) {
        // An installed native backend that cannot load (no GPU, missing libraries) falls through to the next.
        failures.push(reasonOf(error));
      }
    }
    throw new UserError(`no TensorFlow.js backend could be loaded: ${failures.join('; ') || 'none installed'}`);
  }

  return {
    get preference() {
      if (chosen) return chosen;
      if (requested !== 'auto') return requested;
      return tensorflowAvailability().find((a) => a.installed)?.backend;
    },
    async load() {
      loading ??= choose().then((result) => {
        chosen = result.backend;
        return result;
      });
      // A failed load is not cached, so that a retry (after installing) reports afresh.
      const result = await loading.catch((error: unknown) => {
        loading = undefined;
        throw error;
      });
      const engineName = result.backend === 'tensorflow-gpu' ? 'tensorflow' : result.backend;
      if (result.tf.getBackend() !== engineName) await result.tf.setBackend(engineName);
      return result;
    },
  };
}
