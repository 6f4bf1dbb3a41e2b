/**
 * `fid`: pytorch-fid (mseitzer/pytorch-fid, `fid_score.py`) between the reconstructions and the ground truths —
 * images to 8-bit, bilinear to 299 × 299 without antialias, 2x − 1 (core/vision `pytorchFidInput`), the FID
 * Inception's pool3 [2048], then the Fréchet distance of the two sets (core/vision `frechetDistance`).
 *
 * There is no per-image FID: `perItem` is empty and the interval is a bootstrap over image pairs (a
 * reconstruction and its ground truth resampled together), features computed once, only the distance redone.
 */
import type { Metric, MetricInput, MetricResult } from '../../core/contracts.js';
import type { Linalg } from '../../core/compute/linalg.js';
import { UserError } from '../../core/errors.js';
import type { PluginServices } from '../../core/services.js';
import { bootstrapSetInterval } from '../../core/stats.js';
import type { ImageBatch, Matrix } from '../../core/tensor.js';
import { frechetDistance, pytorchFidInput } from '../../core/vision/index.js';
import { FeatureNetwork, flattened, GrayNotice, pairedImages, TruthFeatureCache } from '../common/feature-network.js';
import { FID_INPUT, FID_OUTPUT, fidRequirement } from './requirement.js';
import type { FidOptions } from './schema.js';

const WHERE = "metric 'fid'";

export async function createFidMetric(options: FidOptions, services: PluginServices): Promise<Metric> {
  const requirement = fidRequirement(options.model);
  const folder = await services.models.folder(options.model, WHERE, requirement.produce);
  const graph = folder.graphs.features;
  if (!graph) throw new UserError(`model '${options.model}' has no 'features' graph; expected the folder export.py writes`, WHERE);
  const network = new FeatureNetwork(await services.models.session(graph), FID_INPUT, WHERE);
  return new FidMetric(network, services.linalg, options, await TruthFeatureCache.open(services, folder), new GrayNotice(services.log, WHERE));
}

/** Rows `indices` of a feature matrix (a bootstrap resample). */
function rowsOf(m: Matrix, indices: Int32Array): Matrix {
  const data = new Float32Array(indices.length * m.cols);
  indices.forEach((row, i) => data.set(m.data.subarray(row * m.cols, (row + 1) * m.cols), i * m.cols));
  return { rows: indices.length, cols: m.cols, data };
}

export class FidMetric implements Metric {
  readonly appliesTo = ['image'] as const;
  readonly direction = 'lower' as const;

  constructor(
    private readonly network: FeatureNetwork,
    private readonly linalg: Linalg,
    private readonly options: FidOptions,
    private readonly truths: TruthFeatureCache,
    private readonly gray: GrayNotice,
  ) {}

  async compute(input: MetricInput, context: { seed: number }): Promise<MetricResult> {
    const { pred, truth } = pairedImages(input, WHERE);
    if (pred.count < 2) throw new UserError(`${pred.count} test image; expected at least 2 (FID needs a covariance)`, WHERE);
    const features = async (images: ImageBatch, what: string) => {
      const prepare = (batch: ImageBatch) => this.gray.checked(pytorchFidInput(batch), what);
      return flattened((await this.network.run(images, prepare, [FID_OUTPUT]))[FID_OUTPUT]!);
    };
    const truthFeatures = await this.truths.features(truth, { network: 'fid-inception', output: FID_OUTPUT, input: 'pytorch-fid' }, () => features(truth, 'ground-truth images'));
    const predFeatures = await features(pred, 'reconstructions');
    const ddof = this.options.covariance === 'population' ? 0 : 1;
    const distance = (indices?: Int32Array) =>
      frechetDistance(this.linalg, indices ? rowsOf(predFeatures, indices) : predFeatures, indices ? rowsOf(truthFeatures, indices) : truthFeatures, { ddof });
    const value = await distance();
    const note = `${pred.count} images${ddof === 0 ? ', population covariance' : ''}`;
    if (this.options.resamples === 0) return { value, perItem: new Float64Array(0), note };
    const ci = await bootstrapSetInterval(pred.count, distance, { seed: context.seed, resamples: this.options.resamples });
    return { value, perItem: new Float64Array(0), note, interval: { low: ci.low, high: ci.high, method: `bootstrap over image pairs, ${this.options.resamples} resamples` } };
  }
}
