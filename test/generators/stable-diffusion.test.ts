/**
 * The `stable-diffusion` generator on the tiny SD graphs (test/fixtures/stable-diffusion/): targets and their cache,
 * keyed noise (a re-ordered generation gives the same images), resume after an interruption, and bad input.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FittedGenerator, Generation, StimulusBatch } from '../../core/contracts.js';
import type { ModelStore } from '../../core/models/store.js';
import type { ImageBatch, Matrix } from '../../core/tensor.js';
import { loadClipTokenizer } from '../../core/text/clip-tokenizer.js';
import { TOKENS } from '../../core/tokens.js';
import { openSdGraphs } from '../../generators/stable-diffusion/sd-graphs.js';
import { writeClipTokenizerFiles } from '../helpers/clip-vocab.js';
import { abortAtTick } from '../helpers/interrupt.js';
import { perTestScratch, type TestCore } from '../helpers/core.js';
import { writeTinyStableDiffusion, type TinySdVariant } from '../helpers/tiny-stable-diffusion.js';

const scratch = perTestScratch('nd-sd-gen-');
/** Tiny settings: 40² stimuli → z 4×5×5; init images 64²; 10 DDIM steps (8 denoising at strength 0.8). */
const TINY = { resolution: 40, initSize: 64, steps: 10, samples: 2 };

function stimuli(n: number, options: { captions?: boolean; offset?: number } = {}): StimulusBatch {
  const size = 40 * 40 * 3;
  const data = new Float32Array(n * size);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < 40 * 40; p++) {
      const [x, y] = [p % 40, Math.floor(p / 40)];
      const k = i + (options.offset ?? 0);
      for (let ch = 0; ch < 3; ch++) data[i * size + 3 * p + ch] = Math.round(255 * (0.5 + 0.5 * Math.sin(0.2 * (k + 1) * x + 0.13 * y + ch))) / 255;
    }
  }
  const ids = Array.from({ length: n }, (_, i) => `img${i + (options.offset ?? 0)}`);
  return {
    ids,
    images: { count: n, height: 40, width: 40, channels: 3, data },
    ...(options.captions === false ? {} : { captions: ids.map((id, i) => (i % 2 === 0 ? [`a photo of ${id}`, 'a red square'] : [`a picture of ${id}`])) }),
    source: "dataset 'test' (s1, train)",
  };
}

async function fitted(core: TestCore, dir: string, options: Record<string, unknown> = {}): Promise<FittedGenerator> {
  const { instance } = await core.registry.create('generator', 'stable-diffusion', { model: dir, ...TINY, ...options });
  return instance.fit(stimuli(4), { seed: 3 });
}

async function setup(variant: TinySdVariant = {}, coreOptions: Parameters<typeof scratch.core>[0] = {}) {
  const core = await scratch.core(coreOptions);
  const dir = await writeTinyStableDiffusion(await scratch.dir(), variant);
  return { core, dir };
}

const rowsOf = (m: Matrix, indices: number[]): Matrix => ({ rows: indices.length, cols: m.cols, data: Float32Array.from(indices.flatMap((i) => [...m.data.subarray(i * m.cols, (i + 1) * m.cols)])) });
const imageOf = (b: ImageBatch, i: number) => b.data.subarray(i * b.height * b.width * b.channels, (i + 1) * b.height * b.width * b.channels);

describe('stable-diffusion targets', () => {
  it('z is 4×(r/8)² and c is 77 × the text width, the mean CLIP text of the captions; encoding is cached per item', async () => {
    const { core, dir } = await setup();
    const gen = await fitted(core, dir);
    expect(gen.targets()).toEqual([{ name: 'z', dims: 100 }, { name: 'c', dims: 77 * 8 }]);
    const batch = stimuli(3);
    const targets = await gen.encode(batch);
    expect(targets.z!.rows).toBe(3);
    // c of item 0 = mean of its two captions' last_hidden_state, computed here from the graphs directly.
    const models = core.container.get<ModelStore>(TOKENS.Models);
    const graphs = await openSdGraphs(models, await models.folder(dir, 'test'));
    const tokenizer = await loadClipTokenizer(join(dir, 'tokenizer'));
    const hidden = await graphs.encodeText(tokenizer.encodeBatch(batch.captions![0]!), 2);
    const c0 = targets.c!.data.subarray(0, 616);
    for (let j = 0; j < 616; j++) expect(c0[j]).toBeCloseTo((hidden[j]! + hidden[616 + j]!) / 2, 6);
    // Different images give different latents; the same stimuli again are read from the cache, bit for bit.
    expect(targets.z!.data.subarray(0, 100)).not.toEqual(targets.z!.data.subarray(100, 200));
    const again = await gen.encode(batch);
    expect(again.z!.data).toEqual(targets.z!.data);
    expect(again.c!.data).toEqual(targets.c!.data);
    const listing = await core.cache.list();
    expect(listing.entries.filter((e) => e.kind === 'sd-targets')).toHaveLength(3);
  }, 120_000);

  it("with CLIP's own vocabulary, c is the text encoder's output on CLIP's token ids (BOS, tokens, EOS, EOS padding)", async () => {
    const { core, dir } = await setup({ tokenizerFiles: writeClipTokenizerFiles });
    const gen = await fitted(core, dir, { init: 'given' });
    const batch = { ...stimuli(1), captions: [['a photo of a cat']] };
    const { c } = await gen.encode(batch);
    const ids = new Int32Array(77).fill(49407);
    ids.set([49406, 320, 1125, 539, 320, 2368, 49407]);
    const models = core.container.get<ModelStore>(TOKENS.Models);
    const graphs = await openSdGraphs(models, await models.folder(dir, 'test'));
    expect(c!.data).toEqual(await graphs.encodeText(ids, 1));
  }, 60_000);
});

