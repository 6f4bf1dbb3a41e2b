/**
 * The AlexNet metrics on one `features` graph (see requirement.ts):
 *
 * - `alexnet-2` / `alexnet-5`: Brain-Diffuser `eval_extract_features.py` + `evaluate_reconstruction.py` (and
 *   MindEye's `Reconstruction_Metrics.py`): images resized per convention and ImageNet-normalised
 *   (core/vision `networkInput`), the features[4] / features[11] output flattened per image, then two-way
 *   identification (`pairwise_corr_all`, metrics/two-way).
 * - `lpips`: LPIPS v0.1 (core/vision `lpipsInput` / `lpipsDistance`) at the images' own size, the lin weights
 *   shipped in metrics/lpips/.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor, type InferenceSession } from 'onnxruntime-node';
import type { Metric, MetricInput, MetricResult } from '../../core/contracts.js';
import { UserError } from '../../core/errors.js';
import { CODE_ROOT } from '../../core/plugin-loader.js';
import type { PluginServices } from '../../core/services.js';
import type { ImageBatch, Matrix } from '../../core/tensor.js';
import { lpipsDistance, lpipsInput, networkInput, readLpipsWeights, type FeatureMaps, type NetworkInput } from '../../core/vision/index.js';
import { meanOf } from '../common/aggregate.js';
import { twoWayIdentification } from '../two-way/two-way.js';
import { ALEXNET_INPUT, ALEXNET_TAPS, alexNetRequirement, type AlexNetMetricKind } from './requirement.js';
import type { AlexNetOptions } from './schema.js';

/** Images per inference call: bounds the tap outputs held at once (relu1 at 224 is 0.8 MB an image). */
const BATCH = 16;
const LPIPS_WEIGHTS = join('metrics', 'lpips', 'alex-v0.1-lin.json');

export async function createAlexNetMetric(kind: AlexNetMetricKind, options: AlexNetOptions, services: PluginServices): Promise<Metric> {
  const where = `metric '${kind}'`;
  const requirement = alexNetRequirement(options.model);
  const folder = await services.models.folder(options.model, where, requirement.produce);
  const graph = folder.graphs.features;
  if (!graph) throw new UserError(`model '${options.model}' has no 'features' graph; expected the folder export.py writes`, where);
  const network = new AlexNetTaps(await services.models.session(graph), where);
  if (kind === 'lpips') return new LpipsMetric(network, await readLpipsWeights(lpipsWeightsPath()));
  return new TwoWayAlexNetMetric(network, kind === 'alexnet-2' ? 'relu2' : 'relu5', options.convention, where);
}

/** The shipped lin weights: next to the sources, or one level above the compiled dist/. */
function lpipsWeightsPath(): string {
  const candidates = [join(CODE_ROOT, LPIPS_WEIGHTS), join(CODE_ROOT, '..', LPIPS_WEIGHTS)];
  return candidates.find((path) => existsSync(path)) ?? candidates[0]!;
}

/** Runs the graph in batches and returns the requested taps of every image, checked float32 and finite. */
class AlexNetTaps {
  constructor(
    private readonly session: InferenceSession,
    private readonly where: string,
  ) {}

  async run(input: NetworkInput, taps: readonly (typeof ALEXNET_TAPS)[number][]): Promise<FeatureMaps[]> {
    const perImage = input.channels * input.height * input.width;
    const parts: Array<Record<string, Tensor>> = [];
    for (let start = 0; start < input.count; start += BATCH) {
      const count = Math.min(BATCH, input.count - start);
      const feed = new Tensor('float32', input.data.subarray(start * perImage, (start + count) * perImage), [count, 3, input.height, input.width]);
      parts.push((await this.session.run({ [ALEXNET_INPUT]: feed }, [...taps])) as Record<string, Tensor>);
    }
    return taps.map((tap) => this.concat(tap, parts, input.count));
  }

  private concat(tap: string, parts: Array<Record<string, Tensor>>, count: number): FeatureMaps {
    const first = parts[0]![tap]!;
    if (first.type !== 'float32' || first.dims.length !== 4) {
      throw new UserError(`output '${tap}' is ${first.type} [${first.dims.join(', ')}]; expected float32 [batch, channels, height, width]`, this.where);
    }
    const [, channels, height, width] = first.dims as [number, number, number, number];
    const data = new Float32Array(count * channels * height * width);
    let offset = 0;
    for (const part of parts) {
      const values = part[tap]!.data as Float32Array;
      data.set(values, offset);
      offset += values.length;
    }
    const bad = data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new UserError(`output '${tap}' has a non-finite value for image ${Math.floor(bad / (channels * height * width))}; expected finite features`, this.where);
    }
    return { count, channels, height, width, data };
  }
}

function pairedImages(input: MetricInput, where: string): { pred: ImageBatch; truth: ImageBatch } {
  if (input.kind !== 'image') throw new UserError(`got ${input.kind} targets; expected images`, where);
  const { pred, truth } = input;
  if (pred.count !== truth.count || pred.height !== truth.height || pred.width !== truth.width) {
    throw new UserError(
      `reconstructions ${pred.count}×${pred.height}×${pred.width} against truths ${truth.count}×${truth.height}×${truth.width}; expected the same count and size`,
      where,
    );
  }
  return { pred, truth };
}

class TwoWayAlexNetMetric implements Metric {
  readonly appliesTo = ['image'] as const;
  readonly direction = 'higher' as const;

  constructor(
    private readonly network: AlexNetTaps,
    private readonly tap: 'relu2' | 'relu5',
    private readonly convention: AlexNetOptions['convention'],
    private readonly where: string,
  ) {}

  async compute(input: MetricInput): Promise<MetricResult> {
    const { pred, truth } = pairedImages(input, this.where);
    if (pred.count < 2) throw new UserError(`${pred.count} test image; expected at least 2 for two-way identification`, this.where);
    const features = async (images: ImageBatch): Promise<Matrix> => {
      const [maps] = await this.network.run(await networkInput(images, 'alexnet', this.convention), [this.tap]);
      return { rows: maps!.count, cols: maps!.data.length / maps!.count, data: maps!.data };
    };
    const perItem = twoWayIdentification(await features(pred), await features(truth));
    return { value: meanOf(perItem), perItem };
  }
}

class LpipsMetric implements Metric {
  readonly appliesTo = ['image'] as const;
  readonly direction = 'lower' as const;

  constructor(
    private readonly network: AlexNetTaps,
    private readonly lin: Float32Array[],
  ) {}

  async compute(input: MetricInput): Promise<MetricResult> {
    const { pred, truth } = pairedImages(input, "metric 'lpips'");
    const taps = async (images: ImageBatch) => this.network.run(lpipsInput(images), ALEXNET_TAPS);
    const perItem = lpipsDistance(await taps(pred), await taps(truth), this.lin);
    return { value: meanOf(perItem), perItem };
  }
}
