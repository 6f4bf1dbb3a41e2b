/**
 * The `versatile-diffusion` generator: targets clip-vision (the CLIP ViT-L/14 image tokens of the stimulus) and
 * clip-text (the mean CLIP text tokens of its captions), and Brain-Diffuser's image-to-image pass from a first
 * stage's images guided by both predicted embeddings (sampler.ts). Targets are encoded once per item and images
 * generated once per item, each kept in the artifact cache as soon as it is made: an interrupted run goes on at the
 * next unfinished item, and the noise of an item is a function of (seed, item id, sample) alone.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FittedGenerator, GenerateContext, Generation, Generator, StimulusBatch, TargetSpace } from '../../core/contracts.js';
import { valuesDigest } from '../../core/cache.js';
import { img2imgPlan } from '../../core/diffusion/ddim.js';
import { itemImagesIo, type ItemImages } from '../../core/diffusion/item-images.js';
import { seededNoise } from '../../core/diffusion/noise.js';
import { readSchedulerConfig, SD_V1_SCHEDULE, type NoiseSchedule } from '../../core/diffusion/schedule.js';
import { UserError } from '../../core/errors.js';
import { convertChannels, resizeImage, type RasterImage } from '../../core/io/image.js';
import { readNpy, writeNpy } from '../../core/io/npy.js';
import { rastersToImageBatch } from '../../core/io/png.js';
import type { ModelFolder } from '../../core/models/folder.js';
import { rateStatus } from '../../core/progress.js';
import type { PluginServices } from '../../core/services.js';
import type { ImageBatch, Matrix } from '../../core/tensor.js';
import { loadClipTokenizer, type ClipTokenizer } from '../../core/text/clip-tokenizer.js';
import { brainDiffuserPixels, clipProcessorPixels, float32Mean, greyUncondRaster, normaliseByFirstToken, normaliseByPooled } from './clip-input.js';
import { VD_PRODUCE, vdRequirement } from './requirement.js';
import { DualGuidedSampler, type Unconditional } from './sampler.js';
import { VD_SPACES, type VdOptions, type VdSpace } from './schema.js';
import { openVdGraphs, type VdGraphs } from './vd-graphs.js';

const WHERE = "generator 'versatile-diffusion'";

/** Item i of a batch as an 8-bit RGB raster (values were 8-bit to begin with: rounding restores them; gray → RGB). */
function rasterOf(images: ImageBatch, i: number): RasterImage {
  const size = images.height * images.width * images.channels;
  const data = new Uint8Array(size);
  for (let k = 0; k < size; k++) data[k] = Math.round(Math.min(1, Math.max(0, images.data[i * size + k]!)) * 255);
  const raster = { width: images.width, height: images.height, channels: images.channels, data };
  return images.channels === 3 ? raster : convertChannels(raster, 3);
}

type ItemTargets = Record<VdSpace, Float32Array>;

const targetsIo = {
  async read(dir: string): Promise<ItemTargets> {
    const read = async (s: VdSpace) => (await readNpy(join(dir, `${s}.npy`))).data as Float32Array;
    return { 'clip-vision': await read('clip-vision'), 'clip-text': await read('clip-text') };
  },
  async write(dir: string, value: ItemTargets): Promise<void> {
    for (const s of VD_SPACES) await writeNpy(join(dir, `${s}.npy`), { shape: [value[s].length], data: value[s] });
  },
};

/** The graphs plus the tokenizer, the scheduler and the manifest: everything that changes targets or images. */
async function modelDigest(services: PluginServices, folder: ModelFolder, files: string[]): Promise<string> {
  const hash = createHash('sha256').update(await services.models.folderDigest(folder));
  for (const file of files) hash.update(`${file}:${(await services.models.digest(file)).sha256}\n`);
  return hash.digest('hex');
}

/** The model folder's tokenizer (tokenizer/) and schedule (scheduler_config.json, else SD v1's = VD's vd_noema betas). */
async function folderExtras(folder: ModelFolder): Promise<{ tokenizer: ClipTokenizer; schedule: NoiseSchedule; files: string[]; scheduleSource: string }> {
  const dir = join(folder.dir, 'tokenizer');
  const vocab = join(dir, 'vocab.json');
  const merges = join(dir, 'merges.txt');
  if (!existsSync(join(dir, 'tokenizer.json')) && !(existsSync(vocab) && existsSync(merges))) {
    throw new UserError(`a Versatile Diffusion folder needs CLIP's tokenizer: expected ${vocab} and ${merges}; make the folder with: ${VD_PRODUCE}`, folder.dir);
  }
  const tokenizer = await loadClipTokenizer(dir);
  const files = [vocab, merges, join(dir, 'tokenizer.json'), join(dir, 'tokenizer_config.json'), join(folder.dir, 'model.json')].filter((p) => existsSync(p));
  const config = join(folder.dir, 'scheduler_config.json');
  if (!existsSync(config)) return { tokenizer, schedule: SD_V1_SCHEDULE, files, scheduleSource: 'SD v1 / VD vd_noema betas (no scheduler_config.json)' };
  return { tokenizer, schedule: await readSchedulerConfig(config), files: [...files, config], scheduleSource: 'scheduler_config.json' };
}

