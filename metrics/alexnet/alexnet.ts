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
import { join } from 'node:path';
import type { Metric, MetricInput, MetricResult } from '../../core/contracts.js';
import { UserError } from '../../core/errors.js';
import { packageFile } from '../../core/plugin-loader.js';
import type { PluginServices } from '../../core/services.js';
import { sliceImages, type ImageBatch } from '../../core/tensor.js';
import { lpipsDistance, lpipsInput, readLpipsWeights, type FeatureMaps } from '../../core/vision/index.js';
import { meanOf } from '../common/aggregate.js';
import { FEATURE_BATCH, FeatureNetwork, GrayNotice, pairedImages, TruthFeatureCache, TwoWayFeatureMetric, type FeatureOutput } from '../common/feature-network.js';
import { ALEXNET_INPUT, ALEXNET_TAPS, alexNetRequirement, type AlexNetMetricKind } from './requirement.js';
import type { AlexNetOptions } from './schema.js';

const LPIPS_WEIGHTS = join('metrics', 'lpips', 'alex-v0.1-lin.json');

export async function createAlexNetMetric(kind: AlexNetMetricKind, options: AlexNetOptions, services: PluginServices): Promise<Metric> {
  const where = `metric '${kind}'`;
  const requirement = alexNetRequirement(options.model);
  const folder = await services.models.folder(options.model, where, requirement.produce);
  const graph = folder.graphs.features;
  if (!graph) throw new UserError(`model '${options.model}' has no 'features' graph; expected the folder export.py writes`, where);
  const network = new FeatureNetwork(await services.models.session(graph), ALEXNET_INPUT, where);
  const gray = new GrayNotice(services.log, where);
  if (kind === 'lpips') return new LpipsMetric(network, await readLpipsWeights(packageFile(LPIPS_WEIGHTS)), gray);
  const truths = await TruthFeatureCache.open(services, folder);
  const output = kind === 'alexnet-2' ? 'relu2' : 'relu5';
  return new TwoWayFeatureMetric(network, { network: 'alexnet', output, convention: options.convention }, where, truths, gray, services.linalg);
}

const asMaps = (output: FeatureOutput): FeatureMaps => {
  const [channels, height, width] = output.shape as [number, number, number];
  return { count: output.count, channels, height, width, data: output.data };
};

class LpipsMetric implements Metric {
  readonly appliesTo = ['image'] as const;
  readonly direction = 'lower' as const;

  constructor(
    private readonly network: FeatureNetwork,
    private readonly lin: Float32Array[],
    private readonly gray: GrayNotice,
  ) {}

  async compute(input: MetricInput): Promise<MetricResult> {
    const where = "metric 'lpips'";
    const { pred, truth } = pairedImages(input, where);
    if (pred.height !== truth.height || pred.width !== truth.width) {
      throw new UserError(`reconstructions are ${pred.height}×${pred.width}, ground truths ${truth.height}×${truth.width}; LPIPS compares images of one size`, where);
    }
    const taps = async (images: ImageBatch, what: string) => {
      const outputs = await this.network.run(images, (batch) => this.gray.checked(lpipsInput(batch), what), ALEXNET_TAPS);
      return ALEXNET_TAPS.map((tap) => asMaps(outputs[tap]!));
    };
    // One batch of pairs at a time: the five taps of a whole test set would hold gigabytes.
    const perItem = new Float64Array(pred.count);
    for (let start = 0; start < pred.count; start += FEATURE_BATCH) {
      const count = Math.min(FEATURE_BATCH, pred.count - start);
      const [p, t] = [sliceImages(pred, start, count), sliceImages(truth, start, count)];
      perItem.set(lpipsDistance(await taps(p, 'reconstructions'), await taps(t, 'ground-truth images'), this.lin), start);
    }
    return { value: meanOf(perItem), perItem };
  }
}
