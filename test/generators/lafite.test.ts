/**
 * The `lafite` generator on the tiny fixtures (test/fixtures/lafite/): the exported generator against the torch
 * reference, ψ, Mind Reader's targets (input preparation, clamp, caption mean, screening, normalisation), keyed z
 * (a re-ordered generation gives the same images), resume after an interruption, and bad input.
 */
import { createHash } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FittedGenerator, Generation, StimulusBatch } from '../../core/contracts.js';
import { seededNoise } from '../../core/diffusion/noise.js';
import { resizeImage, type RasterImage } from '../../core/io/image.js';
import { checkModel } from '../../core/models/check.js';
import type { ModelStore } from '../../core/models/store.js';
import type { ImageBatch, Matrix } from '../../core/tensor.js';
import { loadClipTokenizer } from '../../core/text/clip-tokenizer.js';
import { TOKENS } from '../../core/tokens.js';
import { clipCrop, mindReaderSquare, pixelValues, roundHalfEven } from '../../generators/lafite/clip-input.js';
import { openClipEncoders } from '../../generators/lafite/clip-encoders.js';
import { quantise } from '../../generators/lafite/images.js';
import { openLafiteGraph } from '../../generators/lafite/lafite-graph.js';
import { clampOutliers, l2Normalised, rowMean, screenCaptions } from '../../generators/lafite/targets.js';
import { abortAtTick } from '../helpers/interrupt.js';
import { perTestScratch, type TestCore } from '../helpers/core.js';
import { tinyLafiteReference, writeTinyClipB32, writeTinyLafite, writeWrongWidthGenerator, type TinyClipTarget } from '../helpers/tiny-lafite.js';

const scratch = perTestScratch('nd-lafite-');
const ref = tinyLafiteReference();

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** n procedural 32² stimuli with captions (item i: ids `img<offset+i>`). */
function stimuli(n: number, options: { captions?: boolean; offset?: number; size?: number } = {}): StimulusBatch {
  const size = options.size ?? 32;
  const data = new Float32Array(n * size * size * 3);
  for (let i = 0; i < n; i++) {
    const k = i + (options.offset ?? 0);
    for (let p = 0; p < size * size; p++) {
      const [x, y] = [p % size, Math.floor(p / size)];
      for (let c = 0; c < 3; c++) data[(i * size * size + p) * 3 + c] = Math.round(255 * (0.5 + 0.5 * Math.sin(0.3 * (k + 1) * x - 0.17 * y + 2 * c))) / 255;
    }
  }
  const ids = Array.from({ length: n }, (_, i) => `img${i + (options.offset ?? 0)}`);
  return {
    ids,
    images: { count: n, height: size, width: size, channels: 3, data },
    ...(options.captions === false ? {} : { captions: ids.map((id, i) => (i % 2 === 0 ? [`a photo of ${id}`, 'a red square'] : [`a picture of ${id}`])) }),
    source: "dataset 'test' (s1, train)",
  };
}

/** A reference stimulus (HWC bytes) as a one-item batch with its captions. */
function referenceStimulus(target: TinyClipTarget, id: string): StimulusBatch {
  const [height, width] = target.stimulus.shape as [number, number];
  return {
    ids: [id],
    images: { count: 1, height, width, channels: 3, data: Float32Array.from(target.stimulus.data, (v) => v / 255) },
    captions: [target.captions],
    source: 'the reference',
  };
}

async function setup(coreOptions: Parameters<typeof scratch.core>[0] = {}) {
  const core = await scratch.core(coreOptions);
  const model = await writeTinyLafite(await scratch.dir());
  const clipModel = await writeTinyClipB32(await scratch.dir());
  return { core, model, clipModel };
}

async function fitted(core: TestCore, folders: { model: string; clipModel: string }, options: Record<string, unknown> = {}, train = stimuli(2)): Promise<FittedGenerator> {
  const { instance } = await core.registry.create('generator', 'lafite', { ...folders, ...options });
  return instance.fit(train, { seed: 3 });
}

const rowsOf = (m: Matrix, indices: number[]): Matrix => ({ rows: indices.length, cols: m.cols, data: Float32Array.from(indices.flatMap((i) => [...m.data.subarray(i * m.cols, (i + 1) * m.cols)])) });
const imageOf = (b: ImageBatch, i: number) => b.data.subarray(i * b.height * b.width * b.channels, (i + 1) * b.height * b.width * b.channels);
const models = (core: TestCore) => core.container.get<ModelStore>(TOKENS.Models);

