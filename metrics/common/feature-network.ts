/**
 * What every feature-network metric shares: a graph run in batches on ONNX Runtime (outputs checked float32 and
 * finite), the ground-truth features kept in the artifact cache, and one warning when gray images are converted.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Tensor, type InferenceSession } from 'onnxruntime-node';
import type { Linalg } from '../../core/compute/linalg.js';
import { readMatrix, writeMatrix, type ArtifactCache } from '../../core/cache.js';
import type { Metric, MetricInput, MetricResult } from '../../core/contracts.js';
import { UserError } from '../../core/errors.js';
import type { Logger } from '../../core/logging.js';
import type { ModelFolder } from '../../core/models/folder.js';
import type { PluginServices } from '../../core/services.js';
import { sliceImages, type ImageBatch, type Matrix } from '../../core/tensor.js';
import { networkInput, type FeatureNetwork as NetworkName, type NetworkInput, type VisionConvention } from '../../core/vision/index.js';
import { twoWayIdentification } from '../two-way/two-way.js';
import { meanOf } from './aggregate.js';

/** Images per inference call: bounds what the outputs hold at once (AlexNet relu1 at 224 is 0.8 MB an image). */
export const FEATURE_BATCH = 16;

/** One output of every image: `shape` is the per-image shape (e.g. [192, 27, 27] or [2048]). */
export interface FeatureOutput {
  readonly count: number;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export const flattened = (output: FeatureOutput): Matrix => ({ rows: output.count, cols: output.data.length / output.count, data: output.data });

/** A graph with one image input, run in batches; `where` names the metric in errors. */
export class FeatureNetwork {
  constructor(
    private readonly session: InferenceSession,
    private readonly inputName: string,
    private readonly where: string,
    private readonly batch = FEATURE_BATCH,
  ) {}

  /**
   * The requested outputs of every image. Each batch is prepared (resized, normalised) just before it runs and its
   * outputs are copied out at once, so that only one batch's input and outputs are held besides the result: a
   * whole test set at 342 × 342 would be 1.4 GB of input, AlexNet's relu2 of 982 images 0.55 GB.
   */
  async run(images: ImageBatch, prepare: (batch: ImageBatch) => NetworkInput | Promise<NetworkInput>, outputs: readonly string[]): Promise<Record<string, FeatureOutput>> {
    const collected = new Map<string, FeatureOutput>();
    for (let start = 0; start < images.count; start += this.batch) {
      const input = await prepare(sliceImages(images, start, Math.min(this.batch, images.count - start)));
      const feed = new Tensor('float32', input.data, [input.count, input.channels, input.height, input.width]);
      const results = (await this.session.run({ [this.inputName]: feed }, [...outputs])) as Record<string, Tensor>;
      for (const name of outputs) {
        const output = collected.get(name) ?? this.allocate(name, results[name]!, images.count);
        collected.set(name, output);
        this.copyBatch(name, output, results[name]!, start, input.count);
      }
    }
    return Object.fromEntries(outputs.map((name) => [name, collected.get(name)!]));
  }

  /** The result array of one output, sized from its first batch (float32 [batch, …] expected). */
  private allocate(name: string, first: Tensor, count: number): FeatureOutput {
    if (first.type !== 'float32' || first.dims.length < 2) {
      throw new UserError(`output '${name}' is ${first.type} [${first.dims.join(', ')}]; expected float32 [batch, …]`, this.where);
    }
    const shape = first.dims.slice(1).map(Number);
    return { count, shape, data: new Float32Array(count * shape.reduce((a, b) => a * b, 1)) };
  }

