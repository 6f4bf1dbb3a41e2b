import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelFolder } from '../../../core/models/folder.js';
import { userErrorOf } from '../../helpers/errors.js';
import { featureGraph, writeClipFolder, writeDiffusersFolder, writeNeurodecodeFolder } from '../../helpers/models.js';

let root: string;
let counter = 0;
const fresh = () => join(root, `m${counter++}`);
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'nd-model-folder-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('readModelFolder: layouts detected from the files', () => {
  it('a neurodecode folder: model.json graphs with their declared signatures and test sizes', async () => {
    const dir = await writeNeurodecodeFolder(fresh(), {
      graphs: { features: featureGraph({ external: true }) },
      manifest: (m) => (m.graphs.features!.inputs[0]!.testDims = [2, 3, 8, 8]),
    });
    const folder = await readModelFolder('tiny', dir);
    expect(folder.layout).toBe('neurodecode');
    expect(folder.manifest?.source).toEqual({ checkpoint: 'random initialisation (test)', sha256: null });
    expect(folder.graphs.features?.file).toBe(join(dir, 'features.onnx'));
    expect(folder.graphs.features?.signature).toEqual({
      inputs: [{ name: 'image', type: 'float32', dims: ['batch', 'channels', 'height', 'width'] }],
      outputs: [{ name: 'features', type: 'float32', dims: ['batch', 'channels'] }],
    });
    expect(folder.graphs.features?.declared?.inputs[0]?.testDims).toEqual([2, 3, 8, 8]);
  });

  it('a transformers.js CLIP folder: the full-precision graphs, the variants left aside and said', async () => {
    const dir = await writeClipFolder(fresh(), { variants: ['quantized', 'fp16'] });
    const folder = await readModelFolder('clip', dir);
    expect(folder.layout).toBe('transformers-js');
    expect(Object.fromEntries(Object.entries(folder.graphs).map(([r, g]) => [r, g.file]))).toEqual({
      vision: join(dir, 'onnx', 'vision_model.onnx'),
      text: join(dir, 'onnx', 'text_model.onnx'),
    });
    expect(folder.files).toEqual({ config: join(dir, 'config.json'), tokenizer: join(dir, 'tokenizer.json') });
    expect(folder.notes).toEqual(['vision: using vision_model.onnx (full precision); left aside vision_model_fp16.onnx, vision_model_quantized.onnx']);
  });

  it('a CLIP folder with only quantized variants is refused, naming the file the metrics need', async () => {
    const dir = await writeClipFolder(fresh(), { variants: ['quantized'], fullPrecision: false });
    const error = await userErrorOf(readModelFolder('clip', dir));
    expect(error.message).toContain('onnx/vision_model.onnx is missing (found only vision_model_quantized.onnx)');
  });

  it('a diffusers/optimum Stable Diffusion folder: four graphs, tokenizer and scheduler files', async () => {
    const dir = await writeDiffusersFolder(fresh());
    const folder = await readModelFolder('sd', dir);
    expect(folder.layout).toBe('diffusers-onnx');
    expect(Object.keys(folder.graphs)).toEqual(['text_encoder', 'unet', 'vae_decoder', 'vae_encoder']);
    expect(folder.files).toEqual({
      model_index: join(dir, 'model_index.json'),
      scheduler: join(dir, 'scheduler', 'scheduler_config.json'),
      vocab: join(dir, 'tokenizer', 'vocab.json'),
      merges: join(dir, 'tokenizer', 'merges.txt'),
    });
    await unlink(join(dir, 'unet', 'model.onnx'));
    expect((await userErrorOf(readModelFolder('sd', dir))).message).toContain(`needs unet/model.onnx: expected ${join(dir, 'unet', 'model.onnx')}`);
  });
});

describe('readModelFolder: bad folders', () => {
  it('a folder that does not exist, a file, and an unknown layout each say what was expected', async () => {
    const absent = join(root, 'absent');
    const error = await userErrorOf(readModelFolder('alexnet', absent));
    expect(error.message).toContain(`${absent}: model folder 'alexnet' does not exist`);
    expect(error.message).toContain('model.json + *.onnx');
    const file = join(root, 'a-file');
    await writeFile(file, 'x');
    expect((await userErrorOf(readModelFolder('x', file))).message).toContain('must be a folder, found a file');
    const empty = await writeNeurodecodeFolder(fresh());
    await unlink(join(empty, 'model.json'));
    expect((await userErrorOf(readModelFolder('x', empty))).message).toContain('is in no known layout');
  });

  it('model.json is validated: the file and each offending field are named', async () => {
    const dir = await writeNeurodecodeFolder(fresh(), {
      manifest: (m) => {
        (m.source as { sha256: unknown }).sha256 = 'not-a-digest';
        (m.graphs.features!.inputs[0] as { type: string }).type = 'float';
        delete (m as Partial<typeof m>).licence;
      },
    });
    const error = await userErrorOf(readModelFolder('x', dir));
    expect(error.message).toContain(join(dir, 'model.json'));
    expect(error.message).toContain('/source/sha256');
    expect(error.message).toContain('/graphs/features/inputs/0/type: must be one of');
    expect(error.message).toContain("missing required 'licence'");
  });

  it('a graph model.json names but the folder lacks is named with its expected path', async () => {
    const dir = await writeNeurodecodeFolder(fresh());
    const manifest = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    manifest.graphs.features.file = 'alexnet.onnx';
    await writeFile(join(dir, 'model.json'), JSON.stringify(manifest));
    const error = await userErrorOf(readModelFolder('x', dir));
    expect(error.message).toContain(`names graph 'features' as alexnet.onnx, which is missing: expected ${join(dir, 'alexnet.onnx')}`);
  });
});
