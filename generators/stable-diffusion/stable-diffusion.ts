/**
 * The `stable-diffusion` generator: targets z (VAE latent of the stimulus) and c (CLIP text of its captions), and
 * Takagi & Nishimoto's img2img decoding from predicted z and c (decoder.ts). Targets are encoded once per item and
 * images generated once per item, each kept in the artifact cache as soon as it is made: an interrupted run goes
 * on at the next unfinished item, and the noise of an item is a function of (seed, item id, sample) alone.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FitContext, FittedGenerator, GenerateContext, Generation, Generator, StimulusBatch, TargetSpace } from '../../core/contracts.js';
import { img2imgPlan } from '../../core/diffusion/ddim.js';
import { itemImagesIo, type ItemImages } from '../../core/diffusion/item-images.js';
import { seededNoise } from '../../core/diffusion/noise.js';
import { readSchedulerConfig } from '../../core/diffusion/schedule.js';
import { UserError } from '../../core/errors.js';
import { convertChannels, resizeImage, type RasterImage } from '../../core/io/image.js';
import { readNpy, writeNpy } from '../../core/io/npy.js';
import { rastersToImageBatch } from '../../core/io/png.js';
import type { ModelFolder } from '../../core/models/folder.js';
import type { PluginServices } from '../../core/services.js';
import type { ImageBatch, Matrix } from '../../core/tensor.js';
import { loadClipTokenizer, type ClipTokenizer } from '../../core/text/clip-tokenizer.js';
import { TakagiDecoder, scaledLatent } from './decoder.js';
import { rasterOf, tensorOf } from './images.js';
import { SD_PRODUCE, sdRequirement } from './requirement.js';
import { PRESETS, type SdOptions } from './schema.js';
import { openSdGraphs, type SdGraphs } from './sd-graphs.js';
import { valuesDigest } from '../../core/cache.js';
import { rateStatus } from '../../core/progress.js';

const WHERE = "generator 'stable-diffusion'";

/** Everything that changes the images or targets besides the options: the graphs, scheduler and tokenizer files. */
async function modelDigest(services: PluginServices, folder: ModelFolder): Promise<string> {
  const hash = createHash('sha256').update(await services.models.folderDigest(folder));
  for (const role of ['scheduler', 'tokenizer', 'vocab', 'merges'] as const) {
    const file = folder.files[role];
    if (file) hash.update(`${role}:${(await services.models.digest(file)).sha256}\n`);
  }
  const config = join(folder.dir, 'tokenizer', 'tokenizer_config.json');
  hash.update(await readFile(config).catch(() => ''));
  return hash.digest('hex');
}

interface ItemTargets {
  z?: Float32Array;
  c?: Float32Array;
}

const targetsIo = {
  async read(dir: string): Promise<ItemTargets> {
    const meta = JSON.parse(await readFile(join(dir, 'targets.json'), 'utf8')) as { spaces: Array<'z' | 'c'> };
    const out: ItemTargets = {};
    for (const s of meta.spaces) out[s] = (await readNpy(join(dir, `${s}.npy`))).data as Float32Array;
    return out;
  },
  async write(dir: string, value: ItemTargets): Promise<void> {
    const spaces = (['z', 'c'] as const).filter((s) => value[s]);
    for (const s of spaces) await writeNpy(join(dir, `${s}.npy`), { shape: [value[s]!.length], data: value[s]! });
    await writeFile(join(dir, 'targets.json'), JSON.stringify({ spaces }));
  },
};

export class StableDiffusionGenerator implements Generator {
  constructor(
    private readonly options: SdOptions,
    private readonly services: PluginServices,
  ) {}

  async fit(train: StimulusBatch, context: FitContext): Promise<FittedStableDiffusion> {
    const { services, options } = this;
    const folder = await services.models.require(sdRequirement(options), WHERE);
    if (!folder.graphs.vae_encoder) throw new UserError(`img2img needs vae_encoder/model.onnx (a text-to-image-only export lacks it); make the folder with: ${SD_PRODUCE}`, folder.dir);
    const graphs = await openSdGraphs(services.models, folder);
    const tokenizer = await loadClipTokenizer(join(folder.dir, 'tokenizer'));
    const schedule = await readSchedulerConfig(folder.files.scheduler!);
    const uncond = await graphs.encodeText(tokenizer.encode(''), 1);
    services.log.info(`stable-diffusion: ${folder.dir}; ${graphs.description}; ${tokenizer.description}; ONNX Runtime providers: ${services.models.onnx.providers.join(', ')}`);
    const { height, width, channels } = train.images;
    const fitted = new FittedStableDiffusion(options, services, graphs, tokenizer, uncond, schedule, await modelDigest(services, folder), { height, width, channels: channels === 1 ? 1 : 3 }, context.seed);
    await fitted.encodeTraining(train);
    return fitted;
  }
}