export class VersatileDiffusionGenerator implements Generator {
  constructor(
    private readonly options: VdOptions,
    private readonly services: PluginServices,
  ) {}

  async fit(train: StimulusBatch): Promise<FittedVersatileDiffusion> {
    const { services, options } = this;
    const folder = await services.models.require(vdRequirement(options), WHERE);
    const graphs = await openVdGraphs(services.models, folder);
    const { tokenizer, schedule, files, scheduleSource } = await folderExtras(folder);
    if (graphs.textLength !== undefined && graphs.textLength !== tokenizer.contextLength) {
      throw new UserError(`clip_text takes ${graphs.textLength} token ids, but the tokenizer pads to ${tokenizer.contextLength}`, folder.graphs.clip_text!.file);
    }
    const encoder = new ClipEncoder(graphs, tokenizer, options.visionInput);
    const uncond = await encoder.unconditional();
    checkContexts(graphs, encoder, folder);
    services.log.info(
      `versatile-diffusion: ${folder.dir}; ${graphs.description}; contexts vision ${encoder.visionTokens}×${encoder.width}, text ${tokenizer.contextLength}×${encoder.width}; ` +
        `${tokenizer.description}; schedule: ${scheduleSource}; ONNX Runtime providers: ${services.models.onnx.providers.join(', ')}`,
    );
    const { height, width, channels } = train.images;
    return new FittedVersatileDiffusion(options, services, graphs, encoder, uncond, schedule, await modelDigest(services, folder, files), { height, width, channels: channels === 1 ? 1 : 3 });
  }
}

/** The UNet's fixed context sizes must be the CLIP graphs' (one model's graphs, not two). */
function checkContexts(graphs: VdGraphs, encoder: ClipEncoder, folder: ModelFolder): void {
  const have = { vision: [encoder.visionTokens, encoder.width], text: [encoder.textTokens, encoder.width] };
  for (const kind of ['vision', 'text'] as const) {
    const [tokens, width] = graphs.unetContexts[kind];
    const [n, w] = have[kind];
    if ((tokens !== undefined && tokens !== n) || (width !== undefined && width !== w)) {
      throw new UserError(
        `the UNet's context_${kind} is [${tokens ?? '?'}, ${width ?? '?'}] per item, but clip_${kind} gives ${n} × ${w}: the graphs are not from one model`,
        folder.graphs.unet!.file,
      );
    }
  }
}

/** CLIP image and text conditioning as Brain-Diffuser computes it (clip-input.ts), on the folder's graphs. */
export class ClipEncoder {
  visionTokens = 0;
  width = 0;

  constructor(
    private readonly graphs: VdGraphs,
    readonly tokenizer: ClipTokenizer,
    private readonly visionInput: VdOptions['visionInput'],
  ) {}

  get textTokens(): number {
    return this.tokenizer.contextLength;
  }

  /** The unconditional pair (grey image, ""), which also fixes the token counts and the width. */
  async unconditional(): Promise<Unconditional> {
    const vision = await this.visionOf(await clipProcessorPixels(greyUncondRaster(this.graphs.pixelSize), this.graphs.pixelSize));
    const text = await this.textOf(['']);
    return { vision, text };
  }

  /** Normalised image tokens of a stimulus (visionTokens × width). */
  async vision(raster: RasterImage): Promise<Float32Array> {
    const size = this.graphs.pixelSize;
    return this.visionOf(this.visionInput === 'brain-diffuser' ? await brainDiffuserPixels(raster, size) : await clipProcessorPixels(raster, size));
  }

  private async visionOf(pixels: Float32Array): Promise<Float32Array> {
    const { data, count, width } = await this.graphs.encodeVision(pixels, 1);
    this.visionTokens = count;
    this.width = width;
    return normaliseByFirstToken(data, 1, count, width);
  }