describe('lafite generator graph (export.py on the tiny random model) against the torch reference', () => {
  it('gives G_ema’s image within 1e-5 at ψ = 1 and ψ = 0.7, the same bytes after quantisation, each item as alone', async () => {
    const { core, model } = await setup({ cacheDir: null });
    const graph = await openLafiteGraph(models(core), await models(core).folder(model, 'test'));
    const { z, imageEmbedding, textEmbedding, cases } = ref.generator;
    expect(graph.zDim).toBe(512);
    expect(cases.map((c) => c.psi)).toEqual([1, 0.7]);
    for (const c of cases) {
      const { data, shape } = await graph.run(z.data, imageEmbedding.data, textEmbedding.data, 3, c.psi);
      expect(shape).toEqual([3, 3, 16, 16]);
      const diff = maxAbsDiff(data, c.image.data);
      expect(diff).toBeLessThanOrEqual(1e-5);
      // A byte may flip only where 127.5·(x + 1) lies within 127.5·diff of an integer.
      let flipped = 0;
      for (let i = 0; i < 3; i++) {
        const ours = quantise(data, 16, 16, i, 'lafite');
        for (let p = 0; p < 256; p++) {
          for (let ch = 0; ch < 3; ch++) {
            const theirs = c.imageU8.data[(i * 3 + ch) * 256 + p]!;
            if (ours.data[3 * p + ch] !== theirs) {
              flipped++;
              const v = 127.5 * (c.image.data[(i * 3 + ch) * 256 + p]! + 1);
              expect(Math.abs(v - Math.round(v))).toBeLessThanOrEqual(127.5 * diff + 1e-6);
            }
          }
        }
      }
      expect(flipped).toBeLessThanOrEqual(2);
      const alone = await graph.run(z.data.subarray(512, 1024), imageEmbedding.data.subarray(512, 1024), textEmbedding.data.subarray(512, 1024), 1, c.psi);
      expect(maxAbsDiff(alone.data, data.subarray(768, 1536))).toBeLessThanOrEqual(1e-6);
    }
    // The export's own error in torch (unfused convolutions, tensor ψ) was below 1e-6: the 1e-5 above is ORT's.
    for (const c of cases) expect(c.unfusedMaxAbsDiff).toBeLessThan(1e-6);
    // The tiny model's conv_clamp (±4) bites in some layers, so that path is compared too.
    expect(ref.generator.convClampHits.SynthesisLayer).toBeGreaterThan(0);
  }, 60_000);

  it('passes `models check`: model.json matches the graph, which runs on its testDims and gives finite values', async () => {
    const { core, model } = await setup({ cacheDir: null });
    const check = await checkModel(models(core), model);
    expect(check.graphs.map((g) => [g.role, g.testOutputs])).toEqual([['generator', { image: [1, 3, 16, 16] }]]);
  }, 60_000);

  it("the CLIP folder's `models check` feeds config.json's vision image_size (its pixel dims are symbolic; a real ViT's position embeddings fix them)", async () => {
    const { core, clipModel } = await setup({ cacheDir: null });
    const check = await checkModel(models(core), clipModel);
    const vision = check.graphs.find((g) => g.role === 'vision')!;
    expect(vision.inputs[0]!.dims).toEqual(['batch_size', 'num_channels', 'height', 'width']);
    expect(vision.testInputs).toEqual({ pixel_values: [1, 3, 224, 224] });
    expect(vision.testOutputs).toEqual({ image_embeds: [1, 512] });
    // Without vision_config, the generic guess (batch 1, other symbolic sizes 8) fails, saying what sets the sizes.
    const bare = await writeTinyClipB32(await scratch.dir());
    await writeFile(join(bare, 'config.json'), JSON.stringify({ model_type: 'clip', projection_dim: 512 }));
    await expect(checkModel(models(core), bare)).rejects.toThrow(/inputs pixel_values \[1, 8, 8, 8\]: .*vision_config\.image_size/);
  }, 60_000);

  it('ψ: at 0 every z gives the same image (w = w_avg); between, the image moves from it', async () => {
    const { core, model } = await setup({ cacheDir: null });
    const graph = await openLafiteGraph(models(core), await models(core).folder(model, 'test'));
    const { z, imageEmbedding } = ref.generator;
    // Three different z, one conditioning.
    const same = Float32Array.from({ length: 3 * 512 }, (_, k) => imageEmbedding.data[k % 512]!);
    const zero = (await graph.run(z.data, same, same, 3, 0)).data;
    expect(maxAbsDiff(zero.subarray(0, 768), zero.subarray(768, 1536))).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(zero.subarray(0, 768), zero.subarray(1536))).toBeLessThanOrEqual(1e-6);
    const one = (await graph.run(z.data, same, same, 3, 1)).data;
    const half = (await graph.run(z.data, same, same, 3, 0.5)).data;
    expect(maxAbsDiff(one.subarray(0, 768), one.subarray(768, 1536))).toBeGreaterThan(0.05);
    const towards = maxAbsDiff(half.subarray(0, 768), zero.subarray(0, 768));
    expect(towards).toBeGreaterThan(0);
    expect(towards).toBeLessThan(maxAbsDiff(one.subarray(0, 768), zero.subarray(0, 768)));
  }, 60_000);
});