export class FittedStableDiffusion implements FittedGenerator {
  private readonly decoder: TakagiDecoder;
  private readonly latentSide: number;
  /** Tokens of c that are a target; the others (from `textTokens` on) are the training items' mean, `tail`. */
  private readonly textTokens: number;
  private tail: Float32Array | null = null;
  /** The training targets, encoded during fit (for the tail): handed out once when the runner asks for them. */
  private training: { stimuli: StimulusBatch; targets: Record<string, Matrix> } | null = null;

  constructor(
    private readonly options: SdOptions,
    private readonly services: PluginServices,
    private readonly graphs: SdGraphs,
    private readonly tokenizer: ClipTokenizer,
    private readonly uncond: Float32Array,
    schedule: Awaited<ReturnType<typeof readSchedulerConfig>>,
    private readonly model: string,
    /** The stimuli's size and channels: generated images are resized (and made grey) to match them, to be scored against the stimuli as they are. */
    private readonly stimulusSize: { height: number; width: number; channels: 1 | 3 },
    /** The fit seed: draws the posterior sample of the z targets. */
    private readonly targetSeed: number,
  ) {
    const { steps, strength, eta, start, guidance, initSize, initResize } = options;
    const plan = img2imgPlan(schedule, { steps, strength, eta, start });
    this.decoder = new TakagiDecoder(graphs, { plan, guidance, initSize, initResize }, uncond);
    this.latentSide = options.resolution / 8;
    this.textTokens = options.textTokens ?? PRESETS[options.preset].textTokens;
    if (this.textTokens > tokenizer.contextLength) {
      throw new UserError(`"textTokens" is ${this.textTokens}, but the tokenizer's context is ${tokenizer.contextLength} tokens`, WHERE);
    }
  }

  private get spaces(): Array<'z' | 'c'> {
    return this.options.init === 'given' ? ['c'] : ['z', 'c'];
  }

  private dims(space: 'z' | 'c'): number {
    return space === 'z' ? 4 * this.latentSide * this.latentSide : this.textTokens * this.graphs.textWidth;
  }

  targets(): TargetSpace[] {
    return this.spaces.map((name) => ({ name, dims: this.dims(name) }));
  }

  private captionsOf(stimuli: StimulusBatch, captions: string[][] | undefined, i: number): string[] | null {
    if (this.options.missingCaptions === 'empty-prompt' && !captions?.[i]?.length) return null;
    const source = stimuli.source ?? 'the dataset';
    if (!captions) {
      throw new UserError(
        `${source} has no captions, but the target 'c' is the CLIP text of an image's captions: use a dataset with captions (NSD's COCO captions), ` +
          `or set the option "missingCaptions": "empty-prompt" to condition every image on the empty prompt`,
        WHERE,
      );
    }
    const list = captions[i] ?? [];
    if (list.length === 0) throw new UserError(`${source}: item '${stimuli.ids[i]}' has no caption; 'c' needs at least one (or "missingCaptions": "empty-prompt")`, WHERE);
    return list;
  }

  /** z and c of one stimulus: a posterior sample (or mean) of its latent at `resolution`, the mean CLIP text of its captions. */
  private async encodeItem(image: RasterImage, captions: string[] | null, id: string): Promise<ItemTargets> {
    const out: ItemTargets = {};
    const { resolution, encodeResize, latent } = this.options;
    if (this.spaces.includes('z')) {
      const resized = await resizeImage(image, resolution, resolution, encodeResize);
      const posterior = await this.graphs.encodeImage(tensorOf(resized), [1, 3, resolution, resolution]);
      const noise = latent === 'sample' ? seededNoise({ seed: this.targetSeed, item: id, sample: 0, stream: 'target-z' }, this.dims('z')) : null;
      out.z = scaledLatent(posterior, noise);
    }
    if (captions === null) out.c = Float32Array.from(this.uncond);
    else {
      const hidden = await this.graphs.encodeText(this.tokenizer.encodeBatch(captions), captions.length);
      // All 77 tokens (the cache keeps them whatever textTokens is).
      const size = this.tokenizer.contextLength * this.graphs.textWidth;
      const mean = new Float32Array(size);
      for (let k = 0; k < captions.length; k++) for (let j = 0; j < size; j++) mean[j]! += hidden[k * size + j]!;
      for (let j = 0; j < size; j++) mean[j] = mean[j]! / captions.length;
      out.c = mean;
    }
    return out;
  }

