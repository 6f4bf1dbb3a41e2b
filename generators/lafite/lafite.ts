/**
 * The `lafite` generator: Mind Reader's reconstruction stage (Lin, Sprague & Singh, NeurIPS 2022; sklin93/mind-reader).
 * Targets are the CLIP ViT-B/32 image and text embeddings of each stimulus as Mind Reader computed its ground truth
 * (targets.ts); generation runs the exported Lafite StyleGAN2 (lafite-graph.ts) on the predicted embeddings, each
 * L2-normalised as Mind Reader's evaluation feeds them, with z drawn from seededNoise(seed, item, sample). Every
 * item's targets and native-size images are cache entries, so an interrupted run goes on at the next item.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FitContext, FittedGenerator, GenerateContext, Generation, Generator, StimulusBatch, TargetSpace } from '../../core/contracts.js';
import { seededNoise } from '../../core/diffusion/noise.js';
import { UserError } from '../../core/errors.js';
import { convertChannels, resizeImage, type RasterImage } from '../../core/io/image.js';
import { readNpy, writeNpy } from '../../core/io/npy.js';
import { decodePng, encodePng, imageToRaster, rastersToImageBatch } from '../../core/io/png.js';
import type { PluginServices } from '../../core/services.js';
import type { Matrix } from '../../core/tensor.js';
import { openClipEncoders, type ClipEncoders } from './clip-encoders.js';
import { quantise } from './images.js';
import { openLafiteGraph, type LafiteGraph } from './lafite-graph.js';
import { TARGET_SPACES, clipRequirement, generatorRequirement, type LafiteSpace } from './requirement.js';
import { CLIP_LOGIT_SCALE, CLIP_WIDTH, type LafiteOptions } from './schema.js';
import { clampOutliers, l2Normalised, rowMean, screenCaptions } from './targets.js';
import { valuesDigest } from '../../core/cache.js';

const WHERE = "generator 'lafite'";

interface ItemTargets {
  image: Float32Array;
  text: Float32Array;
}

const targetsIo = {
  async read(dir: string): Promise<ItemTargets> {
    return { image: (await readNpy(join(dir, 'clip-image.npy'))).data as Float32Array, text: (await readNpy(join(dir, 'clip-text.npy'))).data as Float32Array };
  },
  async write(dir: string, value: ItemTargets): Promise<void> {
    await writeNpy(join(dir, 'clip-image.npy'), { shape: [value.image.length], data: value.image });
    await writeNpy(join(dir, 'clip-text.npy'), { shape: [value.text.length], data: value.text });
  },
};

/** One item's samples at the generator's own size (PNG, as quantised). */
const imagesIo = {
  async read(dir: string): Promise<RasterImage[]> {
    const { samples } = JSON.parse(await readFile(join(dir, 'samples.json'), 'utf8')) as { samples: number };
    const out: RasterImage[] = [];
    for (let k = 0; k < samples; k++) out.push(decodePng(await readFile(join(dir, `sample-${k}.png`)), join(dir, `sample-${k}.png`)));
    return out;
  },
  async write(dir: string, value: RasterImage[]): Promise<void> {
    for (const [k, image] of value.entries()) await writeFile(join(dir, `sample-${k}.png`), encodePng(image));
    await writeFile(join(dir, 'samples.json'), JSON.stringify({ samples: value.length }));
  },
};

export class LafiteGenerator implements Generator {
  constructor(
    private readonly options: LafiteOptions,
    private readonly services: PluginServices,
  ) {}

  async fit(train: StimulusBatch, _context: FitContext): Promise<FittedLafite> {
    const { services, options } = this;
    const generatorFolder = await services.models.require(generatorRequirement(options), WHERE);
    const clipFolder = await services.models.require(clipRequirement(options), WHERE);
    const graph = await openLafiteGraph(services.models, generatorFolder);
    const clip = await openClipEncoders(services.models, clipFolder, options.imageInput);
    services.log.info(`lafite: ${graph.description}; ${clip.description}; ONNX Runtime providers: ${services.models.onnx.providers.join(', ')}`);
    const { height, width, channels } = train.images;
    const digests = { generator: await services.models.folderDigest(generatorFolder), clip: await clipDigest(services, clipFolder.dir, await services.models.folderDigest(clipFolder)) };
    return new FittedLafite(options, services, graph, clip, digests, { height, width, channels: channels === 1 ? 1 : 3 });
  }
}