describe('lafite targets: Mind Reader’s ground-truth CLIP embeddings', () => {
  it('the clamp, the normalisation, the caption mean and the screening on hand-computed values', () => {
    // Mind Reader's thresholding: every value to [−1.5, 1.5] (only outliers reach it), then x / ‖x‖.
    const raw = Float32Array.of(3, -0.5, -2, 1);
    const clamped = clampOutliers(raw, 1.5);
    expect([...clamped]).toEqual([1.5, -0.5, -1.5, 1]);
    // ‖(1.5, −0.5, −1.5, 1)‖ = √5.75
    const unit = l2Normalised(clamped)!;
    const norm = Math.sqrt(5.75);
    [1.5, -0.5, -1.5, 1].forEach((v, k) => expect(unit[k]).toBeCloseTo(v / norm, 6));
    expect([...clampOutliers(raw, 0)]).toEqual([3, -0.5, -2, 1]);
    expect(l2Normalised(new Float32Array(4))).toBeNull();
    // The mean of raw rows (not of normalised ones): (1, 2) and (3, 10) → (2, 6).
    expect([...rowMean(Float32Array.of(1, 2, 3, 10), 2, 2)]).toEqual([2, 6]);
    expect([...rowMean(Float32Array.of(1, 2, 3, 10), 2, 2, [1])]).toEqual([3, 10]);
    // Screening: cosines 1, 0.995, 0.98 at logit scale 100 → probabilities ∝ 1, e^−0.5, e^−2: keeps the first two.
    const image = Float32Array.of(1, 0);
    const at = (c: number) => [c, Math.sqrt(1 - c * c)];
    expect(screenCaptions(image, Float32Array.from([...at(1), ...at(0.995), ...at(0.98)]), 3, 100)).toEqual([0, 1]);
    expect(screenCaptions(image, Float32Array.from([...at(0.5), ...at(0.9)]), 2, 100)).toEqual([1]);
  });

  it('Python’s round in the centre crop, and the 8-bit intermediates of both input paths, byte for byte', async () => {
    expect([0.5, 1.5, 2.5, 44.5, 43.5, 2.4, 3.5].map(roundHalfEven)).toEqual([0, 2, 2, 44, 44, 2, 4]);
    for (const key of ['a', 'b'] as const) {
      const t = ref.clip.targets[key];
      const [height, width] = t.stimulus.shape as [number, number];
      const raster: RasterImage = { width, height, channels: 3, data: t.stimulus.data };
      const square = mindReaderSquare(raster);
      expect(sha256(square.data)).toBe(t.mindReader256Sha256);
      const viaMindReader = await clipCrop(square);
      expect(sha256(viaMindReader.data)).toBe(t['mind-reader'].input224Sha256);
      const direct = await clipCrop(raster);
      expect(sha256(direct.data)).toBe(t.clip.input224Sha256);
      const sum = pixelValues(direct).reduce((s, v) => s + v, 0);
      expect(Math.abs(sum - t.clip.pixelValuesSum)).toBeLessThan(1e-6 * 224 * 224 * 3);
    }
  });

  it('the toy CLIP graphs give torch’s image_embeds and text_embeds; the tokenizer gives the recorded ids', async () => {
    const { core, clipModel } = await setup({ cacheDir: null });
    const folder = await models(core).folder(clipModel, 'test');
    const tokenizer = await loadClipTokenizer(clipModel);
    for (const key of ['a', 'b'] as const) {
      const t = ref.clip.targets[key];
      for (const [k, caption] of t.captions.entries()) {
        const ids = [...tokenizer.encode(caption)];
        expect(ids.slice(0, t.ids[k]!.length)).toEqual(t.ids[k]);
        expect(ids.slice(t.ids[k]!.length).every((id) => id === 49407)).toBe(true);
      }
      const [height, width] = t.stimulus.shape as [number, number];
      const raster: RasterImage = { width, height, channels: 3, data: t.stimulus.data };
      for (const mode of ['mind-reader', 'clip'] as const) {
        const encoders = await openClipEncoders(models(core), folder, mode);
        expect(maxAbsDiff(await encoders.image(raster), t[mode].imageEmbeds)).toBeLessThanOrEqual(1e-5 * 10);
      }
      const encoders = await openClipEncoders(models(core), folder, 'clip');
      const text = await encoders.text(t.captions);
      t.textEmbeds.forEach((row, k) => expect(maxAbsDiff(text.subarray(k * 512, (k + 1) * 512), row)).toBeLessThanOrEqual(1e-5 * 10));
    }
    // The toy embeddings have outliers at fixed positions, as CLIP's: the clamp changes exactly those.
    const raw = ref.clip.targets.a['mind-reader'].imageEmbeds;
    const beyond = [...raw.keys()].filter((k) => Math.abs(raw[k]!) > 1.5);
    expect(beyond.every((k) => ref.clip.outliers.image.includes(k))).toBe(true);
    expect(beyond.length).toBeGreaterThan(0);
  }, 60_000);

  it('clip-image and clip-text equal the reference: clamped then normalised, the mean of the (screened) captions; cached per item', async () => {
    const { core, model, clipModel } = await setup();
    const a = ref.clip.targets.a;
    const b = ref.clip.targets.b;
    const check = async (options: Record<string, unknown>, target: TinyClipTarget, id: string, image: Float32Array, text: Float32Array) => {
      const gen = await fitted(core, { model, clipModel }, options);
      expect(gen.targets()).toEqual([{ name: 'clip-image', dims: 512 }, { name: 'clip-text', dims: 512 }]);
      const out = await gen.encode(referenceStimulus(target, id));
      expect(maxAbsDiff(out['clip-image']!.data, image)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(out['clip-text']!.data, text)).toBeLessThanOrEqual(1e-5);
      return out;
    };
    // Defaults: Mind Reader's input path, clamp ±1.5, screening on (item a keeps caption 2 of its 3: p = 0.16, 0.21, 0.63).
    expect(a.screening.kept).toEqual([2]);
    await check({}, a, 'a', a['mind-reader'].clipImage, a.screening.clipText);
    await check({ captionScreening: false }, a, 'a', a['mind-reader'].clipImage, a.clipText);
    await check({ captionScreening: false, outlierClamp: 0 }, a, 'a', a['mind-reader'].clipImageNoClamp, a.clipTextNoClamp);
    // CLIP's own preprocessing; b is 42 × 30 (a centre crop at x = 44, Python's round of 44.5).
    await check({ imageInput: 'clip', captionScreening: false }, a, 'a', a.clip.clipImage, a.clipText);
    await check({ imageInput: 'clip' }, b, 'b', b.clip.clipImage, b.screening.clipText);
    const entries = async () => (await core.cache.list()).entries.filter((e) => e.kind === 'lafite-targets').length;
    const before = await entries();
    expect(before).toBe(5);
    await check({}, a, 'a', a['mind-reader'].clipImage, a.screening.clipText);
    expect(await entries()).toBe(before);
  }, 120_000);
});

