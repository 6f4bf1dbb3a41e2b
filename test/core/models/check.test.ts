import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOnnxSessions } from '../../../core/compute/onnx.js';
import { checkModel, listModels } from '../../../core/models/check.js';
import type { ModelManifest } from '../../../core/models/manifest.js';
import { ModelStore } from '../../../core/models/store.js';
import { userErrorOf } from '../../helpers/errors.js';
import { featureGraph, writeClipFolder, writeDiffusersFolder, writeNeurodecodeFolder } from '../../helpers/models.js';

let root: string;
let counter = 0;
const fresh = () => join(root, `m${counter++}`);
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'nd-model-check-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const sessions = createOnnxSessions({ threads: 1, providers: ['cpu'] });
const storeFor = (configured: Record<string, string> = {}) => new ModelStore({ cwd: root, configured }, sessions);
const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

describe('models check', () => {
  it('opens each graph, runs it on a small input from the session metadata, reports sizes, digests and provider', async () => {
    const dir = await writeNeurodecodeFolder(fresh(), { graphs: { features: featureGraph({ external: true }) } });
    const result = await checkModel(storeFor({ tiny: dir }), 'tiny');
    expect(result).toMatchObject({ name: 'tiny', dir, layout: 'neurodecode' });
    const [graph] = result.graphs;
    expect(graph!.provider).toBe('cpu');
    expect(graph!.files.map((f) => f.path)).toEqual([join(dir, 'features.onnx'), join(dir, 'features.onnx.data')]);
    expect(graph!.files[0]!.sha256).toBe(await sha256(join(dir, 'features.onnx')));
    expect(graph!.files[1]).toMatchObject({ bytes: 4, sha256: await sha256(join(dir, 'features.onnx.data')) });
    // symbolic dims: batch 1, every other 8; the outputs' sizes are what the graph gave
    expect(graph!.testInputs).toEqual({ image: [1, 8, 8, 8] });
    expect(graph!.testOutputs).toEqual({ features: [1, 8] });
    expect(graph!.inputs).toEqual([{ name: 'image', type: 'float32', dims: ['batch', 'channels', 'height', 'width'] }]);
  });

  it("model.json's testDims set the test input size", async () => {
    const dir = await writeNeurodecodeFolder(fresh(), { manifest: (m) => (m.graphs.features!.inputs[0]!.testDims = [2, 3, 5, 5]) });
    const [graph] = (await checkModel(storeFor(), dir)).graphs;
    expect(graph!.testOutputs).toEqual({ features: [2, 3] });
  });

  it('checks the ONNX layouts too: CLIP (int64 ids) and Stable Diffusion (int32 ids, UNet weights in weights.pb)', async () => {
    const clip = await checkModel(storeFor(), await writeClipFolder(fresh()));
    expect(clip.graphs.map((g) => [g.role, g.testInputs])).toEqual([
      ['vision', { pixel_values: [1, 3, 4, 4] }],
      ['text', { input_ids: [1, 8] }],
    ]);
    const sd = await checkModel(storeFor(), await writeDiffusersFolder(fresh()));
    expect(sd.graphs.map((g) => g.role)).toEqual(['text_encoder', 'unet', 'vae_decoder', 'vae_encoder']);
    expect(sd.graphs[1]!.files.map((f) => f.path.split('/').slice(-2).join('/'))).toEqual(['unet/model.onnx', 'unet/weights.pb']);
  });

  it('a graph whose input name, dtype or shape differs from model.json is refused, naming the file and the difference', async () => {
    const cases: Array<[(m: ModelManifest) => void, string]> = [
      [(m) => (m.graphs.features!.inputs[0]!.name = 'pixel_values'), "input 'pixel_values': missing"],
      [(m) => (m.graphs.features!.inputs[0]!.type = 'float16'), "input 'image': expected float16 [batch, channels, height, width], found float32"],
      [(m) => (m.graphs.features!.outputs[0]!.dims = ['batch', 'channels', 1]), "output 'features': expected float32 [batch, channels, 1], found float32 [batch, channels] (rank 3 vs 2)"],
    ];
    for (const [edit, expected] of cases) {
      const dir = await writeNeurodecodeFolder(fresh(), { manifest: edit });
      const error = await userErrorOf(checkModel(storeFor(), dir));
      expect(error.message).toContain(join(dir, 'features.onnx'));
      expect(error.message).toContain(expected);
    }
    const fixed = await writeNeurodecodeFolder(fresh(), { graphs: { features: featureGraph({ channels: 3 }) } });
    const manifest = JSON.parse(await readFile(join(fixed, 'model.json'), 'utf8'));
    manifest.graphs.features.inputs[0].dims = ['batch', 4, 'height', 'width'];
    await writeFile(join(fixed, 'model.json'), JSON.stringify(manifest));
    expect((await userErrorOf(checkModel(storeFor(), fixed))).message).toContain('dimension 1: expected 4, found 3');
  });

  it('a truncated .onnx and a missing external-data file are named before ONNX Runtime sees them', async () => {
    const cut = await writeNeurodecodeFolder(fresh());
    await truncate(join(cut, 'features.onnx'), 40);
    const error = await userErrorOf(checkModel(storeFor(), cut));
    expect(error.message).toContain(`${join(cut, 'features.onnx')}: the ONNX file is truncated`);
    const external = await writeNeurodecodeFolder(fresh(), { graphs: { features: featureGraph({ external: true }) } });
    await unlink(join(external, 'features.onnx.data'));
    expect((await userErrorOf(checkModel(storeFor(), external))).message).toContain("external-data file 'features.onnx.data' (weights of 'scale') is missing");
  });

  it('non-finite outputs on the test input are refused, naming the output', async () => {
    const graph = featureGraph();
    graph.nodes.push({ op: 'Log', inputs: ['features'], outputs: ['logs'] }); // log of negative means: NaN
    graph.outputs = [{ name: 'logs', type: 'float32', dims: ['batch', 'channels'] }];
    const dir = await writeNeurodecodeFolder(fresh(), { graphs: { features: graph } });
    const error = await userErrorOf(checkModel(storeFor(), dir));
    expect(error.message).toContain(join(dir, 'features.onnx'));
    expect(error.message).toMatch(/output 'logs' holds a non-finite value \(NaN\) at flat index \d+ on the test input/);
  });
});

