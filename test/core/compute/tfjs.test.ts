import { describe, expect, it } from 'vitest';
import { isUserError } from '../../../core/errors.js';
import { jsMatmul } from '../../../core/compute/linalg.js';
import {
  createTensorflowProvider,
  describeTensorflowBackend,
  resolveTfBackendPreference,
  tensorflowAvailability,
  type TfModule,
} from '../../../core/compute/tfjs.js';
import { Rng } from '../../../core/rng.js';
import { matrix } from '../../../core/tensor.js';

/** No NEURODECODE_TF_BACKEND from the machine running the tests. */
const noEnv = {};

async function userErrorOf(run: () => unknown): Promise<Error> {
  try {
    await run();
  } catch (error) {
    expect(isUserError(error), String(error)).toBe(true);
    return error as Error;
  }
  throw new Error('expected a UserError');
}

/** A·B for A = [[1,2,3],[4,5,6]], B = [[7,8],[9,10],[11,12]] is [[58,64],[139,154]]; also with Bᵀ stored. */
async function checkSmallMatmul(tf: TfModule): Promise<void> {
  const a = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
  const b = tf.tensor2d([7, 8, 9, 10, 11, 12], [3, 2]);
  const bt = tf.tensor2d([7, 9, 11, 8, 10, 12], [2, 3]);
  expect(Array.from(await tf.matMul(a, b).data())).toEqual([58, 64, 139, 154]);
  expect(Array.from(await tf.matMul(a, bt, false, true).data())).toEqual([58, 64, 139, 154]);
  tf.dispose([a, b, bt]);
}

/** Odd sizes that cross the kernels' tile edges, against the float64-accumulating JS reference. */
async function checkRandomMatmul(tf: TfModule): Promise<void> {
  const rng = new Rng(7);
  const fill = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  const A = matrix(37, 53, fill(37 * 53));
  const B = matrix(29, 53, fill(29 * 53));
  const expected = jsMatmul(A, B, { transB: true }).data;
  const product = tf.matMul(tf.tensor2d(A.data, [37, 53]), tf.tensor2d(B.data, [29, 53]), false, true);
  expect(product.shape).toEqual([37, 29]);
  const got = await product.data();
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(got[i]! - expected[i]!));
  expect(worst).toBeLessThan(1e-4);
}

describe('resolveTfBackendPreference', () => {
  it('takes the option over the environment, the environment over auto', () => {
    expect(resolveTfBackendPreference({ env: noEnv })).toBe('auto');
    expect(resolveTfBackendPreference({ env: { NEURODECODE_TF_BACKEND: 'cpu' } })).toBe('cpu');
    expect(resolveTfBackendPreference({ backend: 'wasm', env: { NEURODECODE_TF_BACKEND: 'cpu' } })).toBe('wasm');
    expect(resolveTfBackendPreference({ backend: 'auto', env: { NEURODECODE_TF_BACKEND: 'cpu' } })).toBe('auto');
  });

  it('rejects an unknown name, saying where it came from and what is accepted', async () => {
    const fromEnv = await userErrorOf(() => resolveTfBackendPreference({ env: { NEURODECODE_TF_BACKEND: 'webgl' } }));
    expect(fromEnv.message).toBe(
      "NEURODECODE_TF_BACKEND: unknown TensorFlow.js backend 'webgl': expected auto, tensorflow-gpu, tensorflow, wasm, cpu",
    );
    const fromFlag = await userErrorOf(() => createTensorflowProvider({ backend: 'gpu', env: noEnv }));
    expect(fromFlag.message).toMatch(/^--backend: unknown TensorFlow.js backend 'gpu'/);
  });
});

/** These tests describe this workplace, where the native packages cannot be installed. */
const nativeInstalled = tensorflowAvailability().some((a) => a.installed && a.backend.startsWith('tensorflow'));

describe.skipIf(nativeInstalled)('availability', () => {
  it('finds wasm and cpu installed and the native packages absent, and says so on the start-up line', () => {
    const availability = tensorflowAvailability();
    expect(availability.map((a) => [a.backend, a.installed])).toEqual([
      ['tensorflow-gpu', false],
      ['tensorflow', false],
      ['wasm', true],
      ['cpu', true],
    ]);
    expect(describeTensorflowBackend('wasm', availability)).toBe(
      'tensorflow.js backend: wasm (tfjs-node not installed: npm i @tensorflow/tfjs-node for native speed)',
    );
    expect(describeTensorflowBackend('tensorflow', availability)).toBe('tensorflow.js backend: tensorflow');
  });
});

describe('createTensorflowProvider', () => {
  it.skipIf(nativeInstalled)('auto chooses wasm here, once, and it multiplies correctly', async () => {
    const provider = createTensorflowProvider({ env: noEnv });
    expect(provider.preference).toBe('wasm');
    const first = await provider.load();
    expect(first.backend).toBe('wasm');
    expect(first.tf.getBackend()).toBe('wasm');
    const second = await provider.load();
    expect(second.tf).toBe(first.tf);
    await checkSmallMatmul(first.tf);
    await checkRandomMatmul(first.tf);
  });

  it('forcing cpu (by the environment) works and multiplies correctly; loading reactivates its own backend', async () => {
    const cpu = createTensorflowProvider({ env: { NEURODECODE_TF_BACKEND: 'cpu' } });
    expect(cpu.preference).toBe('cpu');
    const { tf, backend } = await cpu.load();
    expect(backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    await checkSmallMatmul(tf);
    await checkRandomMatmul(tf);

    const wasm = createTensorflowProvider({ backend: 'wasm', env: noEnv });
    expect((await wasm.load()).tf.getBackend()).toBe('wasm');
    expect((await cpu.load()).tf.getBackend()).toBe('cpu');
  });

  it.skipIf(nativeInstalled)('forcing a native backend that is not installed says which package to install', async () => {
    const provider = createTensorflowProvider({ backend: 'tensorflow', env: noEnv });
    expect(provider.preference).toBe('tensorflow');
    const error = await userErrorOf(() => provider.load());
    expect(error.message).toBe(
      "TensorFlow.js backend 'tensorflow': @tensorflow/tfjs-node is not installed: npm install @tensorflow/tfjs-node",
    );
    const gpu = await userErrorOf(() => createTensorflowProvider({ backend: 'tensorflow-gpu', env: noEnv }).load());
    expect(gpu.message).toContain('npm install @tensorflow/tfjs-node-gpu');
  });
});
