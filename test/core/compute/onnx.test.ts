import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSignature, createOnnxSessions, cudaProviderInstalled, type OnnxSignature } from '../../../core/compute/onnx.js';
import { encodeOnnxModel } from '../../../core/compute/onnx-model.js';
import { userErrorOf } from '../../helpers/errors.js';

/** y = 2·x·Wᵀ + b with W = [[1,2,3],[4,5,6]], b = [0.5, -1]; the batch dimension is symbolic. */
const gemmModel = encodeOnnxModel({
  inputs: [{ name: 'x', type: 'float32', dims: ['batch', 3] }],
  outputs: [{ name: 'y', type: 'float32', dims: ['batch', 2] }],
  nodes: [{ op: 'Gemm', inputs: ['x', 'W', 'b'], outputs: ['y'], attributes: { transB: 1, alpha: { float: 2 } } }],
  initializers: [
    { name: 'W', dims: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
    { name: 'b', dims: [2], data: Float32Array.from([0.5, -1]) },
  ],
});

/** A 2×2 convolution with bias over one 3×3 channel (fixed shapes). */
const convModel = encodeOnnxModel({
  inputs: [{ name: 'image', type: 'float32', dims: [1, 1, 3, 3] }],
  outputs: [{ name: 'features', type: 'float32', dims: [1, 1, 2, 2] }],
  nodes: [{ op: 'Conv', inputs: ['image', 'K', 'B'], outputs: ['features'], attributes: { kernel_shape: [2, 2] } }],
  initializers: [
    { name: 'K', dims: [1, 1, 2, 2], data: Float32Array.from([1, 2, 0, -1]) },
    { name: 'B', dims: [1], data: Float32Array.from([10]) },
  ],
});

const gemmSignature: OnnxSignature = {
  inputs: [{ name: 'x', type: 'float32', dims: ['batch', 3] }],
  outputs: [{ name: 'y', type: 'float32', dims: [null, 2] }],
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'neurodecode-onnx-'));
  await writeFile(join(dir, 'gemm.onnx'), gemmModel);
  await writeFile(join(dir, 'not-onnx.onnx'), 'this is a text file, not a protobuf');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('createOnnxSessions', () => {
  const sessions = createOnnxSessions({ threads: 1 });

  const cuda = cudaProviderInstalled();

  it('uses cuda then cpu when the CUDA provider library is installed, else cpu only', () => {
    expect(sessions.providers).toEqual(cuda ? ['cuda', 'cpu'] : ['cpu']);
    expect(sessions.threads).toBe(1);
  });

  it('runs a Gemm with initializers from a file: 2·x·Wᵀ + b', async () => {
    const session = await sessions.open(join(dir, 'gemm.onnx'));
    const x = new Tensor('float32', Float32Array.from([1, 0, 0, 0, 1, 1]), [2, 3]);
    const { y } = await session.run({ x });
    expect(y!.dims).toEqual([2, 2]);
    // row 0: 2·[1, 4] + b; row 1: 2·[2+3, 5+6] + b
    expect(Array.from(y!.data as Float32Array)).toEqual([2.5, 7, 10.5, 21]);
  });

  it('runs a Conv from bytes: y[i,j] = x[i,j] + 2·x[i,j+1] − x[i+1,j+1] + 10', async () => {
    const session = await sessions.open(convModel);
    const image = new Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), [1, 1, 3, 3]);
    const { features } = await session.run({ image });
    expect(features!.dims).toEqual([1, 1, 2, 2]);
    expect(Array.from(features!.data as Float32Array)).toEqual([10, 12, 16, 18]);
  });

  it('names a missing file', async () => {
    const path = join(dir, 'absent.onnx');
    const error = await userErrorOf(sessions.open(path));
    expect(error.message).toContain(path);
    expect(error.message).toContain('not found');
  });

  it('rejects a directory and a file that is not ONNX with a UserError naming it', async () => {
    await mkdir(join(dir, 'folder.onnx'));
    expect((await userErrorOf(sessions.open(join(dir, 'folder.onnx')))).message).toContain('directory');
    const error = await userErrorOf(sessions.open(join(dir, 'not-onnx.onnx')));
    expect(error.message).toContain(join(dir, 'not-onnx.onnx'));
    expect(error.message).toMatch(/could not load this as an ONNX model: protobuf parsing failed/i);
    const bytes = await userErrorOf(sessions.open(Uint8Array.from([1, 2, 3, 4]), { label: 'vae-decoder' }));
    expect(bytes.message).toMatch(/^vae-decoder: /);
  });

  it.skipIf(cuda)('forcing CUDA where it is not installed says how to install it', async () => {
    const forced = createOnnxSessions({ providers: ['cuda'] });
    const error = await userErrorOf(forced.open(gemmModel));
    expect(error.message).toContain('CUDA execution provider is not installed');
    expect(error.message).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12');
  });
});