describe('stable-diffusion with textTokens (preset hou-khoshnoo: 15)', () => {
  it("c is the first 15 tokens; generation completes it with the training items' mean of the other 62", async () => {
    const { core, dir } = await setup({}, { cacheDir: null });
    const train = stimuli(4);
    const short = await (await core.registry.create('generator', 'stable-diffusion', { model: dir, ...TINY, samples: 1, preset: 'hou-khoshnoo' })).instance.fit(train, { seed: 3 });
    expect(short.targets()).toEqual([{ name: 'z', dims: 100 }, { name: 'c', dims: 15 * 8 }]);
    const full = await (await core.registry.create('generator', 'stable-diffusion', { model: dir, ...TINY, samples: 1, textTokens: 77 })).instance.fit(train, { seed: 3 });
    const fullTrain = await full.encode(train);
    // The runner's encode(train) after fit: the first 15 tokens of the full c.
    const shortTrain = await short.encode(train);
    for (let i = 0; i < 4; i++) expect(shortTrain.c!.data.subarray(i * 120, (i + 1) * 120)).toEqual(fullTrain.c!.data.subarray(i * 616, i * 616 + 120));
    // The completed context: predicted 15 tokens, then the mean of the training items' tokens 15…76.
    const test = stimuli(2, { offset: 30 });
    const predicted = await short.encode(test);
    const completed = new Float32Array(2 * 616);
    for (let i = 0; i < 2; i++) {
      completed.set(predicted.c!.data.subarray(i * 120, (i + 1) * 120), i * 616);
      for (let j = 120; j < 616; j++) {
        let sum = 0;
        for (let k = 0; k < 4; k++) sum += fullTrain.c!.data[k * 616 + j]!;
        completed[i * 616 + j] = sum / 4;
      }
    }
    const context = { ids: test.ids, seed: 2, role: 'model' as const };
    const a = (await short.generate(predicted, context)) as Generation;
    const b = (await full.generate({ z: predicted.z!, c: { rows: 2, cols: 616, data: completed } }, context)) as Generation;
    expect(a.scoring).toBe('mean');
    for (let i = 0; i < 2; i++) {
      const [x, y] = [imageOf(a.samples[0]!, i), imageOf(b.samples[0]!, i)];
      // float32 sums in another order: at most a rounding step of a byte here and there.
      let off = 0;
      for (let k = 0; k < x.length; k++) off = Math.max(off, Math.abs(x[k]! - y[k]!));
      expect(off).toBeLessThanOrEqual(1 / 255 + 1e-6);
    }
  }, 120_000);
});

