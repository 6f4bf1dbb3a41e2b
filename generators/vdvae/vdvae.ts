/**
 * The `vdvae` generator: Brain-Diffuser's first stage. Targets are the posterior samples of the first `layers`
 * decoder blocks of VDVAE ImageNet-64 (their noise keyed on the fit seed and item id); generation gives those
 * latents to the decoder, samples the other blocks from the prior and the pixels from the logistic mixture (all
 * noise keyed on seed, item id, sample), quantises the 64² image and upsamples it to `outputSize`. Each item's
 * targets and images go to the artifact cache as soon as they are made: an interrupted run resumes per item.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FitContext, FittedGenerator, GenerateContext, Generation, Generator, StimulusBatch, TargetSpace } from '../../core/contracts.js';
import { seededNoise } from '../../core/diffusion/noise.js';
import { UserError } from '../../core/errors.js';
import { convertChannels, resizeImage, type RasterImage } from '../../core/io/image.js';
import { readNpy, writeNpy } from '../../core/io/npy.js';
import { decodePng, encodePng, rastersToImageBatch } from '../../core/io/png.js';
import type { PluginServices } from '../../core/services.js';
import type { Matrix } from '../../core/tensor.js';
import { encoderInput, pixelNoise, quantise, rgbRaster } from './images.js';
import { formatCount } from './layout.js';
import { VDVAE_SPACE, vdvaeRequirement } from './requirement.js';
import type { VdvaeOptions } from './schema.js';
import { openVdvaeGraphs, type VdvaeGraphs } from './vdvae-graphs.js';
import { valuesDigest } from '../../core/cache.js';
import { rateStatus } from '../../core/progress.js';

const WHERE = "generator 'vdvae'";

/** One item's images: the decoder's 64² bytes and the `outputSize` upsampling, per sample. */
export interface VdvaeItemImages {
  decoded: RasterImage[];
  output: RasterImage[];
}

const latentsIo = {
  read: async (dir: string) => (await readNpy(join(dir, 'latents.npy'))).data as Float32Array,
  write: (dir: string, value: Float32Array) => writeNpy(join(dir, 'latents.npy'), { shape: [value.length], data: value }),
};

const imagesIo = {
  async read(dir: string): Promise<VdvaeItemImages> {
    const { samples } = JSON.parse(await readFile(join(dir, 'samples.json'), 'utf8')) as { samples: number };
    const out: VdvaeItemImages = { decoded: [], output: [] };
    for (let k = 0; k < samples; k++) {
      for (const [list, name] of [[out.decoded, `decoded-${k}.png`], [out.output, `output-${k}.png`]] as const) {
        list.push(decodePng(await readFile(join(dir, name)), join(dir, name)));
      }
    }
    return out;
  },
  async write(dir: string, value: VdvaeItemImages): Promise<void> {
    for (const [k, image] of value.decoded.entries()) {
      await writeFile(join(dir, `decoded-${k}.png`), encodePng(image));
      await writeFile(join(dir, `output-${k}.png`), encodePng(value.output[k]!));
    }
    await writeFile(join(dir, 'samples.json'), JSON.stringify({ samples: value.decoded.length }));
  },
};

export class VdvaeGenerator implements Generator {
  constructor(
    private readonly options: VdvaeOptions,
    private readonly services: PluginServices,
  ) {}

  async fit(train: StimulusBatch, context: FitContext): Promise<FittedVdvae> {
    const { services, options } = this;
    const folder = await services.models.require(vdvaeRequirement(options), WHERE);
    const graphs = await openVdvaeGraphs(services.models, folder);
    const exported = graphs.architecture.latentLayers;
    if (options.layers > exported) {
      throw new UserError(
        `"layers" is ${options.layers}, but the model folder was exported with latents for ${exported} layers: re-export with --layers ${options.layers} (generators/vdvae/export.py)`,
        folder.dir,
      );
    }
    const model = createHash('sha256').update(await services.models.folderDigest(folder)).update(JSON.stringify(graphs.architecture)).digest('hex');
    services.log.info(`vdvae: ${folder.dir}; ${graphs.description}; ONNX Runtime providers: ${services.models.onnx.providers.join(', ')}`);
    const { height, width, channels } = train.images;
    return new FittedVdvae(options, services, graphs, model, { height, width, channels: channels === 1 ? 1 : 3 }, context.seed);
  }
}