describe('checkSignature', () => {
  const sessions = createOnnxSessions({ threads: 1 });

  it('reads what ONNX Runtime reports: names, element types, fixed and symbolic dimensions', async () => {
    const session = await sessions.open(gemmModel);
    expect(session.inputMetadata).toEqual([{ name: 'x', isTensor: true, type: 'float32', shape: ['batch', 3] }]);
    expect(session.outputMetadata).toEqual([{ name: 'y', isTensor: true, type: 'float32', shape: ['batch', 2] }]);
  });

  it('passes on a matching signature, with fixed sizes accepted by symbolic dimensions', async () => {
    const session = await sessions.open(gemmModel);
    expect(() => checkSignature(session, 'gemm.onnx', gemmSignature)).not.toThrow();
    const fixedBatch: OnnxSignature = {
      inputs: [{ name: 'x', type: 'float32', dims: [8, 3] }],
      outputs: [{ name: 'y', type: 'float32', dims: [8, 2] }],
    };
    expect(() => checkSignature(session, 'gemm.onnx', fixedBatch)).not.toThrow();
  });

  it('fails naming the model, the value, and what was expected vs found', async () => {
    const session = await sessions.open(gemmModel);
    const check = (expected: OnnxSignature) => userErrorOf(() => checkSignature(session, 'models/gemm.onnx', expected));

    const wrongSize = await check({ ...gemmSignature, inputs: [{ name: 'x', type: 'float32', dims: ['batch', 4] }] });
    expect(wrongSize.message).toMatch(/^models\/gemm\.onnx: /);
    expect(wrongSize.message).toContain("input 'x': expected float32 [batch, 4], found float32 [batch, 3] (dimension 1: expected 4, found 3)");

    const wrongType = await check({ ...gemmSignature, outputs: [{ name: 'y', type: 'float16', dims: [null, 2] }] });
    expect(wrongType.message).toContain("output 'y': expected float16 [?, 2], found float32 [batch, 2]");

    const wrongRank = await check({ ...gemmSignature, inputs: [{ name: 'x', type: 'float32', dims: [3] }] });
    expect(wrongRank.message).toContain('(rank 1 vs 2)');

    const renamed = await check({ ...gemmSignature, inputs: [{ name: 'latent', type: 'float32', dims: [null, 3] }] });
    expect(renamed.message).toContain("input 'latent': missing (expected float32 [?, 3])");
    expect(renamed.message).toContain("input 'x': not expected");
    expect(renamed.message).toContain('model inputs: x; outputs: y');
  });

  it('requires a variable dimension where the caller chooses the size', async () => {
    const session = await sessions.open(convModel);
    const error = await userErrorOf(() =>
      checkSignature(session, 'conv.onnx', {
        inputs: [{ name: 'image', type: 'float32', dims: ['batch', 1, 3, 3] }],
        outputs: [],
      }),
    );
    expect(error.message).toContain('dimension 0 must be variable, the model fixes it at 1');
  });
});
