/**
 * The `versatile-diffusion` generator on the tiny random model (test/fixtures/versatile-diffusion/, exported by
 * generators/versatile-diffusion/export.py --random): every numerical path against the torch reference of
 * Brain-Diffuser's conditioning and img2img loop on the same modules; keyed noise, resume, and bad input.
 */
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Generation, StimulusBatch } from '../../core/contracts.js';
import { img2imgPlan } from '../../core/diffusion/ddim.js';
import { SD_V1_SCHEDULE } from '../../core/diffusion/schedule.js';
import { resizeImage } from '../../core/io/image.js';
import type { PluginServices } from '../../core/services.js';
import type { ImageBatch, Matrix } from '../../core/tensor.js';
import { TOKENS } from '../../core/tokens.js';
import { brainDiffuserPixels, clipProcessorPixels, greyUncondRaster, roundTripBytes } from '../../generators/versatile-diffusion/clip-input.js';
import { DualGuidedSampler } from '../../generators/versatile-diffusion/sampler.js';
import type { FittedVersatileDiffusion } from '../../generators/versatile-diffusion/versatile-diffusion.js';
import type { VdGraphs } from '../../generators/versatile-diffusion/vd-graphs.js';
import { abortAtTick } from '../helpers/interrupt.js';
import { perTestScratch, type TestCore } from '../helpers/core.js';
import { rasterOfTiny, tinyVdReference, writeTinyVersatileDiffusion, type TinyU8, type TinyVdVariant } from '../helpers/tiny-versatile-diffusion.js';

const scratch = perTestScratch('nd-vd-gen-');
const ref = tinyVdReference();
/** Tiny settings: init images 64² → latents 4×8×8; the real schedule (50 steps, strength 0.75 → 37 steps). */
const TINY = { initSize: 64 };
const W = ref.constants.width;

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};
const sha256 = (v: ArrayBufferView) => createHash('sha256').update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)).digest('hex');

/** A batch of one reference image (its own size) with its captions. */
function itemBatch(u8: TinyU8, captions: string[] | undefined, id = 'item'): StimulusBatch {
  const { width, height, data } = rasterOfTiny(u8);
  return {
    ids: [id],
    images: { count: 1, height, width, channels: 3, data: Float32Array.from(data, (v) => v / 255) },
    ...(captions ? { captions: [captions] } : {}),
    source: "dataset 'test' (s1, train)",
  };
}

/** n stimuli 32×32 with captions (or none). */
function stimuli(n: number, options: { captions?: boolean; offset?: number } = {}): StimulusBatch {
  const size = 32 * 32 * 3;
  const data = new Float32Array(n * size);
  for (let i = 0; i < n; i++) {
    const k = i + (options.offset ?? 0);
    for (let p = 0; p < 32 * 32; p++) {
      for (let c = 0; c < 3; c++) data[i * size + 3 * p + c] = Math.round(255 * (0.5 + 0.5 * Math.sin(0.23 * (k + 1) * (p % 32) + 0.11 * Math.floor(p / 32) + c))) / 255;
    }
  }
  const ids = Array.from({ length: n }, (_, i) => `img${i + (options.offset ?? 0)}`);
  return {
    ids,
    images: { count: n, height: 32, width: 32, channels: 3, data },
    ...(options.captions === false ? {} : { captions: ids.map((id, i) => (i % 2 === 0 ? [`a photo of ${id}`, 'a red square'] : [`a picture of ${id}`])) }),
    source: "dataset 'test' (s1, train)",
  };
}

async function setup(variant: TinyVdVariant = {}, coreOptions: Parameters<typeof scratch.core>[0] = {}) {
  const core = await scratch.core(coreOptions);
  const dir = await writeTinyVersatileDiffusion(await scratch.dir(), variant);
  return { core, dir };
}