  /**
   * Encodes the training stimuli during fit: with `textTokens` < 77, the mean of the other tokens of c over the
   * training items is learned here (it completes every predicted c). The runner's encode(train) then gets these.
   */
  async encodeTraining(train: StimulusBatch): Promise<void> {
    if (!this.spaces.includes('c') || this.textTokens === this.tokenizer.contextLength) return;
    const full = this.tokenizer.contextLength * this.graphs.textWidth;
    const tail = new Float64Array(full - this.dims('c'));
    const targets = await this.encodeEach(train, (c) => {
      for (let j = 0; j < tail.length; j++) tail[j]! += c[this.dims('c') + j]!;
    });
    this.tail = Float32Array.from(tail, (v) => v / train.ids.length);
    this.training = { stimuli: train, targets };
  }

  async encode(stimuli: StimulusBatch): Promise<Record<string, Matrix>> {
    if (this.training?.stimuli === stimuli) {
      const { targets } = this.training;
      this.training = null;
      return targets;
    }
    return this.encodeEach(stimuli);
  }

  /** Every item's targets, from the cache or encoded (and then cached); `visitC` sees each item's whole 77-token c. */
  private async encodeEach(stimuli: StimulusBatch, visitC?: (c: Float32Array) => void): Promise<Record<string, Matrix>> {
    const n = stimuli.ids.length;
    const captions = stimuli.captions;
    if (this.spaces.includes('c')) for (let i = 0; i < n; i++) this.captionsOf(stimuli, captions, i);
    const matrices = Object.fromEntries(this.spaces.map((s) => [s, { rows: n, cols: this.dims(s), data: new Float32Array(n * this.dims(s)) }])) as Record<'z' | 'c', Matrix>;
    const { resolution, encodeResize, latent, missingCaptions } = this.options;
    const task = this.services.progress.task(`stable-diffusion: encoding targets ${this.spaces.join(', ')} of ${stimuli.source ?? `${n} stimuli`}`, n);
    const started = performance.now();
    for (let i = 0; i < n; i++) {
      const image = rasterOf(stimuli.images, i);
      const itemCaptions = this.spaces.includes('c') ? this.captionsOf(stimuli, captions, i) : null;
      const description = {
        what: 'sd-targets',
        model: this.model,
        spaces: this.spaces,
        image: valuesDigest(Float32Array.from(image.data), [image.height, image.width, image.channels]),
        ...(this.spaces.includes('z') ? { resolution, encodeResize, latent, ...(latent === 'sample' ? { seed: this.targetSeed, item: stimuli.ids[i] } : {}) } : {}),
        captions: itemCaptions ?? { missingCaptions },
      };
      const { value } = await this.services.cache.getOrBuild('sd-targets', description, targetsIo, () => this.encodeItem(image, itemCaptions, stimuli.ids[i]!));
      // The cache keeps all 77 tokens of c; the target is its first textTokens.
      for (const s of this.spaces) matrices[s].data.set(value[s]!.subarray(0, this.dims(s)), i * this.dims(s));
      if (value.c) visitC?.(value.c);
      task.tick(1, rateStatus(started, i + 1, n));
    }
    task.done();
    return matrices;
  }

  /** The predicted rows, checked: every space present, of the fitted size, one row per id, finite. */
  private checked(predicted: Record<string, Matrix>, ids: readonly string[]): Record<string, Matrix> {
    for (const s of this.spaces) {
      const m = predicted[s];
      if (!m) throw new UserError(`needs predicted '${s}' targets, got: ${Object.keys(predicted).join(', ') || 'none'}`, WHERE);
      if (m.cols !== this.dims(s)) {
        const what = s === 'z' ? `4 × ${this.latentSide} × ${this.latentSide} (resolution ${this.options.resolution})` : `${this.tokenizer.contextLength} × ${this.graphs.textWidth}`;
        throw new UserError(`predicted '${s}' targets have ${m.cols} values per item, expected ${this.dims(s)} = ${what}`, WHERE);
      }
      if (m.rows !== ids.length) throw new UserError(`predicted '${s}' targets have ${m.rows} rows for ${ids.length} items`, WHERE);
      for (let k = 0; k < m.data.length; k++) {
        if (!Number.isFinite(m.data[k]!)) {
          const row = Math.floor(k / m.cols);
          throw new UserError(`predicted '${s}' of item '${ids[row]}' (row ${row}) holds a non-finite value (${m.data[k]}): a diffusion from it would be NaN`, WHERE);
        }
      }
    }
    return predicted;
  }