export class FittedVdvae implements FittedGenerator {
  private readonly values: number;

  constructor(
    private readonly options: VdvaeOptions,
    private readonly services: PluginServices,
    private readonly graphs: VdvaeGraphs,
    /** Digest of the graphs and architecture: part of every cache key. */
    private readonly model: string,
    /** The stimuli's size and channels: images are scored at it. */
    private readonly stimulusSize: { height: number; width: number; channels: 1 | 3 },
    /** The fit seed: draws the posterior samples of the targets. */
    private readonly targetSeed: number,
  ) {
    this.values = graphs.layout.values(options.layers);
  }

  targets(): TargetSpace[] {
    return [{ name: VDVAE_SPACE, dims: this.values }];
  }

  /** Latents of every layer the encoder gives (the cache keeps them all; the target is the first `layers`). */
  private async encodeItem(raster: RasterImage, id: string): Promise<Float32Array> {
    const { imageSize, latentLayers } = this.graphs.architecture;
    const noise = seededNoise({ seed: this.targetSeed, item: id, sample: 0, stream: 'target' }, this.graphs.layout.values(latentLayers));
    return this.graphs.encode(await encoderInput(raster, imageSize), noise, 1);
  }

  async encode(stimuli: StimulusBatch): Promise<Record<string, Matrix>> {
    const n = stimuli.ids.length;
    const out = { rows: n, cols: this.values, data: new Float32Array(n * this.values) };
    const task = this.services.progress.task(`vdvae: encoding ${formatCount(this.values)}-value latents (${this.options.layers} layers) of ${stimuli.source ?? `${n} stimuli`}`, n);
    const started = performance.now();
    for (let i = 0; i < n; i++) {
      const raster = rgbRaster(stimuli.images, i);
      const id = stimuli.ids[i]!;
      const description = { what: 'vdvae-targets', model: this.model, image: valuesDigest(raster.data, [raster.height, raster.width, 3]), seed: this.targetSeed, item: id };
      const { value } = await this.services.cache.getOrBuild('vdvae-targets', description, latentsIo, () => this.encodeItem(raster, id));
      out.data.set(value.subarray(0, this.values), i * this.values);
      task.tick(1, rateStatus(started, i + 1, n));
    }
    task.done();
    return { [VDVAE_SPACE]: out };
  }

  /** The predicted rows, checked: the space, of the fitted size (a count of other layers said as such), one row per id, finite. */
  private checked(predicted: Record<string, Matrix>, ids: readonly string[]): Matrix {
    const m = predicted[VDVAE_SPACE];
    if (!m) throw new UserError(`needs predicted '${VDVAE_SPACE}' targets, got: ${Object.keys(predicted).join(', ') || 'none'}`, WHERE);
    const { layout } = this.graphs;
    const layers = this.options.layers;
    if (m.cols !== this.values) {
      const theirs = layout.layersOf(m.cols);
      const what = theirs === undefined ? 'which is no number of VDVAE layers' : `= the latents of ${theirs} VDVAE layer${theirs === 1 ? '' : 's'}`;
      throw new UserError(
        `predicted '${VDVAE_SPACE}' targets have ${formatCount(m.cols)} values per item (${what}), but the generator was built for ${layers} layers: ` +
          `${layout.phrase(layers)}` +
          (theirs === undefined ? '' : `; set the option "layers": ${theirs} to decode from ${theirs} layers`),
        WHERE,
      );
    }
    if (m.rows !== ids.length) throw new UserError(`predicted '${VDVAE_SPACE}' targets have ${m.rows} rows for ${ids.length} items`, WHERE);
    for (let k = 0; k < m.data.length; k++) {
      if (!Number.isFinite(m.data[k]!)) {
        const row = Math.floor(k / m.cols);
        throw new UserError(`predicted '${VDVAE_SPACE}' of item '${ids[row]}' (row ${row}) holds a non-finite value (${m.data[k]}) at ${k - row * m.cols}: the decoder would give NaN`, WHERE);
      }
    }
    return m;
  }