async function fitted(core: TestCore, dir: string, options: Record<string, unknown> = {}): Promise<FittedVersatileDiffusion> {
  const { instance } = await core.registry.create('generator', 'versatile-diffusion', { model: dir, ...TINY, ...options });
  return (await instance.fit(stimuli(2), { seed: 3 })) as FittedVersatileDiffusion;
}

const rowsOf = (m: Matrix, indices: number[]): Matrix => ({ rows: indices.length, cols: m.cols, data: Float32Array.from(indices.flatMap((i) => [...m.data.subarray(i * m.cols, (i + 1) * m.cols)])) });
const imageOf = (b: ImageBatch, i: number) => b.data.subarray(i * b.height * b.width * b.channels, (i + 1) * b.height * b.width * b.channels);
const imagesOf = (batch: StimulusBatch) => batch.images;

describe('versatile-diffusion conditioning vs the torch reference', () => {
  it("CLIP pixels: Brain-Diffuser's path (512² bilinear, float32 round trip, 224 bicubic) and CLIPProcessor's are bit-identical", async () => {
    for (const item of ref.targets.items) {
      const raster = rasterOfTiny(item.image);
      const big = await resizeImage(raster, 512, 512, 'bilinear');
      const trip = big.data.map((k) => roundTripBytes[k]!);
      expect(sha256(trip)).toBe(item.brainDiffuser.u8_512);
      expect(sha256((await resizeImage({ ...big, data: trip }, 224, 224, 'bicubic')).data)).toBe(item.brainDiffuser.u8_224);
      const bd = await brainDiffuserPixels(raster);
      expect(maxAbsDiff(bd.filter((_, i) => i % 401 === 0), item.brainDiffuser.pixelsSample.data)).toBe(0);
      expect(sha256(bd)).toBe(item.brainDiffuser.pixels);
      const cp = await clipProcessorPixels(raster);
      expect(sha256(cp)).toBe(item.clipProcessor.pixels);
    }
    // The round trip loses a level on some bytes (float32 (2·k/255 − 1 + 1)/2 · 255 just under k), as in torch.
    expect(roundTripBytes.filter((v, k) => v !== k).length).toBeGreaterThan(0);
    expect(sha256(await clipProcessorPixels(greyUncondRaster()))).toBe(ref.targets.uncondVisionPixels.digest);
  });

  it('targets: clip-vision 257×8 and clip-text 77×8 equal the reference, with both vision inputs; the unconditional pair too', async () => {
    const { core, dir } = await setup({}, { cacheDir: null });
    const gen = await fitted(core, dir);
    expect(gen.targets()).toEqual([
      { name: 'clip-vision', dims: ref.constants.visionTokens * W },
      { name: 'clip-text', dims: ref.constants.textTokens * W },
    ]);
    expect(maxAbsDiff(gen.uncond.vision, ref.targets.uncondVision.data)).toBeLessThanOrEqual(2e-6);
    expect(maxAbsDiff(gen.uncond.text, ref.targets.uncondText.data)).toBeLessThanOrEqual(2e-6);
    expect(gen.encoder.tokenizer.encode('')).toEqual(ref.targets.emptyIds.data);
    const processor = await fitted(core, dir, { visionInput: 'clip-processor' });
    for (const item of ref.targets.items) {
      expect(gen.encoder.tokenizer.encodeBatch(item.captions)).toEqual(item.ids.data);
      const t = await gen.encode(itemBatch(item.image, item.captions));
      expect(maxAbsDiff(t['clip-vision']!.data, item.brainDiffuser.clipVision.data)).toBeLessThanOrEqual(2e-6);
      expect(maxAbsDiff(t['clip-text']!.data, item.clipText.data)).toBeLessThanOrEqual(2e-6);
      const p = await processor.encode(itemBatch(item.image, item.captions));
      expect(maxAbsDiff(p['clip-vision']!.data, item.clipProcessor.clipVision.data)).toBeLessThanOrEqual(2e-6);
    }
  });
});

