/**
 * The `vdvae` generator on the tiny VDVAE (test/fixtures/vdvae/: ImageNet-64's block layout and zdim 16 at width 16,
 * exported by generators/vdvae/export.py): latent sizes, the graphs and the whole generator against the torch
 * reference of Brain-Diffuser's extraction and reconstruction, keyed noise, resume, bad input, and one run end to end.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { FittedGenerator, Generation, StimulusBatch } from '../../core/contracts.js';
import { seededNoise } from '../../core/diffusion/noise.js';
import { resizeImage } from '../../core/io/image.js';
import type { ModelStore } from '../../core/models/store.js';
import { parseSpecFile } from '../../core/pipeline.js';
import { ExperimentRunner } from '../../core/runner.js';
import type { ImageBatch, Matrix } from '../../core/tensor.js';
import { TOKENS } from '../../core/tokens.js';
import { encoderInput, pixelNoise, quantise } from '../../generators/vdvae/images.js';
import { decoderResolutions, LatentLayout } from '../../generators/vdvae/layout.js';
import { IMAGENET64 } from '../../generators/vdvae/schema.js';
import { openVdvaeGraphs, type VdvaeGraphs } from '../../generators/vdvae/vdvae-graphs.js';
import { abortAtTick } from '../helpers/interrupt.js';
import { perTestScratch, type TestCore } from '../helpers/core.js';
import { rowOf, tinyVdvaeReference, writeTinyVdvae, type TinyVdvaeDecodeCase, type TinyVdvaeVariant } from '../helpers/tiny-vdvae.js';

const scratch = perTestScratch('nd-vdvae-');
const ref = tinyVdvaeReference();
const { values15: N15, values31: N31, valuesAll: NALL } = ref.constants;
const S = 64;

async function setup(variant: TinyVdvaeVariant = {}, coreOptions: Parameters<typeof scratch.core>[0] = {}) {
  const core = await scratch.core(coreOptions);
  const dir = await writeTinyVdvae(await scratch.dir(), variant);
  return { core, dir };
}

async function graphsOf(core: TestCore, dir: string): Promise<VdvaeGraphs> {
  const models = core.container.get<ModelStore>(TOKENS.Models);
  return openVdvaeGraphs(models, await models.folder(dir, 'test'));
}

/** The reference's 80×80 stimuli (ids stim-a, stim-b), as a batch in [0, 1]. */
function referenceStimuli(): StimulusBatch {
  const { images, ids } = ref.stimuli;
  const [n, h, w, c] = images.shape as [number, number, number, number];
  return { ids, images: { count: n, height: h, width: w, channels: c, data: Float32Array.from(images.data, (v) => v / 255) }, source: "dataset 'test' (s1, test)" };
}

/** Procedural stimuli of any size (training batches: only their size matters to the generator). */
function stimuli(n: number, size = S, offset = 0): StimulusBatch {
  const data = new Float32Array(n * size * size * 3);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < size * size; p++) {
      for (let ch = 0; ch < 3; ch++) data[(i * size * size + p) * 3 + ch] = Math.round(255 * (0.5 + 0.5 * Math.sin(0.2 * (i + offset + 1) * (p % size) + 0.13 * Math.floor(p / size) + ch))) / 255;
    }
  }
  return { ids: Array.from({ length: n }, (_, i) => `img${i + offset}`), images: { count: n, height: size, width: size, channels: 3, data }, source: "dataset 'test'" };
}