  /** A predicted c row completed to 77 tokens with the training mean (Hou & Khoshnoo's 15-token c). */
  private context(predicted: Float32Array): Float32Array {
    if (!this.tail) return predicted;
    const full = new Float32Array(predicted.length + this.tail.length);
    full.set(predicted);
    full.set(this.tail, predicted.length);
    return full;
  }

  async generate(predicted: Record<string, Matrix>, context: GenerateContext): Promise<Generation> {
    if (this.options.init === 'given') {
      throw new UserError("with \"init\": \"given\" the init images come from a first stage: use it as the second stage of 'two-stage'", WHERE);
    }
    return this.generateAll(null, this.checked(predicted, context.ids), context);
  }

  async generateFrom(init: ImageBatch, predicted: Record<string, Matrix>, context: GenerateContext): Promise<Generation> {
    if (init.count !== context.ids.length) throw new UserError(`given ${init.count} init images for ${context.ids.length} items`, WHERE);
    if (this.options.init !== 'given') {
      throw new UserError('started from given images, but the option "init" is "predicted-z": set "init": "given" for a second stage', WHERE);
    }
    return this.generateAll(init, this.checked(predicted, context.ids), context);
  }

  private async generateAll(init: ImageBatch | null, predicted: Record<string, Matrix>, context: GenerateContext): Promise<Generation> {
    const { ids, seed, signal } = context;
    const { samples, steps, strength, guidance, eta, start, initSize, initResize, latent } = this.options;
    const z = predicted.z;
    const c = predicted.c!;
    const perSample: RasterImage[][] = Array.from({ length: samples }, () => []);
    const { height, width, channels } = this.stimulusSize;
    const task = this.services.progress.task(`stable-diffusion: generating ${samples} sample${samples === 1 ? '' : 's'} of ${ids.length} items (${context.role})`, ids.length);
    const started = performance.now();
    let made = 0;
    for (const [i, id] of ids.entries()) {
      signal?.throwIfAborted();
      const cRow = this.context(c.data.subarray(i * c.cols, (i + 1) * c.cols));
      const initRaster = init ? rasterOf(init, i) : undefined;
      const description = {
        what: 'sd-images',
        model: this.model,
        settings: { steps, strength, guidance, eta, start, initSize, initResize, samples, latent, init: this.options.init },
        seed,
        item: id,
        c: valuesDigest(cRow, [cRow.length]),
        ...(z ? { z: valuesDigest(z.data.subarray(i * z.cols, (i + 1) * z.cols), [z.cols]) } : {}),
        ...(initRaster ? { initImage: valuesDigest(Float32Array.from(initRaster.data), [initRaster.height, initRaster.width, 3]) } : {}),
      };
      const { value, outcome } = await this.services.cache.getOrBuild('sd-images', description, itemImagesIo, async () => {
        const raster = initRaster ?? (await this.decoder.initRaster(z!.data.subarray(i * z!.cols, (i + 1) * z!.cols)));
        const noise = (sample: number, stream: string, length: number) => seededNoise({ seed, item: id, sample, stream }, length);
        const posteriorNoise = latent === 'sample' ? noise(0, 'posterior', 4 * (initSize / 8) ** 2) : null;
        const z0 = await this.decoder.initLatent(raster, posteriorNoise);
        const item: ItemImages = { images: [], latents: [] };
        for (let s = 0; s < samples; s++) {
          const final = await this.decoder.denoise(z0, cRow, noise(s, 'encode', z0.length), (k) => noise(s, `step-${k}`, z0.length), () => signal?.throwIfAborted());
          item.latents.push(final);
          item.images.push(await this.decoder.image(final));
        }
        return item;
      });
      if (outcome !== 'hit') made++;
      for (let s = 0; s < samples; s++) perSample[s]!.push(convertChannels(await resizeImage(value.images[s]!, width, height, 'pillow-default'), channels));
      task.tick(1, rateStatus(started, i + 1, ids.length));
    }
    task.done();
    if (made < ids.length) this.services.log.info(`stable-diffusion: ${ids.length - made} of ${ids.length} items' images re-used from the cache (${context.role})`);
    return { samples: perSample.map((rasters) => rastersToImageBatch(rasters)), scoring: this.options.scoring ?? PRESETS[this.options.preset].scoring };
  }
}
