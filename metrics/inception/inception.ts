/**
 * `inception` (Brain-Diffuser `eval_extract_features.py` net 'inceptionv3', layer 'avgpool', + `evaluate_reconstruction.py`;
 * MindEye `Reconstruction_Metrics.py`): two-way identification (`pairwise_corr_all`) on the 2048 avgpool features.
 * `n-way` (Mind Reader): n-way identification by cosine of the same features (metrics/common/feature-comparisons.ts).
 * Both prepare the images per convention (core/vision `networkInput`; the graph holds `transform_input`).
 */
import type { Metric, MetricInput, MetricResult } from '../../core/contracts.js';
import type { Linalg } from '../../core/compute/linalg.js';
import { UserError } from '../../core/errors.js';
import type { PluginServices } from '../../core/services.js';
import type { ImageBatch, Matrix } from '../../core/tensor.js';
import { networkInput, type VisionConvention } from '../../core/vision/index.js';
import { meanOf } from '../common/aggregate.js';
import { POOLED_INPUT, pooledRequirement } from '../common/correlation-distance-metric.js';
import { nWayIdentification } from '../common/feature-comparisons.js';
import { FeatureNetwork, GrayNotice, flattened, pairedImages, TruthFeatureCache, TwoWayFeatureMetric } from '../common/feature-network.js';
import { INCEPTION } from './requirement.js';
import type { InceptionOptions, NWayOptions } from './schema.js';

interface OpenedInception {
  network: FeatureNetwork;
  truths: TruthFeatureCache;
  gray: GrayNotice;
  linalg: Linalg;
}

async function openInception(options: InceptionOptions, services: PluginServices, where: string): Promise<OpenedInception> {
  const requirement = pooledRequirement(INCEPTION, options.model);
  const folder = await services.models.folder(options.model, where, requirement.produce);
  const graph = folder.graphs.features;
  if (!graph) throw new UserError(`model '${options.model}' has no 'features' graph; expected the folder that metrics/inception/export.py writes`, where);
  const network = new FeatureNetwork(await services.models.session(graph), POOLED_INPUT, where);
  return { network, truths: await TruthFeatureCache.open(services, folder), gray: new GrayNotice(services.log, where), linalg: services.linalg };
}

export async function createInceptionMetric(options: InceptionOptions, services: PluginServices): Promise<Metric> {
  const where = "metric 'inception'";
  const { network, truths, gray, linalg } = await openInception(options, services, where);
  return new TwoWayFeatureMetric(network, { network: 'inception', output: INCEPTION.output, convention: options.convention }, where, truths, gray, linalg);
}

export async function createNWayMetric(options: NWayOptions, services: PluginServices): Promise<Metric> {
  const where = "metric 'n-way'";
  return new NWayMetric(await openInception(options, services, where), options, where);
}

class NWayMetric implements Metric {
  readonly appliesTo = ['image'] as const;
  readonly direction = 'higher' as const;

  constructor(
    private readonly opened: OpenedInception,
    private readonly options: NWayOptions,
    private readonly where: string,
  ) {}

  async compute(input: MetricInput, context: { seed: number }): Promise<MetricResult> {
    const { pred, truth } = pairedImages(input, this.where);
    const { n, repeats, convention } = this.options;
    // n candidates need n distinct test images. With fewer, a smaller-way score would sit under the n-way column
    // with another chance level (1/items, not 1/n): n/a instead, every item undefined, the note saying why.
    if (n > pred.count) {
      const problem = `${n}-way needs ≥ ${n} test images, ${pred.count} here (option n ≤ ${pred.count} for a ${pred.count}-way score)`;
      return { value: Number.NaN, perItem: new Float64Array(pred.count).fill(Number.NaN), note: `${n}-way`, problem };
    }
    const extraction = { network: 'inception' as const, output: INCEPTION.output, convention };
    const truthFeatures = await this.opened.truths.features(truth, extraction, () => this.features(truth, convention, 'ground-truth images'));
    const perItem = await nWayIdentification(await this.features(pred, convention, 'reconstructions'), truthFeatures, { n, repeats, seed: context.seed }, this.opened.linalg);
    return { value: meanOf(perItem), perItem, note: `${n}-way, ${repeats} repeats` };
  }

  private async features(images: ImageBatch, convention: VisionConvention, what: string): Promise<Matrix> {
    const prepare = async (batch: ImageBatch) => this.opened.gray.checked(await networkInput(batch, 'inception', convention), what);
    return flattened((await this.opened.network.run(images, prepare, [INCEPTION.output]))[INCEPTION.output]!);
  }
}