describe('versatile-diffusion UNet and img2img loop vs the torch reference', () => {
  it('one UNet call mixes the two contexts as the reference at mix 0.6, 0, 1 and 0.25; at 1 the text context has no effect, at 0 the vision one', async () => {
    const { core, dir } = await setup({}, { cacheDir: null });
    const gen = await fitted(core, dir);
    const x = ref.img2img.cases['mix-0.6'].xNoised.data;
    const sample = new Float32Array([...x, ...x]);
    const cv = new Float32Array([...ref.targets.uncondVision.data, ...ref.img2img.cv.data]);
    const ct = new Float32Array([...ref.targets.uncondText.data, ...ref.img2img.ct.data]);
    const call = (mix: number, v = cv, t = ct) => gen.graphs.unet(sample, [2, 4, 8, 8], 741, v, t, mix);
    for (const [mix, expected] of Object.entries(ref.oneShot.unet.outSample)) {
      expect(maxAbsDiff(await call(Number(mix)), expected.data)).toBeLessThanOrEqual(1e-6);
    }
    const double = (a: Float32Array) => a.map((v) => 2 * v);
    expect(await call(1, cv, double(ct))).toEqual(await call(1));
    expect(await call(0, double(cv), ct)).toEqual(await call(0));
    expect(await call(0.6, cv, double(ct))).not.toEqual(await call(0.6));
  });

  it('the VAE graphs equal torch', async () => {
    const { core, dir } = await setup({}, { cacheDir: null });
    const gen = await fitted(core, dir);
    const { initTensor } = await import('../../generators/versatile-diffusion/sampler.js');
    const { mean, logvar } = await gen.graphs.encodeImage(initTensor(rasterOfTiny(ref.img2img.initU8)), [1, 3, 64, 64]);
    expect(maxAbsDiff([...mean, ...logvar], ref.oneShot.vaeEncoder.latent_parameters.data)).toBeLessThanOrEqual(1e-5);
    const decoded = await gen.graphs.decode(ref.oneShot.vaeDecoder.latent_sample.data, [1, 4, 2, 2]);
    expect(decoded.shape).toEqual([1, 3, 16, 16]);
    expect(maxAbsDiff(decoded.data, ref.oneShot.vaeDecoder.sample.data)).toBeLessThanOrEqual(1e-5);
  });

  it('the whole img2img loop (noise at ᾱ[741], 37 guided steps, decode) equals torch at mix 0.6, 0 (pure text) and 1 (pure vision)', async () => {
    const { core, dir } = await setup({}, { cacheDir: null });
    const gen = await fitted(core, dir);
    const plan = img2imgPlan(SD_V1_SCHEDULE, { steps: 50, strength: 0.75, eta: 0, start: 'compvis' });
    expect(plan.noiseTimestep).toBe(ref.constants.noiseTimestep);
    expect(plan.steps.map((s) => s.t)).toEqual(ref.constants.loopTimesteps);
    const init = await resizeImage(rasterOfTiny(ref.img2img.initSmall), 64, 64, 'bicubic');
    expect(init.data).toEqual(ref.img2img.initU8.data);
    for (const c of Object.values(ref.img2img.cases)) {
      // The UNet's inputs are the loop's x before each step: x after step s is the input of call s.
      const seen: Float32Array[] = [];
      const graphs: VdGraphs = { ...gen.graphs, unet: (sample, ...rest) => (seen.push(sample.slice(0, sample.length / 2)), gen.graphs.unet(sample, ...rest)) };
      const sampler = new DualGuidedSampler(graphs, { plan, guidance: ref.constants.guidance, mix: c.mix }, gen.uncond);
      const z0 = await sampler.initLatent(init, ref.img2img.epsPosterior.data);
      expect(maxAbsDiff(z0, c.z0.data)).toBeLessThanOrEqual(1e-6);
      const final = await sampler.denoise(z0, ref.img2img.cv.data, ref.img2img.ct.data, ref.img2img.epsEncode.data);
      expect(seen).toHaveLength(37);
      expect(maxAbsDiff(seen[0]!, c.xNoised.data)).toBeLessThanOrEqual(1e-6);
      let worst = 0;
      for (const s of c.steps.filter((s) => s.step < 37)) worst = Math.max(worst, maxAbsDiff(seen[s.step]!, s.x.data));
      const last = maxAbsDiff(final, c.finalLatent.data);
      expect(worst).toBeLessThanOrEqual(1e-5);
      expect(last).toBeLessThanOrEqual(1e-5);
      const image = await sampler.image(final);
      let differing = 0;
      for (let i = 0; i < image.data.length; i++) if (image.data[i] !== c.finalU8.data[i]) differing++;
      // Truncating 255·x: a pixel within float32 noise of an integer may flip by one level (the reference says how near they came).
      expect(maxAbsDiff(image.data, c.finalU8.data)).toBeLessThanOrEqual(1);
      expect(differing).toBeLessThanOrEqual(2);
    }
  }, 60_000);
});