  /** The mean over captions of each caption's normalised text tokens (77 × width). */
  async textOf(captions: string[]): Promise<Float32Array> {
    const { tokens, pooled } = await this.graphs.encodeText(this.tokenizer.encodeBatch(captions), captions.length);
    if (this.width !== 0 && tokens.width !== this.width) {
      throw new UserError(`clip_text's projection is ${tokens.width} wide, clip_vision's ${this.width}: the UNet takes both at one width`, WHERE);
    }
    this.width = tokens.width;
    return float32Mean(normaliseByPooled(tokens.data, pooled, captions.length, tokens.count, tokens.width), captions.length);
  }
}

export class FittedVersatileDiffusion implements FittedGenerator {
  readonly sampler: DualGuidedSampler;

  constructor(
    private readonly options: VdOptions,
    private readonly services: PluginServices,
    readonly graphs: VdGraphs,
    readonly encoder: ClipEncoder,
    readonly uncond: Unconditional,
    schedule: NoiseSchedule,
    private readonly model: string,
    /** The stimuli's size and channels: generated images are resized (and made grey) to match them for scoring. */
    private readonly stimulusSize: { height: number; width: number; channels: 1 | 3 },
  ) {
    const { steps, strength, eta, guidance, mix } = options;
    // CompVis' DDIMSampler (VD's DDIMSampler_VD): stochastic_encode(t_enc) then decode_dc over the t_enc steps below.
    const plan = img2imgPlan(schedule, { steps, strength, eta, start: 'compvis' });
    this.sampler = new DualGuidedSampler(graphs, { plan, guidance, mix }, uncond);
  }

  private dims(space: VdSpace): number {
    return space === 'clip-vision' ? this.encoder.visionTokens * this.encoder.width : this.encoder.textTokens * this.encoder.width;
  }

  targets(): TargetSpace[] {
    return VD_SPACES.map((name) => ({ name, dims: this.dims(name) }));
  }

  private captionsOf(stimuli: StimulusBatch, i: number): string[] | null {
    const { captions } = stimuli;
    if (this.options.missingCaptions === 'empty-prompt' && !captions?.[i]?.length) return null;
    const source = stimuli.source ?? 'the dataset';
    if (!captions) {
      throw new UserError(
        `${source} has no captions, but the target 'clip-text' is the CLIP text of an image's captions: use a dataset with captions (NSD's COCO captions), ` +
          `or set the option "missingCaptions": "empty-prompt" to take the empty prompt's CLIP text for every image`,
        WHERE,
      );
    }
    const list = captions[i] ?? [];
    if (list.length === 0) throw new UserError(`${source}: item '${stimuli.ids[i]}' has no caption; 'clip-text' needs at least one (or "missingCaptions": "empty-prompt")`, WHERE);
    return list;
  }

  async encode(stimuli: StimulusBatch): Promise<Record<string, Matrix>> {
    const n = stimuli.ids.length;
    for (let i = 0; i < n; i++) this.captionsOf(stimuli, i);
    const matrices = Object.fromEntries(VD_SPACES.map((s) => [s, { rows: n, cols: this.dims(s), data: new Float32Array(n * this.dims(s)) }])) as Record<VdSpace, Matrix>;
    const { visionInput, missingCaptions } = this.options;
    const task = this.services.progress.task(`versatile-diffusion: encoding clip-vision and clip-text of ${stimuli.source ?? `${n} stimuli`}`, n);
    const started = performance.now();
    for (let i = 0; i < n; i++) {
      const image = rasterOf(stimuli.images, i);
      const captions = this.captionsOf(stimuli, i);
      const description = {
        what: 'vd-targets',
        model: this.model,
        image: valuesDigest(image.data, [image.height, image.width, image.channels]),
        visionInput,
        captions: captions ?? { missingCaptions },
      };
      const { value } = await this.services.cache.getOrBuild('vd-targets', description, targetsIo, async () => ({
        'clip-vision': await this.encoder.vision(image),
        'clip-text': captions === null ? Float32Array.from(this.uncond.text) : await this.encoder.textOf(captions),
      }));
      for (const s of VD_SPACES) matrices[s].data.set(value[s], i * this.dims(s));
      task.tick(1, rateStatus(started, i + 1, n));
    }
    task.done();
    return matrices;
  }

  /** The predicted rows, checked: both spaces present, of the fitted size, one row per id, finite. */
  private checked(predicted: Record<string, Matrix>, ids: readonly string[]): Record<VdSpace, Matrix> {
    for (const s of VD_SPACES) {
      const m = predicted[s];
      if (!m) throw new UserError(`needs predicted '${s}' targets, got: ${Object.keys(predicted).join(', ') || 'none'}`, WHERE);
      const tokens = s === 'clip-vision' ? this.encoder.visionTokens : this.encoder.textTokens;
      if (m.cols !== this.dims(s)) throw new UserError(`predicted '${s}' targets have ${m.cols} values per item, expected ${this.dims(s)} = ${tokens} × ${this.encoder.width}`, WHERE);
      if (m.rows !== ids.length) throw new UserError(`predicted '${s}' targets have ${m.rows} rows for ${ids.length} items`, WHERE);
      for (let k = 0; k < m.data.length; k++) {
        if (!Number.isFinite(m.data[k]!)) {
          const row = Math.floor(k / m.cols);
          throw new UserError(`predicted '${s}' of item '${ids[row]}' (row ${row}) holds a non-finite value (${m.data[k]}): a diffusion guided by it would be NaN`, WHERE);
        }
      }
    }
    return predicted as Record<VdSpace, Matrix>;
  }