async function fitted(core: TestCore, dir: string, options: Record<string, unknown> = {}, train = stimuli(2)): Promise<FittedGenerator> {
  const { instance } = await core.registry.create('generator', 'vdvae', { model: dir, ...options });
  return instance.fit(train, { seed: ref.constants.targetSeed });
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/**
 * Our bytes against the reference's: equal, except where the reference's float lies within a float-rounding step of
 * an integer (ORT and torch round a few operations differently); those differ by one and are counted.
 */
function byteTies(ours: Uint8Array, theirs: Uint8Array, theirFloat: Float32Array): number {
  expect(ours.length).toBe(theirs.length);
  let ties = 0;
  for (let k = 0; k < ours.length; k++) {
    if (ours[k] === theirs[k]) continue;
    expect(Math.abs(ours[k]! - theirs[k]!)).toBe(1);
    expect(Math.abs(theirFloat[k]! - Math.round(theirFloat[k]!))).toBeLessThan(1e-3);
    ties++;
  }
  return ties;
}

const predictedOf = (data: Float32Array, rows: number): Record<string, Matrix> => ({ vdvae: { rows, cols: data.length / rows, data } });
const imageOf = (b: ImageBatch, i: number) => b.data.subarray(i * b.height * b.width * b.channels, (i + 1) * b.height * b.width * b.channels);
const bytesOf = (b: ImageBatch, i: number) => Uint8Array.from(imageOf(b, i), (v) => Math.round(v * 255));
const caseNamed = (name: string): TinyVdvaeDecodeCase => ref.decode.find((c) => c.name === name)!;

/** The latents a decoding case gives: its items' reference latents, cut to its given layers. */
function givenLatents(c: TinyVdvaeDecodeCase): Float32Array {
  const values = new LatentLayout(decoderResolutions(IMAGENET64.decBlocks, 'test'), 16).values(c.givenLayers);
  const out = new Float32Array(c.ids.length * values);
  c.ids.forEach((_, i) => out.set(rowOf(ref.latents31, i, N31).subarray(0, values), i * values));
  return out;
}

describe('vdvae latent layout', () => {
  it("ImageNet-64's dec_blocks give 13,344 values for 15 layers and 91,168 for 31, block by block from 1² to 32²", () => {
    const layout = new LatentLayout(decoderResolutions(IMAGENET64.decBlocks, 'test'), IMAGENET64.zdim);
    expect(layout.blocks).toBe(75);
    expect([layout.values(15), layout.values(31), layout.values(75)]).toEqual([13_344, 91_168, 1_451_040]);
    expect(layout.describe(15)).toBe('2 × 16·1² + 4 × 16·4² + 8 × 16·8² + 1 × 16·16²');
    expect(layout.describe(31)).toBe('2 × 16·1² + 4 × 16·4² + 8 × 16·8² + 16 × 16·16² + 1 × 16·32²');
    expect(layout.sizes).toEqual(ref.constants.latentSizes);
    expect([layout.layersOf(13_344), layout.layersOf(91_168), layout.layersOf(13_000)]).toEqual([15, 31, undefined]);
  });
});

describe('vdvae graphs against the torch reference', () => {
  it("keyed noise, preprocessing and the encoder: Brain-Diffuser's stats[i]['z'] within 1e-5; 15 layers are a prefix of 31", async () => {
    // The Python port of seededNoise drew the same noise (bytes equal), so every input below is the reference's.
    for (const n of ref.noise) {
      const ours = seededNoise(n, n.length);
      expect(createHash('sha256').update(new Uint8Array(ours.buffer)).digest('hex'), `${n.stream} ${n.item}`).toBe(n.sha256);
    }
    const { core, dir } = await setup();
    const graphs = await graphsOf(core, dir);
    expect(graphs.layout.values(graphs.architecture.latentLayers)).toBe(N31);

    // PIL bilinear to 64², then (x + shift)·scale in float32: bit for bit.
    const batch = referenceStimuli();
    const inputs = new Float32Array(2 * S * S * 3);
    for (let i = 0; i < 2; i++) {
      const raster = { width: 80, height: 80, channels: 3, data: rowOf(ref.stimuli.images, i, 80 * 80 * 3) as Uint8Array };
      expect((await resizeImage(raster, S, S, 'bilinear')).data).toEqual(rowOf(ref.stimuli.resized, i, S * S * 3));
      inputs.set(await encoderInput(raster, S), i * S * S * 3);
    }
    expect(inputs).toEqual(ref.stimuli.normalized.data);

    const noise = new Float32Array(2 * N31);
    batch.ids.forEach((id, i) => noise.set(seededNoise({ seed: ref.constants.targetSeed, item: id, sample: 0, stream: 'target' }, N31), i * N31));
    const latents = await graphs.encode(inputs, noise, 2);
    const diff = maxAbsDiff(latents, ref.latents31.data);
    expect(diff).toBeLessThanOrEqual(1e-5);
    // One at a time gives what the batch gave.
    const single = await graphs.encode(inputs.subarray(S * S * 3), noise.subarray(N31), 1);
    expect(maxAbsDiff(single, latents.subarray(N31))).toBeLessThanOrEqual(1e-6);
    // torch side: the 15-layer graph equals the 31-layer one's first 13,344 values, and the full 75-block forward's.
    expect(ref.checks).toEqual({ encoderGraphVsReference: 0, prefix15Vs31: 0, reference15VsPrefix: 0 });
    console.log(`vdvae encoder vs torch: max |Δ| ${diff.toExponential(2)} over ${latents.length} latents`);
  }, 60_000);

  it('the decoder: given latents, prior samples and the logistic-mixture sample x within 1e-5 before quantisation; bytes equal but at ties', async () => {
    const { core, dir } = await setup();
    const graphs = await graphsOf(core, dir);
    for (const c of ref.decode) {
      const n = c.ids.length;
      const noise = (stream: string, length: number) => {
        const out = new Float32Array(n * length);
        c.ids.forEach((id, i) => out.set(seededNoise({ seed: c.seed, item: id, sample: c.sample, stream }, length), i * length));
        return out;
      };
      const given = givenLatents(c);
      const latents = new Float32Array(n * N31);
      const per = given.length / n;
      for (let i = 0; i < n; i++) latents.set(given.subarray(i * per, (i + 1) * per), i * N31);
      // Gumbel and logistic samples from pairs of keyed normals, in double: the same float32 values as the Python port.
      const pixels = (stream: string, kind: 'gumbel' | 'logistic', length: number) => {
        const out = new Float32Array(n * length);
        c.ids.forEach((id, i) => out.set(pixelNoise(seededNoise({ seed: c.seed, item: id, sample: c.sample, stream }, 2 * length), kind), i * length));
        return out;
      };
      const gumbelNoise = pixels('mixture', 'gumbel', S * S * 10);
      const logisticNoise = pixels('logistic', 'logistic', S * S * 3);
      const sha = (v: Float32Array) => createHash('sha256').update(new Uint8Array(v.buffer)).digest('hex');
      expect({ gumbel: sha(gumbelNoise), logistic: sha(logisticNoise) }).toEqual(c.noiseSha256);
      const image = await graphs.decode({ latents, givenLayers: c.givenLayers, priorNoise: noise('prior', NALL), temperature: c.temperature, gumbelNoise, logisticNoise }, n);
      const diff = maxAbsDiff(image, c.image.data);
      // The image is (x + 1)·127.5 of VDVAE's sample x ∈ [−1, 1]: x within 1e-5.
      expect(diff / 127.5, c.name).toBeLessThanOrEqual(1e-5);
      let ties = 0;
      for (let i = 0; i < n; i++) {
        const ours = quantise(image, S, i * S * S * 3);
        ties += byteTies(ours.data, rowOf(c.u8, i, S * S * 3) as Uint8Array, rowOf(c.image, i, S * S * 3) as Float32Array);
        // Brain-Diffuser's PIL BICUBIC upsampling to 512, bytes equal (when ours equal the reference's).
        if (ties === 0) {
          const big = await resizeImage(ours, 512, 512, 'bicubic');
          expect(createHash('sha256').update(big.data).digest('hex')).toBe(c.upsampled512Sha256[i]);
        }
      }
      expect(ties, c.name).toBeLessThanOrEqual(2);
      console.log(`vdvae decoder (${c.name}) vs torch: max |Δ| ${diff.toExponential(2)} on 0..255; ${ties} bytes at rounding ties of ${n * S * S * 3}`);
    }
  }, 60_000);
});

describe('vdvae generator', () => {
  it('targets are the first `layers` latents (31: 91,168; 15: 13,344, a prefix), equal to the reference and cached per item', async () => {
    const { core, dir } = await setup();
    const batch = referenceStimuli();
    const g31 = await fitted(core, dir);
    const g15 = await fitted(core, dir, { layers: 15 });
    expect(g31.targets()).toEqual([{ name: 'vdvae', dims: 91_168 }]);
    expect(g15.targets()).toEqual([{ name: 'vdvae', dims: 13_344 }]);
    const t31 = (await g31.encode(batch)).vdvae!;
    expect(maxAbsDiff(t31.data, ref.latents31.data)).toBeLessThanOrEqual(1e-5);
    const t15 = (await g15.encode(batch)).vdvae!;
    for (let i = 0; i < 2; i++) expect(rowOf({ shape: [], data: t15.data }, i, N15)).toEqual(rowOf({ shape: [], data: t31.data }, i, N31).subarray(0, N15));
    // One cache entry per item (15 and 31 layers share it: it keeps every layer the encoder gives).
    expect((await core.cache.list()).entries.filter((e) => e.kind === 'vdvae-targets')).toHaveLength(2);
    expect((await g31.encode(batch)).vdvae!.data).toEqual(t31.data);
  }, 60_000);

  it("generates the reference's images from its latents (31 given, t = 1; 15 given, t = 0.7, sample 1), and hands on the 512² upsampling", async () => {
    const { core, dir } = await setup({}, { cacheDir: null });
    const a = caseNamed('given31');
    // outputSize 64 and 64² stimuli: the scored images are the decoder's bytes themselves.
    const plain = await fitted(core, dir, { outputSize: 64 });
    const out = (await plain.generate(predictedOf(givenLatents(a), 2), { ids: a.ids, seed: a.seed, role: 'model' })) as Generation;
    expect(out.samples).toHaveLength(1);
    expect(out.scoring).toBe('first');
    let ties = 0;
    for (let i = 0; i < 2; i++) ties += byteTies(bytesOf(out.samples[0]!, i), rowOf(a.u8, i, S * S * 3) as Uint8Array, rowOf(a.image, i, S * S * 3) as Float32Array);
    expect(ties).toBeLessThanOrEqual(2);
    // Default outputSize 512: `next` holds Brain-Diffuser's PIL BICUBIC upsampling; the scored images are it at the stimuli's size.
    const upsampling = await fitted(core, dir);
    const big = (await upsampling.generate(predictedOf(givenLatents(a), 2), { ids: a.ids, seed: a.seed, role: 'model' })) as Generation;
    expect([big.next!.height, big.next!.width, big.next!.channels, big.next!.count]).toEqual([512, 512, 3, 2]);
    expect([big.samples[0]!.height, big.samples[0]!.width]).toEqual([64, 64]);
    if (ties === 0) for (let i = 0; i < 2; i++) expect(createHash('sha256').update(bytesOf(big.next!, i)).digest('hex')).toBe(a.upsampled512Sha256[i]);

    const b = caseNamed('given15-t0.7');
    const g15 = await fitted(core, dir, { layers: 15, temperature: 0.7, samples: 2, scoring: 'mean', outputSize: 64 });
    const two = (await g15.generate(predictedOf(givenLatents(b), 1), { ids: b.ids, seed: b.seed, role: 'model' })) as Generation;
    expect(two.samples).toHaveLength(2);
    expect(two.scoring).toBe('mean');
    const tiesB = byteTies(bytesOf(two.samples[b.sample]!, 0), b.u8.data, b.image.data);
    expect(tiesB).toBeLessThanOrEqual(2);
    expect(bytesOf(two.samples[0]!, 0)).not.toEqual(bytesOf(two.samples[1]!, 0));
  }, 120_000);

  it('the noise of an item is a function of (seed, id, sample): a re-ordered subset gives the same images; another seed others', async () => {
    const { core, dir } = await setup({}, { cacheDir: null });
    const gen = await fitted(core, dir, { layers: 15, samples: 2, outputSize: 64 });
    const batch = stimuli(3, S, 10);
    const { vdvae: targets } = await gen.encode(batch);
    const whole = (await gen.generate({ vdvae: targets! }, { ids: batch.ids, seed: 5, role: 'model' })) as Generation;
    const order = [2, 0];
    const rows = { rows: 2, cols: N15, data: Float32Array.from(order.flatMap((i) => [...targets!.data.subarray(i * N15, (i + 1) * N15)])) };
    const part = (await gen.generate({ vdvae: rows }, { ids: order.map((i) => batch.ids[i]!), seed: 5, role: 'model' })) as Generation;
    for (const [k, i] of order.entries()) for (const s of [0, 1]) expect(imageOf(part.samples[s]!, k)).toEqual(imageOf(whole.samples[s]!, i));
    expect(imageOf(whole.samples[0]!, 0)).not.toEqual(imageOf(whole.samples[1]!, 0));
    const other = (await gen.generate({ vdvae: targets! }, { ids: batch.ids, seed: 6, role: 'model' })) as Generation;
    expect(imageOf(other.samples[0]!, 0)).not.toEqual(imageOf(whole.samples[0]!, 0));
  }, 120_000);

  it('a generation interrupted half-way continues at the next unfinished item and gives the images of an uninterrupted run', async () => {
    const { core, dir } = await setup();
    const options = { layers: 15, outputSize: 96 };
    const batch = stimuli(4, S, 20);
    const gen = await fitted(core, dir, options);
    const { vdvae: targets } = await gen.encode(batch);
    const { core: plain } = await setup({}, { cacheDir: null });
    const reference = (await (await fitted(plain, dir, options)).generate({ vdvae: targets! }, { ids: batch.ids, seed: 1, role: 'model' })) as Generation;

    // Stop after the second generated item: the generation task's second tick aborts.
    const stop = abortAtTick(core, 'generating', 2);
    const interrupted = await fitted(core, dir, options);
    await expect(interrupted.generate({ vdvae: targets! }, { ids: batch.ids, seed: 1, role: 'model', signal: stop.signal })).rejects.toThrow(/stopped by the test/);
    stop.restore();
    expect((await core.cache.list()).entries.filter((e) => e.kind === 'vdvae-images')).toHaveLength(2);
    const resumed = (await (await fitted(core, dir, options)).generate({ vdvae: targets! }, { ids: batch.ids, seed: 1, role: 'model' })) as Generation;
    expect(resumed.samples[0]!.data).toEqual(reference.samples[0]!.data);
    expect(resumed.next!.data).toEqual(reference.next!.data);
    expect((await core.cache.list()).entries.filter((e) => e.kind === 'vdvae-images')).toHaveLength(4);
  }, 120_000);
});

describe('vdvae bad input', () => {
  it('predicted targets for fewer layers than the generator was built for, of no layer count, and non-finite ones', async () => {
    const { core, dir } = await setup({}, { cacheDir: null });
    const gen = await fitted(core, dir);
    const context = { ids: ['x', 'y'], seed: 1, role: 'model' as const };
    await expect(gen.generate(predictedOf(new Float32Array(2 * N15), 2), context)).rejects.toThrow(
      /predicted 'vdvae' targets have 13,344 values per item \(= the latents of 15 VDVAE layers\), but the generator was built for 31 layers: 91,168 values = the first 31 layers \(2 × 16·1² .*\); set the option "layers": 15/,
    );
    await expect(gen.generate(predictedOf(new Float32Array(2 * 13_000), 2), context)).rejects.toThrow(/13,000 values per item \(which is no number of VDVAE layers\)/);
    const bad = new Float32Array(2 * N31);
    bad[N31 + 7] = Number.NaN;
    await expect(gen.generate(predictedOf(bad, 2), context)).rejects.toThrow(/predicted 'vdvae' of item 'y' \(row 1\) holds a non-finite value \(NaN\) at 7/);
    await expect(gen.generate({ z: { rows: 2, cols: 4, data: new Float32Array(8) } }, context)).rejects.toThrow(/needs predicted 'vdvae' targets, got: z/);
    expect(() => core.registry.resolveOptions('generator', 'vdvae', { layers: 0 })).toThrow(/layers/);
  }, 60_000);

  it('a model folder missing a graph, its weights, or its model.json entry', async () => {
    const { core, dir } = await setup({ omit: ['decoder.onnx'] });
    await expect(fitted(core, dir)).rejects.toThrow(/model\.json names graph 'decoder' as decoder\.onnx, which is missing/);
    const noWeights = await writeTinyVdvae(await scratch.dir(), { omit: ['encoder.onnx.data'] });
    await expect(fitted(core, noWeights)).rejects.toThrow(/encoder\.onnx\.data/);
    const noEntry = await writeTinyVdvae(await scratch.dir(), { manifest: (m) => void delete m.graphs.decoder });
    await expect(fitted(core, noEntry)).rejects.toThrow(/has no graph 'decoder' \(it has encoder\); make it with: python3 generators\/vdvae\/export\.py/);
  }, 60_000);

  it('a model exported from another VDVAE (zdim 8, 32×32), with fewer latent layers than asked, or without its architecture', async () => {
    const { core, dir } = await setup({ model: 'zdim8-32px' });
    await expect(fitted(core, dir)).rejects.toThrow(
      /exported from a different VDVAE: imageSize 32 \(ImageNet-64: 64\); zdim 8 \(ImageNet-64: 16\); decBlocks "1x1,4m1,8m4,16m8,32m16" \(ImageNet-64: "1x2,4m1,/,
    );
    const tiny = await writeTinyVdvae(await scratch.dir());
    await expect(fitted(core, tiny, { layers: 40 })).rejects.toThrow(/"layers" is 40, but the model folder was exported with latents for 31 layers: re-export with --layers 40/);
    const bare = await writeTinyVdvae(await scratch.dir(), { manifest: (m) => void delete m.preprocessing });
    await expect(fitted(core, bare)).rejects.toThrow(/model\.json: has no "preprocessing": \{ "vdvae"/);
    // model.json claiming ImageNet-64 over the small graphs: the sessions' sizes are compared with what it implies.
    const lying = await writeTinyVdvae(await scratch.dir(), {
      model: 'zdim8-32px',
      manifest: (m) => {
        const arch = m.preprocessing!.vdvae as Record<string, unknown>;
        Object.assign(arch, { imageSize: 64, zdim: 16, decBlocks: IMAGENET64.decBlocks });
      },
    });
    await expect(fitted(core, lying)).rejects.toThrow(/input 'image': expected float32 \[batch, 64, 64, 3\], found float32 \[batch, 32, 32, 3\]/);
  }, 60_000);
});

describe('vdvae end to end', () => {
  it('synthetic dataset → ridge → vdvae, scored: finite results for the model and the trivial floor', async () => {
    const { core, dir } = await setup();
    const spec = parseSpecFile(
      {
        pipelines: [
          {
            name: 'ridge-vdvae',
            dataset: { id: 'synthetic', options: { subjects: 1, trainImages: 60, testImages: 12, voxels: 200, imageSize: 32 } },
            generator: { id: 'vdvae', options: { model: dir, layers: 15, outputSize: 64 } },
            mappers: { vdvae: { id: 'ridge', options: { alpha: 1000 } } },
            metrics: ['mse', 'pixcorr', 'ssim'],
          },
        ],
      },
      'test.json',
    );
    const result = await new ExperimentRunner(core).run(spec);
    const rows = result.rows.filter((r) => r.subject !== 'mean');
    expect(rows.map((r) => `${r.metric}:${r.target}`).sort()).toEqual(expect.arrayContaining(['mse:vdvae', 'pixcorr:image', 'ssim:image']));
    for (const row of rows) {
      expect(Number.isFinite(row.value), `${row.metric} ${row.target}`).toBe(true);
      expect(Number.isFinite(row.trivial), `trivial ${row.metric} ${row.target}`).toBe(true);
    }
    expect(result.outcomes[0]!.reconstructions.count).toBe(12);
    expect([result.outcomes[0]!.reconstructions.height, result.outcomes[0]!.reconstructions.width]).toEqual([32, 32]);
  }, 300_000);
});