  /** One sample of one item: the given latents (padded to the export's layers), keyed prior and pixel noise → 64² bytes. */
  async decodeItem(latents: Float32Array, id: string, seed: number, sample: number): Promise<RasterImage> {
    const { architecture: arch, layout } = this.graphs;
    const padded = new Float32Array(layout.values(arch.latentLayers));
    padded.set(latents);
    const s = arch.imageSize;
    const noise = (stream: string, length: number) => seededNoise({ seed, item: id, sample, stream }, length);
    const image = await this.graphs.decode(
      {
        latents: padded,
        givenLayers: this.options.layers,
        priorNoise: noise('prior', layout.values(layout.blocks)),
        temperature: this.options.temperature,
        gumbelNoise: pixelNoise(noise('mixture', 2 * s * s * arch.numMixtures), 'gumbel'),
        logisticNoise: pixelNoise(noise('logistic', 2 * s * s * 3), 'logistic'),
      },
      1,
    );
    return quantise(image, s);
  }

  async generate(predicted: Record<string, Matrix>, context: GenerateContext): Promise<Generation> {
    const z = this.checked(predicted, context.ids);
    const { ids, seed, signal } = context;
    const { samples, temperature, outputSize, outputResize, layers, scoring } = this.options;
    const { height, width, channels } = this.stimulusSize;
    const scored: RasterImage[][] = Array.from({ length: samples }, () => []);
    const handed: RasterImage[] = [];
    const task = this.services.progress.task(`vdvae: generating ${samples} sample${samples === 1 ? '' : 's'} of ${ids.length} items (${context.role})`, ids.length);
    const started = performance.now();
    let reused = 0;
    for (const [i, id] of ids.entries()) {
      signal?.throwIfAborted();
      const row = z.data.subarray(i * z.cols, (i + 1) * z.cols);
      const description = {
        what: 'vdvae-images',
        model: this.model,
        settings: { layers, temperature, samples, outputSize, outputResize },
        seed,
        item: id,
        latents: valuesDigest(row, [row.length]),
      };
      const { value, outcome } = await this.services.cache.getOrBuild('vdvae-images', description, imagesIo, async () => {
        const item: VdvaeItemImages = { decoded: [], output: [] };
        for (let s = 0; s < samples; s++) {
          const decoded = await this.decodeItem(row, id, seed, s);
          item.decoded.push(decoded);
          item.output.push(await resizeImage(decoded, outputSize, outputSize, outputResize));
        }
        return item;
      });
      if (outcome === 'hit') reused++;
      // Scored as Brain-Diffuser scores its saved images: the upsampled picture, at the stimuli's size.
      for (let s = 0; s < samples; s++) scored[s]!.push(convertChannels(await resizeImage(value.output[s]!, width, height, 'pillow-default'), channels));
      handed.push(value.output[0]!);
      task.tick(1, rateStatus(started, i + 1, ids.length));
    }
    task.done();
    if (reused > 0) this.services.log.info(`vdvae: ${reused} of ${ids.length} items' images re-used from the cache (${context.role})`);
    // `next`: the outputSize images (sample 0), what a second stage starts from (Brain-Diffuser's 512² init images).
    return { samples: scored.map((rasters) => rastersToImageBatch(rasters)), scoring, next: rastersToImageBatch(handed) };
  }
}