describe('lafite generation', () => {
  it('an item’s image is the graph on seededNoise(seed, item, sample) and the normalised predictions, quantised, resized to the stimuli', async () => {
    const { core, model, clipModel } = await setup({ cacheDir: null });
    const gen = await fitted(core, { model, clipModel }, { samples: 2 });
    const batch = stimuli(2, { offset: 5 });
    const targets = await gen.encode(batch);
    // Unnormalised predictions: generate normalises them as Mind Reader's evaluation does.
    const scaled = { 'clip-image': { ...targets['clip-image']!, data: targets['clip-image']!.data.map((v) => 3 * v) }, 'clip-text': targets['clip-text']! };
    const result = (await gen.generate(scaled, { ids: batch.ids, seed: 9, role: 'model' })) as Generation;
    expect(result.samples).toHaveLength(2);
    expect(result.scoring).toBe('first');
    expect([result.samples[0]!.count, result.samples[0]!.height, result.samples[0]!.width, result.samples[0]!.channels]).toEqual([2, 32, 32, 3]);
    const graph = await openLafiteGraph(models(core), await models(core).folder(model, 'test'));
    for (const s of [0, 1]) {
      const z = seededNoise({ seed: 9, item: 'img6', sample: s, stream: 'z' }, 512);
      const { data } = await graph.run(z, targets['clip-image']!.data.subarray(512), targets['clip-text']!.data.subarray(512), 1, 1);
      const native = quantise(data, 16, 16, 0, 'lafite');
      const resized = await resizeImage(native, 32, 32, 'pillow-default');
      // The generator normalises 3·v, the reference v: conditioning equal to float rounding, so a value at a
      // quantisation tie may round the other way (CPU-dependent: it does on some machines). Any other value is equal.
      const got = imageOf(result.samples[s]!, 1);
      const expected = Float32Array.from(resized.data, (v) => v / 255);
      let ties = 0;
      for (let k = 0; k < got.length; k++) {
        if (got[k] === expected[k]) continue;
        expect(Math.abs(got[k]! - expected[k]!) * 255).toBeCloseTo(1, 4);
        ties++;
      }
      expect(ties).toBeLessThanOrEqual(got.length / 200);
    }
    expect(imageOf(result.samples[0]!, 0)).not.toEqual(imageOf(result.samples[1]!, 0));
  }, 60_000);

  it('z is keyed by (seed, id, sample): a re-ordered subset gives the same images; another seed others; ψ 0 ignores z', async () => {
    const { core, model, clipModel } = await setup({ cacheDir: null });
    const gen = await fitted(core, { model, clipModel }, { samples: 2 });
    const batch = stimuli(3, { offset: 10 });
    const targets = await gen.encode(batch);
    const whole = (await gen.generate(targets, { ids: batch.ids, seed: 5, role: 'model' })) as Generation;
    const order = [2, 0];
    const part = (await gen.generate(
      { 'clip-image': rowsOf(targets['clip-image']!, order), 'clip-text': rowsOf(targets['clip-text']!, order) },
      { ids: order.map((i) => batch.ids[i]!), seed: 5, role: 'model' },
    )) as Generation;
    for (const [k, i] of order.entries()) for (const s of [0, 1]) expect(imageOf(part.samples[s]!, k)).toEqual(imageOf(whole.samples[s]!, i));
    const other = (await gen.generate(targets, { ids: batch.ids, seed: 6, role: 'model' })) as Generation;
    expect(imageOf(other.samples[0]!, 0)).not.toEqual(imageOf(whole.samples[0]!, 0));
    const truncated = await fitted(core, { model, clipModel }, { samples: 2, truncation: 0 });
    const t5 = (await truncated.generate(targets, { ids: batch.ids, seed: 5, role: 'model' })) as Generation;
    const t6 = (await truncated.generate(targets, { ids: batch.ids, seed: 6, role: 'model' })) as Generation;
    expect(t5.samples[0]!.data).toEqual(t6.samples[1]!.data);
  }, 60_000);

  it('a generation interrupted half-way continues at the next unfinished item and gives the images of an uninterrupted run', async () => {
    const { core, model, clipModel } = await setup();
    const batch = stimuli(4, { offset: 20 });
    const gen = await fitted(core, { model, clipModel });
    const targets = await gen.encode(batch);
    const { core: plain } = await setup({ cacheDir: null });
    const reference = (await (await fitted(plain, { model, clipModel })).generate(targets, { ids: batch.ids, seed: 1, role: 'model' })) as Generation;

    // Stop after the second generated item: the generation task's second tick aborts.
    const stop = abortAtTick(core, 'generating', 2);
    const interrupted = await fitted(core, { model, clipModel });
    await expect(interrupted.generate(targets, { ids: batch.ids, seed: 1, role: 'model', signal: stop.signal })).rejects.toThrow(/stopped by the test/);
    stop.restore();
    expect((await core.cache.list()).entries.filter((e) => e.kind === 'lafite-images')).toHaveLength(2);
    const resumed = (await (await fitted(core, { model, clipModel })).generate(targets, { ids: batch.ids, seed: 1, role: 'model' })) as Generation;
    expect(resumed.samples[0]!.data).toEqual(reference.samples[0]!.data);
    expect((await core.cache.list()).entries.filter((e) => e.kind === 'lafite-images')).toHaveLength(4);
  }, 120_000);
});