/** The CLIP folder's graphs and its tokenizer files: what changes the targets. */
async function clipDigest(services: PluginServices, dir: string, graphs: string): Promise<string> {
  const hash = createHash('sha256').update(graphs);
  for (const file of ['tokenizer.json', 'tokenizer_config.json']) hash.update(`${file}:`).update(await readFile(join(dir, file)).catch(() => ''));
  return hash.digest('hex');
}

export class FittedLafite implements FittedGenerator {
  constructor(
    private readonly options: LafiteOptions,
    private readonly services: PluginServices,
    private readonly graph: LafiteGraph,
    private readonly clip: ClipEncoders,
    private readonly digests: { generator: string; clip: string },
    /** Generated images are resized (and made grey) to the stimuli's size, to be scored against them as they are. */
    private readonly stimulusSize: { height: number; width: number; channels: 1 | 3 },
  ) {}

  targets(): TargetSpace[] {
    return TARGET_SPACES.map((name) => ({ name, dims: CLIP_WIDTH }));
  }

  /** Each item's captions, or an error naming the dataset (clip-text is the embedding of the captions). */
  private captionsOf(stimuli: StimulusBatch): string[][] {
    const source = stimuli.source ?? 'the dataset';
    if (!stimuli.captions) {
      throw new UserError(`${source} has no captions, but the target 'clip-text' is the CLIP text embedding of each image's captions: use a dataset with captions (NSD's COCO captions)`, WHERE);
    }
    return stimuli.ids.map((id, i) => {
      const list = stimuli.captions![i] ?? [];
      if (list.length === 0) throw new UserError(`${source}: item '${id}' has no caption; 'clip-text' needs at least one`, WHERE);
      return list;
    });
  }

  /** Mind Reader's ground truth of one stimulus (targets.ts). */
  private async encodeItem(image: RasterImage, captions: string[]): Promise<ItemTargets> {
    const { outlierClamp, captionScreening } = this.options;
    const imageEmbeds = await this.clip.image(image);
    const textEmbeds = await this.clip.text(captions);
    const kept = captionScreening ? screenCaptions(imageEmbeds, textEmbeds, captions.length, CLIP_LOGIT_SCALE) : undefined;
    const unit = (values: Float32Array, what: string) => {
      const out = l2Normalised(clampOutliers(values, outlierClamp));
      if (!out) throw new UserError(`the CLIP ${what} embedding is all zeros: it has no direction to normalise`, WHERE);
      return out;
    };
    return { image: unit(imageEmbeds, 'image'), text: unit(rowMean(textEmbeds, captions.length, CLIP_WIDTH, kept), 'text') };
  }

  async encode(stimuli: StimulusBatch): Promise<Record<string, Matrix>> {
    const n = stimuli.ids.length;
    const captions = this.captionsOf(stimuli);
    const out = { 'clip-image': new Float32Array(n * CLIP_WIDTH), 'clip-text': new Float32Array(n * CLIP_WIDTH) };
    const { imageInput, outlierClamp, captionScreening } = this.options;
    const task = this.services.progress.task(`lafite: encoding clip-image, clip-text of ${stimuli.source ?? `${n} stimuli`}`, n);
    for (let i = 0; i < n; i++) {
      const image = imageToRaster(stimuli.images, i);
      const description = {
        what: 'lafite-targets',
        clip: this.digests.clip,
        settings: { imageInput, outlierClamp, captionScreening },
        image: valuesDigest(image.data, [image.height, image.width, image.channels]),
        captions: captions[i],
      };
      const { value } = await this.services.cache.getOrBuild('lafite-targets', description, targetsIo, () => this.encodeItem(image, captions[i]!));
      out['clip-image'].set(value.image, i * CLIP_WIDTH);
      out['clip-text'].set(value.text, i * CLIP_WIDTH);
      task.tick(1);
    }
    task.done();
    return Object.fromEntries(Object.entries(out).map(([s, data]) => [s, { rows: n, cols: CLIP_WIDTH, data }]));
  }