describe('versatile-diffusion generation', () => {
  it('starts only from given images: generate() is refused, pointing to two-stage', async () => {
    const { core, dir } = await setup({}, { cacheDir: null });
    const gen = await fitted(core, dir);
    const batch = stimuli(2);
    const targets = await gen.encode(batch);
    await expect(gen.generate(targets, { ids: batch.ids, seed: 1, role: 'model' })).rejects.toThrow(/first stage.*second stage of 'two-stage'/);
  });

  it('the noise of an item is a function of (seed, id, sample): a re-ordered subset gives the same images; samples and seeds differ', async () => {
    const { core, dir } = await setup({}, { cacheDir: null });
    const gen = await fitted(core, dir, { samples: 2 });
    const batch = stimuli(3, { offset: 10 });
    const targets = await gen.encode(batch);
    const whole = (await gen.generateFrom(imagesOf(batch), targets, { ids: batch.ids, seed: 5, role: 'model' })) as Generation;
    expect(whole.samples).toHaveLength(2);
    expect(whole.scoring).toBe('first');
    expect([whole.samples[0]!.height, whole.samples[0]!.width, whole.samples[0]!.channels]).toEqual([32, 32, 3]);
    const order = [2, 0];
    const subset = { count: 2, height: 32, width: 32, channels: 3, data: Float32Array.from(order.flatMap((i) => [...imageOf(batch.images, i)])) };
    const predicted = { 'clip-vision': rowsOf(targets['clip-vision']!, order), 'clip-text': rowsOf(targets['clip-text']!, order) };
    const part = (await gen.generateFrom(subset, predicted, { ids: order.map((i) => batch.ids[i]!), seed: 5, role: 'model' })) as Generation;
    for (const [k, i] of order.entries()) for (const s of [0, 1]) expect(imageOf(part.samples[s]!, k)).toEqual(imageOf(whole.samples[s]!, i));
    expect(imageOf(whole.samples[0]!, 0)).not.toEqual(imageOf(whole.samples[1]!, 0));
    const other = (await gen.generateFrom(imagesOf(batch), targets, { ids: batch.ids, seed: 6, role: 'model' })) as Generation;
    expect(imageOf(other.samples[0]!, 0)).not.toEqual(imageOf(whole.samples[0]!, 0));
    // Another mix, other images.
    const text = (await (await fitted(core, dir, { samples: 2, mix: 0 })).generateFrom(imagesOf(batch), targets, { ids: batch.ids, seed: 5, role: 'model' })) as Generation;
    expect(imageOf(text.samples[0]!, 0)).not.toEqual(imageOf(whole.samples[0]!, 0));
  }, 60_000);

  it('a generation interrupted half-way continues at the next unfinished item and gives the images of an uninterrupted run', async () => {
    const { core, dir } = await setup();
    const gen = await fitted(core, dir);
    const batch = stimuli(4, { offset: 20 });
    const targets = await gen.encode(batch);
    expect((await core.cache.list()).entries.filter((e) => e.kind === 'vd-targets')).toHaveLength(4);
    const { core: plain } = await setup({}, { cacheDir: null });
    const reference = (await (await fitted(plain, dir)).generateFrom(imagesOf(batch), targets, { ids: batch.ids, seed: 1, role: 'model' })) as Generation;

    // Stop after the second generated item: the generation task's second tick aborts.
    const stop = abortAtTick(core, 'generating', 2);
    const interrupted = await fitted(core, dir);
    await expect(interrupted.generateFrom(imagesOf(batch), targets, { ids: batch.ids, seed: 1, role: 'model', signal: stop.signal })).rejects.toThrow(/stopped by the test/);
    stop.restore();
    expect((await core.cache.list()).entries.filter((e) => e.kind === 'vd-images')).toHaveLength(2);
    const resumed = (await (await fitted(core, dir)).generateFrom(imagesOf(batch), targets, { ids: batch.ids, seed: 1, role: 'model' })) as Generation;
    expect(resumed.samples[0]!.data).toEqual(reference.samples[0]!.data);
    expect((await core.cache.list()).entries.filter((e) => e.kind === 'vd-images')).toHaveLength(4);
  }, 60_000);

  it('init images of another size than initSize are resized (bicubic), and the log says so', async () => {
    const { core, dir } = await setup({}, { cacheDir: null });
    const services = core.container.get<PluginServices>(TOKENS.Services);
    const lines: string[] = [];
    const original = services.log;
    services.log = { ...original, info: (m: string) => lines.push(m) };
    try {
      const gen = await fitted(core, dir);
      const batch = stimuli(1);
      const targets = await gen.encode(batch);
      await gen.generateFrom(imagesOf(batch), targets, { ids: batch.ids, seed: 1, role: 'model' });
      expect(lines.filter((l) => l.includes('resized'))).toEqual([
        "versatile-diffusion: the init images are 32×32; each is resized to 64×64 (bicubic) before it is encoded, as Brain-Diffuser's regularize_image does",
      ]);
      // At initSize already: nothing to say, and the image is used as it is.
      lines.length = 0;
      const at64 = await resizeImage(rasterOfTiny(ref.img2img.initSmall), 64, 64, 'bicubic');
      const init = { count: 1, height: 64, width: 64, channels: 3, data: Float32Array.from(at64.data, (v) => v / 255) };
      await gen.generateFrom(init, targets, { ids: batch.ids, seed: 1, role: 'model' });
      expect(lines.filter((l) => l.includes('resized'))).toEqual([]);
      expect((await gen.initRaster(init, 0)).data).toEqual(ref.img2img.initU8.data);
    } finally {
      services.log = original;
    }
  }, 60_000);
});