describe('lafite bad input', () => {
  it('a generator whose conditioning is not 512 wide', async () => {
    const { core, clipModel } = await setup({ cacheDir: null });
    const wrong = await writeWrongWidthGenerator(await scratch.dir(), 256);
    await expect(fitted(core, { model: wrong, clipModel })).rejects.toThrow(
      /the conditioning input 'image_embedding' is 256 wide; Mind Reader's generator is conditioned on CLIP ViT-B\/32 embeddings \(512\)/,
    );
  }, 60_000);

  it('a dataset without captions, and an item without one, for clip-text', async () => {
    const { core, model, clipModel } = await setup({ cacheDir: null });
    const gen = await fitted(core, { model, clipModel });
    await expect(gen.encode(stimuli(2, { captions: false }))).rejects.toThrow(/dataset 'test' \(s1, train\) has no captions, but the target 'clip-text'/);
    const one = { ...stimuli(2), captions: [['a cat'], []] };
    await expect(gen.encode(one)).rejects.toThrow(/item 'img1' has no caption/);
  }, 60_000);

  it('predictions of the wrong size, missing, non-finite or all zeros', async () => {
    const { core, model, clipModel } = await setup({ cacheDir: null });
    const gen = await fitted(core, { model, clipModel });
    const batch = stimuli(2);
    const targets = await gen.encode(batch);
    const context = { ids: batch.ids, seed: 1, role: 'model' as const };
    const text = targets['clip-text']!;
    await expect(gen.generate({ 'clip-image': { rows: 2, cols: 768, data: new Float32Array(1536) }, 'clip-text': text }, context)).rejects.toThrow(
      /predicted 'clip-image' targets have 768 values per item, expected 512 \(a CLIP ViT-B\/32 embedding\)/,
    );
    await expect(gen.generate({ 'clip-image': targets['clip-image']! }, context)).rejects.toThrow(/needs predicted 'clip-text' targets, got: clip-image/);
    const bad = Float32Array.from(text.data);
    bad[600] = Number.POSITIVE_INFINITY;
    await expect(gen.generate({ 'clip-image': targets['clip-image']!, 'clip-text': { ...text, data: bad } }, context)).rejects.toThrow(
      /predicted 'clip-text' of item 'img1' \(row 1\) holds a non-finite value \(Infinity\)/,
    );
    const zeros = Float32Array.from(text.data).fill(0, 0, 512);
    await expect(gen.generate({ 'clip-image': targets['clip-image']!, 'clip-text': { ...text, data: zeros } }, context)).rejects.toThrow(/item 'img0' \(row 0\) is all zeros/);
    expect(() => core.registry.resolveOptions('generator', 'lafite', { outlierClamp: -1 })).toThrow(/outlierClamp/);
  }, 60_000);

  it('a folder missing a graph: the generator’s .onnx, or CLIP’s text model', async () => {
    const { core, model, clipModel } = await setup({ cacheDir: null });
    await rm(join(model, 'generator.onnx'));
    await expect(fitted(core, { model, clipModel })).rejects.toThrow(/model\.json names graph 'generator' as generator\.onnx, which is missing/);
    const generator = await writeTinyLafite(await scratch.dir());
    const noText = await writeTinyClipB32(await scratch.dir(), { omit: 'text' });
    await expect(fitted(core, { model: generator, clipModel: noText })).rejects.toThrow(/has no graph 'text' \(it has vision\)/);
  }, 60_000);
});