  /** Every space present, 512 wide, one finite, non-zero row per id; each row L2-normalised (Mind Reader's fts / ‖fts‖). */
  private conditioning(predicted: Record<string, Matrix>, ids: readonly string[]): Record<LafiteSpace, Float32Array> {
    const out = {} as Record<LafiteSpace, Float32Array>;
    for (const space of TARGET_SPACES) {
      const m = predicted[space];
      if (!m) throw new UserError(`needs predicted '${space}' targets, got: ${Object.keys(predicted).join(', ') || 'none'}`, WHERE);
      if (m.cols !== CLIP_WIDTH) throw new UserError(`predicted '${space}' targets have ${m.cols} values per item, expected ${CLIP_WIDTH} (a CLIP ViT-B/32 embedding)`, WHERE);
      if (m.rows !== ids.length) throw new UserError(`predicted '${space}' targets have ${m.rows} rows for ${ids.length} items`, WHERE);
      const data = new Float32Array(m.data.length);
      for (let i = 0; i < m.rows; i++) {
        const row = m.data.subarray(i * CLIP_WIDTH, (i + 1) * CLIP_WIDTH);
        const bad = row.findIndex((v) => !Number.isFinite(v));
        if (bad >= 0) throw new UserError(`predicted '${space}' of item '${ids[i]}' (row ${i}) holds a non-finite value (${row[bad]}) at ${bad}`, WHERE);
        const unit = l2Normalised(row);
        if (!unit) throw new UserError(`predicted '${space}' of item '${ids[i]}' (row ${i}) is all zeros: it has no direction to condition on`, WHERE);
        data.set(unit, i * CLIP_WIDTH);
      }
      out[space] = data;
    }
    return out;
  }

  async generate(predicted: Record<string, Matrix>, context: GenerateContext): Promise<Generation> {
    const { ids, seed, signal } = context;
    const conditioning = this.conditioning(predicted, ids);
    const { samples, truncation, quantisation, scoring } = this.options;
    const { height, width, channels } = this.stimulusSize;
    const zDim = this.graph.zDim;
    const perSample: RasterImage[][] = Array.from({ length: samples }, () => []);
    const task = this.services.progress.task(`lafite: generating ${samples} sample${samples === 1 ? '' : 's'} of ${ids.length} items (${context.role})`, ids.length);
    for (const [i, id] of ids.entries()) {
      signal?.throwIfAborted();
      const image = conditioning['clip-image'].subarray(i * CLIP_WIDTH, (i + 1) * CLIP_WIDTH);
      const text = conditioning['clip-text'].subarray(i * CLIP_WIDTH, (i + 1) * CLIP_WIDTH);
      const description = {
        what: 'lafite-images',
        model: this.digests.generator,
        settings: { truncation, quantisation, samples, noise: 'const', z: 'seededNoise(seed, item, sample, "z")' },
        seed,
        item: id,
        image: valuesDigest(image, [CLIP_WIDTH]),
        text: valuesDigest(text, [CLIP_WIDTH]),
      };
      const { value } = await this.services.cache.getOrBuild('lafite-images', description, imagesIo, async () => {
        // All samples of an item in one run: z of sample s is seededNoise(seed, item, s), whatever else is generated.
        const z = new Float32Array(samples * zDim);
        for (let s = 0; s < samples; s++) z.set(seededNoise({ seed, item: id, sample: s, stream: 'z' }, zDim), s * zDim);
        const repeat = (row: Float32Array) => {
          const out = new Float32Array(samples * CLIP_WIDTH);
          for (let s = 0; s < samples; s++) out.set(row, s * CLIP_WIDTH);
          return out;
        };
        const { data, shape } = await this.graph.run(z, repeat(image), repeat(text), samples, truncation);
        const bad = data.findIndex((v) => !Number.isFinite(v));
        if (bad >= 0) throw new UserError(`the generator returned a non-finite value for item '${id}' (${data[bad]}): check the exported graph`, WHERE);
        return Array.from({ length: samples }, (_, s) => quantise(data, shape[2], shape[3], s, quantisation));
      });
      for (let s = 0; s < samples; s++) perSample[s]!.push(convertChannels(await resizeImage(value[s]!, width, height, 'pillow-default'), channels));
      task.tick(1);
    }
    task.done();
    return { samples: perSample.map((rasters) => rastersToImageBatch(rasters)), scoring };
  }
}