  /** Copies one batch's values of an output into place, checking their count and that they are finite. */
  private copyBatch(name: string, output: FeatureOutput, tensor: Tensor, start: number, count: number): void {
    const perImage = output.data.length / output.count;
    const values = tensor.data as Float32Array;
    if (values.length !== count * perImage) {
      throw new UserError(`output '${name}' has ${values.length} values for ${count} images; expected ${perImage} per image`, this.where);
    }
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new UserError(`output '${name}' has a non-finite value for image ${start + Math.floor(bad / perImage)}; expected finite features`, this.where);
    output.data.set(values, start * perImage);
  }
}

/** The reconstructions and the ground truths of an image metric, checked to pair up. */
export function pairedImages(input: MetricInput, where: string): { pred: ImageBatch; truth: ImageBatch } {
  if (input.kind !== 'image') throw new UserError(`got ${input.kind} targets; expected images`, where);
  const { pred, truth } = input;
  if (pred.count !== truth.count) {
    throw new UserError(`${pred.count} reconstructions against ${truth.count} ground-truth images; expected the same count`, where);
  }
  return { pred, truth };
}

/** sha256 of a batch's shape and values: the ground truths' identity in cache keys (stronger than their ids). */
export function imagesDigest(images: ImageBatch): string {
  const hash = createHash('sha256').update(`${images.count}x${images.height}x${images.width}x${images.channels}\n`);
  hash.update(new Uint8Array(images.data.buffer, images.data.byteOffset, images.data.byteLength));
  return hash.digest('hex');
}

/**
 * Features of ground-truth images, computed once per (model files, what is extracted, images) and kept in the
 * artifact cache as a float32 .npy: every pipeline of a comparison and its trivial floor score against the same
 * test images, and a later run re-uses them. Reconstructions are never cached (they change with every pipeline).
 */
export class TruthFeatureCache {
  private readonly memory = new Map<string, Promise<Matrix>>();

  constructor(
    private readonly cache: ArtifactCache,
    /** The model folder's digest (ModelStore.folderDigest): other weights, other features. */
    private readonly modelDigest: string,
  ) {}

  static async open(services: PluginServices, folder: ModelFolder): Promise<TruthFeatureCache> {
    return new TruthFeatureCache(services.cache, await services.models.folderDigest(folder));
  }

  /** `extraction` says what is computed (network output, convention, resize…): part of the key. */
  features(images: ImageBatch, extraction: Record<string, unknown>, compute: () => Promise<Matrix>): Promise<Matrix> {
    const description = { what: 'truth-features', model: this.modelDigest, extraction, images: imagesDigest(images) };
    const id = JSON.stringify(description);
    let features = this.memory.get(id);
    if (!features) {
      features = this.cache
        .getOrBuild('features', description, { read: (dir) => readMatrix(join(dir, 'features.npy')), write: (dir, m) => writeMatrix(join(dir, 'features.npy'), m) }, compute)
        .then((r) => r.value);
      this.memory.set(id, features);
      features.catch(() => this.memory.delete(id));
    }
    return features;
  }
}

/** Says once per metric that one-channel images were repeated into RGB for an RGB network. */
export class GrayNotice {
  private said = false;

  constructor(
    private readonly log: Logger,
    private readonly where: string,
  ) {}

  /** `input`, after saying (once) that it was converted from gray. */
  checked(input: NetworkInput, what: string): NetworkInput {
    if (input.convertedFromGray && !this.said) {
      this.said = true;
      this.log.warn(`${this.where}: the ${what} are grayscale; converted to RGB (gray repeated in R, G and B) for the network`);
    }
    return input;
  }
}

/**
 * Two-way identification (`pairwise_corr_all`) on one flattened network output, the images prepared per
 * convention (core/vision `networkInput`): AlexNet(2), AlexNet(5), CLIP.
 */
export class TwoWayFeatureMetric implements Metric {
  readonly appliesTo = ['image'] as const;
  readonly direction = 'higher' as const;

  constructor(
    private readonly network: FeatureNetwork,
    private readonly extraction: { network: NetworkName; output: string; convention: VisionConvention },
    private readonly where: string,
    private readonly truths: TruthFeatureCache,
    private readonly gray: GrayNotice,
    private readonly linalg: Linalg,
  ) {}

  async compute(input: MetricInput): Promise<MetricResult> {
    const { pred, truth } = pairedImages(input, this.where);
    if (pred.count < 2) throw new UserError(`${pred.count} test image; expected at least 2 for two-way identification`, this.where);
    const { network, output, convention } = this.extraction;
    const features = async (images: ImageBatch, what: string) => {
      const prepare = async (batch: ImageBatch) => this.gray.checked(await networkInput(batch, network, convention), what);
      return flattened((await this.network.run(images, prepare, [output]))[output]!);
    };
    const truthFeatures = await this.truths.features(truth, this.extraction, () => features(truth, 'ground-truth images'));
    const perItem = await twoWayIdentification(await features(pred, 'reconstructions'), truthFeatures, this.linalg);
    return { value: meanOf(perItem), perItem };
  }
}