describe('models list', () => {
  it('every named model: found with its layout, missing, or wrong with why', async () => {
    const found = await writeClipFolder(fresh());
    const wrong = await writeNeurodecodeFolder(fresh());
    await unlink(join(wrong, 'features.onnx'));
    const missing = join(root, 'never-exported');
    const listings = await listModels(storeFor({ clip: found, alexnet: wrong, swav: missing }));
    expect(listings).toEqual([
      { name: 'clip', dir: found, source: 'config', status: 'found', layout: 'transformers-js', graphs: ['vision', 'text'] },
      expect.objectContaining({ name: 'alexnet', status: 'wrong', problem: expect.stringContaining("names graph 'features' as features.onnx, which is missing") }),
      { name: 'swav', dir: missing, source: 'config', status: 'missing', problem: 'the folder does not exist' },
    ]);
  });
});

describe('ModelStore.require (the pre-run check)', () => {
  const requirement = (model: string, graphs: Record<string, null> = { features: null }) => ({ role: 'feature network', model, graphs, produce: 'python3 metrics/x/export.py --out <folder>' });

  it('keeps the sessions it opened for the plugin that runs them', async () => {
    const dir = await writeNeurodecodeFolder(fresh());
    const store = storeFor({ tiny: dir });
    const folder = await store.require(requirement('tiny'), "metric 'x'");
    expect(await store.session(folder.graphs.features!)).toBe(await store.session(folder.graphs.features!));
    expect(await store.folder('tiny', 'x')).toBe(folder);
  });

  it('refuses a folder in another layout than the plugin reads, and a graph role the folder lacks', async () => {
    const clip = await writeClipFolder(fresh());
    const wrongLayout = await userErrorOf(storeFor({ clip }).require(requirement('clip'), "metric 'x'"));
    expect(wrongLayout.message).toContain(`metric 'x', model 'clip' (feature network): expected a neurodecode model folder (model.json), found a transformers-js one at ${clip}`);
    const dir = await writeNeurodecodeFolder(fresh());
    const noRole = await userErrorOf(storeFor({ tiny: dir }).require(requirement('tiny', { features: null, pool3: null }), "metric 'x'"));
    expect(noRole.message).toContain(`the folder ${dir} has no graph 'pool3' (it has features); make it with: python3 metrics/x/export.py`);
  });
});