describe('versatile-diffusion bad input', () => {
  it('a mix ratio outside [0, 1] and samples 0 are schema errors', async () => {
    const core = await scratch.core({ cacheDir: null });
    expect(() => core.registry.resolveOptions('generator', 'versatile-diffusion', { mix: 1.2 })).toThrow(/mix.*(<=|≤|maximum|must be).*1/);
    expect(() => core.registry.resolveOptions('generator', 'versatile-diffusion', { mix: -0.1 })).toThrow(/mix/);
    expect(() => core.registry.resolveOptions('generator', 'versatile-diffusion', { samples: 0 })).toThrow(/samples/);
    expect(core.registry.resolveOptions('generator', 'versatile-diffusion', {})).toMatchObject({ mix: 0.6, steps: 50, strength: 0.75, guidance: 7.5, initSize: 512, samples: 1 });
  });

  it('a dataset without captions: an error naming it, or the empty prompt when asked', async () => {
    const { core, dir } = await setup({}, { cacheDir: null });
    const gen = await fitted(core, dir);
    await expect(gen.encode(stimuli(2, { captions: false }))).rejects.toThrow(/dataset 'test' \(s1, train\) has no captions.*"missingCaptions": "empty-prompt"/);
    const some = { ...stimuli(2), captions: [['a cat'], []] };
    await expect(gen.encode(some)).rejects.toThrow(/item 'img1' has no caption/);
    const empty = await fitted(core, dir, { missingCaptions: 'empty-prompt' });
    const t = await empty.encode(stimuli(2, { captions: false }));
    expect(t['clip-text']!.data.subarray(77 * W)).toEqual(empty.uncond.text);
  });

  it('predictions of the wrong size, with a non-finite value, or missing a space', async () => {
    const { core, dir } = await setup({}, { cacheDir: null });
    const gen = await fitted(core, dir);
    const batch = stimuli(2);
    const targets = await gen.encode(batch);
    const context = { ids: batch.ids, seed: 1, role: 'model' as const };
    const from = (p: Record<string, Matrix>) => gen.generateFrom(imagesOf(batch), p, context);
    await expect(from({ ...targets, 'clip-vision': { rows: 2, cols: 64, data: new Float32Array(128) } })).rejects.toThrow(
      /predicted 'clip-vision' targets have 64 values per item, expected 2056 = 257 × 8/,
    );
    await expect(from({ ...targets, 'clip-text': { rows: 1, cols: 616, data: new Float32Array(616) } })).rejects.toThrow(/predicted 'clip-text' targets have 1 rows for 2 items/);
    const bad = Float32Array.from(targets['clip-text']!.data);
    bad[700] = Number.POSITIVE_INFINITY;
    await expect(from({ ...targets, 'clip-text': { rows: 2, cols: 616, data: bad } })).rejects.toThrow(/predicted 'clip-text' of item 'img1' \(row 1\) holds a non-finite value \(Infinity\)/);
    await expect(from({ 'clip-vision': targets['clip-vision']! })).rejects.toThrow(/needs predicted 'clip-text' targets, got: clip-vision/);
    await expect(gen.generateFrom({ ...imagesOf(batch), count: 1 }, targets, context)).rejects.toThrow(/given 1 init images for 2 items/);
  });

  it('a folder missing a graph file, a graph, or its tokenizer', async () => {
    const { core, dir } = await setup({ missingFiles: ['unet'] }, { cacheDir: null });
    await expect(fitted(core, dir)).rejects.toThrow(/model\.json names graph 'unet' as unet\.onnx, which is missing/);
    const noText = await writeTinyVersatileDiffusion(await scratch.dir(), { withoutGraphs: ['clip_text'] });
    await expect(fitted(core, noText)).rejects.toThrow(/has no graph 'clip_text'.*make it with: python3 generators\/versatile-diffusion\/export\.py/);
    const noTokenizer = await writeTinyVersatileDiffusion(await scratch.dir(), { omit: ['tokenizer'] });
    await expect(fitted(core, noTokenizer)).rejects.toThrow(/needs CLIP's tokenizer: expected .*tokenizer\/vocab\.json/);
    const missing = join(await scratch.dir(), 'absent');
    await expect(fitted(core, missing)).rejects.toThrow(/is missing: expected .*model\.json; make the folder with: python3 generators\/versatile-diffusion\/export\.py/);
    const noMerges = await writeTinyVersatileDiffusion(await scratch.dir());
    await rm(join(noMerges, 'tokenizer', 'merges.txt'));
    await expect(fitted(core, noMerges)).rejects.toThrow(/needs CLIP's tokenizer: expected .*merges\.txt/);
    // Without scheduler_config.json the schedule is SD v1's (VD's vd_noema betas, the same numbers): the same images.
    const noScheduler = await writeTinyVersatileDiffusion(await scratch.dir(), { omit: ['scheduler'] });
    const batch = stimuli(1);
    const images = async (folder: string) => {
      const gen = await fitted(core, folder);
      return ((await gen.generateFrom(imagesOf(batch), await gen.encode(batch), { ids: batch.ids, seed: 2, role: 'model' })) as Generation).samples[0]!.data;
    };
    expect(await images(noScheduler)).toEqual(await images(await writeTinyVersatileDiffusion(await scratch.dir())));
  });
});