  async generate(_predicted: Record<string, Matrix>, _context: GenerateContext): Promise<Generation> {
    throw new UserError(
      "Versatile Diffusion starts from the images of a first stage (Brain-Diffuser: VDVAE's reconstructions): use it as the second stage of 'two-stage', " +
        'e.g. "generator": { "id": "two-stage", "options": { "first": { "id": "vdvae" }, "second": { "id": "versatile-diffusion" } } }',
      WHERE,
    );
  }

  /** The init image of item i at initSize (resized with initResize when it is another size, as Brain-Diffuser's regularize_image). */
  async initRaster(init: ImageBatch, i: number): Promise<RasterImage> {
    const { initSize, initResize } = this.options;
    return resizeImage(rasterOf(init, i), initSize, initSize, initResize);
  }

  async generateFrom(init: ImageBatch, predicted: Record<string, Matrix>, context: GenerateContext): Promise<Generation> {
    const { ids, seed, signal } = context;
    if (init.count !== ids.length) throw new UserError(`given ${init.count} init images for ${ids.length} items`, WHERE);
    const { cv, ct } = { cv: this.checked(predicted, ids)['clip-vision'], ct: predicted['clip-text']! };
    const { samples, steps, strength, guidance, eta, mix, initSize, initResize, latent } = this.options;
    if (init.height !== initSize || init.width !== initSize) {
      this.services.log.info(`versatile-diffusion: the init images are ${init.width}×${init.height}; each is resized to ${initSize}×${initSize} (${initResize}) before it is encoded, as Brain-Diffuser's regularize_image does`);
    }
    const perSample: RasterImage[][] = Array.from({ length: samples }, () => []);
    const { height, width, channels } = this.stimulusSize;
    const task = this.services.progress.task(`versatile-diffusion: generating ${samples} sample${samples === 1 ? '' : 's'} of ${ids.length} items (${context.role})`, ids.length);
    const started = performance.now();
    let made = 0;
    for (const [i, id] of ids.entries()) {
      signal?.throwIfAborted();
      const cvRow = cv.data.subarray(i * cv.cols, (i + 1) * cv.cols);
      const ctRow = ct.data.subarray(i * ct.cols, (i + 1) * ct.cols);
      const raster = await this.initRaster(init, i);
      const description = {
        what: 'vd-images',
        model: this.model,
        settings: { steps, strength, guidance, eta, mix, initSize, initResize, samples, latent },
        seed,
        item: id,
        vision: valuesDigest(cvRow, [cvRow.length]),
        text: valuesDigest(ctRow, [ctRow.length]),
        initImage: valuesDigest(raster.data, [raster.height, raster.width, 3]),
      };
      const { value, outcome } = await this.services.cache.getOrBuild('vd-images', description, itemImagesIo, async () => {
        const noise = (sample: number, stream: string, length: number) => seededNoise({ seed, item: id, sample, stream }, length);
        const size = 4 * (initSize / 8) ** 2;
        const z0 = await this.sampler.initLatent(raster, latent === 'sample' ? noise(0, 'posterior', size) : null);
        const item: ItemImages = { images: [], latents: [] };
        for (let s = 0; s < samples; s++) {
          const final = await this.sampler.denoise(z0, cvRow, ctRow, noise(s, 'encode', size), (k) => noise(s, `step-${k}`, size), () => signal?.throwIfAborted());
          item.latents.push(final);
          item.images.push(await this.sampler.image(final));
        }
        return item;
      });
      if (outcome !== 'hit') made++;
      for (let s = 0; s < samples; s++) perSample[s]!.push(convertChannels(await resizeImage(value.images[s]!, width, height, 'pillow-default'), channels));
      task.tick(1, rateStatus(started, i + 1, ids.length));
    }
    task.done();
    if (made < ids.length) this.services.log.info(`versatile-diffusion: ${ids.length - made} of ${ids.length} items' images re-used from the cache (${context.role})`);
    return { samples: perSample.map((rasters) => rastersToImageBatch(rasters)), scoring: 'first' };
  }
}
