import { mkdtemp, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOnnxSessions } from '../../../core/compute/onnx.js';
import { encodeOnnxModel } from '../../../core/compute/onnx-model.js';
import { checkExternalData, scanOnnxFile } from '../../../core/models/onnx-scan.js';
import { featureGraph, writeGraph } from '../../helpers/models.js';
import { userErrorOf } from '../../helpers/errors.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nd-onnx-scan-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const image = new Tensor('float32', Float32Array.from([1, 2, 3, 4, 10, 20, 30, 40]), [1, 2, 2, 2]);

describe('ONNX external data', () => {
  it('the writer puts external initializers in a data file that ONNX Runtime loads from beside the model', async () => {
    const path = join(dir, 'external.onnx');
    await writeGraph(path, featureGraph({ external: true }));
    const data = await readFile(`${path}.data`);
    expect(Array.from(new Float32Array(data.buffer, data.byteOffset, 1))).toEqual([2]);
    const session = await createOnnxSessions({ threads: 1 }).open(path);
    const { features } = await session.run({ image });
    expect(Array.from(features!.data as Float32Array)).toEqual([5, 50]); // 2 · channel means 2.5 and 25
  });

  it('the scanner lists the external files and their tensors; an inline model has none', async () => {
    const path = join(dir, 'scan.onnx');
    await writeGraph(path, featureGraph({ external: true }));
    const scan = await scanOnnxFile(path);
    expect(scan.files).toEqual([`${path}.data`]);
    expect(scan.external).toEqual([{ tensor: 'scale', location: 'scan.onnx.data', path: `${path}.data`, offset: 0, length: 4 }]);
    await expect(checkExternalData(path, scan)).resolves.toBeUndefined();
    const inline = join(dir, 'inline.onnx');
    await writeFile(inline, encodeOnnxModel(featureGraph()));
    expect(await scanOnnxFile(inline)).toEqual({ external: [], files: [] });
  });

  it('skips large raw_data without reading it: a 4 MB initializer scans from a few reads', async () => {
    const path = join(dir, 'big.onnx');
    const graph = featureGraph();
    graph.initializers!.push({ name: 'unused', dims: [1 << 20], data: new Float32Array(1 << 20) });
    await writeGraph(path, graph);
    expect(await scanOnnxFile(path)).toEqual({ external: [], files: [] });
  });

  it('a missing external-data file is named, with where it was expected', async () => {
    const path = join(dir, 'missing.onnx');
    await writeGraph(path, featureGraph({ external: true }));
    await unlink(`${path}.data`);
    const error = await userErrorOf(async () => checkExternalData(path, await scanOnnxFile(path)));
    expect(error.message).toContain(path);
    expect(error.message).toContain("external-data file 'missing.onnx.data' (weights of 'scale') is missing");
    expect(error.message).toContain(`expected ${path}.data`);
  });

  it('a truncated external-data file is reported with the bytes needed', async () => {
    const path = join(dir, 'short-data.onnx');
    await writeGraph(path, featureGraph({ external: true }));
    await truncate(`${path}.data`, 2);
    const error = await userErrorOf(async () => checkExternalData(path, await scanOnnxFile(path)));
    expect(error.message).toMatch(/short-data\.onnx\.data' is truncated: 'scale' needs bytes up to 4, the file has 2/);
  });

  it('a truncated .onnx is reported as truncated, naming the file, at every cut inside the graph', async () => {
    const bytes = encodeOnnxModel(featureGraph());
    const path = join(dir, 'cut.onnx');
    for (const cut of [bytes.length - 1, Math.floor(bytes.length / 2), 20]) {
      await writeFile(path, bytes.subarray(0, cut));
      const error = await userErrorOf(scanOnnxFile(path));
      expect(error.message).toContain(path);
      expect(error.message).toMatch(/truncated|holds no graph/);
    }
    await writeFile(path, bytes.subarray(0, bytes.length - 1));
    expect((await userErrorOf(scanOnnxFile(path))).message).toContain('the ONNX file is truncated');
    await writeFile(path, new Uint8Array(0));
    expect((await userErrorOf(scanOnnxFile(path))).message).toContain('empty');
  });

  it('a text file is not protobuf', async () => {
    const path = join(dir, 'text.onnx');
    await writeFile(path, 'this is a text file, not a protobuf');
    expect((await userErrorOf(scanOnnxFile(path))).message).toMatch(/not an ONNX model: invalid protobuf|truncated/);
  });
});