describe('stable-diffusion generation', () => {
  it('the noise of an item is a function of (seed, id, sample): a re-ordered subset gives the same images; samples differ', async () => {
    const { core, dir } = await setup({}, { cacheDir: null });
    const gen = await fitted(core, dir);
    const batch = stimuli(3, { offset: 10 });
    const targets = await gen.encode(batch);
    const whole = (await gen.generate(targets, { ids: batch.ids, seed: 5, role: 'model' })) as Generation;
    expect(whole.samples).toHaveLength(2);
    expect(whole.scoring).toBe('first');
    expect([whole.samples[0]!.height, whole.samples[0]!.width, whole.samples[0]!.channels]).toEqual([40, 40, 3]);
    const order = [2, 0];
    const part = (await gen.generate({ z: rowsOf(targets.z!, order), c: rowsOf(targets.c!, order) }, { ids: order.map((i) => batch.ids[i]!), seed: 5, role: 'model' })) as Generation;
    for (const [k, i] of order.entries()) for (const s of [0, 1]) expect(imageOf(part.samples[s]!, k)).toEqual(imageOf(whole.samples[s]!, i));
    expect(imageOf(whole.samples[0]!, 0)).not.toEqual(imageOf(whole.samples[1]!, 0));
    // Another seed, other noise, other images.
    const other = (await gen.generate(targets, { ids: batch.ids, seed: 6, role: 'model' })) as Generation;
    expect(imageOf(other.samples[0]!, 0)).not.toEqual(imageOf(whole.samples[0]!, 0));
  }, 120_000);

  it('a generation interrupted half-way continues at the next unfinished item and gives the images of an uninterrupted run', async () => {
    const { core, dir } = await setup();
    const gen = await fitted(core, dir, { samples: 1, preset: 'hou-khoshnoo' });
    const batch = stimuli(4, { offset: 20 });
    const targets = await gen.encode(batch);
    // The uninterrupted run, without the cache.
    const { core: plain } = await setup({}, { cacheDir: null });
    const reference = (await (await fitted(plain, dir, { samples: 1, preset: 'hou-khoshnoo' })).generate(targets, { ids: batch.ids, seed: 1, role: 'model' })) as Generation;
    expect(reference.scoring).toBe('mean');

    // Stop after the second generated item: the generation task's second tick aborts.
    const stop = abortAtTick(core, 'generating', 2);
    const interrupted = await fitted(core, dir, { samples: 1, preset: 'hou-khoshnoo' });
    await expect(interrupted.generate(targets, { ids: batch.ids, seed: 1, role: 'model', signal: stop.signal })).rejects.toThrow(/stopped by the test/);
    stop.restore();
    const kept = (await core.cache.list()).entries.filter((e) => e.kind === 'sd-images');
    expect(kept).toHaveLength(2);
    const resumed = (await (await fitted(core, dir, { samples: 1, preset: 'hou-khoshnoo' })).generate(targets, { ids: batch.ids, seed: 1, role: 'model' })) as Generation;
    expect(resumed.samples[0]!.data).toEqual(reference.samples[0]!.data);
    expect((await core.cache.list()).entries.filter((e) => e.kind === 'sd-images')).toHaveLength(4);
  }, 180_000);

  it("init 'given': starts from the given images (generateFrom), and refuses generate()", async () => {
    const { core, dir } = await setup({}, { cacheDir: null });
    const gen = await fitted(core, dir, { init: 'given', samples: 1 });
    expect(gen.targets().map((s) => s.name)).toEqual(['c']);
    const batch = stimuli(2);
    const { c } = await gen.encode(batch);
    await expect(gen.generate({ c: c! }, { ids: batch.ids, seed: 1, role: 'model' })).rejects.toThrow(/first stage.*two-stage/);
    const a = (await gen.generateFrom!(batch.images, { c: c! }, { ids: batch.ids, seed: 1, role: 'model' })) as Generation;
    const b = (await gen.generateFrom!(stimuli(2, { offset: 7 }).images, { c: c! }, { ids: batch.ids, seed: 1, role: 'model' })) as Generation;
    expect(a.samples[0]!.data).not.toEqual(b.samples[0]!.data);
  }, 120_000);
});

describe('stable-diffusion bad input', () => {
  it('a folder missing a graph, and a UNet whose encoder_hidden_states width is not the text encoder’s', async () => {
    const { core, dir } = await setup();
    await rm(join(dir, 'unet'), { recursive: true });
    await expect(fitted(core, dir)).rejects.toThrow(/unet\/model\.onnx/);
    const wide = await writeTinyStableDiffusion(await scratch.dir(), { wideUnet: true });
    await expect(fitted(core, wide)).rejects.toThrow(/encoder_hidden_states are 12 wide, but the text encoder's last_hidden_state is 8 wide/);
  }, 60_000);

  it('predicted targets of the wrong size, non-finite latents, samples 0', async () => {
    const { core, dir } = await setup({}, { cacheDir: null });
    const gen = await fitted(core, dir, { samples: 1 });
    const batch = stimuli(2);
    const targets = await gen.encode(batch);
    const context = { ids: batch.ids, seed: 1, role: 'model' as const };
    await expect(gen.generate({ z: { rows: 2, cols: 64, data: new Float32Array(128) }, c: targets.c! }, context)).rejects.toThrow(
      /predicted 'z' targets have 64 values per item, expected 100 = 4 × 5 × 5 \(resolution 40\)/,
    );
    const bad = Float32Array.from(targets.z!.data);
    bad[150] = NaN;
    await expect(gen.generate({ z: { rows: 2, cols: 100, data: bad }, c: targets.c! }, context)).rejects.toThrow(/predicted 'z' of item 'img1' \(row 1\) holds a non-finite value/);
    expect(() => core.registry.resolveOptions('generator', 'stable-diffusion', { samples: 0 })).toThrow(/samples/);
  }, 60_000);

  it('a dataset without captions: an error naming it, or the empty prompt when asked', async () => {
    const { core, dir } = await setup({}, { cacheDir: null });
    const gen = await fitted(core, dir);
    await expect(gen.encode(stimuli(2, { captions: false }))).rejects.toThrow(/dataset 'test' \(s1, train\) has no captions.*"missingCaptions": "empty-prompt"/);
    const empty = await fitted(core, dir, { missingCaptions: 'empty-prompt' });
    const { c } = await empty.encode(stimuli(2, { captions: false }));
    const models = core.container.get<ModelStore>(TOKENS.Models);
    const graphs = await openSdGraphs(models, await models.folder(dir, 'test'));
    const uncond = await graphs.encodeText((await loadClipTokenizer(join(dir, 'tokenizer'))).encode(''), 1);
    expect(c!.data.subarray(616)).toEqual(uncond);
  }, 60_000);
});
